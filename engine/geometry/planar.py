"""Planar geometry: angle wrapping, SE(2) poses, oriented footprints, yaw <-> quaternion, lane frames.

Conventions: ground plane, x forward, y left, metres; yaw (rad) counter-clockwise from +x about +z.
Every function broadcasts over leading shapes unless its docstring says otherwise.
"""
from __future__ import annotations

import math
from typing import Any, Iterable, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

# Footprint corners in the box frame, as multiples of (half length, half width), in the order
# front-left, rear-left, rear-right, front-right (the order of `Agent.box_corners_2d`).
CORNER_SIGNS = np.array([[1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]])


@overload
def wrap_angle(a: float) -> float: ...
@overload
def wrap_angle(a: NDArray[Any]) -> NDArray[np.floating[Any]]: ...
def wrap_angle(a: NDArray[Any] | float) -> NDArray[np.floating[Any]] | float:
    """Angle(s) wrapped to [-pi, pi); same shape and float precision as `a` (a numpy float64 for a scalar)."""
    out: NDArray[np.floating[Any]] | float = (np.asarray(a) + math.pi) % (2 * math.pi) - math.pi
    return out


def se2_matrix(x: ArrayLike, y: ArrayLike, yaw: ArrayLike) -> FloatArray:
    """(..., 3, 3) homogeneous world_from_body transform(s) of pose(s) (x, y, yaw) of shape (...)."""
    x, y, yaw = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (x, y, yaw)))
    c, s = np.cos(yaw), np.sin(yaw)
    out = np.zeros(x.shape + (3, 3))
    out[..., 0, 0], out[..., 0, 1], out[..., 0, 2] = c, -s, x
    out[..., 1, 0], out[..., 1, 1], out[..., 1, 2] = s, c, y
    out[..., 2, 2] = 1.0
    return out


def se2_inverse(T: ArrayLike) -> FloatArray:
    """(..., 3, 3) inverse of SE(2) transform(s) T (..., 3, 3): rotation transposed, translation -R^T t."""
    T = np.asarray(T, dtype=np.float64)
    rt: FloatArray = np.swapaxes(T[..., :2, :2], -1, -2)
    out = np.zeros_like(T)
    out[..., :2, :2] = rt
    out[..., :2, 2] = -np.einsum("...ij,...j->...i", rt, T[..., :2, 2])
    out[..., 2, 2] = 1.0
    return out


def se2_apply(T: ArrayLike, pts: ArrayLike) -> FloatArray:
    """Points (..., N, 2) mapped by transform T (3, 3) (or (..., 3, 3) broadcast against the points)."""
    T = np.asarray(T, dtype=np.float64)
    pts = np.asarray(pts, dtype=np.float64)
    out: FloatArray = np.einsum("...ij,...nj->...ni", T[..., :2, :2], pts) + T[..., None, :2, 2]
    return out


def footprint_corners(x: ArrayLike, y: ArrayLike, yaw: ArrayLike, half_length: ArrayLike,
                      half_width: ArrayLike) -> FloatArray:
    """Footprint corners, shape (..., 4, 2), of boxes with centres/yaws (...) and half sizes broadcastable to it.

    Order front-left, rear-left, rear-right, front-right (`CORNER_SIGNS`); world frame of the centres.
    """
    x, y, yaw, hl, hw = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (x, y, yaw, half_length, half_width)))
    return footprint_corners_trig(x, y, np.cos(yaw), np.sin(yaw), hl, hw)


def footprint_corners_trig(x: FloatArray, y: FloatArray, cos_yaw: FloatArray, sin_yaw: FloatArray, half_length: FloatArray,
                           half_width: FloatArray) -> FloatArray:
    """`footprint_corners` from the cosine and sine of the yaws (already at hand), inputs of one shape (...)."""
    c, s, hl, hw = cos_yaw[..., None], sin_yaw[..., None], half_length, half_width
    lx = CORNER_SIGNS[:, 0] * hl[..., None]
    ly = CORNER_SIGNS[:, 1] * hw[..., None]
    out: FloatArray = np.stack([x[..., None] + c * lx - s * ly, y[..., None] + s * lx + c * ly], axis=-1)
    return out


def yaw_to_quaternion(yaw: float) -> tuple[float, float, float, float]:
    """(w, x, y, z) unit quaternion of a rotation by `yaw` about +z (nuScenes' rotation order)."""
    h = 0.5 * float(yaw)
    return (math.cos(h), 0.0, 0.0, math.sin(h))


def quaternion_to_yaw(wxyz: Iterable[float]) -> float:
    """Yaw (rad, in (-pi, pi]) of the rotated +x axis of a (w, x, y, z) rotation, projected on the ground.

    Matches nuscenes-devkit's `quaternion_yaw`; for pure z rotations it inverts `yaw_to_quaternion`.
    """
    w, x, y, z = (float(v) for v in wxyz)
    n = math.sqrt(w * w + x * x + y * y + z * z)
    if n == 0.0:
        raise ValueError("quaternion_to_yaw: zero quaternion")
    w, x, y, z = w / n, x / n, y / n, z / n
    # first column of the rotation matrix (the image of +x)
    vx = 1.0 - 2.0 * (y * y + z * z)
    vy = 2.0 * (x * y + w * z)
    return math.atan2(vy, vx)


def lane_to_world(origin: ArrayLike, heading: float, s: ArrayLike, lat: ArrayLike) -> FloatArray:
    """(N, 2) world points of straight-lane coordinates: `s` along `heading` from `origin`, `lat` to its left.

    origin: (2,) world point of s = 0, lat = 0; s, lat: (N,) metres (scalars broadcast).
    """
    s_arr, lat_arr = np.broadcast_arrays(np.atleast_1d(np.asarray(s, float)), np.atleast_1d(np.asarray(lat, float)))
    tangent = np.array([math.cos(heading), math.sin(heading)])
    normal = np.array([-math.sin(heading), math.cos(heading)])
    out: FloatArray = np.asarray(origin, dtype=np.float64) + s_arr[:, None] * tangent + lat_arr[:, None] * normal
    return out
