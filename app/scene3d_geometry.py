"""Geometry for the 3D view, in plain numpy (no Qt, no GL): camera frustums and map line segments.

World frame: x, y on the ground, z up, metres. Cameras come from `engine.rig` (OpenCV camera axes).
"""
from __future__ import annotations

import numpy as np

from engine.rig.camera import Camera
from engine.scenario.map_elements import RoadMap


def frustum_segments(camera: Camera, world_from_ego: np.ndarray, depth: float = 8.0) -> np.ndarray:
    """(16, 3) line-segment end points (8 segments) of a camera's viewing pyramid to `depth` metres.

    Four edges from the optical centre to the image corners at `depth`, and the far rectangle.
    """
    w, h = camera.width, camera.height
    kinv = np.linalg.inv(camera.K)
    corners_px = np.array([[0, 0, 1], [w, 0, 1], [w, h, 1], [0, h, 1]], dtype=np.float64).T  # (3, 4)
    rays = kinv @ corners_px
    far = rays / rays[2:3] * depth                                                           # (3, 4) camera frame
    m = camera.world_from_camera(world_from_ego)
    pts = (m[:3, :3] @ far + m[:3, 3:4]).T                                                   # (4, 3)
    origin = m[:3, 3]
    segs = []
    for i in range(4):
        segs += [origin, pts[i]]
    for i in range(4):
        segs += [pts[i], pts[(i + 1) % 4]]
    return np.asarray(segs)


def camera_label_position(camera: Camera, world_from_ego: np.ndarray, depth: float = 8.0) -> np.ndarray:
    """(3,) world point at the centre of the far face of the frustum, for the camera's name."""
    kinv = np.linalg.inv(camera.K)
    c = kinv @ np.array([camera.width / 2, camera.height / 2, 1.0])
    p = c / c[2] * depth
    m = camera.world_from_camera(world_from_ego)
    return m[:3, :3] @ p + m[:3, 3]


def polyline_segments(lines: list[np.ndarray], z: float = 0.02) -> np.ndarray:
    """(2K, 3) segment end points joining consecutive points of each (N, 2) polyline, at height z."""
    segs = []
    for a in lines:
        a = np.asarray(a, dtype=np.float64).reshape(-1, 2)
        if len(a) < 2:
            continue
        s = np.repeat(a, 2, axis=0)[1:-1]
        segs.append(np.column_stack([s, np.full(len(s), z)]))
    return np.concatenate(segs) if segs else np.zeros((0, 3))


def map_line_sets(road_map: RoadMap) -> dict[str, np.ndarray]:
    """Segments (2K, 3) per map layer: boundaries, dividers, centre lines and crossings."""
    crossings = [np.vstack([c.array, c.array[:1]]) for c in road_map.ped_crossings if len(c.array)]
    return {
        "boundaries": polyline_segments([b.array for b in road_map.lane_boundaries], 0.03),
        "dividers": polyline_segments([d.array for d in road_map.lane_dividers], 0.03),
        "centres": polyline_segments([l.array for l in road_map.lanes], 0.02),
        "crossings": polyline_segments(crossings, 0.025),
    }


def box_wire_segments(corners: np.ndarray) -> np.ndarray:
    """(24, 3) segments of a box's 12 edges from its (3, 8) corners in nuscenes-devkit `Box.corners` order."""
    c = np.asarray(corners).T
    edges = [(0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4), (0, 4), (1, 5), (2, 6), (3, 7)]
    return np.asarray([c[i] for e in edges for i in e])
