"""Trajectories from a real scene: the ego from its poses, annotated objects from their 2 Hz tracks.

Times are seconds from the scene's first key frame (t0); positions are the nuScenes global frame
(the scenario's world frame). Annotated objects become locked agents: their class comes from the
category (`engine.sources.categories`), their size is the median annotated size, and
`behavior_params` carries what an exporter needs to write the original labels back:

    category                   nuScenes category name (``vehicle.emergency.police``)
    detection_name             detection class of the category, or None when it has none
    instance_token             the nuScenes instance
    attribute                  the most frequent attribute name ('' when none)
    sample_annotation_tokens   the annotations of the track inside the clip, in time order
    z                          median box-centre height in the global frame (m)

An object that moves less than `STATIC_TOLERANCE` over its track is made static at its median
pose (annotation jitter would otherwise make it creep).
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
from numpy.typing import NDArray
from pyquaternion import Quaternion

from engine.scenario.model import EGO_ID, Agent, default_ego
from engine.scenario.trajectory import Trajectory
from engine.sources.categories import class_for_category, detection_name

if TYPE_CHECKING:
    from nuscenes.nuscenes import NuScenes   # untyped: Any to the type checker

FloatArray = NDArray[np.float64]
Track = tuple[FloatArray, FloatArray, FloatArray, FloatArray]
"""(N,) times (s), x, y (m) and unwrapped yaw (rad) of one object."""

STATIC_TOLERANCE = 0.3      # m: tracks moving less than this are parked objects
SINGLE_KEY_HOLD = 0.25      # s: an object seen at one key frame exists this long either side of it
RECORDED_BEHAVIOR = "recorded"


def quaternion_yaw(rotation_wxyz: Sequence[float]) -> float:
    """Yaw (rad, about +z) of a [w, x, y, z] rotation, as the devkit's `quaternion_yaw` computes it."""
    q = Quaternion(rotation_wxyz)
    v = np.dot(q.rotation_matrix, np.array([1.0, 0.0, 0.0]))
    return float(math.atan2(v[1], v[0]))


def clip_track(t: FloatArray, x: FloatArray, y: FloatArray, yaw: FloatArray, t_end: float) -> Track | None:
    """Restrict a track (N,) to [0, t_end]: keep the first sample past the end for interpolation and
    replace the part before 0 by an interpolated pose at 0. Returns arrays or None if nothing is left."""
    yaw = np.unwrap(yaw)
    keep = (t >= 0.0) & (t <= t_end + 1e-6)
    after = np.nonzero(t > t_end + 1e-6)[0]
    if after.size:
        keep[after[0]] = True
    before = np.nonzero(t < 0.0)[0]
    if not keep.any():
        return None
    t2, x2, y2, yaw2 = t[keep], x[keep], y[keep], yaw[keep]
    if before.size and t2[0] > 1e-6:
        i = before[-1]
        u = (0.0 - t[i]) / (t[i + 1] - t[i])
        t2 = np.concatenate([[0.0], t2])
        x2 = np.concatenate([[x[i] + u * (x[i + 1] - x[i])], x2])
        y2 = np.concatenate([[y[i] + u * (y[i + 1] - y[i])], y2])
        yaw2 = np.concatenate([[yaw[i] + u * (yaw[i + 1] - yaw[i])], yaw2])
    return t2, x2, y2, yaw2


def _speeds(t: FloatArray, x: FloatArray, y: FloatArray) -> FloatArray:
    if len(t) < 2:
        return np.zeros(len(t))
    speed: FloatArray = np.hypot(np.gradient(x, t), np.gradient(y, t))   # np.gradient is untyped
    return speed


def _rounded(a: FloatArray, decimals: int) -> FloatArray:
    """Compact file values."""
    return np.asarray(a, dtype=np.float64).round(decimals)


def _trajectory(t: FloatArray, x: FloatArray, y: FloatArray, yaw: FloatArray) -> Trajectory:
    return Trajectory.from_arrays(_rounded(t, 6), _rounded(x, 4), _rounded(y, 4), _rounded(yaw, 5),
                                  _rounded(_speeds(t, x, y), 3))


def ego_agent(poses: list[tuple[int, FloatArray]], t0_us: int, t_end: float) -> Agent:
    """The ego from (timestamp_us, world_from_ego (4, 4)) poses: the nuScenes ego frame origin (rear axle)."""
    poses = sorted(poses, key=lambda p: p[0])
    t = np.array([(ts - t0_us) / 1e6 for ts, _ in poses])
    x = np.array([m[0, 3] for _, m in poses])
    y = np.array([m[1, 3] for _, m in poses])
    yaw = np.array([math.atan2(m[1, 0], m[0, 0]) for _, m in poses])
    _, uniq = np.unique(t, return_index=True)
    clipped = clip_track(t[uniq], x[uniq], y[uniq], yaw[uniq], t_end)
    if clipped is None:
        raise ValueError("no ego pose inside the clip")
    ego = default_ego(_trajectory(*clipped))
    return Agent(EGO_ID, ego.cls, ego.size, ego.trajectory, behavior=RECORDED_BEHAVIOR)


