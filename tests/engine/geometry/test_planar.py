"""engine.geometry against independent truths: pyquaternion, nuscenes-devkit Box / transform_matrix, analytic values."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from nuscenes.utils.data_classes import Box
from nuscenes.eval.common.utils import quaternion_yaw
from nuscenes.utils.geometry_utils import transform_matrix
from pyquaternion import Quaternion

from engine.geometry import (
    footprint_corners, lane_to_world, quaternion_to_yaw, se2_apply, se2_inverse, se2_matrix, wrap_angle,
    yaw_to_quaternion,
)

angles = st.floats(-50.0, 50.0, allow_nan=False)
coords = st.floats(-100.0, 100.0, allow_nan=False)


@given(angles)
def test_wrap_angle_range_and_same_direction(a):
    w = float(wrap_angle(a))
    assert -math.pi <= w < math.pi
    assert math.cos(w) == pytest.approx(math.cos(a), abs=1e-9)
    assert math.sin(w) == pytest.approx(math.sin(a), abs=1e-9)


def test_wrap_angle_analytic_values_and_shape():
    np.testing.assert_allclose(wrap_angle(np.array([0.0, math.pi, -math.pi, 3 * math.pi / 2, 7.0])),
                               [0.0, -math.pi, -math.pi, -math.pi / 2, 7.0 - 2 * math.pi], atol=1e-12)
    assert wrap_angle(np.zeros((2, 3))).shape == (2, 3)


@given(angles)
def test_yaw_to_quaternion_matches_pyquaternion(yaw):
    q = Quaternion(axis=[0.0, 0.0, 1.0], angle=yaw)
    mine = Quaternion(yaw_to_quaternion(yaw))
    # q and -q are the same rotation
    assert np.allclose(mine.rotation_matrix, q.rotation_matrix, atol=1e-9)


@settings(max_examples=50)
@given(st.lists(st.floats(-1.0, 1.0), min_size=4, max_size=4).filter(lambda v: sum(x * x for x in v) > 1e-3))
def test_quaternion_to_yaw_matches_devkit(wxyz):
    assume(np.hypot(*Quaternion(wxyz).normalised.rotation_matrix[:2, 0]) > 1e-3)  # +x not mapped to vertical
    # same direction (the +-pi branch cut may differ by the sign of a zero)
    assert math.remainder(quaternion_to_yaw(wxyz) - quaternion_yaw(Quaternion(wxyz).normalised), 2 * math.pi) == \
        pytest.approx(0.0, abs=1e-9)


@given(angles)
def test_yaw_round_trip(yaw):
    assert math.remainder(quaternion_to_yaw(yaw_to_quaternion(yaw)) - yaw, 2 * math.pi) == pytest.approx(0.0, abs=1e-9)


def test_quaternion_to_yaw_rejects_zero():
    with pytest.raises(ValueError, match="zero quaternion"):
        quaternion_to_yaw((0, 0, 0, 0))


@given(coords, coords, angles, st.floats(0.1, 10.0), st.floats(0.1, 5.0))
def test_footprint_corners_match_devkit_box(x, y, yaw, length, width):
    box = Box([x, y, 1.0], [width, length, 2.0], Quaternion(axis=[0.0, 0.0, 1.0], angle=yaw))
    bottom = box.bottom_corners()[:2].T          # devkit order: (+l,-w), (+l,+w), (-l,+w), (-l,-w)
    expected = bottom[[1, 2, 3, 0]]              # front-left, rear-left, rear-right, front-right
    np.testing.assert_allclose(footprint_corners(x, y, yaw, length / 2, width / 2), expected, atol=1e-9)


def test_footprint_corners_broadcast():
    c = footprint_corners(np.zeros((3, 5)), 0.0, np.zeros((3, 5)), 2.0, np.ones(5))
    assert c.shape == (3, 5, 4, 2)
    np.testing.assert_allclose(c[0, 0], [[2, 1], [-2, 1], [-2, -1], [2, -1]])


@given(coords, coords, angles, coords, coords)
def test_se2_matches_devkit_transform_matrix(x, y, yaw, px, py):
    T4 = transform_matrix(np.array([x, y, 0.0]), Quaternion(axis=[0.0, 0.0, 1.0], angle=yaw))
    T = se2_matrix(x, y, yaw)
    np.testing.assert_allclose(T[:2, :2], T4[:2, :2], atol=1e-12)
    np.testing.assert_allclose(T[:2, 2], T4[:2, 3], atol=1e-9)
    p = np.array([[px, py]])
    np.testing.assert_allclose(se2_apply(T, p)[0], (T4 @ [px, py, 0.0, 1.0])[:2], atol=1e-7)
    np.testing.assert_allclose(se2_apply(se2_inverse(T), se2_apply(T, p)), p, atol=1e-7)
    np.testing.assert_allclose(se2_inverse(T), np.linalg.inv(T), atol=1e-7)


def test_se2_batched():
    T = se2_matrix(np.array([1.0, 0.0]), np.array([0.0, 2.0]), np.array([0.0, math.pi / 2]))
    out = se2_apply(T, np.array([[[1.0, 0.0]], [[1.0, 0.0]]]))
    np.testing.assert_allclose(out[:, 0], [[2.0, 0.0], [0.0, 3.0]], atol=1e-12)


def test_lane_to_world_analytic():
    # a lane heading north from (10, 5): 3 m along, 1 m to its left is west
    np.testing.assert_allclose(lane_to_world((10.0, 5.0), math.pi / 2, 3.0, 1.0), [[9.0, 8.0]], atol=1e-12)
    pts = lane_to_world((0.0, 0.0), 0.3, np.array([0.0, 1.0, 2.0]), -0.5)
    np.testing.assert_allclose(pts, se2_apply(se2_matrix(0.0, 0.0, 0.3), np.array([[0, -0.5], [1, -0.5], [2, -0.5]])))
