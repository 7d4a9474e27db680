"""Set the arguments of library-function calls in a script's text (for function-argument sweeps).

``set_call_argument(script, "cut_in", "speed", 12.0)`` rewrites every ``cut_in(...)`` call so that
its ``speed`` keyword is 12.0 (replacing the keyword, or a positional argument in that parameter's
place, or adding the keyword); ``index=1`` touches only the second call. The result is still just
script text: it is validated and sandboxed like any other script before it runs.
"""
from __future__ import annotations

import ast
from typing import Any


class ScriptArgumentError(ValueError):
    """The call or the argument to set is not in the script (the message names which)."""


def _call_name(node: ast.Call) -> str | None:
    f = node.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        return f.attr
    return None


def _positional_index(func: str, arg: str) -> int | None:
    """Position of `arg` in the library function's signature (the builder context excluded), if known."""
    try:
        from engine.library import library_functions
    except ImportError:  # pragma: no cover
        return None
    lf = library_functions().get(func)
    if lf is None:
        return None
    names = list(lf.signature.parameters)
    return names.index(arg) if arg in names else None


def _literal(value: Any) -> str:
    """The source text of a literal value; refuses anything that is not a plain literal."""
    text = repr(value)
    try:
        ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise ScriptArgumentError(f"value {value!r} cannot be written into a script") from None
    return text


def set_call_argument(script: str, func: str, arg: str, value: Any, index: int | None = None) -> str:
    """The script with `arg` of the calls of `func` (or only its `index`-th call, 0-based) set to `value`.

    The text is edited in place (comments and layout are kept): the keyword's value or the positional
    argument in that parameter's place is replaced, or ``arg=value`` is added before the closing parenthesis.
    """
    try:
        tree = ast.parse(script)
    except SyntaxError as e:
        raise ScriptArgumentError(f"the script does not parse (line {e.lineno}): {e.msg}") from None
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and _call_name(n) == func]
    calls.sort(key=lambda n: (n.lineno, n.col_offset))
    if not calls:
        raise ScriptArgumentError(f"the script never calls {func}()")
    if index is not None:
        if index >= len(calls):
            raise ScriptArgumentError(f"the script calls {func}() {len(calls)} time(s); there is no call [{index}]")
        calls = [calls[index]]
    pos = _positional_index(func, arg)
    text = _literal(value).encode()
    data = script.encode()
    starts = [0]
    for line in data.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))

    def at(lineno: int, col: int) -> int:  # ast columns are UTF-8 byte offsets
        return starts[lineno - 1] + col

    def end(node: ast.expr | ast.keyword) -> int:
        """Byte offset just past a parsed node (parsed nodes always carry their end position)."""
        assert node.end_lineno is not None and node.end_col_offset is not None
        return at(node.end_lineno, node.end_col_offset)

    edits: list[tuple[int, int, bytes]] = []
    for call in calls:
        target = next((kw.value for kw in call.keywords if kw.arg == arg), None)
        if target is None and pos is not None and pos < len(call.args) and not any(
                isinstance(a, ast.Starred) for a in call.args[:pos + 1]):
            target = call.args[pos]
        if target is not None:
            edits.append((at(target.lineno, target.col_offset), end(target), text))
            continue
        close = end(call) - 1  # the closing parenthesis
        parts: list[ast.expr | ast.keyword] = [*call.args, *call.keywords]
        if parts:
            last_end = max(end(p) for p in parts)
            between = data[last_end:close]
            sep = b" " if b"," in between else b", "
            edits.append((last_end if sep == b", " else close, last_end if sep == b", " else close,
                          sep + arg.encode() + b"=" + text))
        else:
            edits.append((close, close, arg.encode() + b"=" + text))
    for a, b, new in sorted(edits, reverse=True):
        data = data[:a] + new + data[b:]
    out = data.decode()
    try:
        ast.parse(out)
    except SyntaxError as e:  # pragma: no cover - a guard: the edit must keep the script valid
        raise ScriptArgumentError(f"setting {func}.{arg} broke the script (line {e.lineno}): {e.msg}") from None
    return out
