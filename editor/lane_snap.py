"""Lane geometry for editing: project a point onto the nearest lane centre line, snap, walk along a lane.

Uses `RoadMap.nearest_lane` to choose the lane; everything is in the world frame (metres, radians).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.scenario.map_elements import Lane, RoadMap


@dataclass(frozen=True)
class LaneProjection:
    """The closest point of a lane's centre line to a query point.

    x, y: the projected point; heading: the lane's direction there (rad); distance: from the query
    point (m); s: arc length from the lane's start to the projected point (m).
    """

    lane: Lane
    x: float
    y: float
    heading: float
    distance: float
    s: float


def project_on_lane(lane: Lane, x: float, y: float) -> LaneProjection:
    """The closest centre-line point of `lane` to (x, y)."""
    pts = lane.array
    if len(pts) < 2:
        raise ValueError(f"lane {lane.id!r} has fewer than two centre-line points")
    a, b = pts[:-1], pts[1:]
    ab = b - a
    seg_len = np.hypot(ab[:, 0], ab[:, 1])
    denom = np.maximum(seg_len ** 2, 1e-12)
    p = np.array([x, y], dtype=np.float64)
    u = np.clip(((p - a) * ab).sum(1) / denom, 0.0, 1.0)
    proj = a + u[:, None] * ab
    d = np.hypot(*(proj - p).T)
    i = int(np.argmin(d))
    s = float(seg_len[:i].sum() + u[i] * seg_len[i])
    return LaneProjection(lane, float(proj[i, 0]), float(proj[i, 1]),
                          float(math.atan2(ab[i, 1], ab[i, 0])), float(d[i]), s)


def nearest_projection(road_map: RoadMap, x: float, y: float) -> LaneProjection | None:
    """The projection onto the nearest lane (`RoadMap.nearest_lane`), or None without lanes."""
    found = road_map.nearest_lane(x, y)
    if found is None:
        return None
    return project_on_lane(found[0], x, y)


def snap_to_lane(road_map: RoadMap, x: float, y: float, max_distance: float | None = None) -> LaneProjection | None:
    """The centre-line point to snap (x, y) to, or None when no lane is within reach.

    Reach is `max_distance` metres, or half the lane's width when None (the point is inside the lane).
    """
    proj = nearest_projection(road_map, x, y)
    if proj is None:
        return None
    reach = proj.lane.width / 2.0 if max_distance is None else max_distance
    return proj if proj.distance <= reach else None


def point_along_lane(lane: Lane, s: float) -> tuple[float, float, float]:
    """(x, y, heading) at arc length `s` along the centre line; beyond its end it continues straight."""
    pts = lane.array
    ab = np.diff(pts, axis=0)
    seg_len = np.hypot(ab[:, 0], ab[:, 1])
    cum = np.concatenate([[0.0], np.cumsum(seg_len)])
    if s <= 0:
        i, u = 0, s / max(seg_len[0], 1e-12)
    elif s >= cum[-1]:
        i = len(seg_len) - 1
        u = 1.0 + (s - cum[-1]) / max(seg_len[i], 1e-12)
    else:
        i = int(np.searchsorted(cum, s, side="right") - 1)
        u = (s - cum[i]) / max(seg_len[i], 1e-12)
    p = pts[i] + u * ab[i]
    return float(p[0]), float(p[1]), float(math.atan2(ab[i, 1], ab[i, 0]))
