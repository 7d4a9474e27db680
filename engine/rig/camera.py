"""One calibrated camera: nuScenes name, output size, intrinsics and its pose on the ego vehicle.

Frames (as in nuScenes):
    camera frame  OpenCV convention: x right, y down, z forward (optical axis), metres
    ego frame     x forward, y left, z up, metres
    world frame   the scenario's frame: x, y on the ground, z up

`rotation` is the unit quaternion [w, x, y, z] that takes camera-frame vectors into the ego frame and
`translation` the camera origin in the ego frame, exactly as in a nuScenes ``calibrated_sensor`` record.
Pixel coordinates follow nuScenes/OpenCV: u to the right, v down, integer values at pixel centres.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pyquaternion import Quaternion

from engine.rig.devkit import transform_matrix, view_points   # nuscenes-devkit's, without its package import

Matrix3 = tuple[tuple[float, float, float], tuple[float, float, float], tuple[float, float, float]]


@dataclass(frozen=True)
class Camera:
    """A pinhole camera on the ego vehicle.

    `intrinsic` is K for an image of `width` x `height` pixels (already scaled to that size).
    """

    name: str
    width: int
    height: int
    intrinsic: Matrix3
    translation: tuple[float, float, float]
    rotation: tuple[float, float, float, float]

    def __post_init__(self) -> None:
        k = np.asarray(self.intrinsic, dtype=np.float64)
        if k.shape != (3, 3) or not np.all(np.isfinite(k)) or k[0, 0] <= 0 or k[1, 1] <= 0:
            raise ValueError(f"camera {self.name}: intrinsic must be a finite 3x3 matrix with fx, fy > 0, got {self.intrinsic!r}")
        if int(self.width) <= 0 or int(self.height) <= 0:
            raise ValueError(f"camera {self.name}: image size must be positive, got {self.width}x{self.height}")
        q = np.asarray(self.rotation, dtype=np.float64)
        if q.shape != (4,) or not np.all(np.isfinite(q)) or abs(np.linalg.norm(q) - 1.0) > 1e-3:
            raise ValueError(f"camera {self.name}: rotation must be a unit quaternion [w, x, y, z], got {self.rotation!r}")
        t = np.asarray(self.translation, dtype=np.float64)
        if t.shape != (3,) or not np.all(np.isfinite(t)):
            raise ValueError(f"camera {self.name}: translation must be 3 finite numbers, got {self.translation!r}")
        object.__setattr__(self, "width", int(self.width))
        object.__setattr__(self, "height", int(self.height))
        object.__setattr__(self, "intrinsic", tuple(tuple(float(v) for v in row) for row in k))
        object.__setattr__(self, "translation", tuple(float(v) for v in t))
        object.__setattr__(self, "rotation", tuple(float(v) for v in q / np.linalg.norm(q)))

    # ---- matrices ------------------------------------------------------------------
    @property
    def K(self) -> NDArray[np.float64]:
        """(3, 3) float64 intrinsic matrix for `width` x `height`."""
        return np.array(self.intrinsic, dtype=np.float64)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.width, self.height

    @cached_property
    def quaternion(self) -> Quaternion:
        """Camera-to-ego rotation as a pyquaternion."""
        return Quaternion(list(self.rotation))

    @cached_property
    def ego_from_camera(self) -> NDArray[np.float64]:
        """(4, 4) float64 transform taking camera-frame points into the ego frame."""
        m: NDArray[np.float64] = transform_matrix(np.array(self.translation), self.quaternion)
        return m

    @cached_property
    def camera_from_ego(self) -> NDArray[np.float64]:
        """(4, 4) float64 inverse of `ego_from_camera`."""
        m: NDArray[np.float64] = transform_matrix(np.array(self.translation), self.quaternion, inverse=True)
        return m

    def camera_from_world(self, world_from_ego: NDArray[np.float64]) -> NDArray[np.float64]:
        """(4, 4) transform world -> camera for an ego pose `world_from_ego` (4, 4)."""
        m: NDArray[np.float64] = self.camera_from_ego @ _rigid_inverse(world_from_ego)
        return m

    def world_from_camera(self, world_from_ego: NDArray[np.float64]) -> NDArray[np.float64]:
        """(4, 4) transform camera -> world for an ego pose `world_from_ego` (4, 4)."""
        m: NDArray[np.float64] = world_from_ego @ self.ego_from_camera
        return m

    # ---- sizes ---------------------------------------------------------------------
    def scaled(self, width: int, height: int) -> "Camera":
        """The same camera for another output size: fx, cx scale by width ratio, fy, cy by height ratio."""
        sx, sy = width / self.width, height / self.height
        k = self.K
        k[0, :] *= sx
        k[1, :] *= sy
        return Camera(self.name, width, height, matrix3(k), self.translation, self.rotation)

    @property
    def horizontal_fov(self) -> float:
        """Horizontal field of view in radians."""
        k = self.K
        return float(np.arctan2(k[0, 2] + 0.5, k[0, 0]) + np.arctan2(self.width - k[0, 2] - 0.5, k[0, 0]))

    # ---- projection ----------------------------------------------------------------
    def project(self, points_camera: NDArray[np.float64]) -> NDArray[np.float64]:
        """Pixel coordinates (2, N) of camera-frame points (3, N) (nuscenes-devkit `view_points`).

        Points behind the camera (z <= 0) project to meaningless values: check `points_camera[2]` first.
        """
        pts = np.asarray(points_camera, dtype=np.float64)
        uv: NDArray[np.float64] = view_points(pts, self.K, normalize=True)[:2]
        return uv

    def to_calibrated_sensor(self) -> dict[str, Any]:
        """A nuScenes ``calibrated_sensor``-style record for this camera at its current size."""
        return {
            "translation": list(self.translation),
            "rotation": list(self.rotation),
            "camera_intrinsic": [list(r) for r in self.intrinsic],
        }


def matrix3(k: NDArray[np.float64]) -> Matrix3:
    """A (3, 3) array as the nested float tuple stored in `Camera.intrinsic`."""
    if k.shape != (3, 3):
        raise ValueError(f"expected a 3x3 matrix, got shape {k.shape}")
    r0, r1, r2 = ((float(a), float(b), float(c)) for a, b, c in k)
    return (r0, r1, r2)


def _rigid_inverse(m: NDArray[np.float64]) -> NDArray[np.float64]:
    """(4, 4) inverse of a rigid transform (rotation + translation)."""
    m = np.asarray(m, dtype=np.float64)
    out = np.eye(4)
    r = m[:3, :3].T
    out[:3, :3] = r
    out[:3, 3] = -r @ m[:3, 3]
    return out
