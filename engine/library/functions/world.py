"""More of the world: pedestrians (and children) walking or standing on the sidewalk, vehicles
pulling out of a parking spot or a bus stop, and animals standing on the road.

sidewalk_walk and pull_out make agents that take further manoeuvres with `then` (walk, run,
stop; brake, accelerate, change_lane ...). Children are pedestrians with a child's box and the
nuScenes category human.pedestrian.child; animals are static obstacles (class barrier for the
detection tasks) with an animal's box and the nuScenes category ``animal``.
"""
from __future__ import annotations

import math

import numpy as np

from engine.classes import default_size
from engine.library.builder import AgentHandle, ScenarioBuilder
from engine.library.errors import LimitError, PlacementError
from engine.library.functions.vulnerable import _add_parking_lane, _parking_ok, _ref_front_x
from engine.library.limits import limits_for
from engine.library.motion import static_pose
from engine.library.placing import candidates_around, choice, rate_arg, speed_arg, time_arg, vehicle_class
from engine.library.profiles import LateralShift, SpeedChange
from engine.library.registry import library_function
from engine.library.sequence import LanePlan, PathPlan
from engine.roadmap.connectors import Path
from engine.roadmap.layout import DIRECTION_HEADING, SIDEWALK_OFFSET, LaneRef
from engine.scenario.trajectory import Trajectory

CHILD_SIZE = (0.45, 0.45, 1.15)          # m, w l h: a 6-8 year old
CHILD_CATEGORY = "human.pedestrian.child"
ANIMAL_SIZES = {"deer": (0.5, 1.6, 1.3), "dog": (0.3, 0.9, 0.6), "cow": (0.8, 2.3, 1.5),
                "horse": (0.7, 2.4, 1.7), "cat": (0.2, 0.5, 0.3), "animal": (0.5, 1.4, 1.0)}
ANIMAL_CATEGORY = "animal"


def _set_category(ctx: ScenarioBuilder, h: AgentHandle, size: tuple[float, float, float], category: str) -> None:
    rec = ctx.record(h)
    rec.size = (float(size[0]), float(size[1]), float(size[2]))
    rec.category = category
    rec._footprints = None


@library_function("vulnerable road users")
def sidewalk_walk(ctx: ScenarioBuilder, side: str = "right", ahead: float | None = None, speed: float | None = None,
                  direction: str = "same", child: bool = False, ref: AgentHandle | None = None) -> AgentHandle:
    """A pedestrian walking (or, with speed=0, standing) on the sidewalk along the road.

    Args:
        side: 'right' (the ego's side) or 'left' (the far sidewalk).
        ahead: metres from the front of `ref` at t=0 (default 8-25 m).
        speed: m/s (default a walking 1.2-1.6 m/s; 0 = standing; up to about 3 = running).
        direction: 'same' (walking the way the ego drives) or 'opposite'.
        child: True for a child (smaller box; nuScenes category human.pedestrian.child).
        ref: the agent `ahead` is measured from (default: the ego).
    Returns: the pedestrian (then(p, 'walk' | 'run' | 'stop' | 'wait') continues its motion).
    """
    choice(ctx, "side", side, ("left", "right"))
    choice(ctx, "direction", direction, ("same", "opposite"))
    key = ctx.new_id("pedestrian")
    rng = ctx.rng(key)
    v = speed_arg(ctx, "speed", speed, "pedestrian")
    if v is None:
        v = float(np.round(rng.uniform(1.2, 1.6), 2))
    lay = ctx.layout
    y = lay.kerb_lat("EB") - SIDEWALK_OFFSET if side == "right" else -lay.kerb_lat("WB") + SIDEWALK_OFFSET
    heading = 0.0 if direction == "same" else math.pi
    front0, _ = _ref_front_x(ctx, ref)
    cands = [float(ahead)] if ahead is not None else candidates_around(float(rng.uniform(8.0, 25.0)), 1.5, 30,
                                                                        both_ways=True)
    plans: dict[float, PathPlan] = {}

    def make(a: float) -> Trajectory:
        x0 = front0 + a
        d = np.array([math.cos(heading), math.sin(heading)])
        path = Path(np.array([[x0, y], [x0 + 500.0 * d[0], y + 500.0 * d[1]]]))
        plans[a] = PathPlan("pedestrian", path, 0.0, v)
        return plans[a].trajectory(ctx) if v > 0 else static_pose(x0, y, heading, ctx.times)

    from engine.library.placing import search

    a, traj = search(ctx, "pedestrian", cands, make, what=key)
    h = ctx.add_agent("pedestrian", traj, role="sidewalk", conflict_checked=True,
                      params={"side": side, "ahead": round(a, 3), "speed": v, "direction": direction,
                              "child": bool(child)})
    ctx.record(h).plan = plans[a]
    if child:
        _set_category(ctx, h, CHILD_SIZE, CHILD_CATEGORY)
    return h


