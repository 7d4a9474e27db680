"""Manoeuvres at the intersection (turn left, turn right, crossing traffic) and U-turns.

The first of them places a 4-way intersection ahead of the ego (and fixes the lane count); turns
follow the same connector curves the map draws, slowing to a speed whose lateral acceleration is
comfortable for the class before the curve and speeding up after it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from engine.classes import default_size
from engine.library.builder import AgentHandle, ScenarioBuilder
from engine.library.errors import PlacementError
from engine.library.limits import limits_for
from engine.library.motion import path_motion
from engine.library.placing import (
    anchor_s, candidates_around, choice, default_speed, number, plan_profile, profile_jerk, ref_record,
    resolve_lane, resolve_who, road_lane, search, speed_arg,
)
from engine.library.profiles import SpeedChange, SpeedProfile, change_distance, change_duration
from engine.library.registry import library_function
from engine.roadmap.connectors import Connector, Path, straight, turn_connector, uturn_connector
from engine.roadmap.layout import (
    AFTER_LEFT_TURN, AFTER_RIGHT_TURN, DIRECTION_HEADING, MAIN_ROAD, OPPOSITE, PARKING_CLEARANCE, LaneRef, RoadLayout,
)
from engine.scenario.trajectory import Trajectory

LEAD = 400.0            # straight lead-in / lead-out length around a curve (m)
APPROACHES = ("ahead", "oncoming", "from_left", "from_right")


def ensure_intersection(ctx: ScenarioBuilder, entry_x: float | None) -> float:
    """The intersection's centre x, placing one (box entry near `entry_x`, or ahead of where the
    ego is late in the clip) if there is none yet. Keeps clear of crosswalks and parked objects."""
    lay = ctx.layout
    if lay.intersection_x is not None:
        if lay.roundabout:
            raise ctx.error("this needs a 4-way intersection and the road has a roundabout; "
                            "use roundabout(who, exit=...) there", PlacementError)
        return lay.intersection_x
    h = lay.half_width
    if entry_x is None:
        ego = ctx.record("ego")
        t = 0.6 * ctx.t_end
        x, _, _ = ego.trajectory.pose_at(t)
        entry_x = max(x + ego.size[1] / 2 + 4.0, 12.0)
    cx = float(entry_x) + h

    def clear(c: float) -> bool:
        if any(abs(x - c) < h + 10.0 for x in lay.crosswalks):
            return False
        for rec in ctx.records():
            if rec.role in ("parked", "static", "crossing", "jaywalk"):
                x, y, _ = rec.trajectory.pose_at(0.0)
                if abs(x - c) < h + PARKING_CLEARANCE and rec.role == "parked":
                    return False
                if abs(x - c) < h + 5.0 and abs(y) < h + 6.0:
                    return False
        return True

    for _ in range(60):
        if clear(cx):
            break
        cx += 4.0
    else:
        raise ctx.error("found no place for the intersection clear of crosswalks and parked objects",
                        PlacementError)
    ctx.fix_lanes(f"{ctx.call_name} placed the intersection")
    ctx.set_layout(lay.with_intersection(round(cx, 3)))
    return cx


def approach_direction(ctx: ScenarioBuilder, approach: str) -> str:
    """Travel direction of traffic coming from `approach`, relative to the ego's direction."""
    ego_dir = road_lane(ctx, ctx.record("ego")).direction
    return {"ahead": ego_dir, "oncoming": OPPOSITE[ego_dir], "from_left": AFTER_RIGHT_TURN[ego_dir],
            "from_right": AFTER_LEFT_TURN[ego_dir]}[approach]


@dataclass(frozen=True)
class CurvePlan:
    """Speed plan around a curve: the profile, how far the agent is from the curve start at t=0 and
    when it reaches it."""

    profile: SpeedProfile
    approach: float
    enter_time: float
    v0: float
    v_curve: float


