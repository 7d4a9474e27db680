"""Insertion help: where a new asset can go in a real scene, with a straight-line motion.

A proposal is an unlocked agent moving in a straight line at constant speed (Dream4Drive inserts
assets on straight trajectories at 2, 5 or 8 m/s) that, at every frame of the clip,

- lies on the drivable area (its footprint corners and edge midpoints inside, `ROAD_TOLERANCE`), and
- keeps at least `margin` metres from every other agent, the ego included: its box grown by
  `margin` on every side must not overlap theirs (oriented-box separating-axis test at every
  frame, `engine.checks.geometry.obb_penetration`).

Start points are sampled along the map's lanes (heading = lane direction; pedestrians cross them)
or, without lanes, on a grid over the drivable area with the heading of the ego's path. They are
ranked by being ahead of the ego in the front cameras' view, by distance, and by the clearance
they keep; the chosen ones are spread out and cycle through the requested speeds.

`insertion_conflicts` re-checks any agent (a proposal the user moved on the canvas, say).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import shapely
from numpy.typing import NDArray

from engine.checks.geometry import obb_gap, obb_penetration
from engine.classes import class_names, default_size
from engine.geometry import wrap_angle
from engine.realscene.ego_path import EgoPathFrame
from engine.rig.pose import agent_present
from engine.scenario.model import EGO_ID, Agent, Scenario
from engine.scenario.trajectory import Trajectory

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry   # untyped library: Any to mypy

FloatArray = NDArray[np.float64]
ConflictKind = Literal["collision", "off_road"]
Candidate = tuple[float, float, float, str | None]
"""A start pose: x, y (m), heading (rad) and the lane it was sampled on (None: the drivable-area grid)."""
Evaluation = tuple[NDArray[np.bool_], FloatArray, NDArray[np.int64], NDArray[np.int64]]
"""(C,) collision-free, (C,) smallest gap (m), (C,) first colliding frame (-1: none), (C,) obstacle index (-1)."""

PAPER_SPEEDS = (2.0, 5.0, 8.0)
ROAD_TOLERANCE = 0.3          # m a footprint may stick out of the drivable area (map and box noise)
EGO_REAR_AXLE_OFFSET = 1.3    # m: a nuScenes ego pose is the rear axle; the body reaches this much further forward
STRAIGHT_BEHAVIOR = "straight"


@dataclass(frozen=True)
class InsertionProposal:
    """One proposed insertion: the agent to add and why it was chosen.

    clearance: smallest footprint distance (m) to any other agent over the clip; distance: from the
    ego at t = 0 (m); bearing: angle off the ego's heading at t = 0 (rad, left positive).
    """

    agent: Agent
    speed: float
    clearance: float
    distance: float
    bearing: float
    lane_id: str | None = None


@dataclass(frozen=True)
class Conflict:
    """A reason an insertion is not acceptable: `kind` 'collision' (with `other`) or 'off_road', first time t."""

    kind: ConflictKind
    t: float
    other: str = ""

    def __str__(self) -> str:
        if self.kind == "collision":
            return f"overlaps {self.other} at t = {self.t:.2f} s"
        return f"leaves the drivable area at t = {self.t:.2f} s"


@dataclass
class _Obstacles:
    """Every other agent's boxes at the frame times: (A, T) arrays and an (A, T) presence mask."""

    ids: list[str]
    x: FloatArray
    y: FloatArray
    yaw: FloatArray
    hl: FloatArray
    hw: FloatArray
    present: NDArray[np.bool_] = field(repr=False)


def _obstacles(scenario: Scenario, times: FloatArray, exclude: set[str]) -> _Obstacles:
    ids: list[str] = []
    xs: list[FloatArray] = []
    ys: list[FloatArray] = []
    yaws: list[FloatArray] = []
    hls: list[FloatArray] = []
    hws: list[FloatArray] = []
    pres: list[NDArray[np.bool_]] = []
    for a in scenario.all_agents:
        if a.id in exclude:
            continue
        smp = a.trajectory.sample(times)
        x, y, yaw = smp.x, smp.y, smp.yaw
        hl = a.length / 2
        if a.id == EGO_ID and scenario.source is not None:
            # the recorded ego pose is the rear axle: centre the body box forward of it
            hl += EGO_REAR_AXLE_OFFSET / 2
            x = x + np.cos(yaw) * EGO_REAR_AXLE_OFFSET / 2
            y = y + np.sin(yaw) * EGO_REAR_AXLE_OFFSET / 2
        ids.append(a.id)
        xs.append(x)
        ys.append(y)
        yaws.append(yaw)
        hls.append(np.full(len(times), hl))
        hws.append(np.full(len(times), a.width / 2))
        pres.append(np.array([agent_present(a, float(t)) for t in times]) if a.id != EGO_ID else np.ones(len(times), bool))
    if not ids:
        z = np.zeros((0, len(times)))
        return _Obstacles([], z, z, z, z, z, z.astype(bool))
    return _Obstacles(ids, np.array(xs), np.array(ys), np.array(yaws), np.array(hls), np.array(hws), np.array(pres))


