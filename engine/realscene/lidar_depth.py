"""LiDAR points projected into a camera: a sparse depth image (nuScenes' own projection chain).

Each sweep's points go sensor -> ego (at the sweep's time) -> world -> ego (at the image's time)
-> camera, exactly as nuscenes-devkit's `NuScenesExplorer.map_pointcloud_to_image`, then through
the camera's intrinsics (devkit `view_points`). Several sweeps can be accumulated for density;
they assume a static world, so moving objects leave a trail of `num_sweeps` positions.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from nuscenes.utils.data_classes import LidarPointCloud
from nuscenes.utils.geometry_utils import view_points

from engine.rig.camera import Camera
from engine.sources.errors import SceneSourceError
from engine.sources.streams import CameraFrame, LidarSweep

MIN_DISTANCE = 1.0   # m: closer points are the ego itself (as in the devkit)


@lru_cache(maxsize=64)
def _load_points(path: str) -> NDArray[np.float64]:
    try:
        points: NDArray[np.float64] = LidarPointCloud.from_file(path).points[:3].astype(np.float64)   # devkit: untyped
        return points
    except (OSError, ValueError) as e:
        raise SceneSourceError(f"cannot read LiDAR points {path}: {e}") from None


def load_sweep_points(sweep: LidarSweep) -> NDArray[np.float64]:
    """(3, N) float64 points of a sweep in the sensor frame (cached: sweeps are shared by cameras)."""
    return _load_points(str(sweep.path))


def points_in_camera(sweeps: list[LidarSweep], frame: CameraFrame, camera: Camera) -> NDArray[np.float64]:
    """(3, N) camera-frame points (OpenCV axes) of `sweeps` as seen by `camera` at the time of `frame`."""
    cam_from_world = camera.camera_from_world(frame.world_from_ego)
    out = []
    for sw in sweeps:
        pts = load_sweep_points(sw)
        m = cam_from_world @ sw.world_from_ego @ sw.ego_from_sensor
        out.append(m[:3, :3] @ pts + m[:3, 3:4])
    return np.concatenate(out, axis=1) if out else np.zeros((3, 0))


def sparse_depth(points_cam: NDArray[np.float64], camera: Camera, min_distance: float = MIN_DISTANCE) -> NDArray[np.float32]:
    """(H, W) float32 depth (camera-frame z, m) of the nearest point per pixel; 0 where no point falls.

    `camera` fixes the image size and intrinsics (already scaled to the output size).
    """
    w, h = camera.size
    z = points_cam[2]
    keep = z > min_distance
    pts = points_cam[:, keep]
    z = z[keep]
    out = np.full(h * w, np.inf, dtype=np.float32)
    if pts.shape[1]:
        uv = view_points(pts, camera.K, normalize=True)[:2]
        u = np.round(uv[0]).astype(np.int64)
        v = np.round(uv[1]).astype(np.int64)
        inside = (u >= 0) & (u < w) & (v >= 0) & (v < h)
        np.minimum.at(out, v[inside] * w + u[inside], z[inside].astype(np.float32))
    out[~np.isfinite(out)] = 0.0
    return out.reshape(h, w)


def lidar_sparse_depth(sweeps: list[LidarSweep], frame: CameraFrame, camera: Camera) -> NDArray[np.float32]:
    """(H, W) float32 sparse depth of `sweeps` in `camera` at the time of `frame` (0 = no point)."""
    return sparse_depth(points_in_camera(sweeps, frame, camera), camera)