def curve_plan(ctx: ScenarioBuilder, cls: str, v0: float, v_curve: float, curve_len: float,
               enter_time: float, v_exit: float | None = None) -> CurvePlan:
    """Approach at v0, slow to v_curve by `enter_time` (the curve start), hold it through the curve,
    then speed back up to v_exit (default v0). enter_time < 0: already in the curve at t=0."""
    lim = limits_for(cls)
    jerk = profile_jerk(cls)
    v_curve = min(v_curve, v0) if v0 > 0.5 else v_curve
    dec, acc = lim.comfort_decel, lim.comfort_accel
    if enter_time <= 0:
        v0 = v_curve
    while v0 > v_curve + 1e-6 and change_duration(v0 - v_curve, dec, jerk) > enter_time:
        v0 = max(v_curve, v0 - 0.25)
    t_dec = change_duration(v0 - v_curve, dec, jerk)
    d_dec = change_distance(v0, v_curve, dec, jerk)
    t_b = enter_time - t_dec
    approach = v0 * t_b + d_dec if enter_time > 0 else v_curve * enter_time
    v_exit = v0 if v_exit is None else v_exit
    changes = []
    if v0 > v_curve + 1e-6:
        changes.append(SpeedChange(t_b, v_curve, dec))
    t_exit = enter_time + curve_len / max(v_curve, 0.1)
    if v_exit > v_curve + 1e-6:
        changes.append(SpeedChange(max(t_exit, 0.0), v_exit, acc))
    return CurvePlan(plan_profile(ctx, cls, v0, changes), approach, enter_time, v0, v_curve)


def _curve_speed(cls: str, connector: Connector) -> float:
    lim = limits_for(cls)
    k = max(connector.path.max_curvature(), 1e-3)
    return float(min(max(math.sqrt(lim.comfort_lat_accel / k), 1.5), lim.max_speed))


def _lead_path(connector: Connector) -> tuple[Path, float]:
    """The connector with long straight lead-in and lead-out; returns (path, s of the curve start)."""
    h0 = DIRECTION_HEADING[connector.start.direction]
    h1 = DIRECTION_HEADING[connector.end.direction]
    start = connector.points[0] - LEAD * np.array([math.cos(h0), math.sin(h0)])
    path = Path.join(straight(start, h0, LEAD, step=2.0)[:-1], connector.points,
                     straight(connector.points[-1], h1, LEAD, step=2.0)[1:])
    return path, LEAD


def _turn(ctx: ScenarioBuilder, who: AgentHandle | str, turn: str, speed: float | None, approach: str,
          enter_time: float | None) -> AgentHandle:
    choice(ctx, "approach", approach, APPROACHES)
    number(ctx, "enter_time", enter_time, -ctx.duration, ctx.duration)
    if ctx.layout.roundabout:
        raise ctx.error(f"the road has a roundabout; turn {turn} there with roundabout(who, exit="
                        f"{1 if turn == 'right' else 3})", PlacementError)
    w = resolve_who(ctx, who)
    cls = w.cls
    lim = limits_for(cls)
    v_req = speed_arg(ctx, "speed", speed, cls)
    if w.handle is None:
        direction = approach_direction(ctx, approach)
        lane_from = 1 if turn == "left" else None
    else:
        rec = ctx.record(w.handle)
        if approach != "ahead":
            raise ctx.error("approach places new agents; the ego turns from its own lane")
        rec_lane = road_lane(ctx, rec)
        direction = rec_lane.direction
        lane_from = rec_lane.number

    def connector(layout: RoadLayout) -> Connector:
        n = layout.lanes_per_direction
        lf = lane_from if lane_from is not None else n
        try:
            return turn_connector(layout, direction, lf, turn, min(lf, n), lim.max_curvature * 0.9)
        except ValueError as e:
            raise ctx.error(str(e), PlacementError) from None

    key = w.handle.id if w.handle is not None else ctx.new_id(cls)
    rng = ctx.rng(key)
    if w.handle is not None:
        rec = ctx.record(w.handle)
        v0 = rec.trajectory.speed_at(0.0) if v_req is None else v_req
        if ctx.layout.intersection_x is None:
            # place the intersection so that the ego reaches the curve at enter_time
            probe = connector(ctx.layout.with_intersection(0.0))
            cx = junction_shift(ctx, cls, v0, probe, np.array([rec.trajectory.pose_at(0.0)[:2]]), direction, enter_time)
            ensure_intersection(ctx, cx - ctx.layout.half_width)
        conn = connector(ctx.layout)
        dist = _distance_to_curve(ctx, np.array([rec.trajectory.pose_at(0.0)[:2]]), conn, direction)
        if dist < -conn.path.length * 0.5:
            raise ctx.error(f"the intersection is behind {rec.id}; it cannot turn there", PlacementError)
        traj, plan, v_c, et = motion_through(ctx, cls, v0, conn, dist)
        return ctx.set_motion(w.handle, traj, lane=rec.lane, connector=conn,
                              params={"speed": round(plan.v0, 3), "turn_speed": round(v_c, 3),
                                      "enter_time": round(et, 3), "exit_lane": conn.end.id})

    ensure_intersection(ctx, None)
    conn = connector(ctx.layout)
    traj, v0, v_c, et = new_agent_through(ctx, cls, conn, rng, v_req, (0.15, 0.45), enter_time, key)
    return ctx.add_agent(cls, traj, lane=conn.start, connector=conn, conflict_checked=True,
                         params={"speed": round(min(v0, max(v0, v_c)), 3), "turn_speed": round(v_c, 3),
                                 "approach": approach, "enter_time": round(et, 3), "from_lane": conn.start.id,
                                 "exit_lane": conn.end.id})