@dataclass(frozen=True)
class _Ann:
    t: float
    token: str
    x: float
    y: float
    z: float
    yaw: float
    wlh: tuple[float, float, float]
    attribute: str


def _agent_id(cls: str, instance_token: str, used: set[str]) -> str:
    n = 8
    while True:
        aid = f"{cls}_{instance_token[:n]}"
        if aid not in used or n >= len(instance_token):
            used.add(aid)
            return aid
        n += 4


def annotated_agents(nusc: NuScenes, sample_tokens: list[str], t0_us: int,
                     t_end: float) -> tuple[list[Agent], list[str]]:
    """Locked agents for every annotated instance seen in [0, t_end]; also warnings (skipped categories)."""
    by_instance: dict[str, list[_Ann]] = {}
    for st in sample_tokens:
        sample = nusc.get("sample", st)
        t = (int(sample["timestamp"]) - t0_us) / 1e6
        for at in sample["anns"]:
            a = nusc.get("sample_annotation", at)
            attrs = [nusc.get("attribute", tok)["name"] for tok in a.get("attribute_tokens", [])]
            w, l, h = (float(v) for v in a["size"])
            by_instance.setdefault(a["instance_token"], []).append(_Ann(
                t, a["token"], float(a["translation"][0]), float(a["translation"][1]), float(a["translation"][2]),
                quaternion_yaw(a["rotation"]), (w, l, h), attrs[0] if attrs else ""))
    agents: list[Agent] = []
    skipped: Counter[str] = Counter()
    used: set[str] = {EGO_ID}
    for inst_token in sorted(by_instance, key=lambda k: (min(a.t for a in by_instance[k]), k)):
        anns = sorted(by_instance[inst_token], key=lambda a: a.t)
        category = nusc.get("category", nusc.get("instance", inst_token)["category_token"])["name"]
        cls = class_for_category(category)
        if cls is None:
            skipped[category] += 1
            continue
        agent = _track_agent(cls, category, inst_token, anns, t_end, used)
        if agent is not None:
            agents.append(agent)
    warnings = [f"{n} annotated object(s) of unknown category {c!r} left out" for c, n in sorted(skipped.items())]
    return agents, warnings


def _track_agent(cls: str, category: str, inst_token: str, anns: list[_Ann], t_end: float,
                 used: set[str]) -> Agent | None:
    t = np.array([a.t for a in anns])
    x = np.array([a.x for a in anns])
    y = np.array([a.y for a in anns])
    yaw = np.array([a.yaw for a in anns])
    inside = [a for a in anns if a.t <= t_end + 1e-6]
    if not inside or t[0] > t_end + 1e-6:
        return None
    hold = SINGLE_KEY_HOLD if len(anns) == 1 else 0.0
    if t[-1] + hold < 0.0:       # seen only before the clip starts (a scene opened at a start offset)
        return None
    w, l, h = (float(np.median([a.wlh[i] for a in anns])) for i in range(3))
    attr = Counter(a.attribute for a in anns if a.attribute).most_common(1)
    spread = float(np.max(np.hypot(x - np.median(x), y - np.median(y))))
    if len(anns) == 1 or spread < STATIC_TOLERANCE:
        # parked / static: the median pose over the track's time span (a single sighting: +-SINGLE_KEY_HOLD)
        yaw_med = float(math.atan2(np.median(np.sin(yaw)), np.median(np.cos(yaw))))
        t_a = max(0.0, float(t[0]) - (SINGLE_KEY_HOLD if len(anns) == 1 else 0.0))
        t_b = float(t[-1]) + (SINGLE_KEY_HOLD if len(anns) == 1 else 0.0)
        traj = Trajectory.static(round(float(np.median(x)), 4), round(float(np.median(y)), 4), round(yaw_med, 5),
                                 round(t_a, 6), round(max(t_b, t_a + 1e-3), 6))
    else:
        clipped = clip_track(t, x, y, yaw, t_end)
        if clipped is None:
            return None
        traj = _trajectory(*clipped)
    tokens = [a.token for a in anns if -1e-6 <= a.t <= t_end + 1e-6]
    params: dict[str, Any] = {
        "category": category,
        "detection_name": detection_name(category),
        "instance_token": inst_token,
        "attribute": attr[0][0] if attr else "",
        "sample_annotation_tokens": tokens,
        "z": round(float(np.median([a.z for a in anns])), 4),
    }
    return Agent(_agent_id(cls, inst_token, used), cls, (w, l, h), traj, behavior=RECORDED_BEHAVIOR,
                 behavior_params=params, locked=True)
