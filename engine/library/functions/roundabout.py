"""Driving round a roundabout: enter from an arm, circulate counter-clockwise, leave by the n-th exit.

The first roundabout call (or `set_road(roundabout=True)`) places a single-ring roundabout ahead of
the ego in place of an intersection (engine.roadmap.roundabout). Vehicles follow the same connector
the map draws (entry curve, ring arc, exit curve), slowing to a speed whose lateral acceleration is
comfortable for the class on the tightest part and speeding up after it.
"""
from __future__ import annotations

import numpy as np

from engine.library.builder import AgentHandle, ScenarioBuilder
from engine.library.errors import PlacementError
from engine.library.functions.intersection import (
    APPROACHES, _distance_to_curve, approach_direction, junction_shift, motion_through, new_agent_through,
)
from engine.library.limits import limits_for
from engine.library.placing import choice, number, resolve_who, road_lane, speed_arg
from engine.library.registry import library_function
from engine.roadmap.connectors import Connector
from engine.roadmap.layout import PARKING_CLEARANCE, RoadLayout
from engine.roadmap.roundabout import outer_radius, roundabout_connector


def ensure_roundabout(ctx: ScenarioBuilder, entry_x: float | None) -> float:
    """The roundabout centre x, placing one (its ring's west edge near `entry_x`, or ahead of where
    the ego is late in the clip) if there is none yet. PlacementError if the layout already has a
    plain intersection or no place clear of crosswalks and parked objects is found."""
    lay = ctx.layout
    if lay.intersection_x is not None:
        if not lay.roundabout:
            raise ctx.error("the road already has a 4-way intersection; a roundabout cannot be added too",
                            PlacementError)
        return lay.intersection_x
    r = outer_radius(lay)
    if entry_x is None:
        ego = ctx.record("ego")
        x, _, _ = ego.trajectory.pose_at(0.6 * ctx.t_end)
        entry_x = max(x + ego.size[1] / 2 + 4.0, 12.0)
    cx = float(entry_x) + r

    def clear(c: float) -> bool:
        if any(abs(x - c) < r + 10.0 for x in lay.crosswalks):
            return False
        for rec in ctx.records():
            if rec.role in ("parked", "static", "crossing", "jaywalk"):
                x, y, _ = rec.trajectory.pose_at(0.0)
                if rec.role == "parked" and abs(x - c) < r + PARKING_CLEARANCE:
                    return False
                if abs(x - c) < r + 5.0 and abs(y) < r + 6.0:
                    return False
        return True

    for _ in range(60):
        if clear(cx):
            break
        cx += 4.0
    else:
        raise ctx.error("found no place for the roundabout clear of crosswalks and parked objects", PlacementError)
    ctx.fix_lanes(f"{ctx.call_name} placed the roundabout")
    ctx.set_layout(lay.with_roundabout(round(cx, 3)))
    _default_ego_round(ctx)
    return cx


def _default_ego_round(ctx: ScenarioBuilder) -> None:
    """An ego still on its default straight motion would drive across the central island: it goes
    round the ring and straight on (exit 2) instead, at its speed; still provisional, so a later
    `roundabout(ego, ...)` or other motion call replaces it."""
    rec = ctx.record("ego")
    if not rec.provisional or rec.lane is None or rec.lane.direction != "EB":
        return
    conn = roundabout_connector(ctx.layout, "EB", min(rec.lane.number, ctx.layout.lanes_per_direction), 2)
    dist = _distance_to_curve(ctx, np.array([rec.trajectory.pose_at(0.0)[:2]]), conn, "EB")
    if dist <= 0:
        return
    rec.trajectory, plan, v_c, et = motion_through(ctx, rec.cls, rec.trajectory.speed_at(0.0), conn, dist)
    rec._footprints = None
    rec.connector = conn
    rec.behavior = "roundabout"
    rec.params = {"exit": 2, "speed": round(plan.v0, 3), "ring_speed": round(v_c, 3), "enter_time": round(et, 3),
                  "exit_lane": conn.end.id}
    rec.plan = None
    rec.maneuvers = (ctx.first_maneuver("roundabout", rec.params),)


