"""Manoeuvre sequences: `then(agent, "brake", ...)` appends a manoeuvre to an agent's motion.

An agent made by a lane-following function (forward, accelerate, brake, emergency_stop,
change_lane, stop_and_go, pull_out) or by sidewalk_walk, and the ego, can be given further
manoeuvres one after the other:

    car = forward("car", lane="left", ahead=25, speed=6)
    then(car, "change_lane", side="right", ttc=2.0)        # cuts in when the TTC to the ego is 2 s
    then(car, "brake", decel=6.0, after=0.5)                 # then brakes hard half a second later

Each manoeuvre starts when the previous one has ended (plus `after` seconds), at `start`, or when
its condition first holds (`ttc`/`distance` to `other`, `other` reaching `at_x`, a `signal`
turning `state`). Conditions are resolved at authoring time on the frame grid and exported as
OpenSCENARIO start triggers.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from engine.library.builder import AgentHandle, ScenarioBuilder
from engine.library.errors import LimitError, PlacementError
from engine.library.limits import limits_for
from engine.library.placing import choice, number, rate_arg, speed_arg
from engine.library.profiles import LateralShift, SpeedChange
from engine.library.registry import library_function
from engine.library.sequence import LanePlan, PathPlan, resolve_trigger
from engine.scenario.model import Maneuver
from engine.scenario.trajectory import Trajectory

VEHICLE_MANEUVERS = ("brake", "stop", "emergency_stop", "accelerate", "change_lane", "cruise", "wait")
WALKER_MANEUVERS = ("walk", "run", "stop", "wait")
WALK_SPEED = {"pedestrian": 1.4, "bicycle": 4.5}
RUN_SPEED = {"pedestrian": 3.2, "bicycle": 7.0}


@library_function("sequences")
def then(ctx: ScenarioBuilder, agent: AgentHandle, maneuver: Any = "brake", start: float | None = None,
         after: float = 0.0, ttc: float | None = None, distance: float | None = None,
         other: AgentHandle | None = None, at_x: float | None = None, signal: str | None = None,
         state: str = "green", to_speed: float | None = None, decel: float | None = None,
         accel: float | None = None, side: str = "left", duration: float | None = None,
         wait: float | None = None, times: int = 1, contact: bool = False) -> AgentHandle:
    """Append a manoeuvre to `agent`'s motion; it starts after the previous one ends (smoothly joined).

    Args:
        agent: an agent made by forward, accelerate, brake, emergency_stop, change_lane, stop_and_go,
            cut_in, merge, stop_at_light, pull_out, sidewalk_walk (or the ego).
        maneuver: for vehicles 'brake' (to `to_speed`, default stop), 'stop', 'emergency_stop',
            'accelerate' (to `to_speed`, default +5 m/s), 'change_lane' (to `side`), 'cruise'/'wait'
            (keep the speed for `wait` seconds); for pedestrians 'walk', 'run', 'stop', 'wait'.
            The library function itself (e.g. brake) is accepted too.
        start: seconds into the clip when it starts (default: when the previous manoeuvre ends).
        after: seconds to wait after the previous manoeuvre ends (default 0).
        ttc: start when the time to collision between `other` and the agent falls to this many seconds.
        distance: start when `other` comes within this many metres (centre to centre).
        other: the agent `ttc`, `distance` and `at_x` refer to (default: the ego).
        at_x: start when `other` reaches x = at_x metres (the ego reaching a point on its road).
        signal, state: start when traffic signal `signal` (an id from traffic_light) turns `state`.
        to_speed, decel, accel: m/s and m/s^2 for brake / accelerate (defaults: the class's comfort values).
        side, duration: for change_lane ('left' or 'right'; seconds of the lateral move).
        wait: seconds for 'cruise'/'wait' (default 1 s) or standing after 'stop' before the next one.
        times: repeat the manoeuvre this many times (e.g. 2 for "changes lanes twice").
        contact: True when the result may touch `other` (a crash the scenario is about; the checks
            report it, and a reacting ego may avoid it).
    Returns: the agent.
    """
    name = maneuver if isinstance(maneuver, str) else getattr(maneuver, "__name__", None)
    if not isinstance(name, str):
        raise ctx.error(f"maneuver must be a manoeuvre name such as 'brake' (got {maneuver!r})")
    name = {"slow_down": "brake", "speed_up": "accelerate", "lane_change": "change_lane", "forward": "cruise",
            "keep": "cruise", "hard_brake": "emergency_stop"}.get(name, name)
    rec = ctx.record(agent)
    plan = rec.plan
    if plan is None:
        raise ctx.error(f"{rec.id} moves by {rec.behavior}(), which takes no further manoeuvres; start it with "
                        f"forward, brake, accelerate, change_lane, pull_out or sidewalk_walk", PlacementError)
    allowed = WALKER_MANEUVERS if isinstance(plan, PathPlan) else VEHICLE_MANEUVERS
    if name not in allowed:
        raise ctx.error(f"a {rec.cls} can do {', '.join(repr(a) for a in allowed)} in a sequence (got {name!r})")
    users = [r.id for r in ctx.records() if rec.id in r.depends_on]
    if users:
        raise ctx.error(f"{', '.join(users)} was placed relative to {rec.id}'s motion; add {rec.id}'s manoeuvres "
                        f"before placing agents relative to it", PlacementError)
    choice(ctx, "side", side, ("left", "right"))
    choice(ctx, "state", state, ("red", "yellow", "green"))
    if not 1 <= int(times) <= 6:
        raise ctx.error(f"times must be between 1 and 6 (got {times})")
    lim = limits_for(rec.cls)
    params: dict[str, Any] = {}
    earliest = plan.end_time(ctx) + float(after)
    t0, trig = resolve_trigger(ctx, rec, earliest, start=start, ttc=ttc, distance=distance, other=other,
                               at_x=at_x, signal=signal, state=state)
    if t0 > ctx.t_end:
        raise ctx.error(f"{name} would start at {t0:.2f} s, after the clip ends ({ctx.t_end:.2f} s); "
                        f"make the clip longer (duration) or start it earlier")
    new_plan = plan
    first_start = t0
    for k in range(int(times)):
        v = new_plan.final_speed()
        t_k = t0 if k == 0 else new_plan.end_time(ctx) + 0.5
        if name in ("brake", "stop", "emergency_stop"):
            target = 0.0 if name != "brake" or to_speed is None else speed_arg(ctx, "to_speed", to_speed, rec.cls)
            if v <= target + 1e-6:
                # already that slow (braking "twice"): first pick up the speed it had before braking
                v_back = max([new_plan.v0] + [ch.target for ch in new_plan.changes])
                if v_back <= target + 1e-6:
                    raise ctx.error(f"{rec.id} is at {v:g} m/s by then; it cannot {name.replace('_', ' ')} to "
                                    f"{target:g} m/s")
                new_plan = new_plan.with_change(SpeedChange(t_k, v_back, lim.comfort_accel))
                t_k = new_plan.end_time(ctx) + 0.5
            if decel is not None:
                d = rate_arg(ctx, "decel", decel, rec.cls, "decel")
            elif name == "emergency_stop":
                d = lim.max_decel * 0.85
            else:
                d = lim.comfort_decel * (1.0 if isinstance(plan, PathPlan) else 1.3)
            new_plan = new_plan.with_change(SpeedChange(t_k, target, d))
            params.update(to_speed=target, decel=round(d, 3))
        elif name in ("accelerate", "walk", "run"):
            if name == "accelerate":
                target = min(v + 5.0, lim.max_speed) if to_speed is None else speed_arg(ctx, "to_speed", to_speed,
                                                                                       rec.cls)
            else:
                table = WALK_SPEED if name == "walk" else RUN_SPEED
                target = table.get(rec.cls, 1.4) if to_speed is None else speed_arg(ctx, "to_speed", to_speed, rec.cls)
            if abs(target - v) < 1e-6:
                params.update(to_speed=target)
                continue
            a = (rate_arg(ctx, "accel", accel, rec.cls, "accel") if accel is not None
                 else (lim.comfort_accel * (1.5 if name == "run" else 1.0)))
            if target < v:
                a = lim.comfort_decel if decel is None else rate_arg(ctx, "decel", decel, rec.cls, "decel")
            new_plan = new_plan.with_change(SpeedChange(t_k, target, min(a, lim.max_accel)))
            params.update(to_speed=target, accel=round(a, 3))
        elif name == "change_lane":
            from engine.library.functions.vehicles import shift_duration

            assert isinstance(new_plan, LanePlan)
            lane = new_plan.lane_now(ctx)
            number(ctx, "duration", duration, 0.3, 30.0)
            if side == "left" and lane.number <= 1:
                raise ctx.error(f"{rec.id} is in {lane.id}, next to the centre line; there is no lane to its left",
                                PlacementError)
            from engine.roadmap.layout import LaneRef

            target_lane = LaneRef(lane.direction, lane.number + (-1 if side == "left" else 1))
            ctx.require_lane(target_lane)
            speed_then = float(new_plan.profile(ctx).speed(t_k)[0])
            w = ctx.layout.lane_width
            dur = shift_duration(ctx, rec.cls, speed_then, w, duration)
            new_plan = new_plan.with_shift(LateralShift(t_k, dur, w if side == "left" else -w))
            params.update(side=side, to_lane=target_lane.id, duration=round(dur, 3))
        else:                                                   # cruise / wait: hold for `wait` seconds
            hold = 1.0 if wait is None else float(wait)
            number(ctx, "wait", hold, 0.0, 60.0)
            v_now = new_plan.final_speed()
            new_plan = new_plan.with_change(SpeedChange(t_k + hold, v_now, 1.0)) if hold > 0 else new_plan
            params.update(wait=hold)
    if wait is not None and name in ("brake", "stop", "emergency_stop"):
        params["wait"] = float(wait)
        new_plan = new_plan.with_change(SpeedChange(new_plan.end_time(ctx) + float(wait), 0.0, 1.0))
    if times > 1:
        params["times"] = int(times)
    traj = new_plan.trajectory(ctx)
    ctx.check_limits(rec.cls, traj, f"{rec.id} with {name}")
    contacts = {next(iter(c - {rec.id})) for c in ctx.contacts if rec.id in c}
    if contact:
        oth_id = ctx.record(other if other is not None else ctx.ego).id
        if oth_id != rec.id and frozenset((rec.id, oth_id)) not in ctx.contacts:
            contacts.add(oth_id)
            ctx.contacts.add(frozenset((rec.id, oth_id)))
            from engine.scenario.model import Intent

            ctx.intents.append(Intent("contact", (rec.id, oth_id), {}))
    enc = ctx.conflict(rec.cls, rec.size, traj, exclude=contacts | {rec.id})
    if enc is not None:
        raise ctx.error(ctx.describe_conflict(rec.id, enc), PlacementError)
    end = new_plan.end_time(ctx)
    prev = rec.maneuvers[-1] if rec.maneuvers else None
    mans = list(rec.maneuvers[:-1])
    if prev is not None:
        from dataclasses import replace

        mans.append(replace(prev, end=prev.end if prev.end is not None else round(first_start, 4)))
    mans.append(Maneuver(name, {k: (round(v, 4) if isinstance(v, float) else v) for k, v in params.items()},
                         round(first_start, 4), round(end, 4) if end > first_start else None, trig))
    rec.maneuvers = tuple(mans)
    rec.trajectory = traj
    rec._footprints = None
    rec.plan = new_plan
    rec.provisional = False
    if isinstance(new_plan, LanePlan):
        rec.lane = rec.lane or new_plan.lane
    return agent


__all__ = ["then", "LimitError"]


@library_function("sequences")
def ego_reacts(ctx: ScenarioBuilder, aeb_ttc: float = 1.5, time_headway: float = 1.5,
               aeb_decel: float | None = None) -> AgentHandle:
    """Make the ego react to the agents placed so far (call it last): it keeps its lane and path,
    follows the vehicle ahead with the Intelligent Driver Model and brakes hard when the time to
    collision falls below `aeb_ttc`. The other agents keep their motion (they are the threat);
    the checks report whether the ego avoided the collision.

    Args:
        aeb_ttc: seconds of time to collision at which emergency braking starts.
        time_headway: seconds the ego keeps behind a vehicle it follows.
        aeb_decel: m/s^2 of emergency braking (default: 85 % of the car's maximum).
    Returns: the ego.
    """
    from engine.library.clearance import footprint_distances
    from engine.library.reaction import ReactionParams, simulate_reaction

    rec = ctx.record(ctx.ego)
    lim = limits_for(rec.cls)
    d = lim.max_decel * 0.85 if aeb_decel is None else rate_arg(ctx, "aeb_decel", aeb_decel, rec.cls, "decel")
    others = [(r.id, r.trajectory, r.size) for r in ctx.records() if r.id != rec.id]
    if any(m.function == "ego_reacts" for m in rec.maneuvers):
        raise ctx.error("the ego already reacts")

    def first_contact(traj: Trajectory) -> tuple[str, float] | None:
        """(agent id, time) of the ego's first contact along `traj`, or None."""
        from engine.scenario.model import Agent

        mine = Agent("ego", rec.cls, rec.size, traj).box_corners_2d(ctx.times)
        best: tuple[str, float] | None = None
        for r in ctx.records():
            if r.id == rec.id:
                continue
            dist = footprint_distances(mine, r.footprints(ctx.times))
            hit = np.flatnonzero(dist <= 1e-6)
            if hit.size and (best is None or ctx.times[hit[0]] < best[1]):
                best = (r.id, float(ctx.times[hit[0]]))
        return best

    before = first_contact(rec.trajectory)
    reaction = simulate_reaction(rec.trajectory, rec.size, others, ctx.times,
                                 ReactionParams(time_headway=float(time_headway), aeb_ttc=float(aeb_ttc),
                                                aeb_decel=float(d)), rec.cls)
    ctx.check_limits(rec.cls, reaction.trajectory, "the reacting ego")
    after = first_contact(reaction.trajectory)
    params = {"aeb_ttc": float(aeb_ttc), "time_headway": float(time_headway), "aeb_decel": round(float(d), 3),
              "aeb_at": None if reaction.aeb_at is None else round(reaction.aeb_at, 3),
              "reacted_to": reaction.reacted_to,
              "unreacted_contact": None if before is None else {"agent": before[0], "t": round(before[1], 3)},
              "contact": None if after is None else {"agent": after[0], "t": round(after[1], 3)}}
    t_react = reaction.aeb_at if reaction.aeb_at is not None else 0.0
    rec.maneuvers = tuple(rec.maneuvers) + (Maneuver("ego_reacts", params, round(t_react, 4), None,
                                                     {"kind": "time"}),)
    rec.trajectory = reaction.trajectory
    rec._footprints = None
    rec.plan = None
    rec.provisional = False
    if after is None:           # the contact the threat was authored with no longer happens
        ctx.intents = [i for i in ctx.intents if not (i.kind == "contact" and "ego" in i.agents)]
        ctx.contacts = {c for c in ctx.contacts if "ego" not in c}
    return ctx.ego
