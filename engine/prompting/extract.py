"""Pull the script out of a language model's answer, in linear time.

No regular expressions: one pass finds the fence lines (a line whose stripped start is ```), so an
answer of 60 kB of backticks takes milliseconds and a 10 MB answer is bounded (answers longer than
MAX_EXTRACT_CHARS are cut first).
"""
from __future__ import annotations

#: characters of an answer that are looked at
MAX_EXTRACT_CHARS = 10_000_000
#: fenced blocks looked at (a real answer has one or two)
MAX_BLOCKS = 1_000
_PY = ("python", "py", "python3")


def _lang(info: str) -> str:
    """The language word right after the fence: letters, digits, _ + - (may be empty)."""
    out = []
    for ch in info.lstrip(" \t"):
        if ch.isascii() and (ch.isalnum() or ch in "_+-"):
            out.append(ch)
        else:
            break
    return "".join(out).lower()


def _blocks(answer: str) -> tuple[list[tuple[str, str]], str | None]:
    """(closed blocks as (language, body), the body of a final unclosed block or None).

    A block opens with ``` at the start of a line or after text on the same line (the rest of that
    line is its info string) and closes at the next ``` (anywhere). At most MAX_BLOCKS are read."""
    blocks: list[tuple[str, str]] = []
    pos, n = 0, len(answer)
    while len(blocks) < MAX_BLOCKS:
        start = answer.find("```", pos)
        if start < 0:
            return blocks, None
        eol = answer.find("\n", start + 3)
        if eol < 0:                                   # a fence with nothing after its line
            return blocks, None
        info = answer[start + 3:eol]
        if "```" in info:                             # ``` inline on one line: not a block opener
            pos = start + 3 + info.index("```") + 3
            continue
        end = answer.find("```", eol + 1)
        if end < 0:
            return blocks, answer[eol + 1:]
        blocks.append((_lang(info), answer[eol + 1:end]))
        pos = end + 3
        if pos >= n:
            return blocks, None
    return blocks, None


def extract_script(answer: str) -> str | None:
    """The code of the first ```python block (else the first fenced block); the whole answer when
    it has no fences but looks like code; None when there is nothing to run."""
    if not isinstance(answer, str) or not answer.strip():
        return None
    answer = answer[:MAX_EXTRACT_CHARS]
    blocks, tail = _blocks(answer)
    for lang, body in blocks:
        if lang in _PY:
            return body.strip() + "\n"
    for _, body in blocks:
        if body.strip():
            return body.strip() + "\n"
    if "```" in answer:                               # an unclosed fence: take what follows it
        if tail is not None and tail.strip():
            return tail.strip() + "\n"
        return None
    text = answer.strip()
    if "(" in text and "\n" not in text.split("(", 1)[0]:
        return text + "\n"
    return None
