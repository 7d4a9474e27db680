"""Library manoeuvres (cut_in, overtake, brake, parked, ...) placed relative to a real ego trajectory.

The trajectory library (`engine.library`) plans on a straight procedural road with the ego driving
east in lane `ego_lane`. Here its builder is given the real ego's motion, expressed in a road
frame that follows the path the ego actually drove (`EgoPathFrame`: s along it, d to its left), and
the agents a library function adds are bent back along that path into the real scene:

    builder (x, y)  ->  s = x,  d = y - lane_lat(ego_lane)  ->  world via EgoPathFrame

So "cut in 8 m ahead of the ego from the left lane" happens 8 m ahead of the real ego, one lane to
the left of the road it drove. Every placement is then checked against the real scene
(`insertion_conflicts`: annotated agents and drivable area); seeds are tried until one fits.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np
from numpy.typing import NDArray

from engine.geometry import wrap_angle
from engine.realscene.ego_path import EgoPathFrame
from engine.realscene.proposals import Conflict, insertion_conflicts
from engine.scenario.model import EGO_ID, Agent, Scenario
from engine.scenario.trajectory import Trajectory

if TYPE_CHECKING:
    from engine.library import ScenarioBuilder

SAME_DIRECTION = math.radians(30.0)


class ManeuverPlacementError(ValueError):
    """No placement of the manoeuvre fits the real scene; the message says what was in the way."""


@dataclass(frozen=True)
class PlacedManeuver:
    """The agents a library call made, in the real scene's world frame, and the seed that placed them."""

    agents: tuple[Agent, ...]
    seed: int
    ego_lane: int
    lanes: int


def ego_lane_guess(scenario: Scenario) -> tuple[int, int]:
    """(ego lane number, lanes per direction) from the map's lanes around the ego at t = 0.

    Lane 1 is the one next to the centre line (the leftmost of the ego's direction); lanes with
    the ego's heading within 12 m sideways are counted. Without lanes: (1, 1).
    """
    x, y, yaw = scenario.ego.trajectory.pose_at(0.0)
    left = total = 0
    for lane in scenario.map.lanes:
        pts = lane.array
        if len(pts) < 2:
            continue
        d = np.hypot(pts[:, 0] - x, pts[:, 1] - y)
        i = int(np.argmin(d))
        j = min(i + 1, len(pts) - 1) if i + 1 < len(pts) else i - 1
        seg = pts[j] - pts[i] if j > i else pts[i] - pts[j]
        h = math.atan2(seg[1], seg[0])
        if abs(wrap_angle(h - yaw)) > SAME_DIRECTION or d[i] > 12.0:
            continue
        lateral = -math.sin(yaw) * (pts[i, 0] - x) + math.cos(yaw) * (pts[i, 1] - y)
        total += 1
        if lateral > 1.0:
            left += 1
    if total == 0:
        return 1, 1
    return min(left + 1, 5), min(max(total, left + 1), 5)


def _ego_motion(frame: EgoPathFrame, ego: Agent, times: NDArray[np.float64], lat: float) -> Trajectory:
    smp = ego.trajectory.sample(times)
    s, _ = frame.to_path(smp.xy)
    s = np.maximum.accumulate(s)                     # arc length never runs backwards
    return Trajectory.from_arrays(times, np.round(s, 4), np.full(len(times), lat), np.zeros(len(times)),
                                  np.round(ego.trajectory.sample(times).speed, 3))


def _to_world(agent: Agent, frame: EgoPathFrame, lat0: float, times: NDArray[np.float64]) -> Agent:
    present = np.asarray(agent.trajectory.covers(times), bool)   # (T,): an array for array times
    ts = times[present] if present.any() else times[:1]
    smp = agent.trajectory.sample(ts)
    xy, heading = frame.to_world(smp.x, smp.y - lat0)
    yaw = np.unwrap(smp.yaw + heading)
    speed = smp.speed
    traj = Trajectory.from_arrays(np.round(ts, 6), np.round(xy[:, 0], 4), np.round(xy[:, 1], 4), np.round(yaw, 5),
                                  np.round(speed, 3))
    params = {**dict(agent.behavior_params), "placed_on": "ego_path"}
    return Agent(agent.id, agent.cls, agent.size, traj, agent.asset, agent.behavior, params)


def _to_builder(agent: Agent, frame: EgoPathFrame, lat0: float, times: NDArray[np.float64]) -> Trajectory | None:
    """An agent's motion in the builder's straight-road frame (None when it is never in the clip)."""
    present = np.asarray(agent.trajectory.covers(times), bool)
    if not present.any():
        return None
    ts = times[present]
    smp = agent.trajectory.sample(ts)
    s, d = frame.to_path(smp.xy)
    _, heading = frame.to_world(s, np.zeros_like(s))
    yaw = np.unwrap(smp.yaw - heading)
    if len(ts) == 1:
        return Trajectory.static(float(s[0]), float(d[0] + lat0), float(yaw[0]), float(ts[0]))
    return Trajectory.from_arrays(ts, s, d + lat0, yaw)