def junction_shift(ctx: ScenarioBuilder, cls: str, v0: float, probe: Connector, xy0: NDArray[np.float64],
                   direction: str, enter_time: float | None) -> float:
    """How far along the approach (frame of `direction`, metres) a junction built at 0 must move so that an
    agent at `xy0` (1, 2), driving at v0, reaches the start of the curve `probe` at `enter_time` (None: the
    builder's default start; at least 0.3 s)."""
    v_c = _curve_speed(cls, probe)
    tb = ctx.default_start() if enter_time is None else max(enter_time, 0.0)
    plan = curve_plan(ctx, cls, v0, v_c, probe.path.length, max(tb, 0.3))
    f = ctx.layout.frame(direction)
    s_start0 = float(f.from_world(probe.points[:1])[0][0])
    s_ego = float(f.from_world(xy0)[0][0])
    return s_ego + plan.approach - s_start0


def _distance_to_curve(ctx: ScenarioBuilder, rec_xy: NDArray[np.float64], conn: Connector, direction: str) -> float:
    """Metres along the approach lane (frame of `direction`) from the point `rec_xy` (1, 2) to the start
    of the curve `conn` (negative: the start is behind)."""
    f = ctx.layout.frame(direction)
    return float(f.from_world(conn.points[:1])[0][0] - f.from_world(rec_xy)[0][0])


def motion_through(ctx: ScenarioBuilder, cls: str, v0: float, conn: Connector,
                   dist: float) -> tuple[Trajectory, CurvePlan, float, float]:
    """An agent `dist` m before the curve `conn`, at v0: its motion along the lead-in and the curve
    (slowing to the curve speed and back), with the plan, the curve speed and the enter_time."""
    v_c = _curve_speed(cls, conn)
    path, s_curve = _lead_path(conn)
    et = _enter_time_for_distance(ctx, cls, v0, v_c, conn.path.length, dist)
    plan = curve_plan(ctx, cls, v0, v_c, conn.path.length, et)
    return path_motion(path, s_curve - plan.approach, plan.profile, ctx.times), plan, v_c, et


def new_agent_through(ctx: ScenarioBuilder, cls: str, conn: Connector, rng: np.random.Generator,
                      v_req: float | None, first_fraction: tuple[float, float], enter_time: float | None,
                      key: str) -> tuple[Trajectory, float, float, float]:
    """A new agent driving the curve `conn`: its speed (v_req, else typical for the class, at most a
    little above the curve speed), and the enter_time (given, else searched around a random share
    `first_fraction` of the clip) at which it keeps clear of everyone. Returns (trajectory, v0, curve
    speed, enter_time)."""
    v_c = _curve_speed(cls, conn)
    lo, hi = limits_for(cls).typical_speed
    v0 = min(float(rng.uniform(lo, hi)), v_c + float(rng.uniform(1.0, 3.0))) if v_req is None else v_req
    path, s_curve = _lead_path(conn)
    t_curve = conn.path.length / max(min(v_c, v0), 0.5)

    def make(et: float) -> Trajectory:
        plan = curve_plan(ctx, cls, v0, v_c, conn.path.length, et)
        return path_motion(path, s_curve - plan.approach, plan.profile, ctx.times)

    if enter_time is not None:
        cands = [float(enter_time)]
    else:
        first = float(rng.uniform(*first_fraction)) * ctx.duration
        cands = candidates_around(first, 0.25, 60, both_ways=True, limit=(-0.9 * t_curve, ctx.t_end + 2.0))
    et, traj = search(ctx, cls, cands, make, what=key,
                      hint="; try another enter_time" if enter_time is not None else "")
    return traj, v0, v_c, et


def _enter_time_for_distance(ctx: ScenarioBuilder, cls: str, v0: float, v_c: float, curve_len: float,
                             dist: float) -> float:
    """The enter_time at which an agent starting `dist` m before the curve reaches it."""
    if dist <= 0:
        return dist / max(v_c, 0.5)
    lo, hi = 0.0, 600.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if curve_plan(ctx, cls, v0, v_c, curve_len, mid).approach < dist:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


