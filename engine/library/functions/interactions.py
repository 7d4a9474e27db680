"""Manoeuvres defined relative to another vehicle: cut-in, overtake, merge.

Each places a new vehicle so that, when its lateral move ends, it is `gap` metres (bumper to
bumper) ahead of (or behind) the target, computed from both trajectories. Unless `contact=True`,
the safe-distance rule holds at every frame; a gap below 1 m needs `contact=True`, and a gap
below the safe following distance (2 m + 0.5 s) is recorded as a near-miss intent.
"""
from __future__ import annotations

import math
from typing import Callable, Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

from engine.classes import default_size
from engine.library.builder import AgentHandle, AgentRecord, ScenarioBuilder
from engine.library.errors import PlacementError
from engine.library.functions.vehicles import shift_duration
from engine.library.limits import limits_for
from engine.library.motion import extrapolated_pose, lane_motion
from engine.library.placing import (
    candidates_around, choice, lane_trajectory, number, plan_profile, ref_record, road_lane, safe_gap, speed_arg,
    time_arg, vehicle_class,
)
from engine.library.profiles import LateralShift
from engine.library.registry import library_function
from engine.library.sequence import LanePlan
from engine.roadmap.layout import MAIN_ROAD, OPPOSITE, LaneRef, Ramp
from engine.scenario.model import Intent
from engine.scenario.trajectory import Trajectory

MIN_EXPLICIT_GAP = 1.0


def _target(ctx: ScenarioBuilder, target: AgentHandle | None) -> AgentRecord:
    rec = ref_record(ctx, target)
    if rec.role != "road" or rec.lane is None:
        raise ctx.error(f"{rec.id} is not driving in a lane", PlacementError)
    return rec


def _s_at(ctx: ScenarioBuilder, rec: AgentRecord, lane: LaneRef, t: float) -> float:
    xy, _, _ = extrapolated_pose(rec.trajectory, t)
    return float(ctx.layout.frame(lane.direction).from_world(xy)[0][0])


def _side_lane(ctx: ScenarioBuilder, base: LaneRef, side: str, allow_oncoming: bool) -> LaneRef:
    if side == "left":
        if base.number > 1:
            return LaneRef(base.direction, base.number - 1)
        if allow_oncoming:
            return LaneRef(OPPOSITE[base.direction], 1)
        raise ctx.error(f"there is no lane to the left of {base.id} (it is next to the centre line); put the ego "
                        f"further right with set_road(ego_lane=2) or use side='right'", PlacementError)
    out = LaneRef(base.direction, base.number + 1)
    ctx.require_lane(out)
    return out


def _lat_of(ctx: ScenarioBuilder, lane: LaneRef, direction: str) -> float:
    """Lateral offset of `lane`'s centre in the frame of travel `direction` (same or opposite)."""
    lat = ctx.layout.lane_lat(lane.number)
    return lat if lane.direction == direction else -lat


def _lat_delta(ctx: ScenarioBuilder, frm: LaneRef, to: LaneRef, direction: str) -> float:
    """Sideways move (left positive) from lane `frm` to lane `to`, seen travelling in `direction`."""
    return _lat_of(ctx, to, direction) - _lat_of(ctx, frm, direction)


def _gap_arg(ctx: ScenarioBuilder, gap: float | None, contact: bool) -> None:
    number(ctx, "gap", gap, -50.0 if contact else 0.0, 200.0)
    if gap is not None and gap < MIN_EXPLICIT_GAP and not contact:
        raise ctx.error(f"gap {gap:g} m is closer than {MIN_EXPLICIT_GAP:g} m; pass contact=True to ask for a "
                        f"collision", PlacementError)


GAP_NOTE_SLACK = 0.5  # m


def _note_gap(ctx: ScenarioBuilder, who: str, target: AgentRecord, gap: float, v: float, contact: bool) -> None:
    if not contact and gap < safe_gap(v):
        # a deliberately tight gap is an intended near miss: the checks confirm the two come within
        # the gap (plus slack for the lane-change geometry) instead of flagging it
        ctx.intents.append(Intent("near_miss", (who, target.id), {"max_distance": round(gap + GAP_NOTE_SLACK, 3)}))


