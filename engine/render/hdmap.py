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
from engine.rig.projection import NEAR, clip_polygon, clip_segments, transform_points
from engine.scenario.map_elements import RoadMap

BOUNDARY_CHANNEL, DIVIDER_CHANNEL, CROSSING_CHANNEL = 0, 1, 2
MAX_RANGE = 150.0  # metres: farther map geometry is left out


@dataclass(frozen=True)
class MapSegments:
    """A road map as 3-D segments and polygons in the world frame, prepared once per map.

    segments: (N, 2, 3) float64 line segments; channel: (N,) which channel each is drawn into
    (BOUNDARY_CHANNEL or DIVIDER_CHANNEL); crossings: (M, 3) polygons.
    """

    segments: np.ndarray
    channel: np.ndarray
    crossings: tuple[np.ndarray, ...]

    @classmethod
    def from_map(cls, road_map: RoadMap) -> "MapSegments":
        segs, chans = [], []
        for lines, ch in ((road_map.lane_boundaries, BOUNDARY_CHANNEL), (road_map.lane_dividers, DIVIDER_CHANNEL)):
            for pl in lines:
                a = pl.array
                if len(a) >= 2:
                    p = np.column_stack([a, np.zeros(len(a))])
                    segs.append(np.stack([p[:-1], p[1:]], 1))
                    chans.append(np.full(len(a) - 1, ch))
        for sg in getattr(road_map, "signals", ()):     # H16: stop lines on the ground and signal poles
            (ax, ay), (bx, by) = sg.stop_line
            hx, hy = sg.position
            segs.append(np.array([[[ax, ay, 0.0], [bx, by, 0.0]], [[hx, hy, 0.0], [hx, hy, 3.0]]]))
            chans.append(np.full(2, BOUNDARY_CHANNEL))
        crossings = tuple(np.column_stack([c.array, np.zeros(len(c.array))]) for c in road_map.ped_crossings
                          if len(c.array) >= 3)
        return cls(np.concatenate(segs) if segs else np.zeros((0, 2, 3)),
                   np.concatenate(chans) if chans else np.zeros(0, int), crossings)


def render_hdmap(segments: MapSegments, camera: Camera, cam_from_world: np.ndarray,
                 out: np.ndarray | None = None, thickness: int | None = None) -> np.ndarray:
    """(H, W, 3) uint8 HD-map image of one camera; drawn into `out` when given.

    Kerbs are drawn a pixel thicker than dividers; geometry farther than MAX_RANGE is left out.
    """
    h, w = camera.height, camera.width
    img = np.empty((h, w, 3), np.uint8) if out is None else out
    thickness = thickness or max(1, int(round(w / 300)))
    channels = [np.zeros((h, w), np.uint8) for _ in range(3)]
    polys = []
    for poly in segments.crossings:
        pc = transform_points(cam_from_world, poly.T).T
        if np.linalg.norm(pc, axis=1).min() >= MAX_RANGE:
            continue
        if pc[:, 2].min() < NEAR:
            pc = clip_polygon(pc)
        if len(pc) >= 3:
            polys.append(_fixed(camera, pc))
    if polys:
        cv2.fillPoly(channels[CROSSING_CHANNEL], polys, 255, cv2.LINE_8, shift=2)
    if len(segments.segments):
        r, t = cam_from_world[:3, :3], cam_from_world[:3, 3]
        p0 = segments.segments[:, 0] @ r.T + t
        p1 = segments.segments[:, 1] @ r.T + t
        d = p1 - p0
        u = np.clip(-(p0 * d).sum(1) / np.maximum((d * d).sum(1), 1e-12), 0.0, 1.0)
        near_enough = np.linalg.norm(p0 + u[:, None] * d, axis=1) < MAX_RANGE  # camera-to-segment distance
        ch = segments.channel[near_enough]
        p0, p1 = p0[near_enough], p1[near_enough]
        keep = (p0[:, 2] >= NEAR) | (p1[:, 2] >= NEAR)
        p0, p1 = clip_segments(p0, p1)
        ch = ch[keep]
        if len(p0):
            lines = np.stack([_fixed(camera, p0), _fixed(camera, p1)], 1)
            for c, extra in ((DIVIDER_CHANNEL, 0), (BOUNDARY_CHANNEL, 1)):
                sel = lines[ch == c]
                if len(sel):
                    cv2.polylines(channels[c], list(sel), False, 255, thickness + extra, cv2.LINE_8, shift=2)
    cv2.merge(channels, dst=img)
    return img


def _fixed(camera: Camera, points: np.ndarray) -> np.ndarray:
    """(N, 3) camera-frame points in front of the camera -> (N, 2) int32 pixels with 2 fractional bits."""
    return np.rint(camera.project(points.T).T * 4).astype(np.int32)
