"""Small, exact edits of a library script: find its top-level calls, tell which call made which
agent, and rewrite one call's keyword arguments while keeping the rest of the text as written.

Used by the deterministic repair (`engine.prompting.repair`): a repaired script differs from the
original only in the arguments that were changed, so the user can see (and keep editing) exactly
what the checks made the interpreter change.
"""
from __future__ import annotations

import ast
import json
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from engine.scenario.model import EGO_ID, Scenario

EDIT_MARK = "adjusted after the checks"
#: functions that may add several agents in one call (the others add exactly one)
MULTI_AGENT_FUNCTIONS = frozenset({"parked", "cone_row", "work_zone"})


@dataclass(frozen=True)
class CallSite:
    """One top-level library call `[var =] func(args, key=value ...)` of a script.

    index: statement order; line: 1-based first line; start / end: character offsets of the call
    expression in the script; args: positional argument texts; kwargs: keyword -> argument text.
    """

    index: int
    line: int
    func: str
    var: str | None
    start: int
    end: int
    args: tuple[str, ...] = ()
    kwargs: Mapping[str, str] = field(default_factory=dict)

    def argument(self, name: str) -> str | None:
        """The text of parameter `name`, passed by keyword or by position (None when not passed)."""
        if name in self.kwargs:
            return self.kwargs[name]
        names = _parameter_names(self.func)
        if name in names and names.index(name) < len(self.args):
            return self.args[names.index(name)]
        return None

    @property
    def moves_ego(self) -> bool:
        """Whether the call gives the ego its motion (its `who` is `ego`)."""
        return self.argument("who") == EGO_ID

    def literal(self, name: str) -> Any:
        """The value of keyword `name` when it is a literal (None when absent or not a literal)."""
        text = self.kwargs.get(name)
        if text is None:
            return None
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return None


def _parameter_names(func: str) -> list[str]:
    """The parameter names of a library function, in order ([] for anything else)."""
    from engine.library.registry import library_functions

    f = library_functions().get(func)
    return list(f.signature.parameters) if f is not None else []


def _offsets(script: str) -> list[int]:
    starts, pos = [], 0
    for line in script.splitlines(keepends=True):
        starts.append(pos)
        pos += len(line)
    starts.append(pos)
    return starts


def _char(line_starts: list[int], script: str, lineno: int, col: int) -> int:
    """Character offset of (1-based line, UTF-8 byte column) as the ast module reports them."""
    line_text = script[line_starts[lineno - 1]:line_starts[lineno]] if lineno < len(line_starts) else ""
    return line_starts[lineno - 1] + len(line_text.encode("utf-8")[:col].decode("utf-8", errors="ignore"))


def call_sites(script: str) -> list[CallSite]:
    """The top-level calls of `script`, in order; [] when it does not parse."""
    try:
        tree = ast.parse(script)
    except SyntaxError:
        return []
    starts = _offsets(script)
    out: list[CallSite] = []

    def seg(n: ast.AST) -> str:
        return ast.get_source_segment(script, n) or ""

    for stmt in tree.body:
        var = None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            call, var = stmt.value, stmt.targets[0].id
        elif isinstance(stmt, ast.Expr):
            call = stmt.value
        else:
            continue
        if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
            continue
        out.append(CallSite(
            index=len(out), line=call.lineno, func=call.func.id, var=var,
            start=_char(starts, script, call.lineno, call.col_offset),
            end=_char(starts, script, call.end_lineno or call.lineno, call.end_col_offset or 0),
            args=tuple(seg(a) for a in call.args),
            kwargs={k.arg: seg(k.value) for k in call.keywords if k.arg is not None},
        ))
    return out


def literal_text(value: Any) -> str:
    """How a value is written in a script: 1.25, True, None, "left"."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot write {value!r} in a script")
        return repr(round(value, 2))
    if isinstance(value, str):
        return json.dumps(value)
    raise TypeError(f"cannot write a {type(value).__name__} in a script")


def with_keywords(script: str, site: CallSite, changes: Mapping[str, Any], remove: tuple[str, ...] = (),
                  mark: bool = True) -> str:
    """`script` with the call at `site` given the keyword arguments `changes` (added or replaced)
    and without those in `remove`; every other character is kept. With `mark`, the call's line
    gets the comment '# adjusted after the checks'."""
    kwargs = {k: v for k, v in site.kwargs.items() if k not in remove}
    for k, v in changes.items():
        kwargs[k] = literal_text(v)
    text = f"{site.func}(" + ", ".join(list(site.args) + [f"{k}={v}" for k, v in kwargs.items()]) + ")"
    out = script[:site.start] + text + script[site.end:]
    if not mark:
        return out
    line_end = out.find("\n", site.start)
    line_end = len(out) if line_end < 0 else line_end
    line = out[site.start:line_end]
    if EDIT_MARK in line:
        return out
    tail = f"; {EDIT_MARK}" if "#" in line[len(text):] else f"  # {EDIT_MARK}"
    return out[:line_end] + tail + out[line_end:]


def agents_by_call(script: str, scenario: Scenario) -> dict[str, CallSite]:
    """Which top-level call made each agent of `scenario` (the result of running `script`).

    Agents are matched to calls in creation order by the function that made them (`behavior`, or
    `behavior_params['by']` for agents a call adds on the side, like run_out's parked cars). Agents
    made inside loops or by calls this cannot follow are left out.
    """
    sites = call_sites(script)
    out: dict[str, CallSite] = {}
    ego_calls = [s for s in sites if s.moves_ego]
    if ego_calls and scenario.ego.behavior in {s.func for s in ego_calls}:
        out[EGO_ID] = next(s for s in ego_calls if s.func == scenario.ego.behavior)
    others = [s for s in sites if not s.moves_ego]
    used: dict[int, int] = {}
    pointer = 0
    for agent in scenario.agents:
        fn = str(agent.behavior_params.get("by") or agent.behavior)
        k = next((j for j in range(pointer, len(others)) if others[j].func == fn), None)
        if k is None:
            continue
        site = others[k]
        out[agent.id] = site
        used[k] = used.get(k, 0) + 1
        main = agent.behavior == site.func
        if site.func in MULTI_AGENT_FUNCTIONS:
            count = site.literal("count")
            if site.func == "parked" and isinstance(count, int) and used[k] >= count:
                pointer = k + 1
            else:
                pointer = k
        elif main:
            pointer = k + 1
        else:
            pointer = k
    return out


__all__ = ["CallSite", "EDIT_MARK", "agents_by_call", "call_sites", "literal_text", "with_keywords"]
