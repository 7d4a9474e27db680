"""Motions along the road for the ego or a new vehicle: forward, accelerate, brake, emergency stop,
stop-and-go, lane change, follow.

Every function takes `who`: the `ego` handle (to set the ego's motion; the ego starts at the origin
in its lane) or a class name for a new vehicle, placed by `lane` and `ahead` relative to `ref`
(the ego unless given).
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from engine.classes import default_size
from engine.library.builder import AgentHandle, AgentRecord, ScenarioBuilder
from engine.library.errors import LimitError, PlacementError
from engine.library.limits import limits_for
from engine.library.motion import delayed_copy
from engine.library.placing import (
    anchor_s, candidates_around, default_speed, lane_trajectory, number, plan_profile, rate_arg, ref_record,
    resolve_lane, resolve_who, road_lane, safe_gap, search, speed_arg, time_arg,
)
from engine.library.profiles import LateralShift, SpeedChange, min_shift_duration
from engine.library.registry import library_function
from engine.library.sequence import LanePlan
from engine.roadmap.layout import CROSS_ROAD, LaneRef
from engine.scenario.trajectory import Trajectory

#: What a motion's plan returns: speed changes, lateral shifts, extra behaviour parameters.
PlanResult = tuple[list[SpeedChange], list[LateralShift], dict[str, Any]]
Plan = Callable[[float, LaneRef], PlanResult]


def default_ahead_candidates(ctx: ScenarioBuilder, ref: AgentRecord, lane: LaneRef, key: str) -> list[float]:
    """Where to try a new vehicle when `ahead` is not given, nearest first."""
    rng = ctx.rng(key)
    ref_lane = ref.lane
    v_ref = ref.trajectory.speed_at(0.0)
    if ref_lane is not None and lane.direction == ref_lane.direction:
        if lane.number == ref_lane.number:
            return candidates_around(safe_gap(v_ref) + float(rng.uniform(2.0, 10.0)), 3.0, 50)
        return candidates_around(float(rng.uniform(-4.0, 14.0)), 2.5, 40, both_ways=True)
    return candidates_around(float(rng.uniform(30.0, 50.0)), 5.0, 40)


def drive(ctx: ScenarioBuilder, who: AgentHandle | str, speed: float | None, lane: str, ahead: float | None,
          ref: AgentHandle | None, plan: Plan, default_v: Callable[[str, str], float] | None = None) -> AgentHandle:
    """Shared body of the lane-following motions: resolve the subject, plan, place, check, add."""
    w = resolve_who(ctx, who)
    number(ctx, "ahead", ahead, -300.0, 300.0)
    if w.handle is not None:
        if ahead is not None or ref is not None or lane != "same":
            raise ctx.error("lane, ahead and ref place new agents; the ego starts at the origin in its lane "
                            "(choose its lane with set_road(ego_lane=...))")
        rec = ctx.record(w.handle)
        rec_lane = road_lane(ctx, rec)
        v0 = speed_arg(ctx, "speed", speed, rec.cls)
        v0 = rec.trajectory.speed_at(0.0) if v0 is None else v0
        changes, shifts, extra = plan(v0, rec_lane)
        x0, y0, _ = rec.trajectory.pose_at(0.0)
        s0 = float(ctx.layout.frame(rec_lane.direction).from_world(np.array([[x0, y0]]))[0][0])
        traj = lane_trajectory(ctx, rec_lane, s0, plan_profile(ctx, rec.cls, v0, changes), shifts)
        h = ctx.set_motion(w.handle, traj, lane=rec_lane, params={"speed": round(v0, 3), **extra})
        rec.plan = LanePlan(rec.cls, rec_lane, s0, v0, tuple(changes), tuple(shifts))
        return h

    cls = w.cls
    r = ref_record(ctx, ref)
    lane_ref = resolve_lane(ctx, r, lane)
    if lane_ref.direction in CROSS_ROAD:
        raise ctx.error("vehicles on the cross road come from crossing_traffic, turn_left or turn_right")
    key = ctx.new_id(cls)
    v0 = speed_arg(ctx, "speed", speed, cls)
    if v0 is None:
        v0 = default_v(cls, key) if default_v else default_speed(ctx, cls, key)
    changes, shifts, extra = plan(v0, lane_ref)
    prof = plan_profile(ctx, cls, v0, changes)
    length = default_size(cls)[1]

    obey = bool(ctx.signals) and not changes and not shifts     # plain driving obeys the traffic lights
    obeyed: dict[float, LanePlan] = {}

    def make(a: float) -> Trajectory:
        s0 = anchor_s(ctx, r, lane_ref, a, length)
        if obey:
            from engine.library.functions.traffic import _stop_plan

            try:
                obeyed[a] = _stop_plan(ctx, cls, lane_ref, s0, v0, False)[0]
                return obeyed[a].trajectory(ctx)
            except LimitError:
                obeyed.pop(a, None)                   # too close to stop: it goes on, as a driver would
        return lane_trajectory(ctx, lane_ref, s0, prof, shifts)

    cands = [ahead] if ahead is not None else default_ahead_candidates(ctx, r, lane_ref, key)
    hint = "; try another `ahead`" if ahead is not None else ""
    ctx.check_limits(cls, make(cands[0]), key)
    a, traj = search(ctx, cls, cands, make, what=key, hint=hint)
    h = ctx.add_agent(cls, traj, lane=lane_ref, conflict_checked=True,
                      params={"speed": round(v0, 3), "ahead": round(a, 3), "lane": lane_ref.id, **extra})
    ctx.record(h).plan = obeyed.get(a) or LanePlan(cls, lane_ref, anchor_s(ctx, r, lane_ref, a, length), v0,
                                                   tuple(changes), tuple(shifts))
    return h


# --------------------------------------------------------------------------------------------
@library_function("ego and vehicles")
def forward(ctx: ScenarioBuilder, who: AgentHandle | str = "car", speed: float | None = None, lane: str = "same",
            ahead: float | None = None, ref: AgentHandle | None = None) -> AgentHandle:
    """Drive straight on along the lane at a constant speed.

    Args:
        who: `ego` to set the ego's motion, or a class name ('car', 'truck', 'bus', 'motorcycle',
            'bicycle', ...) to add a new vehicle.
        speed: m/s (default: the ego keeps its speed; new vehicles a typical speed for the class).
        lane: for new vehicles, relative to `ref`: 'same', 'left', 'right', 'oncoming', or a lane
            id like 'EB_3'.
        ahead: for new vehicles, bumper-to-bumper distance in metres in front of `ref` at t=0
            (negative: behind). Default: the nearest free spot at a safe distance.
        ref: the agent `lane` and `ahead` refer to (default: the ego).
    Returns: the agent.
    """
    return drive(ctx, who, speed, lane, ahead, ref, lambda v0, lane_ref: ([], [], {}))


@library_function("ego and vehicles")
def accelerate(ctx: ScenarioBuilder, who: AgentHandle | str = "car", to_speed: float | None = None,
               accel: float | None = None, start: float | None = None, speed: float | None = None,
               lane: str = "same", ahead: float | None = None, ref: AgentHandle | None = None) -> AgentHandle:
    """Speed up from `speed` to `to_speed` with a smooth (jerk-limited) acceleration.

    Args:
        who, lane, ahead, ref: as for forward.
        to_speed: m/s to reach (default: 5 m/s faster).
        accel: m/s^2 (default: the class's comfortable acceleration).
        start: seconds into the clip when the acceleration begins (default: early in the clip).
        speed: m/s at the start; 0 for a vehicle pulling away (default as for forward).
    Returns: the agent.
    """
    start = time_arg(ctx, "start", start)

    def plan(v0: float, lane_ref: LaneRef) -> PlanResult:
        cls = _cls_of(ctx, who)
        lim = limits_for(cls)
        target = min(v0 + 5.0, lim.max_speed) if to_speed is None else speed_arg(ctx, "to_speed", to_speed, cls)
        if target <= v0 + 1e-6:
            raise ctx.error(f"to_speed {target:g} m/s is not above the starting speed {v0:g} m/s; use brake to slow down")
        a = lim.comfort_accel if accel is None else rate_arg(ctx, "accel", accel, cls, "accel")
        t0 = ctx.default_start() if start is None else start
        return [SpeedChange(t0, target, a)], [], {"to_speed": round(target, 3), "accel": a, "start": round(t0, 3)}

    return drive(ctx, who, speed, lane, ahead, ref, plan)


@library_function("ego and vehicles")
def brake(ctx: ScenarioBuilder, who: AgentHandle | str = "car", to_speed: float = 0.0, decel: float | None = None,
          start: float | None = None, speed: float | None = None, lane: str = "same", ahead: float | None = None,
          ref: AgentHandle | None = None) -> AgentHandle:
    """Slow down to `to_speed` (default: stop) with a smooth deceleration.

    Args:
        who, speed, lane, ahead, ref: as for forward.
        to_speed: m/s to slow down to (0 = stop).
        decel: m/s^2, positive (default 1.3 x the class's comfortable deceleration; see emergency_stop
            for a hard stop).
        start: seconds into the clip when braking begins (default: early in the clip).
    Returns: the agent.
    """
    start = time_arg(ctx, "start", start)

    def plan(v0: float, lane_ref: LaneRef) -> PlanResult:
        cls = _cls_of(ctx, who)
        target = speed_arg(ctx, "to_speed", to_speed, cls)
        if target >= v0 - 1e-6:
            raise ctx.error(f"to_speed {target:g} m/s is not below the starting speed {v0:g} m/s")
        d = limits_for(cls).comfort_decel * 1.3 if decel is None else rate_arg(ctx, "decel", decel, cls, "decel")
        t0 = ctx.default_start() if start is None else start
        return [SpeedChange(t0, target, d)], [], {"to_speed": target, "decel": round(d, 3), "start": round(t0, 3)}

    return drive(ctx, who, speed, lane, ahead, ref, plan)


@library_function("ego and vehicles")
def emergency_stop(ctx: ScenarioBuilder, who: AgentHandle | str = "car", decel: float | None = None,
                   start: float | None = None, speed: float | None = None, lane: str = "same",
                   ahead: float | None = None, ref: AgentHandle | None = None) -> AgentHandle:
    """Brake as hard as the class can to a standstill (sudden braking).

    Args:
        who, speed, lane, ahead, ref: as for forward.
        decel: m/s^2 (default 85 % of the class's maximum deceleration).
        start: seconds into the clip when braking begins (default: early in the clip).
    Returns: the agent.
    """
    start = time_arg(ctx, "start", start)

    def plan(v0: float, lane_ref: LaneRef) -> PlanResult:
        cls = _cls_of(ctx, who)
        if v0 <= 0.1:
            raise ctx.error("a standing vehicle cannot brake; give it a speed")
        d = limits_for(cls).max_decel * 0.85 if decel is None else rate_arg(ctx, "decel", decel, cls, "decel")
        t0 = ctx.default_start() if start is None else start
        return [SpeedChange(t0, 0.0, d)], [], {"decel": round(d, 3), "start": round(t0, 3)}

    return drive(ctx, who, speed, lane, ahead, ref, plan)


@library_function("ego and vehicles")
def stop_and_go(ctx: ScenarioBuilder, who: AgentHandle | str = "car", speed: float | None = None,
                stop_for: float | None = None, decel: float | None = None, accel: float | None = None,
                start: float | None = None, lane: str = "same", ahead: float | None = None,
                ref: AgentHandle | None = None) -> AgentHandle:
    """Slow to a stop, wait, and pull away again to the same speed (queueing traffic).

    Args:
        who, lane, ahead, ref: as for forward.
        speed: m/s before stopping (default: a slow 3-5 m/s so the whole cycle fits a short clip).
        stop_for: seconds standing still (default: 10 % of the clip, at least 0.3 s).
        decel, accel: m/s^2 (default: the class's comfortable values).
        start: seconds into the clip when braking begins (default: at the very start for short clips).
    Returns: the agent.
    """
    start = time_arg(ctx, "start", start)
    number(ctx, "stop_for", stop_for, 0.0, 600.0)

    def plan(v0: float, lane_ref: LaneRef) -> PlanResult:
        cls = _cls_of(ctx, who)
        lim = limits_for(cls)
        if v0 <= 0.1:
            raise ctx.error("stop_and_go needs a moving vehicle; give it a speed")
        d = lim.comfort_decel if decel is None else rate_arg(ctx, "decel", decel, cls, "decel")
        a = lim.comfort_accel if accel is None else rate_arg(ctx, "accel", accel, cls, "accel")
        wait = max(0.1 * ctx.duration, 0.3) if stop_for is None else float(stop_for)
        t0 = (0.1 if ctx.duration < 6 else ctx.default_start()) if start is None else start
        return ([SpeedChange(t0, 0.0, d), SpeedChange(0.0, v0, a, wait=wait)], [],
                {"decel": d, "accel": a, "stop_for": round(wait, 3), "start": round(t0, 3)})

    def slow(cls: str, key: str) -> float:
        return float(round(ctx.rng(key).uniform(3.0, 5.0), 2))

    return drive(ctx, who, speed, lane, ahead, ref, plan, default_v=slow)


def shift_duration(ctx: ScenarioBuilder, cls: str, v: float, delta: float, duration: float | None,
                   aggressive: bool = False) -> float:
    """Duration of a lateral move: the asked one (checked against the limits) or a comfortable default."""
    lim = limits_for(cls)
    t_min = min_shift_duration(delta, v, lim.max_lat_accel * 0.9, lim.max_curvature * 0.9)
    if not math.isfinite(t_min):
        raise ctx.error(f"a {cls} at {v:g} m/s is too slow to change lanes; give it more speed", LimitError)
    if duration is not None:
        if duration < t_min:
            raise ctx.error(f"a lane change in {duration:g} s at {v:g} m/s is beyond a {cls}'s limits; "
                            f"it needs at least {t_min:.2f} s", LimitError)
        return float(duration)
    lat = lim.max_lat_accel * 0.7 if aggressive else lim.comfort_lat_accel
    t_def = min_shift_duration(delta, v, lat, lim.max_curvature * 0.8)
    return float(max(t_def, t_min, 1.5 if aggressive else 2.5))


@library_function("ego and vehicles")
def change_lane(ctx: ScenarioBuilder, who: AgentHandle | str = "car", side: str = "left",
                start: float | None = None, duration: float | None = None, speed: float | None = None,
                lane: str = "same", ahead: float | None = None, ref: AgentHandle | None = None) -> AgentHandle:
    """Change to the neighbouring lane on `side` at constant speed (a smooth, minimum-jerk move).

    Args:
        who, speed, lane, ahead, ref: as for forward (lane is where a new vehicle starts).
        side: 'left' or 'right'.
        start: seconds into the clip when the lateral move begins (default: so it ends within the clip).
        duration: seconds the lateral move takes (default: comfortable for the class and speed).
    Returns: the agent.
    """
    from engine.library.placing import choice

    choice(ctx, "side", side, ("left", "right"))
    start = time_arg(ctx, "start", start)
    number(ctx, "duration", duration, 0.3, 60.0)

    def plan(v0: float, lane_ref: LaneRef) -> PlanResult:
        cls = _cls_of(ctx, who)
        if side == "left" and lane_ref.number <= 1:
            raise ctx.error(f"{lane_ref.id} is next to the centre line; there is no lane to its left",
                            PlacementError)
        target = LaneRef(lane_ref.direction, lane_ref.number + (-1 if side == "left" else 1))
        ctx.require_lane(target)
        w = ctx.layout.lane_width
        dur = shift_duration(ctx, cls, v0, w, duration)
        t0 = start if start is not None else max(0.0, min(ctx.default_start(), ctx.t_end - dur - 0.1))
        delta = w if side == "left" else -w
        return [], [LateralShift(t0, dur, delta)], {"to_lane": target.id, "start": round(t0, 3),
                                                    "duration": round(dur, 3)}

    return drive(ctx, who, speed, lane, ahead, ref, plan)


@library_function("ego and vehicles")
def follow(ctx: ScenarioBuilder, leader: AgentHandle, who: AgentHandle | str = "car", gap: float | None = None,
           time_gap: float = 1.5) -> AgentHandle:
    """Follow `leader` along its own path, copying its speed changes after a time gap (it brakes
    when the leader brakes, turns where the leader turned).

    Args:
        leader: the agent to follow.
        who: `ego` (the leader must then be ahead of the ego in its lane) or a class name for a new
            vehicle placed behind the leader.
        gap: bumper-to-bumper metres at t=0 for a new follower (sets the time gap).
        time_gap: seconds behind the leader (default 1.5) when `gap` is not given.
    Returns: the follower.
    """
    number(ctx, "gap", gap, 0.5, 300.0)
    number(ctx, "time_gap", time_gap, 0.2, 10.0)
    lead = ctx.record(leader)
    if lead.role not in ("road",):
        raise ctx.error(f"{lead.id} is not driving along the road; only road vehicles can be followed")
    w = resolve_who(ctx, who)
    if w.handle is not None and w.handle.id == lead.id:
        raise ctx.error("an agent cannot follow itself")
    cls = w.cls
    v_l = lead.trajectory.speed_at(0.0)
    standstill = 2.0
    lead_len = lead.size[1]
    if w.handle is not None:
        rec = ctx.record(w.handle)
        xf, yf, _ = rec.trajectory.pose_at(0.0)
        xl, yl, hl = lead.trajectory.pose_at(0.0)
        along = (xl - xf) * math.cos(hl) + (yl - yf) * math.sin(hl)
        across = -(xl - xf) * math.sin(hl) + (yl - yf) * math.cos(hl)
        if abs(across) > 0.5 or along <= 0:
            raise ctx.error(f"{lead.id} must be ahead of {rec.id} in the same lane at t=0 to be followed",
                            PlacementError)
        d0 = (lead_len + rec.size[1]) / 2 + standstill
        if v_l < 0.5:
            raise ctx.error(f"{lead.id} stands still at t=0; the ego cannot take a time gap behind it")
        tau = (along - d0) / v_l
        if tau < 0.3:
            raise ctx.error(f"{lead.id} is only {along - (lead_len + rec.size[1]) / 2:.1f} m ahead of {rec.id}; "
                            f"following needs at least {standstill + 0.3 * v_l:.1f} m", PlacementError)
        traj = delayed_copy(lead.trajectory, tau, d0, ctx.times)
        return ctx.set_motion(w.handle, traj, lane=rec.lane, depends_on={lead.id},
                              params={"leader": lead.id, "time_gap": round(tau, 3)})
    d0 = (lead_len + default_size(cls)[1]) / 2 + standstill
    if gap is not None:
        standstill = min(standstill, 0.8 * gap)
        d0 = (lead_len + default_size(cls)[1]) / 2 + standstill
        tau = max((gap - standstill) / max(v_l, 0.5), 0.0)
    else:
        tau = float(time_gap)
    traj = delayed_copy(lead.trajectory, tau, d0, ctx.times)
    return ctx.add_agent(cls, traj, lane=lead.lane, depends_on={lead.id},
                         params={"leader": lead.id, "time_gap": round(tau, 3)})


def _cls_of(ctx: ScenarioBuilder, who: AgentHandle | str) -> str:
    return ctx.record(who).cls if isinstance(who, AgentHandle) else who


__all__ = ["accelerate", "brake", "change_lane", "drive", "emergency_stop", "follow", "forward", "stop_and_go",
           "shift_duration"]
