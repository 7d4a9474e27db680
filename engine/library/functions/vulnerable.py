"""Pedestrians and cyclists crossing the main road: at a crosswalk, jaywalking, running out between
parked cars, a cyclist crossing.

A crosser waits on the kerb (or between parked cars), sets off at `start`, crosses the whole road
perpendicular to it at a walking (or running / riding) speed and stops on the far side.
`side` is the side of the road it starts from, seen from the ego ('right' = the ego's kerb).
"""
from __future__ import annotations

import math

import numpy as np

from engine.classes import default_size
from engine.library.builder import AgentHandle, Role, ScenarioBuilder
from engine.library.errors import PlacementError
from engine.library.limits import limits_for
from engine.library.motion import path_motion, static_pose
from engine.library.placing import (
    choice, number, plan_profile, profile_jerk, ref_record, speed_arg,
)
from engine.library.profiles import SpeedChange, change_distance
from engine.library.registry import library_function
from engine.roadmap.connectors import Path
from engine.roadmap.layout import MIDBLOCK_CROSSWALK_WIDTH, PARKING_WIDTH, SIDEWALK_OFFSET
from engine.scenario.trajectory import Trajectory

JAYWALK_CLEARANCE = 5.0      # m between a jaywalker and the nearest crosswalk edge
PARKED_GAP = 2.5             # m between the two parked cars a child runs out from


def _side_y(ctx: ScenarioBuilder, side: str) -> tuple[float, float, float]:
    """(near kerb y, far kerb y, direction sign) for a crosser starting on `side` of the main road."""
    lay = ctx.layout
    south, north = lay.kerb_lat("EB"), -lay.kerb_lat("WB")
    return (south, north, 1.0) if side == "right" else (north, south, -1.0)


def crossing_trajectory(ctx: ScenarioBuilder, cls: str, x: float, y_wait: float, y_end: float, v: float,
                        start: float, accel: float | None = None) -> Trajectory:
    """Walk (or ride) from (x, y_wait) straight across to y_end, setting off at `start` s
    (negative: already moving at speed v), stopping at y_end. Returns the Trajectory."""
    lim = limits_for(cls)
    acc = lim.comfort_accel * 1.5 if accel is None else accel
    dec = lim.comfort_decel
    jerk = profile_jerk(cls)
    sign = 1.0 if y_end > y_wait else -1.0
    heading = math.pi / 2 * sign
    total = abs(y_end - y_wait)
    if start >= 0:
        v0, s0 = 0.0, 0.0
        changes = [SpeedChange(start, v, acc)]
    else:
        v0, s0 = v, v * (-start)
        changes = []
    prof = plan_profile(ctx, cls, v0, changes)
    d_stop = change_distance(v, 0.0, dec, jerk)
    t_stop = prof.time_at_distance(total - s0 - d_stop)
    if math.isfinite(t_stop):
        changes.append(SpeedChange(max(t_stop, 0.0), 0.0, dec))
        prof = plan_profile(ctx, cls, v0, changes)
    path = Path(np.array([[x, y_wait], [x, y_wait + sign * max(total, 1.0)]]))
    traj = path_motion(path, s0, prof, ctx.times)
    if v0 == 0.0 and start >= ctx.t_end:
        traj = static_pose(x, y_wait, heading, ctx.times)
    return traj


def _start_candidates(ctx: ScenarioBuilder, start: float | None, key: str, v: float, road_width: float) -> list[float]:
    if start is not None:
        return [float(start)]
    rng = ctx.rng(key + ":start")
    first = float(rng.uniform(0.0, 0.3)) * ctx.duration
    out = [first]
    for k in range(1, 12):
        out += [first + 0.25 * k * ctx.duration / 2.75, first - 0.25 * k * ctx.duration / 2.75]
    lo = -0.5 * road_width / max(v, 0.5)
    return [c for c in out if lo <= c <= ctx.t_end]


def _ref_front_x(ctx: ScenarioBuilder, ref: AgentHandle | None) -> tuple[float, float]:
    """(front x at t=0, x at the end of the clip plus half its length) of the reference agent."""
    r = ref_record(ctx, ref)
    x0, _, yaw = r.trajectory.pose_at(0.0)
    x1, _, _ = r.trajectory.pose_at(ctx.t_end)
    return x0 + r.size[1] / 2 * math.cos(yaw), x1 + r.size[1] / 2


