"""Depth of the annotated (recorded) objects' boxes in a real camera, fused with the LiDAR depth.

The LiDAR sees a real car as a few beams; densifying them smears the car's depth into whatever is
around it (or leaves its outline ragged), so an inserted asset behind the car would be hidden in the
wrong places. The annotations give each recorded object's box at every key frame (interpolated at
the image's own capture time): its silhouette and front-surface depth are exact where the object is
box-like, so occlusion by real objects uses them as well as the LiDAR.

    boxes, world_from_ego = frame_boxes(scene, index, camera.name)   # the recorded boxes at the image's time
    depth = box_depth(boxes, camera, camera.camera_from_world(world_from_ego))   # (H, W) float32 m, 0 = no box
    fused = fuse_box_depth(lidar_dense, depth)           # nearest of the two where both are known

Per pixel the box depth is the camera-frame z where the pixel's ray enters the box (slab test in
the box frame), so it agrees with the rasterised silhouette exactly.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.rig.camera import Camera
from engine.rig.pose import agent_present

if TYPE_CHECKING:
    from engine.scenario.model import Scenario
    from engine.sources.nuscenes_reader import NuScenesScene

Box = tuple[NDArray[np.float64], tuple[float, float, float]]
"""A box: world_from_box (4, 4) and size (w, l, h), the box frame centred, x along the length, z up."""


def box_depth(boxes: list[Box], camera: Camera, camera_from_world: NDArray[np.float64]) -> NDArray[np.float32]:
    """(H, W) float32 camera-frame z of the nearest box surface per pixel, 0 where no box is hit.

    boxes: [(world_from_box (4, 4), size (w, l, h))], the box frame centred with x along the length,
    y along the width, z up; camera_from_world: (4, 4). Pixel (u, v) is the ray through the pixel
    coordinates (u, v) (integer = pixel centre, as `Camera.project` and the renderer use them).
    """
    w, h = camera.size
    out = np.full((h, w), np.inf, np.float32)
    k_inv = _k_inverse(camera.K)
    for world_from_box, size in boxes:
        cam_from_box = camera_from_world @ world_from_box
        half = np.array([size[1] / 2, size[0] / 2, size[2] / 2])
        corners = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]) * half
        pc = corners @ cam_from_box[:3, :3].T + cam_from_box[:3, 3]
        if (pc[:, 2] <= 0.05).all():
            continue
        if (pc[:, 2] > 0.05).all():          # the pixel rectangle around the projected corners
            uv = pc @ camera.K.T
            uv = uv[:, :2] / uv[:, 2:3]
            u0, v0 = np.floor(uv.min(axis=0)).astype(int)
            u1, v1 = np.ceil(uv.max(axis=0)).astype(int)
            u0, v0, u1, v1 = max(u0, 0), max(v0, 0), min(u1, w - 1), min(v1, h - 1)
            if u0 > u1 or v0 > v1:
                continue
        else:                                 # the camera is beside or inside the box: test every pixel
            u0, v0, u1, v1 = 0, 0, w - 1, h - 1
        uu, vv = np.meshgrid(np.arange(u0, u1 + 1, dtype=np.float64), np.arange(v0, v1 + 1, dtype=np.float64))
        rays = k_inv @ np.stack([uu.ravel(), vv.ravel(), np.ones(uu.size)])        # (3, N), camera z = 1
        box_from_cam = _rigid_inverse(cam_from_box)
        o = box_from_cam[:3, 3]
        d = box_from_cam[:3, :3] @ rays
        d = np.where(np.abs(d) < 1e-12, 1e-12, d)
        t1 = (-half[:, None] - o[:, None]) / d
        t2 = (half[:, None] - o[:, None]) / d
        t_in = np.minimum(t1, t2).max(axis=0)
        t_out = np.maximum(t1, t2).min(axis=0)
        hit = (t_out >= t_in) & (t_out > 0.05)
        z = np.where(hit, np.maximum(t_in, 0.05), np.inf).reshape(uu.shape).astype(np.float32)
        region = out[v0:v1 + 1, u0:u1 + 1]
        np.minimum(region, z, out=region)
    out[~np.isfinite(out)] = 0.0
    return out


def _rigid_inverse(m: NDArray[np.float64]) -> NDArray[np.float64]:
    """(4, 4) inverse of a rotation + translation (no general matrix inverse: small and exact)."""
    out = np.eye(4)
    out[:3, :3] = m[:3, :3].T
    out[:3, 3] = -m[:3, :3].T @ m[:3, 3]
    return out


def _k_inverse(k: NDArray[np.float64]) -> NDArray[np.float64]:
    """(3, 3) inverse of pinhole intrinsics [[fx, s, cx], [0, fy, cy], [0, 0, 1]]."""
    fx, s, cx, fy, cy = k[0, 0], k[0, 1], k[0, 2], k[1, 1], k[1, 2]
    return np.array([[1 / fx, -s / (fx * fy), (s * cy - cx * fy) / (fx * fy)], [0, 1 / fy, -cy / fy], [0, 0, 1.0]])


def recorded_boxes(scenario: Scenario, t: float) -> list[Box]:
    """[(world_from_box (4, 4), size (w, l, h))] of the scenario's recorded (locked) agents at time t
    (seconds of the scenario clock), boxes standing on z = 0 as the scenario places them."""
    out: list[Box] = []
    for a in scenario.agents:
        if not a.locked or not agent_present(a, t):
            continue
        x, y, yaw = a.trajectory.pose_at(t)
        c, s = np.cos(yaw), np.sin(yaw)
        m = np.eye(4)
        m[:3, :3] = [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]
        m[:3, 3] = (x, y, a.size[2] / 2)
        w, l, h = a.size
        out.append((m, (float(w), float(l), float(h))))
    return out


def frame_boxes(scene: NuScenesScene, index: int, camera_name: str) -> tuple[list[Box], NDArray[np.float64]]:
    """The recorded boxes of frame `index` at that camera image's own capture time, and the image's
    ego pose world_from_ego (4, 4), for a `NuScenesScene`."""
    frame = scene.frame(index, camera_name)
    t = (frame.timestamp_us - scene.t0_us) / 1e6
    return recorded_boxes(scene.scenario, t), frame.world_from_ego


def points_in_boxes(points_cam: NDArray[np.float64], boxes: list[Box], camera_from_world: NDArray[np.float64],
                    margin: float = 0.3) -> NDArray[np.bool_]:
    """(N,) bool: which camera-frame points (3, N) lie inside any box grown by `margin` metres per side
    (nuscenes-devkit `points_in_box` with a margin for the sweep-to-image time difference)."""
    inside = np.zeros(points_cam.shape[1], bool)
    for world_from_box, size in boxes:
        box_from_cam = _rigid_inverse(camera_from_world @ world_from_box)
        local = box_from_cam[:3, :3] @ points_cam + box_from_cam[:3, 3:4]
        half = np.array([size[1] / 2, size[0] / 2, size[2] / 2])[:, None] + margin
        inside |= (np.abs(local) <= half).all(axis=0)
    return inside


def fuse_box_depth(depth: NDArray[np.float32], boxes: NDArray[np.float32], measured: NDArray[np.float32] | None = None,
                   reach_px: int = 5, tolerance_m: float = 0.5) -> NDArray[np.float32]:
    """(H, W) float32: the box depth inside the boxes' silhouettes, `depth` elsewhere.

    Inside a silhouette `depth` wins only where something was measured clearly in front of the box:
    `measured` (H, W) float32 sparse returns (0 = none; the objects' own returns left out) nearer than
    the box by `tolerance_m`, grown by `reach_px`. Filled-in depth alone never overrides a box (hole
    filling pours the road in front of a car into the car's outline). Without `measured`, any
    `depth` value clearly nearer than the box wins.
    """
    d = np.asarray(depth, np.float32)
    b = np.asarray(boxes, np.float32)
    has_box = b > 0
    nearer = (d > 0) & (d < b - tolerance_m)
    if measured is not None:
        m = np.asarray(measured, np.float32)
        seen = ((m > 0) & (m < b - tolerance_m)).astype(np.uint8)
        if seen.any():
            k = 2 * max(int(reach_px), 0) + 1
            seen = np.asarray(cv2.dilate(seen, np.ones((k, k), np.uint8)), np.uint8)   # cv2 keeps uint8 (no copy)
        nearer &= seen.astype(bool)
    return np.where(has_box & ~nearer, b, d).astype(np.float32)
