"""Helpers the library functions share: argument checks, lanes relative to an agent, where a new
agent starts, default speeds, and the search for a placement that keeps the safe distance."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence, overload

import numpy as np

from engine.classes import STATIC_CLASSES, class_names, default_size
from engine.library.builder import AgentHandle, AgentRecord, ScenarioBuilder
from engine.library.errors import LimitError, PlacementError
from engine.library.limits import limits_for
from engine.library.motion import lane_motion
from engine.library.profiles import LateralShift, SpeedChange, SpeedProfile, speed_profile
from engine.roadmap.layout import CROSS_ROAD, OPPOSITE, LaneRef
from engine.scenario.trajectory import Trajectory

VEHICLES = ("car", "truck", "bus", "trailer", "construction_vehicle", "motorcycle", "bicycle")
LANE_WORDS = ("same", "left", "right", "oncoming")


@overload
def number(ctx: ScenarioBuilder, name: str, value: float, lo: float, hi: float) -> float: ...
@overload
def number(ctx: ScenarioBuilder, name: str, value: float | None, lo: float, hi: float) -> float | None: ...
def number(ctx: ScenarioBuilder, name: str, value: float | None, lo: float, hi: float) -> float | None:
    """`value` as a float checked against [lo, hi] (None passes through)."""
    if value is None:
        return None
    v = float(value)
    if not lo <= v <= hi:
        raise ctx.error(f"{name} must be between {lo:g} and {hi:g} (got {v:g})")
    return v


def choice(ctx: ScenarioBuilder, name: str, value: str, options: Sequence[str]) -> str:
    if value not in options:
        raise ctx.error(f"{name} must be one of {', '.join(repr(o) for o in options)} (got {value!r})")
    return value


def vehicle_class(ctx: ScenarioBuilder, cls: str, allowed: Sequence[str] = VEHICLES) -> str:
    if cls not in class_names():
        raise ctx.error(f"unknown class {cls!r}; the classes are {', '.join(class_names())}")
    if cls not in allowed:
        raise ctx.error(f"class {cls!r} cannot do this; use one of {', '.join(allowed)}")
    return cls


@overload
def speed_arg(ctx: ScenarioBuilder, name: str, value: float, cls: str) -> float: ...
@overload
def speed_arg(ctx: ScenarioBuilder, name: str, value: float | None, cls: str) -> float | None: ...
def speed_arg(ctx: ScenarioBuilder, name: str, value: float | None, cls: str) -> float | None:
    """A speed argument (m/s) checked against the class's top speed."""
    if value is None:
        return None
    lim = limits_for(cls)
    v = float(value)
    if v < 0:
        raise ctx.error(f"{name} must not be negative (got {v:g} m/s)")
    if v > lim.max_speed:
        raise ctx.error(f"{name} {v:g} m/s is above the {cls} top speed of {lim.max_speed:g} m/s", LimitError)
    return v


def rate_arg(ctx: ScenarioBuilder, name: str, value: float, cls: str, kind: str) -> float:
    """An acceleration (kind 'accel') or deceleration (kind 'decel') in m/s^2 within the class limit."""
    lim = limits_for(cls)
    top = lim.max_accel if kind == "accel" else lim.max_decel
    v = float(value)
    if v <= 0:
        raise ctx.error(f"{name} must be positive (got {v:g} m/s^2)")
    if v > top:
        raise ctx.error(f"{name} {v:g} m/s^2 is beyond what a {cls} can do ({top:g} m/s^2)", LimitError)
    return v


@overload
def time_arg(ctx: ScenarioBuilder, name: str, value: float) -> float: ...
@overload
def time_arg(ctx: ScenarioBuilder, name: str, value: float | None) -> float | None: ...
def time_arg(ctx: ScenarioBuilder, name: str, value: float | None) -> float | None:
    if value is None:
        return None
    v = float(value)
    if not 0.0 <= v <= ctx.duration:
        raise ctx.error(f"{name} must be within the clip, 0 to {ctx.duration:g} s (got {v:g})")
    return v


def default_speed(ctx: ScenarioBuilder, cls: str, key: str) -> float:
    lo, hi = limits_for(cls).typical_speed
    return float(np.round(ctx.rng(key).uniform(lo, hi), 2))


def safe_gap(speed: float) -> float:
    """Bumper-to-bumper gap (m) kept behind or in front of a vehicle at `speed` (m/s): 2 m + 0.5 s."""
    return 2.0 + 0.5 * max(speed, 0.0)


@dataclass(frozen=True)
class Who:
    """The subject of a motion function: an existing agent (handle) or, when `handle` is None, a new
    one of class `cls`."""

    handle: AgentHandle | None
    cls: str


def resolve_who(ctx: ScenarioBuilder, who: AgentHandle | str, allowed: Sequence[str] = VEHICLES) -> Who:
    """`ego` (or any handle whose motion is still open) or a class name for a new agent."""
    if isinstance(who, AgentHandle):
        rec = ctx.record(who)
        if not rec.provisional:
            raise ctx.error(f"{rec.id} already moves by {rec.behavior}(); each agent gets one motion function "
                            f"(pass a class name such as 'car' to add a new agent)", PlacementError)
        return Who(who, rec.cls)
    return Who(None, vehicle_class(ctx, who, allowed))