def _x_candidates(ctx: ScenarioBuilder, ahead: float | None, ref: AgentHandle | None, key: str) -> list[float]:
    front0, front_end = _ref_front_x(ctx, ref)
    if ahead is not None:
        return [front0 + float(ahead)]
    rng = ctx.rng(key + ":x")
    first = front_end + float(rng.uniform(6.0, 16.0))
    return [first + 5.0 * k for k in range(30)]


def _crosswalk_for(ctx: ScenarioBuilder, x: float) -> tuple[float | None, bool]:
    """(x of the crosswalk to use near x, whether it is a new mid-block one); (None, False) when a
    new crosswalk there would lie under a parked or static object."""
    lay = ctx.layout
    existing = lay.main_crosswalk_centres()
    if existing:
        nearest = min(existing, key=lambda c: abs(c - x))
        if abs(nearest - x) < 8.0 or lay.near_intersection(x, 6.0):
            return nearest, False
    half = MIDBLOCK_CROSSWALK_WIDTH / 2 + 0.5
    for rec in ctx.records():
        if rec.role in ("parked", "static"):
            xs = rec.footprints(ctx.times)[0, :, 0]
            if xs.min() < x + half and xs.max() > x - half:
                return None, False
    return x, True


def _jaywalk_ok(ctx: ScenarioBuilder, x: float) -> bool:
    lay = ctx.layout
    if lay.near_intersection(x, 4.0):
        return False
    for c in lay.main_crosswalk_centres():
        if abs(c - x) < lay.crosswalk_half_width_at(c) + JAYWALK_CLEARANCE:
            return False
    return True


def _cross(ctx: ScenarioBuilder, cls: str, side: str, ahead: float | None, speed: float | None,
           start: float | None, ref: AgentHandle | None, mode: str, default_v: tuple[float, float],
           contact: bool = False) -> AgentHandle:
    """Shared body of pedestrian_crossing, jaywalk and cyclist_crossing (mode 'crosswalk' / 'jaywalk')."""
    choice(ctx, "side", side, ("left", "right"))
    number(ctx, "ahead", ahead, -100.0, 300.0)
    number(ctx, "start", start, -ctx.duration, ctx.duration)
    v = speed_arg(ctx, "speed", speed, cls)
    key = ctx.new_id(cls)
    if v is None:
        v = float(np.round(ctx.rng(key).uniform(*default_v), 2))
    if v < 0.3:
        raise ctx.error("a crossing needs a speed of at least 0.3 m/s")
    near, far, sign = _side_y(ctx, side)
    y_wait = near - sign * (SIDEWALK_OFFSET if cls == "pedestrian" else 2.0)
    y_end = far + sign * SIDEWALK_OFFSET
    size = default_size(cls)
    exclude = {"ego"} if contact else set()
    first_failure = None
    for x_try in _x_candidates(ctx, ahead, ref, key):
        if mode == "crosswalk":
            x, new = _crosswalk_for(ctx, x_try)
            if x is None:
                if ahead is not None:
                    raise ctx.error(f"a crosswalk at x={x_try:.1f} would lie under a parked or static object; "
                                    f"try another `ahead`", PlacementError)
                continue
        else:
            x, new = x_try, False
            if not _jaywalk_ok(ctx, x):
                if ahead is not None:
                    raise ctx.error(f"x={x:.1f} is at a crosswalk or the intersection; jaywalking needs another "
                                    f"`ahead`", PlacementError)
                continue
        for st in _start_candidates(ctx, start, key, v, abs(far - near)):
            traj = crossing_trajectory(ctx, cls, x, y_wait, y_end, v, st)
            enc = ctx.conflict(cls, size, traj, exclude=exclude)
            if enc is None:
                if new:
                    ctx.set_layout(ctx.layout.with_crosswalk(round(x, 3)))
                role: Role = "crossing" if mode == "crosswalk" else "jaywalk"
                return ctx.add_agent(cls, traj, role=role, contact_with=exclude, conflict_checked=True,
                                     params={"speed": v, "x": round(x, 3), "start": round(st, 3), "side": side})
            if first_failure is None:
                first_failure = enc
        ctx.check_deadline()
    enc = first_failure
    detail = "" if enc is None else (f": it would come within {enc.distance:.2f} m of {enc.other} at t={enc.t:.2f} s "
                                     f"(safe distance {enc.required:.2f} m)")
    raise ctx.error(f"found no safe place and time for {key} to cross{detail}; try another ahead or start",
                    PlacementError)


