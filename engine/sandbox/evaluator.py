"""A small tree-walking interpreter for checked scripts (never `exec`/`eval`).

It runs only the node types the checker allows, counts steps and watches a wall-clock deadline,
and checks the size of every value it makes before making it (big integers, long strings and
lists, `**`, repetition). Library calls go through the registry's checked call; attribute reads
only reach the documented agent-handle attributes.
"""
from __future__ import annotations

import ast
import math
import operator
import time
from typing import Any, Callable, TypeGuard

from engine.library.builder import AgentHandle
from engine.sandbox.errors import LimitExceeded
from engine.sandbox.policy import SandboxLimits


class ScriptRuntimeError(Exception):
    """A runtime error in the script at `node` (turned into ScriptFailed with the line)."""

    def __init__(self, message: str, node: ast.AST | None = None) -> None:
        super().__init__(message)
        self.node = node


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
}
_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
    ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
    ast.In: lambda a, b: operator.contains(b, a), ast.NotIn: lambda a, b: not operator.contains(b, a),
}
_SAFE_TYPES = (int, float, str, bool, type(None), list, tuple, AgentHandle)


def _is_num(v: object) -> TypeGuard[int | float]:
    return isinstance(v, (int, float))          # bool counts as a number, as in Python


class Evaluator:
    """Runs a checked module with `functions` (name -> callable) and the safe builtins."""

    def __init__(self, functions: dict[str, Callable[..., Any]], variables: dict[str, Any],
                 limits: SandboxLimits = SandboxLimits(), deadline: float | None = None) -> None:
        self.functions = dict(functions)
        self.vars = dict(variables)
        self.limits = limits
        self.deadline = deadline if deadline is not None else time.monotonic() + limits.max_seconds
        self.steps = 0
        self.builtins: dict[str, Callable[..., Any]] = {
            "range": self._range, "len": self._len, "min": self._min, "max": self._max, "abs": self._abs,
            "round": self._round, "int": self._int, "float": self._float, "kmh": self._kmh, "mph": self._mph,
        }
        self.current_line = 0

    # ---- limits ------------------------------------------------------------------------
    def check_deadline(self) -> None:
        if time.monotonic() > self.deadline:
            raise LimitExceeded(f"the script ran longer than {self.limits.max_seconds:g} s")

    def _step(self, node: ast.AST) -> None:
        self.steps += 1
        if self.steps > self.limits.max_steps:
            raise LimitExceeded(f"the script took more than {self.limits.max_steps} steps (an endless or huge loop?)")
        if self.steps % 64 == 0:
            self.check_deadline()

    def _value(self, v: Any, node: ast.AST) -> Any:
        """Check a value made by the script against the size limits and allowed types."""
        L = self.limits
        if isinstance(v, bool) or v is None:
            return v
        if isinstance(v, int):
            if abs(v) > L.max_int:
                raise ScriptRuntimeError(f"the number is larger than {L.max_int:.0e}", node)
        elif isinstance(v, float):
            if not math.isfinite(v) or abs(v) > L.max_int:
                raise ScriptRuntimeError("the number is not finite or too large", node)
        elif isinstance(v, str):
            if len(v) > L.max_str:
                raise ScriptRuntimeError(f"the string is longer than {L.max_str} characters", node)
        elif isinstance(v, (list, tuple)):
            if len(v) > L.max_seq:
                raise ScriptRuntimeError(f"the list is longer than {L.max_seq} items", node)
        elif isinstance(v, range):
            if len(v) > L.max_range:
                raise ScriptRuntimeError(f"range covers more than {L.max_range} numbers", node)
        elif not isinstance(v, AgentHandle):
            raise ScriptRuntimeError(f"values of type {type(v).__name__} are not available to scripts", node)
        return v

    # ---- statements --------------------------------------------------------------------
    def run(self, module: ast.Module) -> dict[str, Any]:
        """Execute the module; returns the final variables."""
        self._block(module.body)
        return self.vars

    def _block(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            self._stmt(stmt)

    def _stmt(self, node: ast.stmt) -> None:
        self.current_line = getattr(node, "lineno", self.current_line)
        self._step(node)
        if isinstance(node, ast.Expr):
            self._expr(node.value)
        elif isinstance(node, ast.Assign):
            value = self._expr(node.value)
            for target in node.targets:
                self._assign(target, value)
        elif isinstance(node, ast.AugAssign):
            cur = self._load(node.target)
            self._assign(node.target, self._binop(type(node.op), cur, self._expr(node.value), node))
        elif isinstance(node, ast.If):
            self._block(node.body if self._truth(self._expr(node.test), node) else node.orelse)
        elif isinstance(node, ast.For):
            self._for(node)
        elif isinstance(node, ast.Pass):
            pass
        elif isinstance(node, ast.Break):
            raise _Break()
        elif isinstance(node, ast.Continue):
            raise _Continue()
        else:                                   # the checker refuses everything else
            raise ScriptRuntimeError(f"{type(node).__name__} is not allowed", node)

    def _for(self, node: ast.For) -> None:
        it = self._expr(node.iter)
        if not isinstance(it, (range, list, tuple)):
            raise ScriptRuntimeError("a for loop can only go over range(...) or a list", node.iter)
        for item in list(it):
            self._step(node)
            self._assign(node.target, item)
            try:
                self._block(node.body)
            except _Break:
                break
            except _Continue:
                continue

    def _assign(self, target: ast.AST, value: Any) -> None:
        if isinstance(target, ast.Name):
            self.vars[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            if not isinstance(value, (list, tuple, range)) or len(value) != len(target.elts):
                raise ScriptRuntimeError(f"cannot unpack into {len(target.elts)} names", target)
            for t, v in zip(target.elts, list(value)):
                self._assign(t, v)
        else:
            raise ScriptRuntimeError("only names can be assigned to", target)

    def _load(self, target: ast.AST) -> Any:
        if isinstance(target, ast.Name):
            return self._name(target)
        raise ScriptRuntimeError("only names can be updated", target)

    # ---- expressions -------------------------------------------------------------------
    def _expr(self, node: ast.expr) -> Any:
        self._step(node)
        if isinstance(node, ast.Constant):
            return self._value(node.value, node)
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.BinOp):
            return self._binop(type(node.op), self._expr(node.left), self._expr(node.right), node)
        if isinstance(node, ast.UnaryOp):
            operand = self._expr(node.operand)
            if isinstance(node.op, ast.Not):
                return not self._truth(operand, node)
            if not _is_num(operand):
                raise ScriptRuntimeError("unary + and - need a number", node)
            return self._value(-operand if isinstance(node.op, ast.USub) else +operand, node)
        if isinstance(node, ast.BoolOp):
            is_and = isinstance(node.op, ast.And)
            v: Any = None
            for sub in node.values:
                v = self._expr(sub)
                if self._truth(v, node) != is_and:
                    return v
            return v
        if isinstance(node, ast.Compare):
            left = self._expr(node.left)
            for op, comp in zip(node.ops, node.comparators):
                right = self._expr(comp)
                try:
                    ok = _CMPOPS[type(op)](left, right)
                except TypeError:
                    raise ScriptRuntimeError(f"cannot compare {type(left).__name__} and {type(right).__name__}",
                                             node) from None
                except RecursionError:
                    raise ScriptRuntimeError("the values nest too deeply to compare", node) from None
                if not ok:
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            return self._expr(node.body) if self._truth(self._expr(node.test), node) else self._expr(node.orelse)
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, (ast.List, ast.Tuple)):
            if len(node.elts) > self.limits.max_seq:
                raise ScriptRuntimeError(f"the list is longer than {self.limits.max_seq} items", node)
            items = [self._expr(e) for e in node.elts]
            return self._value(items if isinstance(node, ast.List) else tuple(items), node)
        if isinstance(node, ast.Subscript):
            seq = self._expr(node.value)
            idx = self._expr(node.slice)
            if not isinstance(seq, (list, tuple, str, range)) or isinstance(idx, bool) or not isinstance(idx, int):
                raise ScriptRuntimeError("only lists and strings can be indexed, with a whole number", node)
            try:
                return seq[idx]
            except IndexError:
                raise ScriptRuntimeError(f"index {idx} is out of range (length {len(seq)})", node) from None
        if isinstance(node, ast.Attribute):
            obj = self._expr(node.value)
            if not isinstance(obj, AgentHandle) or node.attr not in AgentHandle.ATTRIBUTES:
                raise ScriptRuntimeError(f"attribute {node.attr!r} is only available on agents "
                                         f"({', '.join(AgentHandle.ATTRIBUTES)})", node)
            return self._value(getattr(obj, node.attr), node)
        raise ScriptRuntimeError(f"{type(node).__name__} is not allowed", node)

    def _name(self, node: ast.Name) -> Any:
        if node.id in self.vars:
            return self.vars[node.id]
        raise ScriptRuntimeError(f"name {node.id!r} is not defined", node)

    def _truth(self, v: Any, node: ast.AST) -> bool:
        if not isinstance(v, _SAFE_TYPES) and not isinstance(v, range):
            raise ScriptRuntimeError("this value has no truth value in scripts", node)
        return bool(v)

    def _binop(self, op: type[ast.operator], a: Any, b: Any, node: ast.AST) -> Any:
        L = self.limits
        nums = _is_num(a) and _is_num(b)
        if op is ast.Pow:
            if not nums:
                raise ScriptRuntimeError("** needs two numbers", node)
            if isinstance(a, int) and isinstance(b, int) and b > 0:
                if abs(a) > 1 and b * max(abs(a).bit_length() - 1, 1) > L.max_int.bit_length():
                    raise ScriptRuntimeError(f"the power is larger than {L.max_int:.0e}", node)
        elif op is ast.Mult and not nums:
            seq, n = (a, b) if isinstance(a, (str, list, tuple)) else (b, a)
            if not isinstance(seq, (str, list, tuple)) or isinstance(n, bool) or not isinstance(n, int):
                raise ScriptRuntimeError("* repeats a list or string by a whole number only", node)
            limit = L.max_str if isinstance(seq, str) else L.max_seq
            if len(seq) * max(n, 0) > limit:
                raise ScriptRuntimeError(f"the repeated value would exceed {limit} items", node)
        elif op is ast.Add and not nums:
            if not (isinstance(a, (str, list, tuple)) and type(a) is type(b)):
                raise ScriptRuntimeError(f"cannot add {type(a).__name__} and {type(b).__name__}", node)
            limit = L.max_str if isinstance(a, str) else L.max_seq
            if len(a) + len(b) > limit:
                raise ScriptRuntimeError(f"the result would exceed {limit} items", node)
        elif not nums:
            raise ScriptRuntimeError(f"{_OPNAMES.get(op, 'this operator')} needs numbers", node)
        try:
            return self._value(_BINOPS[op](a, b), node)
        except ZeroDivisionError:
            raise ScriptRuntimeError("division by zero", node) from None
        except (OverflowError, ValueError, TypeError) as e:
            raise ScriptRuntimeError(f"arithmetic error: {e}", node) from None

    def _call(self, node: ast.Call) -> Any:
        name = node.func.id if isinstance(node.func, ast.Name) else ""
        args = [self._expr(a) for a in node.args]
        kwargs = {kw.arg: self._expr(kw.value) for kw in node.keywords if kw.arg is not None}
        if name in self.builtins:
            fn = self.builtins[name]
            try:
                return self._value(fn(*args, **kwargs), node)
            except ScriptRuntimeError:
                raise
            except (TypeError, ValueError, OverflowError) as e:
                raise ScriptRuntimeError(f"{name}(): {e}", node) from None
        if name in self.functions:
            self.check_deadline()
            result = self.functions[name](*args, **kwargs)
            if isinstance(result, list):
                return self._value(list(result), node)
            return self._value(result, node)
        raise ScriptRuntimeError(f"unknown function {name!r}", node)

    # ---- safe builtins -------------------------------------------------------------------
    def _ints(self, *vals: Any) -> None:
        for v in vals:
            if isinstance(v, bool) or not isinstance(v, int):
                raise ScriptRuntimeError("range() takes whole numbers")

    def _range(self, *args: Any) -> range:
        self._ints(*args)
        r = range(*args)
        if len(r) > self.limits.max_range:
            raise ScriptRuntimeError(f"range covers {len(r)} numbers; at most {self.limits.max_range} are allowed")
        return r

    def _len(self, v: Any) -> int:
        if not isinstance(v, (list, tuple, str, range)):
            raise ScriptRuntimeError("len() takes a list or a string")
        return len(v)

    def _extreme(self, fn: Callable[..., Any], name: str, args: tuple[Any, ...]) -> Any:
        items = list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple, range)) else list(args)
        if not items or not all(_is_num(i) for i in items):
            raise ScriptRuntimeError(f"{name}() takes numbers")
        return fn(items)

    def _min(self, *args: Any) -> Any:
        return self._extreme(min, "min", args)

    def _max(self, *args: Any) -> Any:
        return self._extreme(max, "max", args)

    def _num(self, v: Any, name: str) -> float:
        if not _is_num(v):
            raise ScriptRuntimeError(f"{name}() takes a number")
        return v

    def _abs(self, v: Any) -> Any:
        return abs(self._num(v, "abs"))

    def _round(self, v: Any, digits: Any = None) -> Any:
        self._num(v, "round")
        if digits is not None and (isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= 10):
            raise ScriptRuntimeError("round() digits must be a whole number from 0 to 10")
        return round(v, digits) if digits is not None else round(v)

    def _int(self, v: Any) -> int:
        if isinstance(v, str) and len(v) > 30:
            raise ScriptRuntimeError("int() of a string longer than 30 characters")
        if not (_is_num(v) or isinstance(v, str)):
            raise ScriptRuntimeError("int() takes a number or a numeric string")
        return int(v)

    def _float(self, v: Any) -> float:
        if isinstance(v, str) and len(v) > 30:
            raise ScriptRuntimeError("float() of a string longer than 30 characters")
        if not (_is_num(v) or isinstance(v, str)):
            raise ScriptRuntimeError("float() takes a number or a numeric string")
        return float(v)

    def _kmh(self, v: Any) -> float:
        return float(self._num(v, "kmh")) / 3.6

    def _mph(self, v: Any) -> float:
        return float(self._num(v, "mph")) * 0.44704


_OPNAMES: dict[type[ast.operator], str] = {ast.Sub: "-", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "% (numbers only; no string formatting)",
            ast.Mult: "*", ast.Add: "+"}