@library_function("intersection")
def turn_left(ctx: ScenarioBuilder, who: AgentHandle | str = "car", speed: float | None = None,
              approach: str = "ahead", enter_time: float | None = None) -> AgentHandle:
    """Turn left at the intersection (one is placed ahead of the ego if there is none yet).

    The vehicle slows to a comfortable cornering speed before the curve and speeds up after it.

    Args:
        who: `ego` or a class name for a new vehicle.
        speed: approach speed in m/s (default: the ego keeps its speed; new vehicles a moderate one).
        approach: for new vehicles, where they come from relative to the ego: 'ahead' (same
            direction, in front), 'oncoming', 'from_left' or 'from_right'.
        enter_time: seconds into the clip when the vehicle starts the curve (negative: already
            turning at t=0). Default: the ego early in the clip; new vehicles when it is safe.
    Returns: the agent.
    """
    return _turn(ctx, who, "left", speed, approach, enter_time)


@library_function("intersection")
def turn_right(ctx: ScenarioBuilder, who: AgentHandle | str = "car", speed: float | None = None,
               approach: str = "ahead", enter_time: float | None = None) -> AgentHandle:
    """Turn right at the intersection (one is placed ahead of the ego if there is none yet).

    Args: as for turn_left.
    Returns: the agent.
    """
    return _turn(ctx, who, "right", speed, approach, enter_time)


@library_function("intersection")
def u_turn(ctx: ScenarioBuilder, who: AgentHandle | str = "car", speed: float | None = None,
           start: float | None = None, lane: str = "same", ahead: float | None = None,
           ref: AgentHandle | None = None) -> AgentHandle:
    """Make a U-turn into the opposite direction (a half circle as tight as the class allows).

    Args:
        who: `ego` or a class name for a new vehicle.
        speed: approach speed in m/s.
        start: seconds into the clip when the half circle begins (default: early in the clip).
        lane, ahead, ref: where a new vehicle starts, as for forward.
    Returns: the agent.
    """
    start_t = number(ctx, "start", start, 0.0, ctx.duration)
    number(ctx, "ahead", ahead, -300.0, 300.0)
    w = resolve_who(ctx, who)
    cls = w.cls
    lim = limits_for(cls)
    v_req = speed_arg(ctx, "speed", speed, cls)
    key = w.handle.id if w.handle is not None else ctx.new_id(cls)
    if w.handle is None:
        r = ref_record(ctx, ref)
        lane_ref = resolve_lane(ctx, r, lane)
    else:
        if ahead is not None or ref is not None or lane != "same":
            raise ctx.error("lane, ahead and ref place new agents; the ego turns from its own lane")
        lane_ref = road_lane(ctx, ctx.record(w.handle))
    if lane_ref.direction not in MAIN_ROAD:
        raise ctx.error("U-turns are made on the main road", PlacementError)
    n = ctx.layout.lanes_per_direction
    kmax = lim.max_curvature

    def exit_lane(k: int) -> int | None:
        return next((m for m in range(1, n + 1)
                     if 2.0 / ((k - 0.5 + m - 0.5) * ctx.layout.lane_width) <= kmax + 1e-9), None)

    lane_to = exit_lane(lane_ref.number)
    if lane_to is None and w.handle is None and lane_ref.number < n and exit_lane(n) is not None:
        lane_ref = LaneRef(lane_ref.direction, n)          # a new vehicle U-turns from the outermost lane
        lane_to = exit_lane(n)
    if lane_to is None:
        need = 2.0 / kmax
        raise ctx.error(f"a {cls} needs {need:.1f} m across to U-turn and the road offers "
                        f"{(lane_ref.number + n - 1) * ctx.layout.lane_width:.1f} m from {lane_ref.id}; "
                        f"add lanes with set_road(lanes=...) or start further right", PlacementError)
    ctx.fix_lanes(f"{ctx.call_name} planned a U-turn")
    radius = (lane_ref.number - 0.5 + lane_to - 0.5) * ctx.layout.lane_width / 2
    v_c = float(min(max(math.sqrt(lim.comfort_lat_accel * radius), 1.5), 6.0))
    curve_len = math.pi * radius
    et = ctx.default_start() if start_t is None else start_t
    frame = ctx.layout.frame(lane_ref.direction)

    def build(s_begin: float, v0: float) -> tuple[Trajectory, Connector, CurvePlan]:
        """(trajectory, connector) for an agent at s_begin at t=0 in lane_ref's frame."""
        plan = curve_plan(ctx, cls, v0, v_c, curve_len, max(et, 0.05))
        s_u = s_begin + plan.approach
        conn = uturn_connector(ctx.layout, lane_ref.direction, lane_ref.number, lane_to, s_u, kmax)
        path, s_curve = _lead_path(conn)
        return path_motion(path, s_curve - plan.approach, plan.profile, ctx.times), conn, plan

    if w.handle is not None:
        rec = ctx.record(w.handle)
        v0 = rec.trajectory.speed_at(0.0) if v_req is None else v_req
        s_begin = float(frame.from_world(np.array([rec.trajectory.pose_at(0.0)[:2]]))[0][0])
        traj, conn, plan = build(s_begin, v0)
        return ctx.set_motion(w.handle, traj, lane=lane_ref, connector=conn,
                              params={"speed": round(plan.v0, 3), "turn_speed": round(v_c, 3),
                                      "start": round(et, 3), "exit_lane": conn.end.id})

    rng = ctx.rng(key)
    v0 = min(default_speed(ctx, cls, key), v_c + float(rng.uniform(1.0, 3.0))) if v_req is None else v_req
    length = default_size(cls)[1]
    built: dict[float, tuple[Connector, CurvePlan]] = {}

    def make(a: float) -> Trajectory:
        traj, conn, plan = build(anchor_s(ctx, r, lane_ref, a, length), v0)
        built[a] = (conn, plan)
        return traj

    from engine.library.functions.vehicles import default_ahead_candidates

    cands = [ahead] if ahead is not None else default_ahead_candidates(ctx, r, lane_ref, key)
    a, traj = search(ctx, cls, cands, make, what=key, hint="; try another `ahead`" if ahead is not None else "")
    conn, plan = built[a]
    return ctx.add_agent(cls, traj, lane=lane_ref, connector=conn, conflict_checked=True,
                         params={"speed": round(plan.v0, 3), "turn_speed": round(v_c, 3), "start": round(et, 3),
                                 "ahead": round(a, 3), "lane": lane_ref.id, "exit_lane": conn.end.id})