@library_function("vulnerable road users")
def pedestrian_crossing(ctx: ScenarioBuilder, side: str = "right", ahead: float | None = None,
                        speed: float | None = None, start: float | None = None, ref: AgentHandle | None = None,
                        contact: bool = False, child: bool = False) -> AgentHandle:
    """A pedestrian crosses the road at a crosswalk (one is added to the map where needed).

    Args:
        side: 'right' (from the ego's kerb) or 'left' (from the far kerb).
        ahead: metres from the front of `ref` (default the ego) at t=0 to the crosswalk. Default: a
            crosswalk ahead of where the ego is at the end of the clip.
        speed: m/s (default 1.2-1.6 walking; about 3 is running).
        start: seconds into the clip when the pedestrian sets off from the kerb (negative: already
            crossing at t=0). Default: the first safe time early in the clip.
        ref: the agent `ahead` is measured from (default: the ego).
        contact: True to allow the ego to hit the pedestrian.
        child: True for a child (smaller box; nuScenes category human.pedestrian.child).
    Returns: the pedestrian.
    """
    return _childish(ctx, _cross(ctx, "pedestrian", side, ahead, speed, start, ref, "crosswalk", (1.2, 1.6),
                                 contact), child)


def _childish(ctx: ScenarioBuilder, h: AgentHandle, child: bool) -> AgentHandle:
    """Make pedestrian `h` a child (box and nuScenes category) when `child`."""
    if child:
        from engine.library.functions.world import CHILD_CATEGORY, CHILD_SIZE, _set_category

        _set_category(ctx, h, CHILD_SIZE, CHILD_CATEGORY)
    return h


@library_function("vulnerable road users")
def jaywalk(ctx: ScenarioBuilder, side: str = "right", ahead: float | None = None, speed: float | None = None,
            start: float | None = None, ref: AgentHandle | None = None, contact: bool = False) -> AgentHandle:
    """A pedestrian crosses the road away from any crosswalk (jaywalking).

    Args: as for pedestrian_crossing; the place is kept at least 5 m from every crosswalk.
    Returns: the pedestrian.
    """
    return _cross(ctx, "pedestrian", side, ahead, speed, start, ref, "jaywalk", (1.3, 1.8), contact)


@library_function("vulnerable road users")
def cyclist_crossing(ctx: ScenarioBuilder, side: str = "left", ahead: float | None = None,
                     speed: float | None = None, start: float | None = None, ref: AgentHandle | None = None,
                     contact: bool = False) -> AgentHandle:
    """A cyclist rides across the road at a crosswalk (one is added to the map where needed).

    Args: as for pedestrian_crossing; speed default 3.5-5.5 m/s.
    Returns: the cyclist (class 'bicycle').
    """
    return _cross(ctx, "bicycle", side, ahead, speed, start, ref, "crosswalk", (3.5, 5.5), contact)


