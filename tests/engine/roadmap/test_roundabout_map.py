"""The procedural roundabout: ring geometry, counter-clockwise connectors, drivable area with an island."""
from __future__ import annotations

import math

import numpy as np
import pytest
from shapely.geometry import Point, Polygon
from shapely.ops import unary_union

from engine.roadmap.fitted import MapExtent, fitted_road_map
from engine.roadmap.layout import DIRECTION_HEADING, RoadLayout
from engine.roadmap.roundabout import (
    exit_direction, island_radius, outer_radius, ring_lane_radius, roundabout_connector,
)

CX = 60.0
LAYOUT = RoadLayout().with_roundabout(CX)


@pytest.mark.parametrize("entry,expected", [
    # right-hand traffic, counter-clockwise: exit 1 is a right turn, 2 straight on, 3 left, 4 back
    ("EB", {1: "SB", 2: "EB", 3: "NB", 4: "WB"}),
    ("NB", {1: "EB", 2: "NB", 3: "WB", 4: "SB"}),
    ("WB", {1: "NB", 2: "WB", 3: "SB", 4: "EB"}),
    ("SB", {1: "WB", 2: "SB", 3: "EB", 4: "NB"}),
])
def test_exit_numbers_count_counter_clockwise(entry, expected):
    assert {n: exit_direction(entry, n) for n in (1, 2, 3, 4)} == expected


@pytest.mark.parametrize("entry", ["EB", "WB", "NB", "SB"])
@pytest.mark.parametrize("exit_n", [1, 2, 3, 4])
@pytest.mark.parametrize("k", [1, 2])
def test_connector_circulates_counter_clockwise_on_its_ring_lane(entry, exit_n, k):
    c = roundabout_connector(LAYOUT, entry, k, exit_n)
    p = c.path
    rel = p.points - np.array([CX, 0.0])
    r = np.hypot(rel[:, 0], rel[:, 1])
    # the middle of the path runs on ring lane k: radius island + (k - 1/2) lane widths
    on_ring = np.abs(r - (12.0 + (k - 0.5) * 3.5)) < 1e-6
    assert on_ring.sum() >= 8
    ang = np.unwrap(np.arctan2(rel[on_ring, 1], rel[on_ring, 0]))
    assert np.all(np.diff(ang) > 0)                         # counter-clockwise seen from above
    # never over the central island, and it starts/ends with the arm's heading in lane k
    assert r.min() >= island_radius(LAYOUT) + 0.5 * 3.5 - 1e-6
    h = p.headings
    assert math.cos(h[0] - DIRECTION_HEADING[entry]) > 0.9999
    assert math.cos(h[-1] - DIRECTION_HEADING[exit_direction(entry, exit_n)]) > 0.9999
    assert c.end.number == k and c.start.number == k
    assert p.max_curvature() < 1 / 9.0                      # buses (9 m radius) fit every connector


def test_map_has_ring_lanes_island_and_crossings():
    m = fitted_road_map(LAYOUT, MapExtent(-60.0, 180.0, 80.0))
    ids = {l.id for l in m.lanes}
    assert {"ring_1", "ring_2"} <= ids
    for k in (1, 2):
        ring = next(l for l in m.lanes if l.id == f"ring_{k}").array
        r = np.hypot(ring[:, 0] - CX, ring[:, 1])
        assert np.allclose(r, ring_lane_radius(LAYOUT, k), atol=1e-3)
        # signed area > 0: the ring's driving order is counter-clockwise
        x, y = ring[:, 0], ring[:, 1]
        assert 0.5 * np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]) > 0
    area = unary_union([Polygon(p) for p in m.drivable_area])
    assert not area.buffer(-1e-3).contains(Point(CX, 0.0))                  # island is not drivable
    assert not area.buffer(-1e-3).intersects(Point(CX, 0.0).buffer(island_radius(LAYOUT) - 0.2))
    for k in (1, 2):
        for a in np.linspace(0, 2 * math.pi, 13):
            r = ring_lane_radius(LAYOUT, k)
            assert area.contains(Point(CX + r * math.cos(a), r * math.sin(a)))
    # a kerb follows the island's edge
    assert any(np.allclose(np.hypot(b.array[:, 0] - CX, b.array[:, 1]), island_radius(LAYOUT), atol=0.05)
               for b in m.lane_boundaries)
    assert len([c for c in m.ped_crossings if c.id.startswith("cross_rbt")]) == 4
    for c in m.ped_crossings:                                  # crossings sit outside the ring
        centre = c.array.mean(axis=0)
        assert math.hypot(centre[0] - CX, centre[1]) > outer_radius(LAYOUT)


def test_stand_alone_roundabout_map_for_the_editor():
    from engine.roadmap.roundabout import roundabout_map

    m = roundabout_map(center_x=45.0)
    assert {"ring_1", "ring_2", "EB_2", "EB_2_out"} <= {l.id for l in m.lanes}
    area = unary_union([Polygon(p) for p in m.drivable_area])
    assert not area.buffer(-1e-3).contains(Point(45.0, 0.0))
    assert area.contains(Point(45.0 + ring_lane_radius(LAYOUT, 1), 0.0))