def ref_record(ctx: ScenarioBuilder, ref: AgentHandle | None) -> AgentRecord:
    return ctx.record(ref if ref is not None else ctx.ego)


def road_lane(ctx: ScenarioBuilder, rec: AgentRecord) -> LaneRef:
    if rec.lane is None:
        raise ctx.error(f"{rec.id} is not driving in a lane, so lanes cannot be given relative to it",
                        PlacementError)
    return rec.lane


def resolve_lane(ctx: ScenarioBuilder, ref: AgentRecord, lane: str) -> LaneRef:
    """A lane given relative to `ref`: 'same', 'left', 'right', 'oncoming' (the opposite direction's
    lane next to the centre line), or an id like 'EB_3' / 'WB_1'."""
    base = road_lane(ctx, ref)
    if lane == "same":
        out = base
    elif lane == "left":
        if base.number <= 1:
            raise ctx.error(f"there is no lane to the left of {ref.id}: {base.id} is next to the centre line. "
                            f"Use lane='oncoming', or put the ego further right with set_road(ego_lane=2)",
                            PlacementError)
        out = LaneRef(base.direction, base.number - 1)
    elif lane == "right":
        out = LaneRef(base.direction, base.number + 1)
    elif lane == "oncoming":
        out = LaneRef(OPPOSITE[base.direction], 1)
    else:
        try:
            out = LaneRef.parse(lane)
        except ValueError as e:
            raise ctx.error(f"lane must be 'same', 'left', 'right', 'oncoming' or a lane id: {e}") from None
        if out.direction in CROSS_ROAD and ctx.layout.intersection_x is None:
            raise ctx.error(f"lane {out.id} is on the cross road, and there is no intersection yet "
                            f"(turn_left, turn_right or crossing_traffic make one)", PlacementError)
    ctx.require_lane(out)
    return out


def anchor_s(ctx: ScenarioBuilder, ref: AgentRecord, lane: LaneRef, ahead: float, new_length: float) -> float:
    """s, in `lane`'s frame, of a new agent whose front/back is `ahead` m beyond ref's front/back at t=0
    (measured along ref's heading; negative ahead: behind ref)."""
    x, y, yaw = ref.trajectory.pose_at(0.0)
    along = math.copysign(ref.size[1] / 2 + abs(ahead) + new_length / 2, ahead if ahead != 0 else 1.0)
    p = np.array([x, y]) + along * np.array([math.cos(yaw), math.sin(yaw)])
    return float(ctx.layout.frame(lane.direction).from_world(p)[0][0])


def profile_jerk(cls: str) -> float:
    """Jerk (m/s^3) the library's speed changes use for a class: 60 % of its limit."""
    return limits_for(cls).max_jerk * 0.6


def plan_profile(ctx: ScenarioBuilder, cls: str, v0: float, changes: Sequence[SpeedChange]) -> SpeedProfile:
    """The speed profile of `changes` from v0 over the clip, at the class's planning jerk."""
    return speed_profile(v0, changes, profile_jerk(cls), ctx.t_end)


def lane_trajectory(ctx: ScenarioBuilder, lane: LaneRef, s0: float, profile: SpeedProfile,
                    shifts: Sequence[LateralShift] = (), lat_offset: float = 0.0) -> Trajectory:
    frame = ctx.layout.frame(lane.direction)
    return lane_motion(frame, s0, ctx.layout.lane_lat(lane.number) + lat_offset, profile, shifts, ctx.times)


def candidates_around(first: float, step: float, count: int, both_ways: bool = False,
                      limit: tuple[float, float] = (-400.0, 400.0)) -> list[float]:
    """first, first+step, ... (and first-step, ... interleaved when both_ways), clipped to `limit`."""
    out = [first]
    for k in range(1, count):
        out.append(first + k * step)
        if both_ways:
            out.append(first - k * step)
    return [c for c in out if limit[0] <= c <= limit[1]]


def search(ctx: ScenarioBuilder, cls: str, candidates: Iterable[float], make: Callable[[float], Trajectory],
           exclude: Iterable[str] = (), what: str = "the new agent", hint: str = "") -> tuple[float, Trajectory]:
    """The first candidate value whose trajectory keeps the safe distance from every agent.

    Raises PlacementError describing the closest encounter of the first candidate when none works.
    """
    size = default_size(cls)
    excl = set(exclude)
    first_failure = None
    for c in candidates:
        traj = make(c)
        enc = ctx.conflict(cls, size, traj, exclude=excl)
        if enc is None:
            return c, traj
        if first_failure is None:
            first_failure = (c, enc)
        ctx.check_deadline()
    if first_failure is None:
        raise ctx.error(f"no position to try for {what}", PlacementError)
    c, enc = first_failure
    raise ctx.error(f"{what} would come within {enc.distance:.2f} m of {enc.other} at t={enc.t:.2f} s "
                    f"(safe distance {enc.required:.2f} m){hint}", PlacementError)


def is_static(cls: str) -> bool:
    return cls in STATIC_CLASSES


def need(ctx: ScenarioBuilder, condition: bool, message: str) -> None:
    if not condition:
        raise ctx.error(message)


