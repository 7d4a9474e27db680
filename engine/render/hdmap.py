"""The HD map projected into a camera: boundaries, dividers and crossings in separate colour channels.

Map elements lie on the ground (z = 0). Lines are clipped at the camera's near plane in 3-D before
projection (a pinhole maps straight segments to straight segments), then drawn with OpenCV.
`render_hdmaps` does the geometry of every camera of a rig in one set of array operations.
Channel layout of the (H, W, 3) uint8 image, each channel a 0 / 255 mask: R lane boundaries (kerbs),
G lane dividers, B pedestrian crossings (filled).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.rig.camera import Camera
from engine.rig.projection import NEAR, clip_polygon, clip_segments
from engine.scenario.map_elements import RoadMap

BOUNDARY_CHANNEL, DIVIDER_CHANNEL, CROSSING_CHANNEL = 0, 1, 2
MAX_RANGE = 150.0  # metres: farther map geometry is left out


@dataclass(frozen=True)
class MapSegments:
    """A road map as 3-D segments and polygons in the world frame, prepared once per map.

    segments: (N, 2, 3) float64 line segments; channel: (N,) which channel each is drawn into
    (BOUNDARY_CHANNEL or DIVIDER_CHANNEL); crossings: (M, 3) polygons.
    """

    segments: NDArray[np.float64]
    channel: NDArray[np.int64]
    crossings: tuple[NDArray[np.float64], ...]

    @classmethod
    def from_map(cls, road_map: RoadMap) -> "MapSegments":
        segs: list[NDArray[np.float64]] = []
        chans: list[NDArray[np.int64]] = []
        for lines, ch in ((road_map.lane_boundaries, BOUNDARY_CHANNEL), (road_map.lane_dividers, DIVIDER_CHANNEL)):
            for pl in lines:
                a = pl.array
                if len(a) >= 2:
                    p = np.column_stack([a, np.zeros(len(a))])
                    segs.append(np.stack([p[:-1], p[1:]], 1))
                    chans.append(np.full(len(a) - 1, ch, np.int64))
        for sg in getattr(road_map, "signals", ()):     # H16: stop lines on the ground and signal poles
            (ax, ay), (bx, by) = sg.stop_line
            hx, hy = sg.position
            segs.append(np.array([[[ax, ay, 0.0], [bx, by, 0.0]], [[hx, hy, 0.0], [hx, hy, 3.0]]]))
            chans.append(np.full(2, BOUNDARY_CHANNEL, np.int64))
        crossings = tuple(np.column_stack([c.array, np.zeros(len(c.array))]) for c in road_map.ped_crossings
                          if len(c.array) >= 3)
        return cls(np.concatenate(segs) if segs else np.zeros((0, 2, 3)),
                   np.concatenate(chans) if chans else np.zeros(0, np.int64), crossings)


def render_hdmap(segments: MapSegments, camera: Camera, cam_from_world: NDArray[np.float64],
                 out: NDArray[np.uint8] | None = None, thickness: int | None = None) -> NDArray[np.uint8]:
    """(H, W, 3) uint8 HD-map image of one camera; drawn into `out` when given.

    Kerbs are drawn a pixel thicker than dividers; geometry farther than MAX_RANGE is left out.
    """
    img = np.empty((1, camera.height, camera.width, 3), np.uint8) if out is None else out[None]
    render_hdmaps(segments, [camera], [cam_from_world], img, thickness)
    single: NDArray[np.uint8] = img[0]
    return single


def render_hdmaps(segments: MapSegments, cameras: Sequence[Camera], cams_from_world: Sequence[NDArray[np.float64]],
                  out: NDArray[np.uint8], thickness: int | None = None) -> NDArray[np.uint8]:
    """The HD-map images of C cameras of one size at once, drawn into `out` (C, H, W, 3) uint8; returns `out`.

    Same pixels as `render_hdmap` camera by camera: the transforms, range tests, near-plane clipping
    and projections run over all cameras' segments in a few array operations, and only the OpenCV
    drawing calls (a handful per camera) are made per camera. cams_from_world: (4, 4) world -> camera.
    Every pixel of `out` is written (it need not be cleared first).
    """
    n = len(cameras)
    if n == 0:
        return out
    h, w = cameras[0].height, cameras[0].width
    if out.shape != (n, h, w, 3) or any(c.size != (w, h) for c in cameras):
        raise ValueError(f"render_hdmaps: cameras must share one size and out be ({n}, {h}, {w}, 3), got {out.shape}")
    thickness = thickness or max(1, int(round(w / 300)))
    channels = np.zeros((n, 3, h, w), np.uint8)
    rot = np.stack([np.asarray(m, np.float64)[:3, :3] for m in cams_from_world])          # (C, 3, 3)
    trans = np.stack([np.asarray(m, np.float64)[:3, 3] for m in cams_from_world])         # (C, 3)
    rot_t = rot.transpose(0, 2, 1)
    polys = _crossing_polygons(segments.crossings, cameras, rot_t, trans)
    for k, pk in enumerate(polys):
        if pk:
            cv2.fillPoly(channels[k, CROSSING_CHANNEL], pk, (255,), cv2.LINE_8, shift=2)
    if len(segments.segments):
        p0 = segments.segments[None, :, 0] @ rot_t + trans[:, None]                        # (C, N, 3)
        p1 = segments.segments[None, :, 1] @ rot_t + trans[:, None]
        d = p1 - p0
        u = np.clip(-(p0 * d).sum(-1) / np.maximum((d * d).sum(-1), 1e-12), 0.0, 1.0)
        near_enough = np.linalg.norm(p0 + u[..., None] * d, axis=-1) < MAX_RANGE          # camera-to-segment distance
        keep = near_enough & ((p0[..., 2] >= NEAR) | (p1[..., 2] >= NEAR))                  # (C, N)
        cam_idx, seg_idx = np.nonzero(keep)                                                 # camera-major order
        q0, q1 = clip_segments(p0[cam_idx, seg_idx], p1[cam_idx, seg_idx])                 # near plane only
        ch = segments.channel[seg_idx]
        bounds = np.searchsorted(cam_idx, np.arange(n + 1))
        for k, cam in enumerate(cameras):
            a, b = bounds[k], bounds[k + 1]
            if a == b:
                continue
            px = _fixed(cam, np.concatenate([q0[a:b], q1[a:b]]))
            lines = np.stack([px[:b - a], px[b - a:]], 1)                                   # (M, 2, 2)
            for c, extra in ((DIVIDER_CHANNEL, 0), (BOUNDARY_CHANNEL, 1)):
                sel = lines[ch[a:b] == c]
                if len(sel):
                    cv2.polylines(channels[k, c], list(sel), False, (255,), thickness + extra, cv2.LINE_8, shift=2)
    for k in range(n):
        cv2.merge(list(channels[k]), dst=out[k])
    return out


def _crossing_polygons(crossings: tuple[NDArray[np.float64], ...], cameras: Sequence[Camera],
                       rot_t: NDArray[np.float64], trans: NDArray[np.float64]) -> list[list[NDArray[np.int32]]]:
    """Per camera, the fixed-point pixel polygons of the crossings in range (clipped at the near plane)."""
    out: list[list[NDArray[np.int32]]] = [[] for _ in cameras]
    if not crossings:
        return out
    verts = np.concatenate(crossings)                                                       # (V, 3)
    starts = np.cumsum([0] + [len(c) for c in crossings[:-1]])
    pc = verts[None] @ rot_t + trans[:, None]                                               # (C, V, 3)
    in_range = np.minimum.reduceat(np.linalg.norm(pc, axis=-1), starts, axis=1) < MAX_RANGE  # (C, P)
    in_front = np.minimum.reduceat(pc[..., 2], starts, axis=1) >= NEAR
    in_range &= np.maximum.reduceat(pc[..., 2], starts, axis=1) >= NEAR   # wholly behind: clipping leaves nothing
    ends = np.append(starts[1:], len(verts))
    for k, cam in enumerate(cameras):
        pieces = []
        for i, (s, e) in enumerate(zip(starts, ends)):
            if not in_range[k, i]:
                continue
            piece = pc[k, s:e] if in_front[k, i] else clip_polygon(pc[k, s:e])
            if len(piece) >= 3:
                pieces.append(piece)
        if not pieces:
            continue
        px = _fixed(cam, np.concatenate(pieces))
        sizes = np.cumsum([len(p) for p in pieces])[:-1]
        out[k] = list(np.split(px, sizes))
    return out


def _fixed(camera: Camera, points: NDArray[np.float64]) -> NDArray[np.int32]:
    """(N, 3) camera-frame points in front of the camera -> (N, 2) int32 pixels with 2 fractional bits."""
    px: NDArray[np.int32] = np.rint(camera.project(points.T).T * 4).astype(np.int32)
    return px
