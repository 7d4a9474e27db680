"""Curved paths between lanes: turns at the intersection and U-turns, shared by trajectories and maps.

A turn is a quintic Bezier curve whose first three and last three control points are collinear
with the lanes it joins, so heading *and* curvature are continuous where it meets them (curvature
is zero at both ends). A U-turn is a half circle between two opposite lanes.
The same geometry draws the map's connector lanes and drives the agents that use them, so the two
always agree.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, Sequence

import numpy as np
from numpy.typing import NDArray

from engine.roadmap.layout import (
    AFTER_LEFT_TURN, AFTER_RIGHT_TURN, DIRECTION_HEADING, Coords, FloatArray, LaneRef, RoadLayout,
)

PointLike = Sequence[float] | NDArray[np.floating[Any]]
"""A (2,) world point (m) as a list, tuple or array."""

SAMPLES_PER_METRE = 4


@dataclass(frozen=True)
class Path:
    """A dense planar polyline followed by an agent: (N, 2) points in the world frame, N >= 2.

    Poses are interpolated linearly in arc length; beyond either end the path continues straight
    along the end heading (so an agent can approach from far away or drive on after it).
    """

    points: FloatArray

    def __post_init__(self) -> None:
        pts = np.asarray(self.points, dtype=np.float64).reshape(-1, 2)
        keep = np.concatenate([[True], np.hypot(*np.diff(pts, axis=0).T) > 1e-9])
        pts = pts[keep]
        if len(pts) < 2:
            raise ValueError("a path needs at least two distinct points")
        object.__setattr__(self, "points", pts)

    @cached_property
    def s(self) -> FloatArray:
        """(N,) cumulative arc length in metres."""
        return np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(self.points, axis=0).T))])

    @property
    def length(self) -> float:
        return float(self.s[-1])

    @cached_property
    def headings(self) -> FloatArray:
        """(N,) unwrapped tangent heading at each vertex (central differences)."""
        g: FloatArray = np.gradient(self.points, self.s, axis=0)   # np.gradient is untyped
        return np.unwrap(np.arctan2(g[:, 1], g[:, 0]))

    def pose(self, s: Coords) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(x, y, heading), each (M,), at arc lengths s (M,); straight extrapolation outside [0, length]."""
        s = np.atleast_1d(np.asarray(s, dtype=np.float64))
        x = np.interp(s, self.s, self.points[:, 0])
        y = np.interp(s, self.s, self.points[:, 1])
        h = np.interp(s, self.s, self.headings)
        before, after = s < 0, s > self.length
        h0, h1 = self.headings[0], self.headings[-1]
        x = np.where(before, self.points[0, 0] + s * math.cos(h0), x)
        y = np.where(before, self.points[0, 1] + s * math.sin(h0), y)
        ds = s - self.length
        x = np.where(after, self.points[-1, 0] + ds * math.cos(h1), x)
        y = np.where(after, self.points[-1, 1] + ds * math.sin(h1), y)
        return x, y, h

    def max_curvature(self) -> float:
        """Largest |curvature| (1/m) along the path, from heading change per arc length."""
        if len(self.points) < 3:
            return 0.0
        k = np.gradient(self.headings, self.s)
        return float(np.max(np.abs(k)))

    @classmethod
    def join(cls, *parts: PointLike | Sequence[PointLike]) -> "Path":
        """Concatenate (Ni, 2) point arrays (shared end points are merged)."""
        return cls(np.concatenate([np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in parts]))


def straight(p0: PointLike, heading: float, length: float, step: float = 1.0) -> FloatArray:
    """(N, 2) points from p0 along `heading` for `length` metres (length may be 0: one point)."""
    n = max(1, int(math.ceil(abs(length) / step)))
    u = np.linspace(0.0, length, n + 1)
    points: FloatArray = np.asarray(p0, float) + u[:, None] * np.array([math.cos(heading), math.sin(heading)])
    return points


def bezier5(p0: PointLike, h0: float, p1: PointLike, h1: float, leg0: float, leg1: float,
            n: int | None = None) -> FloatArray:
    """(n, 2) points of the quintic Bezier from pose (p0, h0) to pose (p1, h1).

    Control points: p0, p0 + leg0*t0, p0 + 2*leg0*t0, p1 - 2*leg1*t1, p1 - leg1*t1, p1, so the curve
    leaves and joins its lanes with zero curvature.
    """
    a, b = np.asarray(p0, np.float64), np.asarray(p1, np.float64)
    t0 = np.array([math.cos(h0), math.sin(h0)])
    t1 = np.array([math.cos(h1), math.sin(h1)])
    ctrl = np.stack([a, a + leg0 * t0, a + 2 * leg0 * t0, b - 2 * leg1 * t1, b - leg1 * t1, b])
    if n is None:
        n = max(40, int(np.hypot(*(b - a)) * SAMPLES_PER_METRE * 2))
    u = np.linspace(0.0, 1.0, n)[:, None]
    coef = [1, 5, 10, 10, 5, 1]
    curve: FloatArray = coef[0] * u ** 0 * (1 - u) ** 5 * ctrl[0]     # the Bernstein sum, term by term as before
    for i in range(1, 6):
        curve = curve + coef[i] * u ** i * (1 - u) ** (5 - i) * ctrl[i]
    return curve


