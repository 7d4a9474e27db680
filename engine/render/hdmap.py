"""The HD map projected into a camera: boundaries, dividers and crossings in separate colour channels.

Map elements lie on the ground (z = 0). Lines are clipped at the camera's near plane in 3-D before
projection (a pinhole maps straight segments to straight segments), then drawn with OpenCV.
Channel layout of the (H, W, 3) uint8 image, each channel a 0 / 255 mask: R lane boundaries (kerbs),
G lane dividers, B pedestrian crossings (filled).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engine.rig.camera import Camera
from engine.rig.projection import clip_polygon, clip_segments, transform_points
from engine.scenario.roadmap import RoadMap

BOUNDARY_CHANNEL, DIVIDER_CHANNEL, CROSSING_CHANNEL = 0, 1, 2
MAX_RANGE = 150.0  # metres: farther map geometry is left out


@dataclass(frozen=True)
class MapSegments:
    """A road map as 3-D segments and polygons in the world frame, prepared once per map.

    boundaries, dividers: (N, 2, 3) float64 segments; crossings: list of (M, 3) polygons.
    """

    boundaries: np.ndarray
    dividers: np.ndarray
    crossings: tuple[np.ndarray, ...]

    @classmethod
    def from_map(cls, road_map: RoadMap) -> "MapSegments":
        def segs(lines) -> np.ndarray:
            out = []
            for pl in lines:
                a = pl.array
                if len(a) >= 2:
                    p = np.column_stack([a, np.zeros(len(a))])
                    out.append(np.stack([p[:-1], p[1:]], 1))
            return np.concatenate(out) if out else np.zeros((0, 2, 3))

        crossings = tuple(np.column_stack([c.array, np.zeros(len(c.array))]) for c in road_map.ped_crossings
                          if len(c.array) >= 3)
        return cls(segs(road_map.lane_boundaries), segs(road_map.lane_dividers), crossings)


def _draw_segments(img: np.ndarray, segs: np.ndarray, camera: Camera, cam_from_world: np.ndarray, thickness: int) -> None:
    if len(segs) == 0:
        return
    p0 = transform_points(cam_from_world, segs[:, 0].T).T
    p1 = transform_points(cam_from_world, segs[:, 1].T).T
    d = p1 - p0
    t = np.clip(-(p0 * d).sum(1) / np.maximum((d * d).sum(1), 1e-12), 0.0, 1.0)
    near_enough = np.linalg.norm(p0 + t[:, None] * d, axis=1) < MAX_RANGE  # distance camera-segment
    p0, p1 = clip_segments(p0[near_enough], p1[near_enough])
    if len(p0) == 0:
        return
    lines = np.stack([camera.project(p0.T).T, camera.project(p1.T).T], 1)
    cv2.polylines(img, list(np.rint(lines * 4).astype(np.int32)), False, 255, thickness, cv2.LINE_8, shift=2)


def render_hdmap(segments: MapSegments, camera: Camera, cam_from_world: np.ndarray,
                 out: np.ndarray | None = None, thickness: int | None = None) -> np.ndarray:
    """(H, W, 3) uint8 HD-map image of one camera; drawn into `out` (cleared) when given."""
    h, w = camera.height, camera.width
    img = np.empty((h, w, 3), np.uint8) if out is None else out
    thickness = thickness or max(1, int(round(w / 300)))
    channels = [np.zeros((h, w), np.uint8) for _ in range(3)]
    polys = []
    for poly in segments.crossings:
        pc = clip_polygon(transform_points(cam_from_world, poly.T).T)
        if len(pc) >= 3 and np.linalg.norm(pc, axis=1).min() < MAX_RANGE:
            polys.append(np.rint(camera.project(pc.T).T * 4).astype(np.int32))
    if polys:
        cv2.fillPoly(channels[CROSSING_CHANNEL], polys, 255, cv2.LINE_8, shift=2)
    _draw_segments(channels[DIVIDER_CHANNEL], segments.dividers, camera, cam_from_world, thickness)
    _draw_segments(channels[BOUNDARY_CHANNEL], segments.boundaries, camera, cam_from_world, thickness + 1)
    cv2.merge(channels, dst=img)
    return img
