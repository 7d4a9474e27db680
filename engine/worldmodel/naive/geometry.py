"""Per-pixel geometry of a rig, computed once: where each pixel's surface point lies in the ego frame.

For camera k and pixel (u, v) with camera-frame depth z (metres along the optical axis), the point is
    p_ego = origin[k] + z * ray[k, v, u]
with ray = R_ego_from_cam @ K^-1 [u, v, 1] (a ray scaled to unit camera z, not unit length).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from engine.rig import CameraRig


@dataclass(frozen=True)
class RigGeometry:
    """rays (V, 3, H, W) float32 per-unit-depth ego-frame rays; origins (V, 3) camera centres in the ego
    frame; elevation (V, H, W) float32 sine of each pixel ray's elevation above the horizon."""

    rig: CameraRig
    rays: NDArray[np.float32]
    origins: NDArray[np.float64]
    elevation: NDArray[np.float32]

    @classmethod
    def of(cls, rig: CameraRig) -> "RigGeometry":
        w, h = rig.size
        u, v = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
        pix = np.stack([u, v, np.ones_like(u)], axis=0).reshape(3, -1)  # (3, H*W)
        rays = np.empty((len(rig), 3, h, w), dtype=np.float32)
        elev = np.empty((len(rig), h, w), dtype=np.float32)
        origins = np.empty((len(rig), 3), dtype=np.float64)
        for k, cam in enumerate(rig):
            m = cam.ego_from_camera
            r = m[:3, :3] @ np.linalg.inv(cam.K) @ pix
            rays[k] = r.reshape(3, h, w)
            elev[k] = (r[2] / np.linalg.norm(r, axis=0)).reshape(h, w)
            origins[k] = m[:3, 3]
        return cls(rig, rays, origins, elev)

    def project(self, points_ego: NDArray[np.float64], k: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Pixel coordinates (2, N) and camera-frame depth (N,) of ego-frame points (3, N) in camera k."""
        cam = self.rig.cameras[k]
        m = cam.camera_from_ego
        pc = m[:3, :3] @ points_ego + m[:3, 3:4]
        z = pc[2]
        with np.errstate(divide="ignore", invalid="ignore"):
            uv = (cam.K @ pc)[:2] / z
        return uv, z