def _curve_max_curvature(points: FloatArray) -> float:
    return Path(points).max_curvature()


@dataclass(frozen=True)
class Connector:
    """A curved lane piece: where it starts and ends, and its (N, 2) centre line."""

    id: str
    points: FloatArray
    start: LaneRef
    end: LaneRef

    @property
    def path(self) -> Path:
        return Path(self.points)


def _line_intersection(p: FloatArray, dp: FloatArray, q: FloatArray, dq: FloatArray) -> FloatArray:
    a = np.array([[dp[0], -dq[0]], [dp[1], -dq[1]]])
    u = np.linalg.solve(a, q - p)
    point: FloatArray = p + u[0] * dp
    return point


@lru_cache(maxsize=512)
def turn_connector(layout: RoadLayout, approach: str, lane_from: int, turn: str, lane_to: int,
                   max_curvature: float) -> Connector:
    """The curve of a left or right turn at the intersection, from lane `lane_from` of `approach` to
    lane `lane_to` of the exit direction.

    The curve starts no later than the box entry and ends no earlier than the box exit; when the
    vehicle's `max_curvature` (1/m) needs a wider curve, it starts earlier and ends later.
    ValueError if the layout has no intersection or no curve within 40 m satisfies the limit.
    """
    if turn not in ("left", "right"):
        raise ValueError(f"turn must be 'left' or 'right' (got {turn!r})")
    exit_dir = (AFTER_LEFT_TURN if turn == "left" else AFTER_RIGHT_TURN)[approach]
    fa, fe = layout.frame(approach), layout.frame(exit_dir)
    pa = fa.to_world(0.0, layout.lane_lat(lane_from))[0]
    pe = fe.to_world(0.0, layout.lane_lat(lane_to))[0]
    corner = _line_intersection(pa, fa.tangent, pe, fe.tangent)
    s_corner_a = float(fa.from_world(corner)[0][0])
    s_corner_e = float(fe.from_world(corner)[0][0])
    min_leg_a = s_corner_a - layout.box_entry_s(approach)            # corner to box entry
    min_leg_e = layout.box_exit_s(exit_dir) - s_corner_e             # corner to box exit
    min_leg_a, min_leg_e = max(min_leg_a, 0.5), max(min_leg_e, 0.5)
    ha, he = DIRECTION_HEADING[approach], DIRECTION_HEADING[exit_dir]

    def best_curve(extra: float) -> tuple[float, FloatArray]:
        la, le = min_leg_a + extra, min_leg_e + extra
        p0 = corner - la * fa.tangent
        p1 = corner + le * fe.tangent
        cands = [bezier5(p0, ha, p1, he, a * la, a * le) for a in (0.30, 0.35, 0.40, 0.45, 0.50)]
        return min(((_curve_max_curvature(c), c) for c in cands), key=lambda kc: kc[0])

    cid = f"{approach}_{lane_from}_{turn}_{exit_dir}_{lane_to}"
    k0, pts = best_curve(0.0)
    if k0 > max_curvature:
        # curvature falls as the legs grow: bisect the extra leg length (to 0.25 m)
        lo, hi = 0.0, 40.0
        k_hi, pts_hi = best_curve(hi)
        if k_hi > max_curvature:
            raise ValueError(f"no {turn} turn from {approach}_{lane_from} fits a turning radius of "
                             f"{1.0 / max_curvature:.1f} m")
        while hi - lo > 0.25:
            mid = 0.5 * (lo + hi)
            k_mid, pts_mid = best_curve(mid)
            if k_mid <= max_curvature:
                hi, pts_hi = mid, pts_mid
            else:
                lo = mid
        pts = pts_hi
    return Connector(cid, pts, LaneRef(approach, lane_from), LaneRef(exit_dir, lane_to))


def uturn_connector(layout: RoadLayout, direction: str, lane_from: int, lane_to: int, s_start: float,
                    max_curvature: float) -> Connector:
    """A half circle from lane `lane_from` of `direction` (starting at s = s_start) into lane
    `lane_to` of the opposite direction. ValueError when the lanes are too close for the radius."""
    from engine.roadmap.layout import OPPOSITE

    f = layout.frame(direction)
    lat0 = layout.lane_lat(lane_from)
    lat1 = -layout.lane_lat(lane_to)            # the opposite lane, seen from `direction`
    radius = (lat1 - lat0) / 2
    if radius <= 0 or 1.0 / radius > max_curvature + 1e-9:
        need = 2.0 / max_curvature
        raise ValueError(f"a U-turn from {direction}_{lane_from} to {OPPOSITE[direction]}_{lane_to} spans "
                         f"{lat1 - lat0:.1f} m; the vehicle needs {need:.1f} m")
    n = max(24, int(math.pi * radius * SAMPLES_PER_METRE))
    a = np.linspace(-math.pi / 2, math.pi / 2, n)
    s = s_start + radius * np.cos(a)
    lat = (lat0 + lat1) / 2 + radius * np.sin(a)
    pts = f.to_world(s, lat)
    cid = f"{direction}_{lane_from}_uturn_{OPPOSITE[direction]}_{lane_to}"
    return Connector(cid, pts, LaneRef(direction, lane_from), LaneRef(OPPOSITE[direction], lane_to))