def _edge_points(x: FloatArray, y: FloatArray, yaw: FloatArray, hl: FloatArray | float,
                 hw: FloatArray | float) -> tuple[FloatArray, FloatArray]:
    """(..., 8) x and y of footprint corners and edge midpoints."""
    signs = np.array([[1, 1], [0, 1], [-1, 1], [-1, 0], [-1, -1], [0, -1], [1, -1], [1, 0]], float)
    c, s = np.cos(yaw)[..., None], np.sin(yaw)[..., None]
    lx, ly = signs[:, 0] * np.asarray(hl)[..., None], signs[:, 1] * np.asarray(hw)[..., None]
    return x[..., None] + c * lx - s * ly, y[..., None] + s * lx + c * ly


def _straight(x0: float, y0: float, heading: float, speed: float,
              times: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    x = x0 + speed * times * math.cos(heading)
    y = y0 + speed * times * math.sin(heading)
    return x, y, np.full(len(times), heading)


def straight_trajectory(x0: float, y0: float, heading: float, speed: float, times: FloatArray,
                        key_step: float = 0.5) -> Trajectory:
    """Constant-speed straight motion from (x0, y0) along `heading` over [times[0], times[-1]],
    keyed every `key_step` seconds (and at both ends) so it is easy to edit."""
    t0, t1 = float(times[0]), float(times[-1])
    keys = np.unique(np.concatenate([np.arange(t0, t1, key_step), [t1]])) if t1 > t0 else np.array([t0, t0 + key_step])
    x, y, yaw = _straight(x0, y0, heading, speed, keys - t0)
    times = keys
    return Trajectory.from_arrays(np.round(times, 6), np.round(x, 4), np.round(y, 4), np.round(yaw, 5),
                                  np.full(len(times), float(speed)))


def _evaluate(x: FloatArray, y: FloatArray, yaw: FloatArray, hl: float, hw: float, obs: _Obstacles, margin: float,
              chunk_elements: int = 1_000_000) -> Evaluation:
    """For candidate motions (C, T): (C,) bool collision-free, (C,) min gap, (C,) first collision frame, other.

    Works in chunks of candidates so that C * A * T temporaries stay near `chunk_elements`.
    """
    C, T = x.shape
    per = max(1, chunk_elements // max(1, len(obs.ids) * T))
    if C > per:
        parts = [_evaluate(x[i:i + per], y[i:i + per], yaw[i:i + per], hl, hw, obs, margin, chunk_elements)
                 for i in range(0, C, per)]
        return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
                np.concatenate([p[2] for p in parts]), np.concatenate([p[3] for p in parts]))
    if not obs.ids:
        return np.ones(C, bool), np.full(C, np.inf), np.full(C, -1), np.full(C, -1)
    dx = obs.x[None] - x[:, None]
    dy = obs.y[None] - y[:, None]
    pen = obb_penetration(dx, dy, yaw[:, None], hl + margin, hw + margin, obs.yaw[None], obs.hl[None],
                          obs.hw[None])                               # (C, A, T): > 0 means closer than margin
    hit = (pen > 0) & obs.present[None]
    gap = obb_gap(dx, dy, yaw[:, None], hl, hw, obs.yaw[None], obs.hl[None], obs.hw[None])
    gap = np.where(obs.present[None], gap, np.inf)
    any_hit = hit.any(axis=(1, 2))
    frame_hit = hit.any(axis=1)                                        # (C, T)
    first = np.where(any_hit, frame_hit.argmax(axis=1), -1)
    who = np.where(any_hit, hit[np.arange(C), :, np.maximum(first, 0)].argmax(axis=1), -1)
    return ~any_hit, gap.min(axis=(1, 2)), first, who


def _on_road(x: FloatArray, y: FloatArray, yaw: FloatArray, hl: float, hw: float,
             area: BaseGeometry) -> tuple[NDArray[np.bool_], NDArray[np.int64]]:
    """(C,) whether every footprint point stays inside `area` over T frames, and the first frame off it."""
    px, py = _edge_points(x, y, yaw, hl, hw)                          # (C, T, 8)
    inside = shapely.contains_xy(area, px.ravel(), py.ravel()).reshape(px.shape).all(axis=-1)
    ok = inside.all(axis=1)
    first = np.where(ok, -1, (~inside).argmax(axis=1))
    return ok, first


def insertion_conflicts(scenario: Scenario, agent: Agent, margin: float = 0.5) -> list[Conflict]:
    """Why `agent` (in `scenario` or about to be added) is not a valid insertion; [] when it is.

    Checks every frame of the clip at which the agent is present: coming closer than `margin`
    metres to any other agent (its box grown by `margin` overlaps theirs) and leaving the drivable
    area (when the map has one).
    """
    times = scenario.frame_times()
    present = np.array([agent_present(agent, float(t)) for t in times])
    if not present.any():
        return []
    times = times[present]
    smp = agent.trajectory.sample(times)
    x, y, yaw = smp.x[None], smp.y[None], smp.yaw[None]
    out: list[Conflict] = []
    obs = _obstacles(scenario, times, {agent.id})
    ok, _, first, who = _evaluate(x, y, yaw, agent.length / 2, agent.width / 2, obs, margin)
    if not ok[0]:
        out.append(Conflict("collision", float(times[first[0]]), obs.ids[who[0]]))
    area = scenario.map.drivable_geometry
    if not area.is_empty:
        on, first_off = _on_road(x, y, yaw, agent.length / 2, agent.width / 2, area.buffer(ROAD_TOLERANCE))
        if not on[0]:
            out.append(Conflict("off_road", float(times[first_off[0]])))
    return out


def _candidates(scenario: Scenario, cls: str, ego_xy: FloatArray, ego_yaw: float, step: float,
                min_distance: float, max_distance: float) -> list[Candidate]:
    """(x, y, heading, lane id) start poses near the ego."""
    out: list[Candidate] = []
    crossing = cls == "pedestrian"
    lanes = [l for l in scenario.map.lanes if len(l.centerline) >= 2]
    for lane in lanes:
        pts = lane.array
        seg = np.diff(pts, axis=0)
        seg_len = np.hypot(seg[:, 0], seg[:, 1])
        s = np.concatenate([[0.0], np.cumsum(seg_len)])
        for u in np.arange(step / 2, s[-1], step):
            i = min(int(np.searchsorted(s, u, side="right")) - 1, len(seg) - 1)
            if seg_len[i] < 1e-6:
                continue
            p = pts[i] + (u - s[i]) / seg_len[i] * seg[i]
            d = float(np.hypot(*(p - ego_xy)))
            if not min_distance <= d <= max_distance:
                continue
            h = math.atan2(seg[i, 1], seg[i, 0])
            if crossing:
                out += [(float(p[0]), float(p[1]), h + math.pi / 2, lane.id), (float(p[0]), float(p[1]), h - math.pi / 2, lane.id)]
            else:
                out.append((float(p[0]), float(p[1]), h, lane.id))
    if out:
        return out
    area = scenario.map.drivable_geometry
    if area.is_empty:
        return []
    frame = EgoPathFrame.from_agent(scenario.ego, scenario.frame_times())
    xmin, ymin, xmax, ymax = area.bounds
    gx, gy = np.meshgrid(np.arange(xmin, xmax, step), np.arange(ymin, ymax, step))
    gx, gy = gx.ravel(), gy.ravel()
    d = np.hypot(gx - ego_xy[0], gy - ego_xy[1])
    keep = (d >= min_distance) & (d <= max_distance)
    gx, gy = gx[keep], gy[keep]
    keep = shapely.contains_xy(area, gx, gy)
    gx, gy = gx[keep], gy[keep]
    if gx.size == 0:
        return []
    s, _ = frame.to_path(np.stack([gx, gy], 1))
    _, heading = frame.to_world(s, np.zeros_like(s))
    for x, y, h in zip(gx, gy, heading):
        if crossing:
            out += [(float(x), float(y), float(h) + math.pi / 2, None), (float(x), float(y), float(h) - math.pi / 2, None)]
        else:
            out.append((float(x), float(y), float(h), None))
    return out


def propose_insertions(
    scenario: Scenario,
    cls: str = "car",
    speeds: tuple[float, ...] = PAPER_SPEEDS,
    count: int = 6,
    margin: float = 0.5,
    size: tuple[float, float, float] | None = None,
    step: float = 2.0,
    min_distance: float = 6.0,
    max_distance: float = 45.0,
    spacing: float = 6.0,
    front_half_angle: float = math.radians(35.0),
) -> list[InsertionProposal]:
    """Up to `count` insertions of a `cls` asset, best first (see the module docstring).

    Every proposal is on the drivable area and at least `margin` metres from every other agent at
    every frame. Start points at least `spacing` metres apart. Empty list when none fits.
    """
    if cls not in class_names():
        raise ValueError(f"unknown class {cls!r}; expected one of {', '.join(class_names())}")
    if not speeds or any(not (v >= 0 and math.isfinite(v)) for v in speeds):
        raise ValueError(f"speeds must be non-negative numbers (got {speeds!r})")
    if margin < 0:
        raise ValueError(f"margin must not be negative (got {margin!r})")
    size = (size[0], size[1], size[2]) if size is not None else default_size(cls)   # a list given: a tuple
    times = scenario.frame_times()
    ex, ey, eyaw = scenario.ego.trajectory.pose_at(0.0)
    ego_xy = np.array([ex, ey])
    cands = _candidates(scenario, cls, ego_xy, eyaw, step, min_distance, max_distance)
    area = scenario.map.drivable_geometry
    if not cands or area.is_empty:
        return []
    area = area.buffer(ROAD_TOLERANCE)
    shapely.prepare(area)
    obs = _obstacles(scenario, times, set())
    hl, hw = size[1] / 2, size[0] / 2
    start = np.array([(c[0], c[1], c[2]) for c in cands])
    results: list[tuple[float, float, int, float, float, float]] = []   # score, speed, candidate, gap, distance, bearing
    for v in speeds:
        x = start[:, :1] + v * times[None] * np.cos(start[:, 2:3])
        y = start[:, 1:2] + v * times[None] * np.sin(start[:, 2:3])
        yaw = np.repeat(start[:, 2:3], len(times), axis=1)
        on, _ = _on_road(x, y, yaw, hl, hw, area)
        idx = np.nonzero(on)[0]
        if idx.size == 0:
            continue
        free, gap, _, _ = _evaluate(x[idx], y[idx], yaw[idx], hl, hw, obs, margin)
        for i, ok, g in zip(idx, free, gap):
            if not ok:
                continue
            rel = start[i, :2] - ego_xy
            dist = float(np.hypot(*rel))
            bearing = float(wrap_angle(math.atan2(rel[1], rel[0]) - eyaw))
            in_front = abs(bearing) <= front_half_angle
            score = (3.0 if in_front else 0.0) + min(float(g), 5.0) * 0.5 - 0.05 * abs(dist - 18.0)
            results.append((score, v, int(i), float(g), dist, bearing))
    # best first, spread out, cycling through the speeds
    results.sort(key=lambda r: -r[0])
    chosen: list[tuple[float, float, int, float, float, float]] = []
    by_speed = {v: [r for r in results if r[1] == v] for v in speeds}
    while len(chosen) < count and any(by_speed.values()):
        for v in speeds:
            pool = by_speed[v]
            while pool:
                r = pool.pop(0)
                p = start[r[2], :2]
                if all(np.hypot(*(p - start[c[2], :2])) >= spacing for c in chosen):
                    chosen.append(r)
                    break
            if len(chosen) >= count:
                break
    out: list[InsertionProposal] = []
    used = set(scenario.agent_ids())
    for _score, v, i, g, dist, bearing in chosen:
        n = 1
        while f"{cls}_{n}" in used:
            n += 1
        aid = f"{cls}_{n}"
        used.add(aid)
        x0, y0, h, lane_id = cands[i]
        traj = straight_trajectory(x0, y0, h, v, times)
        agent = Agent(aid, cls, size, traj, behavior=STRAIGHT_BEHAVIOR,
                      behavior_params={"speed": float(v), "heading": round(h, 5), "proposed": True})
        out.append(InsertionProposal(agent, float(v), g, dist, bearing, lane_id))
    return out
