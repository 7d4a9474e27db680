"""Static check of a script against the allow-list, before anything of it runs.

Parses with `ast` (never compiles or executes), then refuses, with the line and the reason:
anything outside `policy.ALLOWED_NODES` (imports, def/lambda/class, while, try, with, comprehensions,
f-strings, ...), names that start with an underscore (dunders included) or are not ASCII (unicode
look-alikes are normalised by Python to real names), calls to anything but the library functions
and the safe builtins, library functions used as values, rebinding `ego` / a library function /
a builtin, attributes other than the documented agent-handle attributes, star arguments, and
scripts or literals beyond the size limits.
"""
from __future__ import annotations

import ast
import difflib
import io
import tokenize
import unicodedata
from typing import Iterable

from engine.sandbox.errors import Problem
from engine.sandbox.policy import ALLOWED_NODES, BUILTIN_DOCS, PREDEFINED, REFUSAL_REASONS, SandboxLimits


def _handle_attributes() -> tuple[str, ...]:
    from engine.library.builder import AgentHandle

    return AgentHandle.ATTRIBUTES


def _library_names() -> list[str]:
    from engine.library.registry import library_functions

    return list(library_functions())


def _non_ascii_names(source: str) -> list[Problem]:
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.NAME and not tok.string.isascii():
                out.append(Problem(tok.start[0], tok.start[1] + 1,
                                   f"name {tok.string!r} is not plain ASCII (look-alike characters are refused)"))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass                # ast.parse reports the syntax error
    return out


#: characters that change how text is displayed without being seen (bidirectional overrides and
#: isolates, zero-width and other format characters): refused so that what is reviewed is what runs
_BIDI = {0x202A: "LEFT-TO-RIGHT EMBEDDING", 0x202B: "RIGHT-TO-LEFT EMBEDDING", 0x202C: "POP DIRECTIONAL FORMATTING",
         0x202D: "LEFT-TO-RIGHT OVERRIDE", 0x202E: "RIGHT-TO-LEFT OVERRIDE", 0x2066: "LEFT-TO-RIGHT ISOLATE",
         0x2067: "RIGHT-TO-LEFT ISOLATE", 0x2068: "FIRST STRONG ISOLATE", 0x2069: "POP DIRECTIONAL ISOLATE",
         0x200E: "LEFT-TO-RIGHT MARK", 0x200F: "RIGHT-TO-LEFT MARK", 0x061C: "ARABIC LETTER MARK"}


def invisible_characters(source: str) -> list[Problem]:
    """Every bidirectional-control, invisible format (Unicode category Cf, e.g. zero-width space),
    line/paragraph-separator or control character (other than tab, newline, carriage return) with
    its 1-based line and column. Linear in the length of the source."""
    if source.isascii() and all(c >= " " or c in "\t\n\r" for c in source if c < " "):
        return []
    out: list[Problem] = []
    line, col = 1, 0
    for ch in source:
        col += 1
        if ch == "\n":
            line, col = line + 1, 0
            continue
        code = ord(ch)
        if code < 0x80 and (ch >= " " or ch in "\t\r") and code != 0x7F:
            continue
        cat = unicodedata.category(ch)
        if code in _BIDI or cat in ("Cf", "Cc", "Zl", "Zp"):
            name = _BIDI.get(code) or unicodedata.name(ch, "control character")
            kind = "bidirectional control" if code in _BIDI else "invisible or control"
            out.append(Problem(line, col, f"{kind} character U+{code:04X} {name} is not allowed in scripts "
                                          f"(what is reviewed must be what runs)"))
            if len(out) >= 20:
                break
    return out


def _depth(node: ast.AST, limit: int) -> int:
    """Nesting depth of the tree (stops counting past `limit`)."""
    best = 0
    stack = [(node, 1)]
    while stack:
        n, d = stack.pop()
        best = max(best, d)
        if best > limit:
            return best
        stack.extend((c, d + 1) for c in ast.iter_child_nodes(n))
    return best


def parse_script(source: str, limits: SandboxLimits = SandboxLimits()) -> tuple[ast.Module | None, list[Problem]]:
    """(tree, problems) after the size and syntax checks; tree is None when it cannot be parsed."""
    if not isinstance(source, str):
        return None, [Problem(0, 0, f"a script must be text (got {type(source).__name__})")]
    if len(source) > limits.max_source_chars:
        return None, [Problem(0, 0, f"the script is {len(source)} characters; at most {limits.max_source_chars} "
                                    f"are allowed")]
    n_lines = source.count("\n") + 1
    if n_lines > limits.max_lines:
        return None, [Problem(0, 0, f"the script has {n_lines} lines; at most {limits.max_lines} are allowed")]
    if "\x00" in source:
        line = source[: source.index("\x00")].count("\n") + 1
        return None, [Problem(line, 0, "the script contains a NUL character")]
    hidden = invisible_characters(source)
    if hidden:
        return None, hidden
    try:
        tree = ast.parse(source, mode="exec")
    except SyntaxError as e:
        return None, [Problem(e.lineno or 0, e.offset or 0, f"syntax error: {e.msg}")]
    except (RecursionError, MemoryError, ValueError) as e:
        return None, [Problem(0, 0, f"the script cannot be parsed: {type(e).__name__}: it nests too deeply "
                                    f"or is malformed")]
    n_nodes = sum(1 for _ in ast.walk(tree))
    if n_nodes > limits.max_nodes:
        return None, [Problem(0, 0, f"the script has {n_nodes} syntax nodes; at most {limits.max_nodes} are allowed")]
    if _depth(tree, limits.max_depth) > limits.max_depth:
        return None, [Problem(0, 0, f"the script nests deeper than {limits.max_depth} levels")]
    return tree, []


