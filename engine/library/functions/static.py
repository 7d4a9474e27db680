"""Objects that do not move: parked vehicles, single static objects, cone rows and work zones.

Positions are given by `ahead` (metres from the front of `ref`, the ego by default, at t=0, along
the road) and a lane relative to `ref`. Without `ahead` the nearest place that keeps the safe
distance from every moving agent is used.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

from engine.classes import class_names, default_size
from engine.library.builder import AgentHandle, Role, ScenarioBuilder
from engine.library.clearance import Encounter
from engine.library.errors import PlacementError
from engine.library.functions.vulnerable import _add_parking_lane, _parking_ok, _ref_front_x
from engine.library.motion import static_pose
from engine.library.placing import VEHICLES, choice, number, ref_record, resolve_lane, vehicle_class
from engine.library.registry import library_function
from engine.roadmap.layout import DIRECTION_HEADING, MAIN_ROAD, LaneRef

Pose = tuple[float, float, float, str]     # x, y, yaw, class


def _one_or_list(handles: list[AgentHandle]) -> AgentHandle | list[AgentHandle]:
    return handles[0] if len(handles) == 1 else handles


def _ahead_candidates(ctx: ScenarioBuilder, ahead: float | None, key: str, far: bool) -> list[float]:
    if ahead is not None:
        return [float(ahead)]
    rng = ctx.rng(key + ":ahead")
    first = float(rng.uniform(4.0, 14.0))
    if far:     # in the lane of a moving agent: start beyond where the ego gets to
        ego = ctx.record("ego")
        x_end = ego.trajectory.pose_at(ctx.t_end)[0] - ego.trajectory.pose_at(0.0)[0]
        first += max(x_end, 0.0)
    return [first + 3.0 * k for k in range(60)]


def _place_group(ctx: ScenarioBuilder, candidates: Sequence[float], poses_for: Callable[[float], list[Pose] | None],
                 what: str, behavior_params: dict[str, Any], role: Role, lane: LaneRef | None) -> list[AgentHandle]:
    """Try each candidate `ahead`; add all objects of the first that keeps every safe distance."""
    first_failure: Encounter | None = None
    for a in candidates:
        poses = poses_for(a)
        if poses is None:
            continue
        bad: Encounter | None = None
        for x, y, yaw, cls in poses:
            enc = ctx.conflict(cls, default_size(cls), static_pose(x, y, yaw, ctx.times))
            if enc is not None:
                bad = enc
                break
        if bad is None:
            out: list[AgentHandle] = []
            for x, y, yaw, cls in poses:
                out.append(ctx.add_agent(cls, static_pose(x, y, yaw, ctx.times), role=role, lane=lane,
                                         conflict_checked=False, params={**behavior_params, "ahead": round(a, 3)}))
            return out
        if first_failure is None:
            first_failure = bad
        ctx.check_deadline()
    if first_failure is None:
        raise ctx.error(f"found no place for {what} clear of crosswalks and the intersection", PlacementError)
    e = first_failure
    hint = "; try a larger `ahead`" if len(candidates) == 1 else ""
    raise ctx.error(f"{what} would come within {e.distance:.2f} m of {e.other} at t={e.t:.2f} s "
                    f"(safe distance {e.required:.2f} m){hint}", PlacementError)


@library_function("static")
def parked(ctx: ScenarioBuilder, cls: str = "car", side: str = "right", ahead: float | None = None,
           count: int = 1, spacing: float | None = None, ref: AgentHandle | None = None) -> AgentHandle | list[AgentHandle]:
    """Vehicles parked in a row at the kerb (a parking lane is added to the map on that side).

    Args:
        cls: class of the parked vehicles ('car', 'truck', 'bus', 'motorcycle', 'bicycle', ...).
        side: 'right' (the ego's kerb) or 'left' (the far kerb).
        ahead: metres from the front of `ref` at t=0 to the first vehicle's rear (default 4-14 m).
        count: how many, 1 to 30, one after another along the kerb.
        spacing: metres between consecutive vehicles (default 1-3 m each).
        ref: the agent `ahead` is measured from (default: the ego).
    Returns: the agent when count is 1, else the list of agents.
    """
    vehicle_class(ctx, cls, VEHICLES)
    choice(ctx, "side", side, ("left", "right"))
    number(ctx, "ahead", ahead, -200.0, 400.0)
    number(ctx, "count", count, 1, 30)
    number(ctx, "spacing", spacing, 0.3, 50.0)
    direction = "EB" if side == "right" else "WB"
    _add_parking_lane(ctx, direction)
    lay = ctx.layout
    y = lay.parking_lat("EB") if side == "right" else -lay.parking_lat("WB")
    yaw = DIRECTION_HEADING[direction]
    length = default_size(cls)[1]
    key = ctx.new_id(cls)
    rng = ctx.rng(key + ":spacing")
    gaps = [float(spacing) if spacing is not None else float(rng.uniform(1.0, 3.0)) for _ in range(int(count))]
    front0, _ = _ref_front_x(ctx, ref)

    def poses_for(a: float) -> list[Pose] | None:
        out: list[Pose] = []
        x = front0 + a
        for i in range(int(count)):
            tries = 0
            while not _parking_ok(ctx, x + length / 2, length + 0.5):
                x += 2.0
                tries += 1
                if tries > 200:
                    return None
            out.append((x + length / 2, y, yaw, cls))
            x += length + gaps[i]
        return out

    hs = _place_group(ctx, _ahead_candidates(ctx, ahead, key, far=False), poses_for, f"parked {cls}",
                      {"side": side, "count": int(count)}, "parked", None)
    return _one_or_list(hs)


@library_function("static")
def static_object(ctx: ScenarioBuilder, cls: str = "barrier", lane: str = "same", ahead: float | None = None,
                  lateral: float = 0.0, yaw: float | None = None, ref: AgentHandle | None = None) -> AgentHandle:
    """One object standing still in a lane: a barrier, a cone, or a stalled / broken-down vehicle.

    Args:
        cls: any class name ('barrier', 'traffic_cone', 'car', 'truck', ...).
        lane: lane relative to `ref`: 'same', 'left', 'right', 'oncoming', or an id like 'EB_3'.
        ahead: metres from the front of `ref` at t=0 to the object (default: the nearest spot the ego
            does not reach).
        lateral: metres to the left (negative: right) of the lane centre, within half a lane.
        yaw: heading in radians (default: along the lane).
        ref: the agent `lane` and `ahead` refer to (default: the ego).
    Returns: the object.
    """
    if cls not in class_names():
        raise ctx.error(f"unknown class {cls!r}; the classes are {', '.join(class_names())}")
    number(ctx, "ahead", ahead, -200.0, 400.0)
    r = ref_record(ctx, ref)
    lane_ref = resolve_lane(ctx, r, lane)
    if lane_ref.direction not in MAIN_ROAD:
        raise ctx.error("static objects go on the main road")
    number(ctx, "lateral", lateral, -ctx.layout.lane_width / 2, ctx.layout.lane_width / 2)
    number(ctx, "yaw", yaw, -2 * math.pi, 2 * math.pi)
    frame = ctx.layout.frame(lane_ref.direction)
    heading = DIRECTION_HEADING[lane_ref.direction] if yaw is None else float(yaw)
    length = default_size(cls)[1]
    front0, _ = _ref_front_x(ctx, ref)
    lat = ctx.layout.lane_lat(lane_ref.number) + float(lateral)
    sign = 1.0 if lane_ref.direction == "EB" else -1.0

    def poses_for(a: float) -> list[Pose] | None:
        x = front0 + a + length / 2
        p = frame.to_world(sign * x, lat)[0]
        return [(float(p[0]), float(p[1]), heading, cls)]

    key = ctx.new_id(cls)
    hs = _place_group(ctx, _ahead_candidates(ctx, ahead, key, far=True), poses_for, key,
                      {"lane": lane_ref.id, "lateral": float(lateral)}, "static", lane_ref)
    return hs[0]


def _lane_edges(ctx: ScenarioBuilder, lane: LaneRef) -> tuple[float, float, float]:
    """(centre lat, lat of the edge to keep traffic on, sign towards the closed side) of `lane`."""
    c = ctx.layout.lane_lat(lane.number)
    w = ctx.layout.lane_width
    if lane.number > 1:               # traffic stays on the left (inner) side
        return c, c + w / 2, -1.0
    return c, c - w / 2, 1.0


def _taper(ctx: ScenarioBuilder, lane: LaneRef, x0: float, length: float, count: int) -> list[tuple[float, float]]:
    """(s, lat) of cones running diagonally across `lane` from its closed-side edge to the open edge."""
    c, open_edge, sign = _lane_edges(ctx, lane)
    w = ctx.layout.lane_width
    far_edge = open_edge + sign * w
    lat0 = far_edge - sign * 0.35
    lat1 = open_edge + sign * 0.35
    return [(x0 + length * i / max(count - 1, 1), lat0 + (lat1 - lat0) * i / max(count - 1, 1)) for i in range(count)]


@library_function("static")
def cone_row(ctx: ScenarioBuilder, lane: str = "right", ahead: float | None = None, length: float = 12.0,
             count: int | None = None, pattern: str = "taper",
             ref: AgentHandle | None = None) -> list[AgentHandle]:
    """A row of traffic cones in a lane.

    Args:
        lane: lane relative to `ref`: 'same', 'left', 'right', 'oncoming' or an id like 'EB_3'.
        ahead: metres from the front of `ref` at t=0 to the first cone (default: nearest safe spot).
        length: metres the row spans along the road.
        count: number of cones, 2 to 40 (default one every 3 m).
        pattern: 'taper' (diagonally across the lane, closing it) or 'line' (along the lane's edge
            next to the open traffic).
        ref: the agent `lane` and `ahead` refer to (default: the ego).
    Returns: the list of cones.
    """
    choice(ctx, "pattern", pattern, ("taper", "line"))
    number(ctx, "length", length, 1.0, 200.0)
    number(ctx, "count", count, 2, 40)
    number(ctx, "ahead", ahead, -200.0, 400.0)
    r = ref_record(ctx, ref)
    lane_ref = resolve_lane(ctx, r, lane)
    if lane_ref.direction not in MAIN_ROAD:
        raise ctx.error("cones go on the main road")
    n = int(count) if count is not None else max(3, int(round(length / 3.0)) + 1)
    frame = ctx.layout.frame(lane_ref.direction)
    sign_x = 1.0 if lane_ref.direction == "EB" else -1.0
    front0, _ = _ref_front_x(ctx, ref)
    own = r.lane == lane_ref

    def poses_for(a: float) -> list[Pose] | None:
        s0 = front0 + a
        if pattern == "taper":
            pts = _taper(ctx, lane_ref, s0, float(length), n)
        else:
            _, edge, sign = _lane_edges(ctx, lane_ref)
            pts = [(s0 + float(length) * i / max(n - 1, 1), edge + sign * 0.35) for i in range(n)]
        out: list[Pose] = []
        for s, lat in pts:
            p = frame.to_world(sign_x * s, lat)[0]
            out.append((float(p[0]), float(p[1]), DIRECTION_HEADING[lane_ref.direction], "traffic_cone"))
        return out

    key = ctx.new_id("traffic_cone")
    return _place_group(ctx, _ahead_candidates(ctx, ahead, key, far=own), poses_for, "the cone row",
                        {"lane": lane_ref.id, "pattern": pattern, "length": float(length), "count": n},
                        "static", lane_ref)


@library_function("static")
def work_zone(ctx: ScenarioBuilder, lane: str = "right", ahead: float | None = None, length: float = 30.0,
              with_vehicle: bool = False, ref: AgentHandle | None = None) -> list[AgentHandle]:
    """Roadworks closing a lane: a taper of cones, a barrier across the lane, barriers along the
    closed stretch and, optionally, a construction vehicle inside it.

    Args:
        lane: the closed lane relative to `ref`: 'same', 'left', 'right', 'oncoming' or an id.
        ahead: metres from the front of `ref` at t=0 to the first cone (default: nearest safe spot).
        length: metres of closed lane after the 12 m taper.
        with_vehicle: add a parked construction vehicle in the closed stretch.
        ref: the agent `lane` and `ahead` refer to (default: the ego).
    Returns: the list of objects.
    """
    number(ctx, "length", length, 5.0, 300.0)
    number(ctx, "ahead", ahead, -200.0, 400.0)
    r = ref_record(ctx, ref)
    lane_ref = resolve_lane(ctx, r, lane)
    if lane_ref.direction not in MAIN_ROAD:
        raise ctx.error("work zones go on the main road")
    frame = ctx.layout.frame(lane_ref.direction)
    sign_x = 1.0 if lane_ref.direction == "EB" else -1.0
    heading = DIRECTION_HEADING[lane_ref.direction]
    front0, _ = _ref_front_x(ctx, ref)
    c, edge, sign = _lane_edges(ctx, lane_ref)
    taper_len = 12.0
    barrier_w = default_size("barrier")[0]

    def poses_for(a: float) -> list[Pose] | None:
        s0 = front0 + a
        out: list[Pose] = []

        def add(s: float, lat: float, yaw: float, cls: str) -> None:
            p = frame.to_world(sign_x * s, lat)[0]
            out.append((float(p[0]), float(p[1]), yaw, cls))

        for s, lat in _taper(ctx, lane_ref, s0, taper_len, 5):
            add(s, lat, heading, "traffic_cone")
        add(s0 + taper_len + 1.5, c, heading, "barrier")
        veh_len = default_size("construction_vehicle")[1]
        s_veh = s0 + taper_len + 3.0 + float(length) / 2
        n_along = max(1, int(float(length) // (barrier_w + 0.5)))
        for i in range(n_along):
            s = s0 + taper_len + 3.0 + i * (barrier_w + 0.5) + barrier_w / 2
            if with_vehicle and abs(s - s_veh) < veh_len / 2 + barrier_w / 2 + 0.5:
                continue            # leave the barriers out beside the vehicle (it would not fit)
            add(s, edge + sign * 0.45, heading + math.pi / 2, "barrier")
        if with_vehicle:
            add(s_veh, c + sign * 0.2, heading, "construction_vehicle")
        return out

    key = ctx.new_id("traffic_cone")
    own = r.lane == lane_ref
    return _place_group(ctx, _ahead_candidates(ctx, ahead, key, far=own), poses_for, "the work zone",
                        {"lane": lane_ref.id, "length": float(length), "with_vehicle": bool(with_vehicle)},
                        "static", lane_ref)


__all__ = ["cone_row", "parked", "static_object", "work_zone"]