@library_function("vulnerable road users")
def run_out(ctx: ScenarioBuilder, side: str = "right", ahead: float | None = None, speed: float | None = None,
            start: float | None = None, between_parked: bool = True, ref: AgentHandle | None = None,
            contact: bool = False, child: bool = False) -> AgentHandle:
    """A pedestrian (a child, say) runs out onto the road, by default from between two parked cars
    that hide them, away from any crosswalk.

    Args:
        side: 'right' (the ego's kerb) or 'left'.
        ahead: metres from the front of `ref` at t=0 to where they run out (default: the nearest place
            that keeps a safe distance from the ego).
        speed: running speed in m/s (default 2.5-3.5).
        start: seconds into the clip when they start running (default: the first safe time).
        between_parked: add the two parked cars (a kerbside parking lane) they run out from.
        ref: the agent `ahead` is measured from (default: the ego).
        contact: True to allow the ego to hit them.
        child: True for a child (smaller box; nuScenes category human.pedestrian.child).
    Returns: the pedestrian (the parked cars are added with behavior 'parked').
    """
    choice(ctx, "side", side, ("left", "right"))
    number(ctx, "ahead", ahead, -100.0, 300.0)
    number(ctx, "start", start, -ctx.duration, ctx.duration)
    cls = "pedestrian"
    v = speed_arg(ctx, "speed", speed, cls)
    key = ctx.new_id(cls)
    if v is None:
        v = float(np.round(ctx.rng(key).uniform(2.5, 3.5), 2))
    if v < 0.3:
        raise ctx.error("running out needs a speed of at least 0.3 m/s")
    direction = "EB" if side == "right" else "WB"
    if between_parked:
        _add_parking_lane(ctx, direction)
    near, far, sign = _side_y(ctx, side)
    lay = ctx.layout
    y_wait = lay.parking_lat("EB") if side == "right" else -lay.parking_lat("WB")
    if not between_parked:
        y_wait = near - sign * 0.5
    y_end = far + sign * SIDEWALK_OFFSET
    car_len = default_size("car")[1]
    exclude = {"ego"} if contact else set()
    first_failure = None
    for x in _x_candidates(ctx, ahead, ref, key):
        if not _jaywalk_ok(ctx, x) or (between_parked and not _parking_ok(ctx, x, car_len * 2 + PARKED_GAP)):
            if ahead is not None:
                raise ctx.error(f"x={x:.1f} is too close to a crosswalk or the intersection; try another `ahead`",
                                PlacementError)
            continue
        cars = []
        if between_parked:
            yaw = 0.0 if direction == "EB" else math.pi
            for cx in (x - PARKED_GAP / 2 - car_len / 2, x + PARKED_GAP / 2 + car_len / 2):
                cars.append(static_pose(cx, y_wait, yaw, ctx.times))
            if any(ctx.conflict("car", default_size("car"), c) for c in cars):
                continue
        for st in _start_candidates(ctx, start, key, v, abs(far - near)):
            st = max(st, 0.0)
            traj = crossing_trajectory(ctx, cls, x, y_wait, y_end, v, st, accel=limits_for(cls).max_accel * 0.8)
            enc = ctx.conflict(cls, default_size(cls), traj, exclude=exclude)
            if enc is None:
                parked_ids = []
                for c in cars:
                    h = ctx.add_agent("car", c, role="parked", behavior="parked",
                                      params={"by": "run_out", "side": side})
                    parked_ids.append(h.id)
                return _childish(ctx, ctx.add_agent(
                    cls, traj, role="jaywalk", contact_with=exclude, agent_id=ctx.new_id(cls),
                    params={"speed": v, "x": round(x, 3), "start": round(st, 3), "side": side,
                            "parked": parked_ids}), child)
            if first_failure is None:
                first_failure = enc
        ctx.check_deadline()
    enc = first_failure
    detail = "" if enc is None else (f": it would come within {enc.distance:.2f} m of {enc.other} at t={enc.t:.2f} s")
    raise ctx.error(f"found no safe place and time for {key} to run out{detail}; try another ahead or start",
                    PlacementError)


def _parking_ok(ctx: ScenarioBuilder, x: float, span: float) -> bool:
    from engine.roadmap.layout import PARKING_CLEARANCE

    lay = ctx.layout
    if lay.near_intersection(x, PARKING_CLEARANCE + span / 2):
        return False
    return all(abs(c - x) > lay.crosswalk_half_width_at(c) + span / 2 + 0.5 for c in lay.main_crosswalk_centres())


def _add_parking_lane(ctx: ScenarioBuilder, direction: str) -> None:
    """Add a kerbside parking lane on `direction`'s side, refusing when it would move the kerb under
    pedestrians already placed there."""
    lay = ctx.layout
    if direction in lay.parking:
        return
    if lay.has_ramp(direction):
        raise ctx.error("a parking lane and a merge lane on the same side are not supported", PlacementError)
    inner = lay.kerb_lat(direction)
    outer = inner - PARKING_WIDTH
    frame = lay.frame(direction)
    for rec in ctx.records():
        if rec.role in ("crossing", "jaywalk"):
            _, lat = frame.from_world(rec.trajectory.key_xy[:1])
            if outer - 0.5 <= lat[0] <= inner + 0.1:
                raise ctx.error(f"{rec.id} waits where the parking lane would go; place parked cars (or run_out) "
                                f"before pedestrians", PlacementError)
    ctx.fix_lanes(f"{ctx.call_name} added a parking lane")
    ctx.set_layout(lay.with_parking(direction))


__all__ = ["cyclist_crossing", "jaywalk", "pedestrian_crossing", "run_out", "crossing_trajectory"]
