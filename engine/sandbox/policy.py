"""The allowed script subset and the limits a run is held to (one place for both)."""
from __future__ import annotations

import ast
from dataclasses import dataclass


@dataclass(frozen=True)
class SandboxLimits:
    """Bounds on a script: its size, its parse tree, the steps and wall-clock time it may run, the
    size of the values it makes. `max_memory_mb` (address space added to the worker's size),
    `max_output_bytes` (the scenario's JSON) and the hard kill at `max_seconds + kill_grace_seconds`
    apply to the bounded executor's worker process (`engine.sandbox.executor`)."""

    max_source_chars: int = 20_000
    max_lines: int = 600
    max_nodes: int = 6_000
    max_depth: int = 40
    max_steps: int = 200_000
    max_seconds: float = 10.0
    max_int: int = 10 ** 12
    max_str: int = 2_000
    max_seq: int = 1_000
    max_range: int = 1_000
    max_memory_mb: int = 1_024
    max_output_bytes: int = 16_000_000
    kill_grace_seconds: float = 1.0


#: Statement and expression node types a script may contain.
ALLOWED_NODES: tuple[type, ...] = (
    ast.Module, ast.Expr, ast.Assign, ast.AugAssign, ast.For, ast.If, ast.Pass, ast.Break, ast.Continue,
    ast.Constant, ast.Name, ast.Load, ast.Store, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp,
    ast.Call, ast.keyword, ast.List, ast.Tuple, ast.Subscript, ast.Attribute,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow,
    ast.UAdd, ast.USub, ast.Not, ast.And, ast.Or,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In, ast.NotIn,
)

#: Why common disallowed constructs are refused (node type name -> reason).
REFUSAL_REASONS: dict[str, str] = {
    "Import": "imports are not allowed",
    "ImportFrom": "imports are not allowed",
    "FunctionDef": "defining functions is not allowed",
    "AsyncFunctionDef": "defining functions is not allowed",
    "Lambda": "lambda is not allowed",
    "ClassDef": "defining classes is not allowed",
    "While": "while loops are not allowed; use `for i in range(n)` (bounded)",
    "AsyncFor": "async code is not allowed",
    "AsyncWith": "async code is not allowed",
    "Await": "async code is not allowed",
    "With": "with blocks are not allowed",
    "Try": "try/except is not allowed",
    "TryStar": "try/except is not allowed",
    "Raise": "raise is not allowed",
    "Assert": "assert is not allowed",
    "Delete": "del is not allowed",
    "Global": "global is not allowed",
    "Nonlocal": "nonlocal is not allowed",
    "Return": "return is not allowed outside functions",
    "Yield": "generators are not allowed",
    "YieldFrom": "generators are not allowed",
    "GeneratorExp": "generator expressions are not allowed",
    "ListComp": "comprehensions are not allowed; use a for loop",
    "SetComp": "comprehensions are not allowed; use a for loop",
    "DictComp": "comprehensions are not allowed; use a for loop",
    "JoinedStr": "f-strings are not allowed",
    "FormattedValue": "f-strings are not allowed",
    "NamedExpr": "the walrus operator := is not allowed",
    "Starred": "star arguments are not allowed",
    "Slice": "slices are not allowed; index with a single number",
    "Dict": "dictionaries are not allowed",
    "Set": "sets are not allowed",
    "Match": "match statements are not allowed",
    "AnnAssign": "annotations are not allowed",
    "BitAnd": "bitwise operators are not allowed",
    "BitOr": "bitwise operators are not allowed",
    "BitXor": "bitwise operators are not allowed",
    "LShift": "shift operators are not allowed",
    "RShift": "shift operators are not allowed",
    "Invert": "bitwise operators are not allowed",
    "MatMult": "the @ operator is not allowed",
}

#: Names every script starts with, besides the library functions.
PREDEFINED = ("ego",)

#: Safe builtins (documented for the prompt): name -> one-line description.
BUILTIN_DOCS: dict[str, str] = {
    "range": "range(stop) / range(start, stop[, step]): at most 1000 numbers",
    "len": "len(list_or_string)",
    "min": "min(a, b, ...) or min(list)",
    "max": "max(a, b, ...) or max(list)",
    "abs": "abs(x)",
    "round": "round(x[, digits])",
    "int": "int(x)",
    "float": "float(x)",
    "kmh": "kmh(v): v km/h in m/s",
    "mph": "mph(v): v mph in m/s",
}
