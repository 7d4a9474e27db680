"""Parameter bounds of every library function: one table, enforced in one place.

`LibraryFunction.call` (engine.library.registry) checks every numeric argument against
`bounds_for(function, parameter)` before the function runs, so a script can never ask for work
that grows without limit (``brake('car', decel=0.00001)`` would plan a stop hundreds of
kilometres long). The same bounds are appended to each function's docstring (`bounds_doc`), which
is what `help()`, the editor and the LLM system prompt show.

Bounds are wide physical envelopes; the class limits (engine.library.limits) and the clip length
narrow them further inside the functions, with their own messages.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Bound:
    """Closed range [lo, hi] with the unit it is in (for messages and docs)."""

    lo: float
    hi: float
    unit: str = ""

    def describe(self) -> str:
        u = f" {self.unit}" if self.unit else ""
        return f"{self.lo:g} to {self.hi:g}{u}"


MAX_CLIP_SECONDS = 60.0
MIN_CLIP_SECONDS = 1.0

#: Bounds by parameter name, shared by every function that has the parameter.
COMMON: dict[str, Bound] = {
    "speed": Bound(0.0, 60.0, "m/s"),
    "to_speed": Bound(0.0, 60.0, "m/s"),
    "accel": Bound(0.3, 12.0, "m/s^2"),
    "decel": Bound(0.3, 12.0, "m/s^2"),
    "start": Bound(-MAX_CLIP_SECONDS, MAX_CLIP_SECONDS, "s"),     # negative: already moving (crossers)
    "enter_time": Bound(-MAX_CLIP_SECONDS, MAX_CLIP_SECONDS, "s"),
    "pass_time": Bound(-MAX_CLIP_SECONDS, 2 * MAX_CLIP_SECONDS, "s"),
    "duration": Bound(0.3, 30.0, "s"),
    "stop_for": Bound(0.0, MAX_CLIP_SECONDS, "s"),
    "wait": Bound(0.0, MAX_CLIP_SECONDS, "s"),
    "after": Bound(0.0, MAX_CLIP_SECONDS, "s"),
    "change_at": Bound(0.0, MAX_CLIP_SECONDS, "s"),
    "aeb_ttc": Bound(0.3, 5.0, "s"),
    "time_headway": Bound(0.5, 4.0, "s"),
    "aeb_decel": Bound(2.0, 12.0, "m/s^2"),
    "gap": Bound(0.0, 300.0, "m"),
    "time_gap": Bound(0.2, 10.0, "s"),
    "ahead": Bound(-300.0, 400.0, "m"),
    "count": Bound(1, 40, ""),
    "spacing": Bound(0.3, 50.0, "m"),
    "length": Bound(1.0, 300.0, "m"),
    "lateral": Bound(-5.0, 5.0, "m"),
    "yaw": Bound(-2 * math.pi, 2 * math.pi, "rad"),
    "lanes": Bound(1, 5, ""),
    "ego_lane": Bound(1, 5, ""),
    "lane_width": Bound(2.75, 4.5, "m"),
    "ttc": Bound(0.2, 20.0, "s"),
    "distance": Bound(0.5, 300.0, "m"),
    "at_x": Bound(-500.0, 2000.0, "m"),
    "times": Bound(1, 6, ""),
    "red_for": Bound(0.0, MAX_CLIP_SECONDS, "s"),
    "green_for": Bound(0.0, MAX_CLIP_SECONDS, "s"),
    "yellow_for": Bound(0.0, 10.0, "s"),
    "threshold": Bound(0.5, 10.0, "s"),
    "distance_along": Bound(-300.0, 400.0, "m"),
}

#: Per-function overrides: function name -> parameter -> Bound.
OVERRIDES: dict[str, dict[str, Bound]] = {
    "cut_in": {"gap": Bound(-50.0, 200.0, "m")},          # negative with contact=True: overlapping boxes
    "overtake": {"gap": Bound(-50.0, 200.0, "m")},
    "merge": {"gap": Bound(0.0, 200.0, "m")},
    "follow": {"gap": Bound(0.5, 300.0, "m")},
    "parked": {"count": Bound(1, 30, ""), "ahead": Bound(-200.0, 400.0, "m")},
    "cone_row": {"count": Bound(2, 40, ""), "length": Bound(1.0, 200.0, "m"), "ahead": Bound(-200.0, 400.0, "m")},
    "work_zone": {"length": Bound(5.0, 300.0, "m"), "ahead": Bound(-200.0, 400.0, "m")},
    "static_object": {"ahead": Bound(-200.0, 400.0, "m")},
    "roundabout": {"exit": Bound(1, 4, "")},
}


def bounds_for(function: str, parameter: str) -> Bound | None:
    """The bound of one parameter of one function, or None when it is not numeric / unbounded."""
    return OVERRIDES.get(function, {}).get(parameter) or COMMON.get(parameter)


def function_bounds(function: str, parameters: list[str]) -> dict[str, Bound]:
    """parameter -> Bound for the listed parameters that have one."""
    out = {}
    for p in parameters:
        b = bounds_for(function, p)
        if b is not None:
            out[p] = b
    return out


def check_bounds(function: str, arguments: dict[str, Any]) -> str | None:
    """A message naming the first argument outside its bound (None when all are inside).

    Only int/float values are checked (None means "the default", handles and strings have no range).
    """
    for name, value in arguments.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        b = bounds_for(function, name)
        if b is None:
            continue
        v = float(value)
        if not math.isfinite(v) or not b.lo <= v <= b.hi:
            u = f" {b.unit}" if b.unit else ""
            return f"{function}: {name} must be between {b.lo:g} and {b.hi:g}{u} (got {value!r})"
    return None


def bounds_doc(function: str, parameters: list[str]) -> str:
    """'Bounds: decel 0.3 to 12 m/s^2; start 0 to 60 s' for a docstring ('' when none)."""
    fb = function_bounds(function, parameters)
    if not fb:
        return ""
    return "Bounds: " + "; ".join(f"{p} {b.describe()}" for p, b in fb.items())
