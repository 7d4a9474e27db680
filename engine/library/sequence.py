"""Motion plans that manoeuvres can be appended to, and the start conditions (triggers) of a manoeuvre.

A plan is the recipe of an agent's motion: for a vehicle in a lane, the lane, where it starts
(arc length s0), its initial speed and the speed changes (jerk-limited) and lateral shifts
(minimum-jerk quintics) applied one after the other; for a walker, a path and speed changes.
Appending a manoeuvre appends a change or a shift that starts no earlier than the previous one
ended, so the joined motion is as smooth as each piece (speed C1, position C2) and stays within
the class limits that `ScenarioBuilder.check_limits` checks.

Triggers are resolved at authoring time on the frame grid: the manoeuvre starts at the first frame
time at which its condition holds, computed from the trajectories placed so far.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from engine.library.motion import lane_motion, path_motion
from engine.library.profiles import LateralShift, SpeedChange, SpeedProfile, speed_profile
from engine.roadmap.connectors import Path
from engine.roadmap.layout import LaneRef
from engine.scenario.trajectory import Trajectory

if TYPE_CHECKING:
    from engine.library.builder import AgentHandle, AgentRecord, ScenarioBuilder


def _jerk(cls: str) -> float:
    from engine.library.placing import profile_jerk

    return profile_jerk(cls)


@dataclass(frozen=True)
class LanePlan:
    """A vehicle driving along lane `lane` (at t=0) from arc length `s0` at speed `v0` (m/s)."""

    cls: str
    lane: LaneRef
    s0: float
    v0: float
    changes: tuple[SpeedChange, ...] = ()
    shifts: tuple[LateralShift, ...] = ()
    lat_offset: float = 0.0

    def profile(self, ctx: ScenarioBuilder) -> SpeedProfile:
        return speed_profile(self.v0, self.changes, _jerk(self.cls), ctx.t_end)

    def trajectory(self, ctx: ScenarioBuilder) -> Trajectory:
        frame = ctx.layout.frame(self.lane.direction)
        lat0 = ctx.layout.lane_lat(self.lane.number) + self.lat_offset
        return lane_motion(frame, self.s0, lat0, self.profile(ctx), self.shifts, ctx.times)

    def end_time(self, ctx: ScenarioBuilder) -> float:
        """When the last speed change or lateral shift is over (0 when there is none)."""
        ends = [p[1] for p in self.profile(ctx).phases] + [sh.start + sh.duration for sh in self.shifts]
        return float(max(ends, default=0.0))

    def final_speed(self) -> float:
        return float(self.changes[-1].target) if self.changes else float(self.v0)

    def lane_now(self, ctx: ScenarioBuilder) -> LaneRef:
        """The lane after every shift (lane numbers grow to the right; left shifts are positive)."""
        moved = (sum(sh.delta for sh in self.shifts) + self.lat_offset) / ctx.layout.lane_width
        return LaneRef(self.lane.direction, int(round(self.lane.number - moved)))

    def with_change(self, ch: SpeedChange) -> "LanePlan":
        return replace(self, changes=self.changes + (ch,))

    def with_shift(self, sh: LateralShift) -> "LanePlan":
        return replace(self, shifts=self.shifts + (sh,))


@dataclass(frozen=True)
class PathPlan:
    """A walker (or any agent) moving along a fixed `path` from arc length `s0` at speed `v0`."""

    cls: str
    path: Path
    s0: float
    v0: float
    changes: tuple[SpeedChange, ...] = ()

    def profile(self, ctx: ScenarioBuilder) -> SpeedProfile:
        return speed_profile(self.v0, self.changes, _jerk(self.cls), ctx.t_end)

    def trajectory(self, ctx: ScenarioBuilder) -> Trajectory:
        return path_motion(self.path, self.s0, self.profile(ctx), ctx.times)

    def end_time(self, ctx: ScenarioBuilder) -> float:
        return float(max((p[1] for p in self.profile(ctx).phases), default=0.0))

    def final_speed(self) -> float:
        return float(self.changes[-1].target) if self.changes else float(self.v0)

    def with_change(self, ch: SpeedChange) -> "PathPlan":
        return replace(self, changes=self.changes + (ch,))


# ---------------------------------------------------------------------------------- conditions
def longitudinal_ttc(a: Trajectory, size_a: tuple[float, float, float], b: Trajectory,
                     size_b: tuple[float, float, float], times: NDArray[np.float64]) -> NDArray[np.float64]:
    """(T,) time to collision (s) between a and b measured along a's heading (freespace gap / closing
    speed; inf when not closing or when b is behind a). This is OpenSCENARIO's TimeToCollisionCondition
    with relativeDistanceType longitudinal and freespace true, with a as the triggering entity."""
    sa, sb = a.sample(times), b.sample(times)
    hx, hy = np.cos(sa.yaw), np.sin(sa.yaw)
    dx, dy = sb.x - sa.x, sb.y - sa.y
    along = dx * hx + dy * hy
    gap = np.abs(along) - (size_a[1] + size_b[1]) / 2
    rel_v = (sb.vx - sa.vx) * hx + (sb.vy - sa.vy) * hy          # d(along)/dt
    closing = np.where(along >= 0, -rel_v, rel_v)
    with np.errstate(divide="ignore", invalid="ignore"):
        ttc = np.where((closing > 1e-6) & (gap > 0), gap / np.maximum(closing, 1e-9), np.inf)
    return np.where(gap <= 0, 0.0, ttc)


def centre_distance(a: Trajectory, b: Trajectory, times: NDArray[np.float64]) -> NDArray[np.float64]:
    """(T,) distance (m) between the two reference points (OpenSCENARIO RelativeDistanceCondition,
    cartesianDistance, freespace false)."""
    sa, sb = a.sample(times), b.sample(times)
    return np.hypot(sb.x - sa.x, sb.y - sa.y)


def first_time(mask: NDArray[np.bool_], times: NDArray[np.float64]) -> float | None:
    """The first time where mask holds, or None."""
    idx = np.flatnonzero(mask)
    return float(times[idx[0]]) if idx.size else None


def resolve_trigger(ctx: ScenarioBuilder, rec: AgentRecord, earliest: float, *, start: float | None, ttc: float | None,
                    distance: float | None, other: AgentHandle | None, at_x: float | None, signal: str | None,
                    state: str) -> tuple[float, dict[str, Any]]:
    """(start time, trigger dict) of a manoeuvre appended to `rec` no earlier than `earliest`.

    Raises the builder's error when the condition never holds within the clip.
    """
    times = ctx.times
    after = times >= earliest - 1e-9
    given = [k for k, v in (("start", start), ("ttc", ttc), ("distance", distance), ("at_x", at_x),
                            ("signal", signal)) if v is not None]
    if len(given) > 1:
        raise ctx.error(f"give one start condition, not {', '.join(given)}")
    if start is not None:
        if start < earliest - 1e-6:
            raise ctx.error(f"start {start:g} s is before the previous manoeuvre of {rec.id} ends "
                            f"({earliest:.2f} s)")
        return float(start), {"kind": "time"}
    if ttc is not None or distance is not None:
        oth = ctx.record(other if other is not None else ctx.ego)
        if oth.id == rec.id:
            raise ctx.error("a manoeuvre cannot be triggered by the agent's distance to itself")
        if ttc is not None:
            values = longitudinal_ttc(oth.trajectory, oth.size, rec.trajectory, rec.size, times)
            t = first_time(after & (values < ttc), times)
            if t is None:
                best = float(np.min(np.where(after, values, np.inf)))
                raise ctx.error(f"the time to collision between {oth.id} and {rec.id} never falls to {ttc:g} s "
                                f"after {earliest:.2f} s (smallest: {best:.2f} s); place the agents closer or "
                                f"use start=")
            return t, {"kind": "ttc", "other": oth.id, "value": float(ttc)}
        assert distance is not None                 # ttc is None here
        values = centre_distance(oth.trajectory, rec.trajectory, times)
        t = first_time(after & (values < distance), times)
        if t is None:
            best = float(np.min(np.where(after, values, np.inf)))
            raise ctx.error(f"{oth.id} never comes within {distance:g} m of {rec.id} after {earliest:.2f} s "
                            f"(closest: {best:.2f} m)")
        return t, {"kind": "distance", "other": oth.id, "value": float(distance)}
    if at_x is not None:
        oth = ctx.record(other if other is not None else ctx.ego)
        smp = oth.trajectory.sample(times)
        t = first_time(after & (smp.x >= at_x), times)
        if t is None:
            raise ctx.error(f"{oth.id} does not reach x = {at_x:g} m within the clip (it ends at "
                            f"x = {float(smp.x[-1]):.1f} m)")
        y = float(np.interp(t, times, smp.y))
        return t, {"kind": "reach", "other": oth.id, "x": float(at_x), "y": round(y, 3), "radius": 2.0}
    if signal is not None:
        sg = next((s for s in ctx.signals if s.id == signal), None)
        if sg is None:
            known = ", ".join(s.id for s in ctx.signals) or "none yet (traffic_light makes one)"
            raise ctx.error(f"no traffic signal {signal!r}; the signals are: {known}")
        t = sg.first_time(state, earliest)
        if t is None or t > ctx.t_end:
            raise ctx.error(f"signal {signal} does not turn {state} after {earliest:.2f} s within the clip")
        return float(t), {"kind": "signal", "signal": signal, "state": state}
    return float(earliest), {"kind": "after"}


def clip_margin(ctx: ScenarioBuilder) -> float:
    """Seconds before the clip's end a manoeuvre must start to be seen at all."""
    return min(0.2, 0.5 / max(ctx.fps, 1.0) * 2)


__all__ = ["LanePlan", "PathPlan", "centre_distance", "clip_margin", "first_time", "longitudinal_ttc",
           "resolve_trigger", "math"]
