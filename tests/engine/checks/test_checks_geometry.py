"""The vectorised box geometry against shapely and against brute-force simulation."""
from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.checks.geometry import box_corners, obb_gap, obb_penetration, overlap_centroids, time_to_overlap

coord = st.floats(-6.0, 6.0, allow_nan=False)
yaw = st.floats(-math.pi, math.pi, allow_nan=False)
half = st.floats(0.2, 3.0, allow_nan=False)


def _poly(x, y, a, hl, hw):
    return shapely.Polygon(box_corners(x, y, a, hl, hw))


@settings(max_examples=300, deadline=None)
@given(coord, coord, yaw, half, half, yaw, half, half)
def test_sat_and_gap_agree_with_shapely(dx, dy, ya, hla, hwa, yb, hlb, hwb):
    pa, pb = _poly(0.0, 0.0, ya, hla, hwa), _poly(dx, dy, yb, hlb, hwb)
    depth = float(obb_penetration(dx, dy, ya, hla, hwa, yb, hlb, hwb))
    gap = float(obb_gap(dx, dy, ya, hla, hwa, yb, hlb, hwb))
    area = pa.intersection(pb).area
    if abs(depth) > 1e-7:                      # away from exact touching
        assert (depth > 0) == (area > 1e-12)
    assert gap == np.float64(gap) and gap >= 0
    assert abs(gap - pa.distance(pb)) < 1e-7
    if depth <= 0:
        assert -depth <= gap + 1e-9            # minus the depth is a lower bound on the gap


def test_penetration_depth_is_the_separating_translation():
    # two axis-aligned 4 x 2 boxes, centres 3 m apart along x: they overlap by 1 m
    assert math.isclose(float(obb_penetration(3.0, 0.0, 0.0, 2.0, 1.0, 0.0, 2.0, 1.0)), 1.0)
    # 5 m apart: 1 m gap
    assert math.isclose(float(obb_penetration(5.0, 0.0, 0.0, 2.0, 1.0, 0.0, 2.0, 1.0)), -1.0)
    assert math.isclose(float(obb_gap(5.0, 0.0, 0.0, 2.0, 1.0, 0.0, 2.0, 1.0)), 1.0)
    # corner to corner: the gap is the diagonal, the SAT bound only one axis
    g = float(obb_gap(5.0, 3.0, 0.0, 2.0, 1.0, 0.0, 2.0, 1.0))
    assert math.isclose(g, math.hypot(1.0, 1.0))


def test_ttc_head_on_is_gap_over_closing_speed():
    # a (l=4, w=2) at origin, b 30 m ahead coming back at 15 m/s while a drives at 5 m/s
    ttc = float(time_to_overlap(30.0, 0.0, -20.0, 0.0, 0.0, 2.0, 1.0, math.pi, 2.0, 1.0))
    assert math.isclose(ttc, (30.0 - 4.0) / 20.0)


def test_ttc_is_infinite_when_passing_side_by_side_or_diverging():
    # b in the next lane (3.5 m to the left), closing fast along x: never touches
    assert math.isinf(float(time_to_overlap(30.0, 3.5, -20.0, 0.0, 0.0, 2.3, 1.0, math.pi, 2.3, 1.0)))
    # b ahead and faster: diverging
    assert math.isinf(float(time_to_overlap(30.0, 0.0, 5.0, 0.0, 0.0, 2.3, 1.0, 0.0, 2.3, 1.0)))
    # overlapping now: zero
    assert float(time_to_overlap(1.0, 0.0, 5.0, 0.0, 0.0, 2.3, 1.0, 0.0, 2.3, 1.0)) == 0.0


@settings(max_examples=40, deadline=None)
@given(st.floats(-20, 20), st.floats(-20, 20), st.floats(-12, 12), st.floats(-12, 12), yaw, yaw)
def test_ttc_matches_forward_simulation(dx, dy, vx, vy, ya, yb):
    hla, hwa, hlb, hwb = 2.3, 0.98, 1.2, 0.4
    ttc = float(time_to_overlap(dx, dy, vx, vy, ya, hla, hwa, yb, hlb, hwb))
    pa = _poly(0.0, 0.0, ya, hla, hwa)
    times = np.linspace(0.0, 6.0, 6001)
    moved = shapely.polygons(box_corners(dx + vx * times, dy + vy * times, yb, hlb, hwb))
    touching = np.flatnonzero(shapely.intersects(pa, moved))
    if touching.size == 0:
        assert ttc > 6.0 - 1e-3
    else:
        assert abs(ttc - times[touching[0]]) <= 1.5e-3


def test_overlap_centroid_of_crossing_boxes():
    ca = box_corners(0.0, 0.0, 0.0, 2.0, 1.0)[None]
    cb = box_corners(3.0, 0.0, 0.0, 2.0, 1.0)[None]
    c = overlap_centroids(ca, cb)
    assert np.allclose(c, [[1.5, 0.0]])
    far = overlap_centroids(ca, box_corners(10.0, 4.0, 0.0, 2.0, 1.0)[None])
    assert np.allclose(far, [[5.0, 2.0]])    # apart: midpoint of the centres


@pytest.mark.parametrize("scale", [1.0, 0.25])
def test_overlap_centroids_equal_shapely_on_random_boxes(scale):
    """The array path of `overlap_centroids` (deep overlaps) gives shapely's centroids; touching and
    apart pairs keep shapely's answer (or the midpoint)."""
    rng = np.random.default_rng(7)
    n = 4000
    x, y = rng.uniform(-300, 300, n), rng.uniform(-300, 300, n)
    ya, yb = rng.uniform(-4, 4, n), rng.uniform(-4, 4, n)
    hla, hwa, hlb, hwb = (scale * rng.uniform(lo, hi, n) for lo, hi in ((0.2, 6), (0.2, 1.5), (0.2, 6), (0.2, 1.5)))
    f = rng.choice([0.05, 0.3, 0.6, 0.9, 1.0, 1.5], n)      # from deep overlaps to barely touching and apart
    dx, dy = f * scale * rng.uniform(-6, 6, n), f * scale * rng.uniform(-6, 6, n)
    ca, cb = box_corners(x, y, ya, hla, hwa), box_corners(x + dx, y + dy, yb, hlb, hwb)
    inter = shapely.intersection(shapely.polygons(ca), shapely.polygons(cb))
    ok = shapely.area(inter) > 0.0
    want = (ca.mean(-2) + cb.mean(-2)) / 2
    want[ok] = shapely.get_coordinates(shapely.centroid(inter[ok]))
    assert ok.sum() > n // 4 and (~ok).sum() > n // 10
    np.testing.assert_allclose(overlap_centroids(ca, cb), want, rtol=0, atol=1e-9)