@library_function("intersection")
def crossing_traffic(ctx: ScenarioBuilder, cls: str = "car", side: str = "left", speed: float | None = None,
                     pass_time: float | None = None) -> AgentHandle:
    """A new vehicle on the cross road drives straight across the intersection in front of the ego
    (e.g. running a red light). An intersection is placed ahead of the ego if there is none yet.

    Args:
        cls: class of the crossing vehicle.
        side: 'left' or 'right': the side of the ego it comes from.
        speed: m/s (default: typical for the class).
        pass_time: seconds into the clip when it crosses the ego's lane (default: the first time
            that keeps a safe distance from everyone).
    Returns: the agent.
    """
    from engine.library.motion import lane_motion
    from engine.library.placing import vehicle_class

    choice(ctx, "side", side, ("left", "right"))
    vehicle_class(ctx, cls)
    number(ctx, "pass_time", pass_time, -ctx.duration, 2 * ctx.duration)
    ensure_intersection(ctx, None)
    ego = ctx.record("ego")
    direction = approach_direction(ctx, "from_left" if side == "left" else "from_right")
    n = ctx.layout.lanes_per_direction
    lane = LaneRef(direction, n if side == "left" else 1)
    key = ctx.new_id(cls)
    rng = ctx.rng(key)
    v = speed_arg(ctx, "speed", speed, cls)
    v = default_speed(ctx, cls, key) if v is None else v
    if v < 0.5:
        raise ctx.error("crossing traffic needs a speed above 0.5 m/s")
    frame = ctx.layout.frame(direction)
    ego_lane = road_lane(ctx, ego)
    ego_y = ctx.layout.frame(ego_lane.direction).to_world(0.0, ctx.layout.lane_lat(ego_lane.number))[0][1]
    s_cross = float(frame.from_world(np.array([[ctx.layout.intersection_x, ego_y]]))[0][0])
    prof = plan_profile(ctx, cls, v, [])

    def make(tp: float) -> Trajectory:
        return lane_motion(frame, s_cross - v * tp, ctx.layout.lane_lat(lane.number), prof, [], ctx.times)

    if pass_time is not None:
        cands = [float(pass_time)]
    else:
        cands = candidates_around(float(rng.uniform(0.35, 0.6)) * ctx.duration, 0.2, 40, both_ways=True,
                                  limit=(-ctx.duration, 2 * ctx.duration))
    tp, traj = search(ctx, cls, cands, make, what=key, hint="; try another pass_time" if pass_time else "")
    return ctx.add_agent(cls, traj, lane=lane, conflict_checked=True,
                         params={"speed": round(v, 3), "pass_time": round(tp, 3), "lane": lane.id})


__all__ = ["crossing_traffic", "ensure_intersection", "turn_left", "turn_right", "u_turn"]
