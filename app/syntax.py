"""Python syntax highlighting for the script editor (QSyntaxHighlighter), library functions in accent colour."""
from __future__ import annotations

import builtins
import keyword
import re

from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat


def _fmt(color: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    f = QTextCharFormat()
    f.setForeground(QColor(color))
    if bold:
        f.setFontWeight(QFont.Bold)
    f.setFontItalic(italic)
    return f


class PythonHighlighter(QSyntaxHighlighter):
    """Keywords, builtins, numbers, strings, comments; names in `library_names` (the trajectory functions)
    are shown bold in the accent colour. Triple-quoted strings may span lines."""

    def __init__(self, document, library_names: set[str] | None = None) -> None:
        super().__init__(document)
        self.formats = {
            "keyword": _fmt("#ff7ab2", bold=True), "builtin": _fmt("#dabaff"), "number": _fmt("#d9c97c"),
            "string": _fmt("#ff8170"), "comment": _fmt("#7f8c98", italic=True), "library": _fmt("#4eb0cc", bold=True),
            "call": _fmt("#6bdfff"), "self": _fmt("#acf2e4", italic=True), "decorator": _fmt("#ffa14f"),
        }
        self.library_names = set(library_names or ())
        self._rules: list[tuple[re.Pattern, str]] = []
        self._build_rules()

    def set_library_names(self, names: set[str]) -> None:
        self.library_names = set(names)
        self._build_rules()
        self.rehighlight()

    def _build_rules(self) -> None:
        kw = r"\b(" + "|".join(keyword.kwlist) + r")\b"
        bi = r"\b(" + "|".join(n for n in dir(builtins) if not n.startswith("_")) + r")\b"
        rules = [
            (re.compile(r"\b[A-Za-z_]\w*(?=\s*\()"), "call"),
            (re.compile(bi), "builtin"),
            (re.compile(kw), "keyword"),
            (re.compile(r"^\s*@\w+"), "decorator"),
            (re.compile(r"\b(0x[0-9a-fA-F]+|\d+\.?\d*(e[+-]?\d+)?|\.\d+)\b"), "number"),
        ]
        if self.library_names:
            rules.append((re.compile(r"\b(" + "|".join(sorted(map(re.escape, self.library_names))) + r")\b"), "library"))
        rules += [
            (re.compile(r"'[^'\\\n]*(\\.[^'\\\n]*)*'|\"[^\"\\\n]*(\\.[^\"\\\n]*)*\""), "string"),
            (re.compile(r"#[^\n]*"), "comment"),
        ]
        self._rules = rules

    def highlightBlock(self, text: str) -> None:  # noqa: N802 (Qt name)
        for pattern, name in self._rules:
            for m in pattern.finditer(text):
                self.setFormat(m.start(), m.end() - m.start(), self.formats[name])
        # comments after strings: re-apply a comment that is not inside a string
        self._triple_quotes(text)

    def _triple_quotes(self, text: str) -> None:
        self.setCurrentBlockState(0)
        start = 0
        if self.previousBlockState() != 1:
            m = re.search(r'"""|\'\'\'', text)
            start = m.start() if m else -1
            skip = 3
        else:
            skip = 0
        while start >= 0:
            m = re.search(r'"""|\'\'\'', text[start + skip:])
            if m is None:
                self.setCurrentBlockState(1)
                self.setFormat(start, len(text) - start, self.formats["string"])
                return
            end = start + skip + m.end()
            self.setFormat(start, end - start, self.formats["string"])
            m2 = re.search(r'"""|\'\'\'', text[end:])
            start = end + m2.start() if m2 else -1
            skip = 3