@library_function("interactions")
def cut_in(ctx: ScenarioBuilder, target: AgentHandle | None = None, side: str = "left", cls: str = "car",
           gap: float | None = None, speed: float | None = None, start: float | None = None,
           duration: float | None = None, contact: bool = False) -> AgentHandle:
    """A new vehicle in the lane beside `target` cuts in right in front of it, closing the gap.

    The cutter drives faster than the target in the neighbouring lane on `side`, moves over
    sharply, and ends its lane change `gap` metres (bumper to bumper) ahead of the target.

    Args:
        target: the vehicle cut in front of (default: the ego).
        side: 'left' or 'right': the side of the target the cutter comes from.
        cls: class of the cutter ('car', 'truck', 'bus', 'motorcycle', ...).
        gap: metres between the target's front and the cutter's rear when the lane change ends
            (default: a tight but safe gap, 60-100 % of 2 m + 0.5 s x speed).
        speed: cutter speed in m/s (default: 1-3 m/s faster than the target).
        start: seconds into the clip when the cutter starts moving over (default: early in the clip).
        duration: seconds the lateral move takes (default: brisk but within the class limits).
        contact: True to let it touch the target (a collision corner case).
    Returns: the cutter.
    """
    choice(ctx, "side", side, ("left", "right"))
    vehicle_class(ctx, cls)
    _gap_arg(ctx, gap, contact)
    start = time_arg(ctx, "start", start)
    number(ctx, "duration", duration, 0.3, 30.0)
    tgt = _target(ctx, target)
    base = road_lane(ctx, tgt)
    lane = _side_lane(ctx, base, side, allow_oncoming=False)
    key = ctx.new_id(cls)
    rng = ctx.rng(key)
    v_t = tgt.trajectory.speed_at(0.0)
    v = speed_arg(ctx, "speed", speed, cls)
    if v is None:
        v = min(v_t + float(rng.uniform(1.0, 3.0)), limits_for(cls).max_speed)
    delta = _lat_delta(ctx, lane, base, lane.direction)
    dur = shift_duration(ctx, cls, v, abs(delta), duration, aggressive=True)
    prof = plan_profile(ctx, cls, v, [])
    length = default_size(cls)[1]
    frame = ctx.layout.frame(lane.direction)

    def make_at(t0: float) -> Callable[[float], Trajectory]:
        """A function gap -> trajectory for a lane change starting at t0."""
        t_g = t0 + dur
        shifts = [LateralShift(t0, dur, delta)]
        probe = lane_motion(frame, 0.0, ctx.layout.lane_lat(lane.number), prof, shifts, _times_to(ctx, t_g))
        ds = float(frame.from_world(probe.key_xy[-1:])[0][0])
        s_target = _s_at(ctx, tgt, base, t_g)

        def make(g: float) -> Trajectory:
            s0 = s_target + g + (length + tgt.size[1]) / 2 - ds
            plans[(t0, g)] = LanePlan(cls, lane, s0, v, (), tuple(shifts))
            return lane_trajectory(ctx, lane, s0, prof, shifts)
        return make

    plans: dict[tuple[float, float], LanePlan] = {}

    if gap is not None:
        gaps = [float(gap)]
    elif contact:
        gaps = [0.0]
    else:
        first = max(MIN_EXPLICIT_GAP + 0.5, safe_gap(v_t) * float(rng.uniform(0.6, 1.0)))
        gaps = candidates_around(first, 1.0, 12)
    t_first = ctx.default_start() if start is None else start
    starts = [t_first] if start is not None else [t_first] + [
        t for k in range(1, 8) for t in (t_first - 0.25 * k, t_first + 0.25 * k) if 0.0 <= t <= ctx.t_end]
    exclude = {tgt.id} if contact else set()
    ctx.check_limits(cls, make_at(t_first)(gaps[0]), key)
    found: tuple[float, float, Trajectory] | None = None
    first_error: PlacementError | None = None
    for t0 in starts:
        try:
            g, traj = _search(ctx, cls, gaps, make_at(t0), exclude, key)
        except PlacementError as e:
            first_error = first_error or e
            continue
        found = (t0, g, traj)
        break
    if found is None:
        assert first_error is not None            # every start failed, the first one raised
        raise first_error
    t0, chosen, traj = found
    _note_gap(ctx, key, tgt, chosen, v_t, contact)
    h = ctx.add_agent(cls, traj, lane=lane, depends_on={tgt.id}, contact_with=exclude, conflict_checked=True,
                      params={"target": tgt.id, "speed": round(v, 3), "gap": round(chosen, 3),
                              "start": round(t0, 3), "duration": round(dur, 3), "from_lane": lane.id})
    ctx.record(h).plan = plans.get((t0, chosen))          # then(h, "brake", ...) continues the cut-in
    return h


def _times_to(ctx: ScenarioBuilder, t: float) -> NDArray[np.float64]:
    return np.linspace(0.0, max(t, 1e-3), max(3, int(math.ceil(t * ctx.fps)) + 1))


def _search(ctx: ScenarioBuilder, cls: str, cands: Sequence[float], make: Callable[[float], Trajectory],
            exclude: Iterable[str], key: str) -> tuple[float, Trajectory]:
    from engine.library.placing import search

    ctx.check_limits(cls, make(cands[0]), key)
    hint = "; try a larger gap or another start" if len(cands) == 1 else ""
    return search(ctx, cls, cands, make, exclude=exclude, what=key, hint=hint)