@library_function("intersection")
def roundabout(ctx: ScenarioBuilder, who: AgentHandle | str = "car", entry: str = "ahead", exit: int = 2,
               speed: float | None = None, enter_time: float | None = None) -> AgentHandle:
    """Drive round a roundabout and leave by the n-th exit (one is placed ahead of the ego if there is none yet).

    Traffic circulates counter-clockwise (right-hand traffic) and, by default, does not yield:
    the vehicle enters when it is placed to. It slows to a comfortable speed for the ring before
    entering and speeds up on the exit arm. Vehicles keep their lane number (lane k of the arm ->
    ring lane k -> lane k of the exit arm).

    Args:
        who: `ego` or a class name for a new vehicle (cars, trucks, buses, motorcycles, bicycles).
        entry: for new vehicles, the arm they enter from relative to the ego: 'ahead' (the ego's
            arm, in front of it), 'oncoming' (the arm opposite), 'from_left' or 'from_right'.
        exit: which exit to take, counted counter-clockwise from the entry: 1 (first, a right
            turn), 2 (straight on), 3 (a left turn), 4 (back the way it came).
        speed: approach speed in m/s (default: the ego keeps its speed; new vehicles a moderate one).
        enter_time: seconds into the clip when the vehicle reaches the entry curve (negative:
            already on it at t=0). Default: the ego early in the clip; new vehicles when it is safe.
    Returns: the agent.
    """
    choice(ctx, "entry", entry, APPROACHES)
    number(ctx, "exit", exit, 1, 4)
    if int(exit) != exit:
        raise ctx.error(f"exit must be a whole number 1 to 4 (got {exit!r})")
    exit_n = int(exit)
    number(ctx, "enter_time", enter_time, -ctx.duration, ctx.duration)
    w = resolve_who(ctx, who)
    cls = w.cls
    lim = limits_for(cls)
    v_req = speed_arg(ctx, "speed", speed, cls)
    if w.handle is None:
        direction = approach_direction(ctx, entry)
        lane_from = None
    else:
        rec = ctx.record(w.handle)
        if entry != "ahead":
            raise ctx.error("entry places new agents; the ego enters from its own lane")
        rec_lane = road_lane(ctx, rec)
        direction = rec_lane.direction
        lane_from = rec_lane.number

    def connector(layout: RoadLayout) -> Connector:
        k = lane_from if lane_from is not None else layout.lanes_per_direction
        try:
            conn = roundabout_connector(layout, direction, min(k, layout.lanes_per_direction), exit_n)
        except ValueError as e:
            raise ctx.error(str(e), PlacementError) from None
        if conn.path.max_curvature() > lim.max_curvature:
            raise ctx.error(f"a {cls} cannot turn as tightly as the roundabout needs "
                            f"(radius {1 / conn.path.max_curvature():.1f} m)", PlacementError)
        return conn

    key = w.handle.id if w.handle is not None else ctx.new_id(cls)
    rng = ctx.rng(key)
    if w.handle is not None:
        rec = ctx.record(w.handle)
        v0 = rec.trajectory.speed_at(0.0) if v_req is None else v_req
        if ctx.layout.intersection_x is None:
            # place the roundabout so that the vehicle reaches the entry curve at enter_time
            probe = connector(ctx.layout.with_roundabout(0.0))
            cx = junction_shift(ctx, cls, v0, probe, np.array([rec.trajectory.pose_at(0.0)[:2]]), direction, enter_time)
            ensure_roundabout(ctx, cx - outer_radius(ctx.layout))
        elif not ctx.layout.roundabout:
            raise ctx.error("the road has a 4-way intersection, not a roundabout", PlacementError)
        conn = connector(ctx.layout)
        dist = _distance_to_curve(ctx, np.array([rec.trajectory.pose_at(0.0)[:2]]), conn, direction)
        if dist < -conn.path.length * 0.5:
            raise ctx.error(f"the roundabout is behind {rec.id}; it cannot drive round it", PlacementError)
        traj, plan, v_c, et = motion_through(ctx, cls, v0, conn, dist)
        return ctx.set_motion(w.handle, traj, lane=rec.lane, connector=conn,
                              params={"speed": round(plan.v0, 3), "ring_speed": round(v_c, 3), "exit": exit_n,
                                      "enter_time": round(et, 3), "exit_lane": conn.end.id})

    ensure_roundabout(ctx, None)
    conn = connector(ctx.layout)
    traj, v0, v_c, et = new_agent_through(ctx, cls, conn, rng, v_req, (0.1, 0.35), enter_time, key)
    return ctx.add_agent(cls, traj, lane=conn.start, connector=conn, conflict_checked=True,
                         params={"speed": round(v0, 3), "ring_speed": round(v_c, 3), "entry": entry,
                                 "exit": exit_n, "enter_time": round(et, 3), "from_lane": conn.start.id,
                                 "exit_lane": conn.end.id})
