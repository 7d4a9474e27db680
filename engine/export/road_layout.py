"""Recognise the road layouts OpenDRIVE can express from a scenario's lane geometry.

A scenario's map is a set of lane centre lines, not a road network. This module finds the straight
*corridors* in it (bundles of parallel straight lanes of one width, driving on the right: the lanes
heading along the corridor lie right of its reference line, the others left) and how they meet:

* one corridor, no other lanes: a straight road;
* two corridors whose reference lines cross inside both: a junction with up to four arms (a corridor
  that ends at the other gives a T); curved lanes are then taken to be the junction's turn
  connectors (the OpenDRIVE junction generates its own connecting roads).

Anything else (curves outside a junction, lanes of different widths, more than two corridors, left-hand
traffic) is reported as unsupported with the reason, and no OpenDRIVE file is written.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from engine.scenario.map_elements import Lane, RoadMap

STRAIGHT_TOL_M = 0.02      # a lane is straight when every point is within this of its chord
ANGLE_TOL_RAD = 1e-3       # lanes are parallel within this
WIDTH_TOL_M = 0.02
SPACING_TOL_M = 0.05       # lane centres must be one lane width apart within this
EXTENT_TOL_M = 0.5         # lanes of a corridor must start and end together within this
CORNER_MARGIN_M = 5.0      # junction boundary: the wider corridor's half width plus this (kerb radius)
MIN_ARM_M = 1.0


@dataclass(frozen=True)
class Corridor:
    """A straight road: reference line through `origin` with `heading` (rad), from s_min to s_max.

    `n_right` lanes drive along the heading (right of the reference line), `n_left` against it.
    """

    origin: tuple[float, float]
    heading: float
    s_min: float
    s_max: float
    n_right: int
    n_left: int
    lane_width: float
    lane_ids: tuple[str, ...]

    @property
    def direction(self) -> NDArray[np.float64]:
        return np.array([math.cos(self.heading), math.sin(self.heading)])

    @property
    def half_width(self) -> float:
        return max(self.n_right, self.n_left) * self.lane_width

    def point(self, s: float) -> NDArray[np.float64]:
        """(2,) the reference-line point at arc length s."""
        return np.asarray(self.origin, np.float64) + s * self.direction


@dataclass(frozen=True)
class Arm:
    """A straight road piece of a corridor: from `start` along `heading` for `length` metres.

    `junction_end`: 'successor' when its end touches the junction, 'predecessor' when its start does,
    None for a road without junction.
    """

    corridor: Corridor
    start: tuple[float, float]
    heading: float
    length: float
    junction_end: str | None


@dataclass(frozen=True)
class RoadLayout:
    """A map OpenDRIVE can express: its arms and, for a junction, its centre and radius."""

    arms: tuple[Arm, ...]
    junction_centre: tuple[float, float] | None
    junction_radius: float
    note: str


class UnsupportedLayout(ValueError):
    """The map has no OpenDRIVE form here; the message says which lane or feature is the reason."""


def _straight(lane: Lane) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    pts = lane.array
    if len(pts) < 2:
        return None
    a, b = pts[0], pts[-1]
    d = b - a
    n = float(np.hypot(*d))
    if n < 1.0:
        return None
    u = d / n
    dev = np.abs((pts - a) @ np.array([-u[1], u[0]]))
    return (a, b) if float(dev.max()) <= STRAIGHT_TOL_M else None


def find_corridors(road_map: RoadMap) -> tuple[list[Corridor], list[str]]:
    """The corridors of the map and the ids of the lanes that are not straight."""
    straight: list[tuple[Lane, tuple[NDArray[np.float64], NDArray[np.float64]]]] = []
    curved: list[str] = []
    for lane in road_map.lanes:
        ab = _straight(lane)
        if ab is not None:
            straight.append((lane, ab))
        else:
            curved.append(lane.id)
    groups: list[list[tuple[Lane, NDArray[np.float64], NDArray[np.float64], float]]] = []
    for lane, (a, b) in straight:
        ang = math.atan2(b[1] - a[1], b[0] - a[0])
        axis = ang % math.pi
        for g in groups:
            g_axis = g[0][3]
            if min(abs(axis - g_axis), math.pi - abs(axis - g_axis)) < ANGLE_TOL_RAD:
                g.append((lane, a, b, g_axis))
                break
        else:
            groups.append([(lane, a, b, axis)])
    corridors: list[Corridor] = []
    for g in groups:
        axis = g[0][3]
        d0 = np.array([math.cos(axis), math.sin(axis)])
        n0 = np.array([-d0[1], d0[0]])
        items = sorted(((float(a @ n0), lane, a, b) for lane, a, b, _ in g), key=lambda r: r[0])
        # split into separate parallel roads where neighbouring lane centres are far apart
        clusters: list[list[tuple[float, Lane, NDArray[np.float64], NDArray[np.float64]]]] = []
        cur = [items[0]]
        for prev, it in zip(items, items[1:]):
            if it[0] - prev[0] > 1.5 * max(prev[1].width, it[1].width):
                clusters.append(cur)
                cur = []
            cur.append(it)
        clusters.append(cur)
        for cl in clusters:
            corridors.append(_corridor(cl, axis, d0, n0))
    return corridors, curved


def _corridor(cluster: list[tuple[float, Lane, NDArray[np.float64], NDArray[np.float64]]], axis: float, d0: NDArray[np.float64], n0: NDArray[np.float64]) -> Corridor:
    ids = tuple(l.id for _, l, _, _ in cluster)
    widths = {round(l.width, 3) for _, l, _, _ in cluster}
    w = cluster[0][1].width
    if max(widths) - min(widths) > WIDTH_TOL_M:
        raise UnsupportedLayout(f"lanes {', '.join(ids)} are parallel but of different widths ({sorted(widths)} m)")
    offsets = np.array([o for o, _, _, _ in cluster])
    if np.any(np.abs(np.diff(offsets) - w) > SPACING_TOL_M):
        raise UnsupportedLayout(f"lanes {', '.join(ids)} are parallel but not side by side at {w:g} m spacing")
    fwd = [bool(((b - a) @ d0) > 0) for _, _, a, b in cluster]
    ext = np.array([sorted([float(a @ d0), float(b @ d0)]) for _, _, a, b in cluster])
    if np.ptp(ext[:, 0]) > EXTENT_TOL_M or np.ptp(ext[:, 1]) > EXTENT_TOL_M:
        raise UnsupportedLayout(f"lanes {', '.join(ids)} do not start and end together")
    heading = axis
    if not any(fwd):  # one-way against the canonical axis: turn the corridor round
        heading = axis + math.pi
        d0, n0, offsets, fwd = -d0, -n0, -offsets[::-1], [True] * len(fwd)
        ext = -ext[:, ::-1]
    n_right = sum(fwd)
    # right-hand traffic: every forward lane lies right of (below, along n0) every backward lane
    order = [f for _, f in sorted(zip(offsets, fwd), key=lambda r: r[0])]
    if order != [True] * n_right + [False] * (len(order) - n_right):
        raise UnsupportedLayout(f"lanes {', '.join(ids)} do not drive on the right of their road")
    ref_offset = float(min(offsets)) - w / 2 + n_right * w
    origin = ref_offset * n0
    return Corridor((float(origin[0]), float(origin[1])), float(heading), float(ext[:, 0].min()),
                    float(ext[:, 1].max()), n_right, len(fwd) - n_right, float(w), ids)


def _crossing(a: Corridor, b: Corridor) -> tuple[float, float] | None:
    """Arc lengths (s_a, s_b) where the reference lines cross, or None when parallel."""
    da, db = a.direction, b.direction
    m = np.array([da, -db]).T
    if abs(np.linalg.det(m)) < 1e-6:
        return None
    s = np.linalg.solve(m, np.asarray(b.origin) - np.asarray(a.origin))
    return float(s[0]), float(s[1])


def _xy(p: NDArray[np.float64]) -> tuple[float, float]:
    """A (2,) point as a tuple of floats."""
    return float(p[0]), float(p[1])


def analyse_layout(road_map: RoadMap) -> RoadLayout:
    """The OpenDRIVE-expressible layout of a map; UnsupportedLayout says why when there is none."""
    if not road_map.lanes:
        raise UnsupportedLayout("the map has no lanes")
    corridors, curved = find_corridors(road_map)
    if not corridors:
        raise UnsupportedLayout(f"no straight road, only curved lanes: {', '.join(curved[:6])}")
    if len(corridors) == 1:
        if curved:
            raise UnsupportedLayout(f"curved lanes outside a junction: {', '.join(curved[:6])}")
        c = corridors[0]
        arm = Arm(c, _xy(c.point(c.s_min)), c.heading, c.s_max - c.s_min, None)
        return RoadLayout((arm,), None, 0.0, "straight road")
    if len(corridors) != 2:
        raise UnsupportedLayout(f"{len(corridors)} straight roads; only one road or two crossing roads are expressed")
    a, b = corridors
    cross = _crossing(a, b)
    if cross is None:
        raise UnsupportedLayout(f"two parallel roads ({', '.join(a.lane_ids[:2])}... and {', '.join(b.lane_ids[:2])}...)")
    radius = max(a.half_width, b.half_width) + CORNER_MARGIN_M
    centre = a.point(cross[0])
    arms = []
    for c, s_c in ((a, cross[0]), (b, cross[1])):
        if not (c.s_min - 1e-6 <= s_c <= c.s_max + 1e-6):
            raise UnsupportedLayout(f"the roads of lanes {c.lane_ids[0]} and the other road do not meet")
        if s_c - radius - c.s_min >= MIN_ARM_M:
            arms.append(Arm(c, _xy(c.point(c.s_min)), c.heading, s_c - radius - c.s_min, "successor"))
        if c.s_max - (s_c + radius) >= MIN_ARM_M:
            arms.append(Arm(c, _xy(c.point(s_c + radius)), c.heading, c.s_max - s_c - radius, "predecessor"))
    if len(arms) < 3:
        raise UnsupportedLayout("the two roads meet with fewer than three arms (a corner is not expressed)")
    note = f"junction with {len(arms)} arms" + (f"; turn lanes {', '.join(curved)} left to the junction's connecting roads"
                                                if curved else "")
    return RoadLayout(tuple(arms), (float(centre[0]), float(centre[1])), float(radius), note)