@library_function("interactions")
def overtake(ctx: ScenarioBuilder, target: AgentHandle | None = None, side: str = "left", cls: str = "car",
             speed: float | None = None, gap: float | None = None, contact: bool = False) -> AgentHandle:
    """A new vehicle overtakes `target`: pulls out from behind it, passes, and pulls back in ahead.

    On a road with one lane per direction the overtaker passes on the left through the oncoming
    lane. In a short clip the manoeuvre is shown from the middle: it ends (back in the lane, `gap`
    m ahead) shortly before the clip does.

    Args:
        target: the vehicle overtaken (default: the ego).
        side: 'left' or 'right' (the side it passes on).
        cls: class of the overtaker.
        speed: overtaker speed in m/s (default: 4-7 m/s faster than the target).
        gap: metres ahead of the target when back in its lane (default: a safe gap).
        contact: True to allow touching the target.
    Returns: the overtaker.
    """
    choice(ctx, "side", side, ("left", "right"))
    vehicle_class(ctx, cls)
    _gap_arg(ctx, gap, contact)
    tgt = _target(ctx, target)
    base = road_lane(ctx, tgt)
    lane = _side_lane(ctx, base, side, allow_oncoming=True)
    key = ctx.new_id(cls)
    rng = ctx.rng(key)
    v_t = tgt.trajectory.speed_at(0.0)
    v = speed_arg(ctx, "speed", speed, cls)
    if v is None:
        v = min(v_t + float(rng.uniform(4.0, 7.0)), limits_for(cls).max_speed)
    dv = v - v_t
    if dv < 1.0:
        raise ctx.error(f"overtaking needs the overtaker faster than {tgt.id} ({v_t:.1f} m/s); got {v:.1f} m/s")
    delta = _lat_delta(ctx, base, lane, base.direction)    # out: towards the passing lane
    dur = shift_duration(ctx, cls, v, abs(delta), None)
    length = default_size(cls)[1]
    g_end = max(safe_gap(v_t), MIN_EXPLICIT_GAP) if gap is None else float(gap)
    g_back = safe_gap(v)
    lens = length + tgt.size[1]
    tau_end = (g_back + lens + g_end) / dv + dur   # manoeuvre time from pull-out start to pull-in end
    tau_in = tau_end - dur
    tau_in = max(tau_in, dur)
    tau_end = tau_in + dur
    t_end_wanted = ctx.t_end - 0.1
    offset = max(tau_end - t_end_wanted, -ctx.default_start())   # clip time = manoeuvre time - offset
    shifts = [LateralShift(-offset, dur, delta), LateralShift(tau_in - offset, dur, -delta)]
    prof = plan_profile(ctx, cls, v, [])
    t_g = tau_end - offset
    probe = lane_motion(ctx.layout.frame(base.direction), 0.0, ctx.layout.lane_lat(base.number), prof, shifts,
                        _times_to(ctx, t_g))
    ds = float(ctx.layout.frame(base.direction).from_world(probe.key_xy[-1:])[0][0])
    s_target = _s_at(ctx, tgt, base, t_g)

    def make(g: float) -> Trajectory:
        return lane_trajectory(ctx, base, s_target + g + lens / 2 - ds, prof, shifts)

    cands = [g_end] if gap is not None else candidates_around(g_end, 1.5, 20)
    exclude: set[str] = {tgt.id} if contact else set()
    chosen, traj = _search(ctx, cls, cands, make, exclude, key)
    lane_at_0 = lane if offset > 0.5 * dur else base
    return ctx.add_agent(cls, traj, lane=lane_at_0, depends_on={tgt.id}, contact_with=exclude, conflict_checked=True,
                         params={"target": tgt.id, "speed": round(v, 3), "gap": round(chosen, 3),
                                 "passing_lane": lane.id})