@library_function("ego and vehicles")
def pull_out(ctx: ScenarioBuilder, cls: str = "car", side: str = "right", ahead: float | None = None,
             start: float | None = None, to_speed: float | None = None, accel: float | None = None,
             from_spot: str = "parking", ref: AgentHandle | None = None) -> AgentHandle:
    """A vehicle standing at the kerb (a parking spot or a bus stop) pulls out into the traffic lane.

    Args:
        cls: class ('car', 'bus', 'truck', ...; a bus for a bus stop).
        side: 'right' (the ego's kerb, pulling into the ego's direction) or 'left' (the far kerb).
        ahead: metres from the front of `ref` at t=0 to the vehicle's rear (default 8-30 m).
        start: seconds into the clip when it sets off (default: early in the clip).
        to_speed: m/s it accelerates to (default: the class's typical speed).
        accel: m/s^2 (default: the class's comfortable acceleration).
        from_spot: 'parking' (a parking lane is added) or 'bus_stop' (the same kerb bay, for buses).
        ref: the agent `ahead` is measured from (default: the ego).
    Returns: the vehicle (then(v, ...) continues its motion).
    """
    vehicle_class(ctx, cls)
    choice(ctx, "side", side, ("left", "right"))
    choice(ctx, "from_spot", from_spot, ("parking", "bus_stop"))
    start = time_arg(ctx, "start", start)
    direction = "EB" if side == "right" else "WB"
    _add_parking_lane(ctx, direction)
    lay = ctx.layout
    lim = limits_for(cls)
    key = ctx.new_id(cls)
    rng = ctx.rng(key)
    target = (float(np.round(rng.uniform(*lim.typical_speed), 2)) if to_speed is None
              else speed_arg(ctx, "to_speed", to_speed, cls))
    if target < 2.0:
        raise ctx.error(f"to_speed {target:g} m/s is too slow to pull out into traffic (at least 2 m/s)")
    a = lim.comfort_accel if accel is None else rate_arg(ctx, "accel", accel, cls, "accel")
    t0 = (ctx.default_start() * 0.5 if start is None else start)
    lane = LaneRef(direction, lay.lanes_per_direction)
    lat_off = lay.parking_lat(direction) - lay.lane_lat(lane.number)          # negative: right of the lane
    # the lateral move begins once it rolls at 2.5 m/s and takes long enough for the class's curvature
    from engine.library.profiles import change_duration

    t_roll = t0 + change_duration(2.5, a, lim.max_jerk * 0.6) * 0.8
    v_roll = 2.5
    a_lat = min(lim.comfort_lat_accel, lim.max_curvature * 0.7 * v_roll ** 2)   # curvature-bound at low speed
    dur = max(3.0, math.sqrt(10.0 / math.sqrt(3.0) * abs(lat_off) / a_lat))
    plan0 = LanePlan(cls, lane, 0.0, 0.0, (SpeedChange(t0, target, a),), (LateralShift(t_roll, dur, -lat_off),),
                     lat_offset=lat_off)
    frame = lay.frame(direction)
    length = default_size(cls)[1]
    front0, _ = _ref_front_x(ctx, ref)
    sign = 1.0 if direction == "EB" else -1.0
    cands = [float(ahead)] if ahead is not None else candidates_around(float(rng.uniform(8.0, 30.0)), 2.0, 40,
                                                                        both_ways=True)
    cands = [c for c in cands if _parking_ok(ctx, front0 + c + length / 2, length + 1.0)] or cands
    plans: dict[float, LanePlan] = {}

    def make(c: float) -> Trajectory:
        x_c = front0 + c + length / 2
        s0 = float(frame.from_world(np.array([[x_c, 0.0]]))[0][0]) if sign > 0 else -x_c
        plans[c] = LanePlan(cls, lane, s0, 0.0, plan0.changes, plan0.shifts, lat_off)
        return plans[c].trajectory(ctx)

    from engine.library.placing import search

    ctx.check_limits(cls, make(cands[0]), key)
    c, traj = search(ctx, cls, cands, make, what=key, hint="; try another `ahead` or `start`")
    h = ctx.add_agent(cls, traj, lane=lane, conflict_checked=True,
                      params={"side": side, "ahead": round(c, 3), "start": round(t0, 3), "to_speed": target,
                              "accel": a, "from_spot": from_spot})
    ctx.record(h).plan = plans[c]
    return h


@library_function("static")
def animal(ctx: ScenarioBuilder, kind: str = "deer", lane: str = "same", ahead: float | None = None,
           ref: AgentHandle | None = None) -> AgentHandle:
    """An animal standing on the road (a static obstacle; nuScenes category 'animal').

    Args:
        kind: 'deer', 'dog', 'cow', 'horse', 'cat' or 'animal' (sets the box size).
        lane, ahead, ref: as for static_object.
    Returns: the animal.
    """
    from engine.library.functions.static import static_object

    choice(ctx, "kind", kind, tuple(ANIMAL_SIZES))
    h = static_object(ctx, "barrier", lane=lane, ahead=ahead, lateral=0.0, yaw=math.pi / 2, ref=ref)
    rec = ctx.record(h)
    rec.behavior = "animal"
    rec.params = {"kind": kind, **{k: v for k, v in rec.params.items() if k in ("lane", "ahead")}}
    rec.maneuvers = (ctx.first_maneuver("animal", rec.params),)
    _set_category(ctx, h, ANIMAL_SIZES[kind], ANIMAL_CATEGORY)
    return h


__all__ = ["animal", "pull_out", "sidewalk_walk", "CHILD_CATEGORY", "ANIMAL_CATEGORY", "DIRECTION_HEADING",
           "LimitError", "PlacementError"]