def _add_real_agents(builder: ScenarioBuilder, scenario: Scenario, frame: EgoPathFrame, lat0: float,
                     times: NDArray[np.float64]) -> set[str]:
    """Put the scene's agents into the builder so the library keeps its safe distance from them.

    Returns their ids. Agents whose recorded motion breaks the library's kinematic limits (annotation
    noise) are left out here; the final check against the real scene still covers them.
    """
    from engine.library import LibraryError

    ids: set[str] = set()
    for a in scenario.agents:
        traj = _to_builder(a, frame, lat0, times)
        if traj is None:
            continue
        moving = traj.key_xy.ptp(axis=0).max() > 0.5 if len(traj.points) > 1 else False
        try:
            builder.add_agent(a.cls, traj, role="road" if moving else "static", agent_id=a.id, behavior="recorded",
                              conflict_checked=True)
        except LibraryError:
            continue
        ids.add(a.id)
    return ids


def place_maneuver(scenario: Scenario, function: str, *, seeds: Iterable[int] = range(8), margin: float = 0.5,
                   ego_lane: int | None = None, lanes: int | None = None, **kwargs: Any) -> PlacedManeuver:
    """Run library `function(**kwargs)` relative to the real ego and return its agents in the scene.

    The first seed whose agents keep `margin` metres from every agent of `scenario` and stay on its
    drivable area wins; ManeuverPlacementError (naming the obstacles) when none does, LibraryError
    when the library refuses the call itself (unknown function or argument). New agent ids do not
    clash with the scenario's.
    """
    from engine.library import LibraryError, ScenarioBuilder, bind_library
    from engine.roadmap.layout import LaneRef

    times = scenario.frame_times()
    guess_lane, guess_lanes = ego_lane_guess(scenario)
    ego_lane = ego_lane or guess_lane
    lanes = max(lanes or guess_lanes, ego_lane)
    frame = EgoPathFrame.from_agent(scenario.ego, times)
    tried: list[str] = []
    for seed in seeds:
        b = ScenarioBuilder(seed=int(seed), fps=scenario.fps, duration=scenario.duration)
        fns = bind_library(b)
        if function not in fns or function in ("set_road", "set_environment"):
            raise LibraryError(f"unknown manoeuvre {function!r}; choose one of "
                               f"{', '.join(sorted(n for n in fns if not n.startswith('set_')))}")
        fns["set_road"](lanes=int(lanes), ego_lane=int(ego_lane))
        lat0 = b.layout.lane_lat(ego_lane)
        b.begin_call("recorded", {})
        b.set_motion(b.ego, _ego_motion(frame, scenario.ego, times, lat0), lane=LaneRef("EB", ego_lane))
        real_ids = _add_real_agents(b, scenario, frame, lat0, times)
        try:
            fns[function](**kwargs)
        except LibraryError as e:
            if "unexpected keyword" in str(e) or "parameters are" in str(e):
                raise
            tried.append(f"seed {seed}: {e}")
            continue
        used = set(scenario.agent_ids())
        placed: list[Agent] = []
        conflicts: list[tuple[str, Conflict]] = []
        for rec in b.records():
            if rec.id == EGO_ID or rec.id in real_ids:
                continue
            agent = _to_world(rec.agent(), frame, lat0, times)
            if agent.id in used:
                n = 1
                while f"{agent.cls}_{n}" in used:
                    n += 1
                agent = Agent(f"{agent.cls}_{n}", agent.cls, agent.size, agent.trajectory, agent.asset, agent.behavior,
                              agent.behavior_params)
            used.add(agent.id)
            placed.append(agent)
            scen = scenario
            for other in placed[:-1]:
                scen = scen.with_agent(other)
            conflicts += [(agent.id, c) for c in insertion_conflicts(scen, agent, margin)]
        if placed and not conflicts:
            return PlacedManeuver(tuple(placed), int(seed), ego_lane, lanes)
        tried.append(f"seed {seed}: " + ("; ".join(f"{a} {c}" for a, c in conflicts[:3]) or "no agent placed"))
    raise ManeuverPlacementError(f"{function}: no placement fits this scene ({len(tried)} tried): " + " | ".join(tried[:4]))


__all__ = ["Conflict", "ManeuverPlacementError", "PlacedManeuver", "ego_lane_guess", "place_maneuver"]
