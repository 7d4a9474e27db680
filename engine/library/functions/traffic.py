"""Traffic lights at the intersection and drivers that obey them (or run them).

traffic_light places the intersection (if there is none) and a signal head on each approach with
complementary state timelines (engine.roadmap.signals). stop_at_light drives a vehicle (or the
ego) along the main road towards the intersection: on red or yellow it brakes to a stop before the
stop line and pulls away when its light turns green; with run_red=True it keeps its speed through
the red light.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from engine.classes import default_size
from engine.library.builder import AgentHandle, ScenarioBuilder
from engine.library.errors import LimitError, PlacementError
from engine.library.functions.intersection import ensure_intersection
from engine.library.functions.vehicles import default_ahead_candidates
from engine.library.limits import limits_for
from engine.library.placing import (
    anchor_s, choice, default_speed, number, profile_jerk, ref_record, resolve_lane, resolve_who, road_lane, search,
    speed_arg,
)
from engine.library.profiles import SpeedChange, change_distance
from engine.library.registry import library_function
from engine.library.sequence import LanePlan
from engine.roadmap.layout import CROSS_ROAD, LaneRef
from engine.roadmap.signals import intersection_signals, stop_line_s
from engine.scenario.trajectory import Trajectory

STOP_MARGIN = 1.0        # m between the front bumper and the stop line when stopped
REACTION = 0.8           # s from green to pulling away


@library_function("traffic control")
def traffic_light(ctx: ScenarioBuilder, main: str = "red", change_at: float | None = None) -> str:
    """Put traffic lights at the intersection ahead (placing one if needed); returns the id of the
    ego's light ('signal_EB'). Heads: signal_EB, signal_WB (main road), signal_NB, signal_SB.

    Args:
        main: the main road's light at the start, 'red' or 'green' (the cross road shows the opposite).
        change_at: seconds into the clip when the main road's light turns green (from red) or starts
            its yellow (from green); default: 60 % into the clip from red, never from green.
    Returns: the ego's signal id.
    """
    return _traffic_light(ctx, main, change_at)


def _traffic_light(ctx: ScenarioBuilder, main: str = "red", change_at: float | None = None) -> str:
    choice(ctx, "main", main, ("red", "green"))
    number(ctx, "change_at", change_at, 0.0, 60.0)
    if ctx.signals:
        raise ctx.error("the intersection already has traffic lights")
    ensure_intersection(ctx, None)
    if change_at is None and main == "red":
        change_at = round(0.6 * ctx.duration, 3)
    ctx.signals.extend(intersection_signals(ctx.layout, main, change_at))
    ego = ctx.record(ctx.ego)
    if ego.provisional and ego.plan is not None and ego.lane is not None:   # its default motion obeys its light
        x0, y0, _ = ego.trajectory.pose_at(0.0)
        s0 = float(ctx.layout.frame(ego.lane.direction).from_world(np.array([[x0, y0]]))[0][0])
        plan: LanePlan | None
        try:
            plan, _extra = _stop_plan(ctx, ego.cls, ego.lane, s0, ego.plan.v0, False)
        except LimitError:
            plan = None                                  # too close to stop: it goes on (as a driver would)
        if plan is not None:
            ego.trajectory, ego._footprints, ego.plan = plan.trajectory(ctx), None, plan
    return "signal_EB"


def _stop_plan(ctx: ScenarioBuilder, cls: str, lane: LaneRef, s0: float, v0: float, run_red: bool) -> tuple[LanePlan, dict[str, Any]]:
    """The plan of a vehicle whose centre starts at s0 in `lane`: stop before the line on red, go on green."""
    sg = next((s for s in ctx.signals if s.controls == lane.direction), None)
    plan = LanePlan(cls, lane, s0, v0)
    if sg is None or run_red or v0 < 0.1:
        return plan, {"signal": sg.id if sg else None}
    lim = limits_for(cls)
    jerk = profile_jerk(cls)
    front0 = s0 + default_size(cls)[1] / 2
    d_avail = stop_line_s(ctx.layout, lane.direction) - STOP_MARGIN - front0
    if d_avail <= 0:
        return plan, {"signal": sg.id, "note": "starts past the stop line"}
    t_arrive = d_avail / v0
    if sg.state_at(t_arrive) == "green" and sg.state_at(0.0) == "green":
        return plan, {"signal": sg.id}
    if sg.state_at(t_arrive) == "green":
        return plan, {"signal": sg.id}
    rate = lim.comfort_decel
    while change_distance(v0, 0.0, rate, jerk) > d_avail and rate < lim.max_decel * 0.9:
        rate = min(rate * 1.25, lim.max_decel * 0.9)
    d_brake = change_distance(v0, 0.0, rate, jerk)
    if d_brake > d_avail + 1e-6:
        raise ctx.error(f"a {cls} at {v0:g} m/s {d_avail:.1f} m before the stop line cannot stop for the red light; "
                        f"place it further back or pass run_red=True", LimitError)
    t_b = (d_avail - d_brake) / v0
    plan = plan.with_change(SpeedChange(t_b, 0.0, rate))
    t_g = sg.first_time("green", t_b)
    extra: dict[str, Any] = {"signal": sg.id, "stops_at": round(t_b, 3)}
    if t_g is not None and t_g + REACTION < ctx.t_end:
        plan = plan.with_change(SpeedChange(t_g + REACTION, v0, lim.comfort_accel))
        extra["goes_at"] = round(t_g + REACTION, 3)
    return plan, extra


@library_function("traffic control")
def stop_at_light(ctx: ScenarioBuilder, who: AgentHandle | str = "car", speed: float | None = None,
                  lane: str = "same", ahead: float | None = None, run_red: bool = False,
                  ref: AgentHandle | None = None) -> AgentHandle:
    """Drive along the main road towards the traffic light: stop before the stop line while it is red
    (or yellow) and pull away when it turns green; with run_red=True drive through the red light.
    Places lights (traffic_light defaults) when there are none.

    Args:
        who, speed, lane, ahead, ref: as for forward.
        run_red: True for a driver who ignores the red light (a red-light runner).
    Returns: the agent.
    """
    if not ctx.signals:
        _traffic_light(ctx)
    w = resolve_who(ctx, who)
    number(ctx, "ahead", ahead, -300.0, 400.0)
    if w.handle is not None:
        rec = ctx.record(w.handle)
        rec_lane = road_lane(ctx, rec)
        v0 = speed_arg(ctx, "speed", speed, rec.cls)
        v0 = rec.trajectory.speed_at(0.0) if v0 is None else v0
        x0, y0, _ = rec.trajectory.pose_at(0.0)
        s0 = float(ctx.layout.frame(rec_lane.direction).from_world(np.array([[x0, y0]]))[0][0])
        plan, extra = _stop_plan(ctx, rec.cls, rec_lane, s0, v0, run_red)
        h = ctx.set_motion(w.handle, plan.trajectory(ctx), lane=rec_lane,
                           params={"speed": round(v0, 3), "run_red": run_red, **extra})
        rec.plan = plan
        return h
    cls = w.cls
    r = ref_record(ctx, ref)
    lane_ref = resolve_lane(ctx, r, lane)
    if lane_ref.direction in CROSS_ROAD:
        raise ctx.error("stop_at_light drives on the main road; cross-road traffic comes from crossing_traffic")
    key = ctx.new_id(cls)
    v0 = speed_arg(ctx, "speed", speed, cls)
    v0 = default_speed(ctx, cls, key) if v0 is None else v0
    length = default_size(cls)[1]
    cache: dict[float, tuple[LanePlan, dict[str, Any]]] = {}

    def make(a: float) -> Trajectory:
        cache[a] = _stop_plan(ctx, cls, lane_ref, anchor_s(ctx, r, lane_ref, a, length), v0, run_red)
        return cache[a][0].trajectory(ctx)

    cands = [ahead] if ahead is not None else default_ahead_candidates(ctx, r, lane_ref, key)
    if ahead is None:                         # only where it can stop in time (or is past the line already)
        def can_stop(c: float) -> bool:
            try:
                _stop_plan(ctx, cls, lane_ref, anchor_s(ctx, r, lane_ref, c, length), v0, run_red)
                return True
            except LimitError:
                return False
        cands = [c for c in cands if can_stop(c)] or cands
    a, traj = search(ctx, cls, cands, make, what=key, hint="; try another `ahead`" if ahead is not None else "")
    plan, extra = cache[a]
    ctx.check_limits(cls, traj, key)
    h = ctx.add_agent(cls, traj, lane=lane_ref, conflict_checked=True,
                      params={"speed": round(v0, 3), "ahead": round(a, 3), "lane": lane_ref.id, "run_red": run_red,
                              **extra})
    ctx.record(h).plan = plan
    return h


__all__ = ["stop_at_light", "traffic_light", "PlacementError"]