def _suggest(name: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(options), n=1, cutoff=0.7)
    return f" (did you mean {close[0]!r}?)" if close else ""


class _Checker(ast.NodeVisitor):
    def __init__(self, functions: set[str], limits: SandboxLimits) -> None:
        self.functions = functions
        self.builtins = set(BUILTIN_DOCS)
        self.callables = functions | self.builtins
        self.reserved = self.callables | set(PREDEFINED)
        self.attributes = set(_handle_attributes())
        self.limits = limits
        self.problems: list[Problem] = []
        self.call_funcs: set[int] = set()

    def refuse(self, node: ast.AST, reason: str) -> None:
        self.problems.append(Problem(getattr(node, "lineno", 0), getattr(node, "col_offset", -1) + 1, reason))

    def generic_visit(self, node: ast.AST) -> None:
        if not isinstance(node, ALLOWED_NODES):
            name = type(node).__name__
            self.refuse(node, REFUSAL_REASONS.get(name, f"{name} is not allowed in scripts"))
            return
        super().generic_visit(node)

    # ---- statements --------------------------------------------------------------------
    def _check_target(self, target: ast.AST) -> None:
        if isinstance(target, ast.Name):
            self._check_name(target, target.id)
            if target.id in self.reserved:
                self.refuse(target, f"{target.id!r} is predefined and cannot be assigned to")
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self._check_target(elt)
        else:
            self.refuse(target, "only plain names can be assigned to (no item or attribute assignment)")

    def visit_Assign(self, node: ast.Assign) -> None:
        for t in node.targets:
            self._check_target(t)
        self.visit(node.value)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._check_target(node.target)
        self.visit(node.op)
        self.visit(node.value)

    def visit_For(self, node: ast.For) -> None:
        self._check_target(node.target)
        if node.orelse:
            self.refuse(node.orelse[0], "for ... else is not allowed")
        self.visit(node.iter)
        for stmt in node.body:
            self.visit(stmt)

    # ---- expressions -------------------------------------------------------------------
    def _check_name(self, node: ast.AST, name: str) -> None:
        if name.startswith("_"):
            self.refuse(node, f"names starting with '_' are not allowed ({name!r})")

    def visit_Name(self, node: ast.Name) -> None:
        self._check_name(node, node.id)
        if isinstance(node.ctx, ast.Load) and node.id in self.callables and id(node) not in self.call_funcs:
            self.refuse(node, f"{node.id!r} can only be called, not used as a value")

    def visit_Constant(self, node: ast.Constant) -> None:
        v = node.value
        if isinstance(v, bool) or v is None:
            return
        if isinstance(v, int):
            if abs(v) > self.limits.max_int:
                self.refuse(node, f"the number is larger than {self.limits.max_int:.0e}")
        elif isinstance(v, float):
            if v != v or v in (float("inf"), float("-inf")) or abs(v) > self.limits.max_int:
                self.refuse(node, "the number is not finite or too large")
        elif isinstance(v, str):
            if len(v) > self.limits.max_str:
                self.refuse(node, f"the string is longer than {self.limits.max_str} characters")
        else:
            self.refuse(node, f"{type(v).__name__} literals are not allowed")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if not isinstance(node.ctx, ast.Load):
            self.refuse(node, "attributes cannot be assigned to")
        elif node.attr.startswith("_"):
            self.refuse(node, f"attribute {node.attr!r} is not allowed")
        elif node.attr not in self.attributes:
            self.refuse(node, f"attribute {node.attr!r} is not allowed; agents have "
                              f"{', '.join(sorted(self.attributes))}")
        self.visit(node.value)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if not isinstance(node.ctx, ast.Load):
            self.refuse(node, "items cannot be assigned to")
        self.visit(node.value)
        self.visit(node.slice)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if not isinstance(func, ast.Name):
            self.refuse(node, "only library functions and the safe builtins can be called, by name")
            self.visit(func)
        else:
            self._check_name(func, func.id)
            if not func.id.startswith("_") and func.id not in self.callables:
                self.refuse(func, f"unknown function {func.id!r}{_suggest(func.id, self.callables)}")
            self.call_funcs.add(id(func))
        for a in node.args:
            self.visit(a)
        for kw in node.keywords:
            if kw.arg is None:
                self.refuse(kw.value, "** arguments are not allowed")
            else:
                self._check_name(kw, kw.arg)
            self.visit(kw.value)


def check_script(source: str, limits: SandboxLimits = SandboxLimits(),
                 functions: Iterable[str] | None = None) -> list[Problem]:
    """Every reason to refuse `source` (empty when it may run), sorted by line."""
    tree, problems = parse_script(source, limits)
    problems = problems + ([] if tree is None and problems else _non_ascii_names(source))
    if tree is None:
        return sorted(set(problems), key=lambda p: (p.line, p.col))
    checker = _Checker(set(functions if functions is not None else _library_names()), limits)
    checker.visit(tree)
    return sorted(set(problems + checker.problems), key=lambda p: (p.line, p.col, p.reason))