@library_function("interactions")
def merge(ctx: ScenarioBuilder, target: AgentHandle | None = None, side: str = "right", cls: str = "car",
          position: str = "ahead", gap: float | None = None, speed: float | None = None,
          start: float | None = None) -> AgentHandle:
    """A new vehicle merges into `target`'s lane, gently, into the gap ahead of or behind it.

    From the right of the outermost lane it comes from an on-ramp (a merge lane that ends, added
    to the map); otherwise from the neighbouring lane on `side`.

    Args:
        target: the vehicle whose lane it merges into (default: the ego).
        side: 'right' (on-ramp or right lane) or 'left'.
        cls: class of the merging vehicle.
        position: 'ahead' or 'behind' the target after merging.
        gap: metres between the two when the merge ends (default: a comfortable safe gap).
        speed: m/s (default: about the target's speed).
        start: seconds into the clip when it starts moving over (default: early in the clip).
    Returns: the merging vehicle.
    """
    choice(ctx, "side", side, ("left", "right"))
    choice(ctx, "position", position, ("ahead", "behind"))
    vehicle_class(ctx, cls)
    number(ctx, "gap", gap, MIN_EXPLICIT_GAP, 200.0)
    start = time_arg(ctx, "start", start)
    tgt = _target(ctx, target)
    base = road_lane(ctx, tgt)
    ramp = side == "right" and (base.number >= ctx.layout.lanes_per_direction or ctx.lanes_fixed_by is not None
                                and base.number == ctx.layout.lanes_per_direction)
    if ramp:
        if base.direction not in MAIN_ROAD:
            raise ctx.error("on-ramps are only built on the main road", PlacementError)
        if base.direction in ctx.layout.parking:
            raise ctx.error("a merge lane and a parking lane on the same side are not supported", PlacementError)
        lane = LaneRef(base.direction, base.number + 1)
        lat_from = ctx.layout.lane_lat(base.number + 1)
    else:
        lane = _side_lane(ctx, base, side, allow_oncoming=False)
        lat_from = ctx.layout.lane_lat(lane.number)
    key = ctx.new_id(cls)
    rng = ctx.rng(key)
    v_t = tgt.trajectory.speed_at(0.0)
    v = speed_arg(ctx, "speed", speed, cls)
    if v is None:
        v = max(v_t + float(rng.uniform(0.5, 1.5)) * (1 if position == "ahead" else -1), 2.0)
        v = min(v, limits_for(cls).max_speed)
    delta = ctx.layout.lane_lat(base.number) - lat_from
    dur = max(shift_duration(ctx, cls, v, abs(delta), None), 3.0)
    prof = plan_profile(ctx, cls, v, [])
    frame = ctx.layout.frame(base.direction)
    length = default_size(cls)[1]
    sign = 1.0 if position == "ahead" else -1.0

    def make_at(t0: float) -> Callable[[float], Trajectory]:
        t_g = t0 + dur
        shifts = [LateralShift(t0, dur, delta)]
        probe = lane_motion(frame, 0.0, lat_from, prof, shifts, _times_to(ctx, t_g))
        ds = float(frame.from_world(probe.key_xy[-1:])[0][0])
        s_target = _s_at(ctx, tgt, base, t_g)

        def make(g: float) -> Trajectory:
            s0 = s_target + sign * (g + (length + tgt.size[1]) / 2) - ds
            merge_plans[(t0, g)] = LanePlan(cls, LaneRef(base.direction, base.number), s0, v, (), tuple(shifts),
                                            lat_offset=lat_from - ctx.layout.lane_lat(base.number))
            return lane_motion(frame, s0, lat_from, prof, shifts, ctx.times)
        return make

    merge_plans: dict[tuple[float, float], LanePlan] = {}

    first = safe_gap(max(v, v_t)) + float(rng.uniform(1.0, 5.0)) if gap is None else float(gap)
    gaps = [first] if gap is not None else candidates_around(first, 2.0, 12)
    t_first = ctx.default_start() if start is None else start
    starts = [t_first] if start is not None else [t_first] + [
        t for k in range(1, 8) for t in (t_first - 0.25 * k, t_first + 0.25 * k) if 0.0 <= t <= ctx.t_end]
    ctx.check_limits(cls, make_at(t_first)(gaps[0]), key)
    found: tuple[float, float, Trajectory] | None = None
    first_error: PlacementError | None = None
    for t0 in starts:
        try:
            chosen, traj = _search(ctx, cls, gaps, make_at(t0), set(), key)
        except PlacementError as e:
            first_error = first_error or e
            continue
        found = (t0, chosen, traj)
        break
    if found is None:
        assert first_error is not None            # every start failed, the first one raised
        raise first_error
    t0, chosen, traj = found
    t_g = t0 + dur
    if ramp:
        if ctx.lanes_fixed_by is None:
            ctx.fix_lanes("merge added an on-ramp")
        s_end = float(frame.from_world(extrapolated_pose(traj, t_g)[0])[0][0]) + 10.0
        ctx.set_layout(ctx.layout.with_ramp(Ramp(base.direction, s_end)))
    h = ctx.add_agent(cls, traj, lane=None if ramp else lane, depends_on={tgt.id}, conflict_checked=True,
                      params={"target": tgt.id, "speed": round(v, 3), "gap": round(chosen, 3),
                              "position": position, "start": round(t0, 3),
                              "from_lane": f"{base.direction}_merge" if ramp else lane.id,
                              "on_ramp": ramp})
    ctx.record(h).plan = merge_plans.get((t0, chosen))      # then(h, ...) continues after the merge
    return h
