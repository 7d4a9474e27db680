"""Projected 3-D boxes as a one-channel-per-class image (the layout condition of box-conditioned models).

Boxes are painted far to near: a nearer box overwrites every channel under its silhouette, so each
pixel belongs to at most one box. Inside a box: the silhouette (all faces) is FACE_VALUE, the front
face (+x, the heading) FRONT_VALUE when it faces the camera, and the 12 edges EDGE_VALUE.
Boxes that cross the camera's near plane are clipped in 3-D first (exact silhouettes); the clipping
and projection of all boxes of a camera is vectorised, only the drawing is done box by box.
"""
from __future__ import annotations

import cv2
import numpy as np

from engine.rig.camera import Camera
from engine.rig.projection import BOX_EDGES, NEAR

FACE_VALUE, FRONT_VALUE, EDGE_VALUE = 96, 160, 255
SHIFT = 2  # OpenCV sub-pixel bits
_EDGES = np.array(BOX_EDGES)
_FRONT = [0, 1, 2, 3]


def _px(uv: np.ndarray) -> np.ndarray:
    """(..., 2) pixel coordinates -> OpenCV fixed point."""
    # points behind the camera project to inf/nan; they are masked out by the caller, but must
    # not overflow the int32 cast (keep them far outside any image instead)
    fixed = np.nan_to_num(uv * (1 << SHIFT), nan=-(2.0 ** 28), posinf=2.0 ** 28, neginf=-(2.0 ** 28))
    return np.rint(np.clip(fixed, -(2.0 ** 28), 2.0 ** 28)).astype(np.int32)


def _clip_edges(corners: np.ndarray, near: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Box edges clipped to z >= near, for all boxes at once.

    corners (n, 3, 8) -> start (n, 12, 3), end (n, 12, 3), kept (n, 12) bool (an edge with any part in front).
    """
    a = corners[:, :, _EDGES[:, 0]].transpose(0, 2, 1)
    b = corners[:, :, _EDGES[:, 1]].transpose(0, 2, 1)
    za, zb = a[..., 2], b[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.clip(np.where(zb != za, (near - za) / (zb - za), 0.0), 0.0, 1.0)[..., None]
    cut = a + s * (b - a)
    start = np.where((za < near)[..., None], cut, a)
    end = np.where((zb < near)[..., None], cut, b)
    return start, end, (za >= near) | (zb >= near)


def render_boxes(boxes: list[tuple[int, np.ndarray]], camera: Camera, num_classes: int,
                 out: np.ndarray | None = None, out_is_zero: bool = False) -> np.ndarray:
    """(H, W, num_classes) uint8 box image of one camera, drawn into `out` when given
    (`out_is_zero`: `out` is known to be all zeros already, e.g. fresh from np.zeros, so it is not cleared).

    `boxes`: (class index, (3, 8) camera-frame corners in `Box.corners` order), ordered far to near.
    Every pixel is painted in one (H, W) uint16 image as (class + 1) * 256 + value, so that a nearer
    box replaces class and value at once; the channels are split out at the end.
    """
    h, w = camera.height, camera.width
    paint = np.zeros((h, w), np.uint16)
    thickness = max(1, int(round(w / 400)))
    if boxes:
        corners = np.stack([c for _, c in boxes])                        # (n, 3, 8)
        K = camera.K
        z = corners[:, 2]
        front_ok = z >= NEAR                                             # (n, 8)
        start, end, kept = _clip_edges(corners, NEAR)                     # (n, 12, 3) x2, (n, 12)
        crossing = kept & ~(front_ok[:, _EDGES[:, 0]] & front_ok[:, _EDGES[:, 1]])
        project = lambda p: _px((p[..., :2] @ K[:2, :2].T + p[..., 2:3] * K[:2, 2]) / np.maximum(p[..., 2:3], NEAR))
        corner_px = project(corners.transpose(0, 2, 1))                  # (n, 8, 2), valid where front_ok
        start_px, end_px = project(start), project(end)                  # (n, 12, 2), valid where kept
        # where an edge crosses the near plane, its clipped end point is a vertex of the visible part
        cut_px = np.where((z[:, _EDGES[:, 0]] < NEAR)[..., None], start_px, end_px)
        front = corners[:, :, _FRONT]
        normal = np.cross(front[:, :, 1] - front[:, :, 0], front[:, :, 3] - front[:, :, 0])
        facing = np.einsum("ni,ni->n", normal, front.mean(axis=2)) < 0  # the front face looks at the camera
        whole = front_ok.all(axis=1)                                     # no clipping needed (the common case)
        edge_px = np.ascontiguousarray(corner_px[:, _EDGES])             # (n, 12, 2, 2)
    for i, (cls, _) in enumerate(boxes):
        base = (cls + 1) * 256
        if whole[i]:
            hull = cv2.convexHull(corner_px[i])
            face = corner_px[i][_FRONT] if facing[i] else None
            segs = edge_px[i]
        else:
            if not kept[i].any():
                continue
            pts = np.concatenate([corner_px[i][front_ok[i]], cut_px[i][crossing[i]]])
            if len(pts) < 3:
                continue
            hull = cv2.convexHull(pts)
            face = None
            if facing[i]:   # edges 0-3 are the front face's: their clipped ends outline its visible part
                face = np.concatenate([corner_px[i][_FRONT][front_ok[i][_FRONT]], cut_px[i][:4][crossing[i][:4]]])
                face = cv2.convexHull(face) if len(face) >= 3 else None
            segs = np.stack([start_px[i][kept[i]], end_px[i][kept[i]]], 1)
        cv2.fillConvexPoly(paint, hull, base + FACE_VALUE, cv2.LINE_8, SHIFT)
        if face is not None:
            cv2.fillConvexPoly(paint, face, base + FRONT_VALUE, cv2.LINE_8, SHIFT)
        cv2.polylines(paint, list(segs), False, base + EDGE_VALUE, thickness, cv2.LINE_8, SHIFT)
    img = np.zeros((h, w, num_classes), np.uint8) if out is None else out
    if out is not None and not out_is_zero:
        img[:] = 0
    flat = np.flatnonzero(paint)
    p = paint.ravel()[flat]
    img.reshape(-1, num_classes)[flat, (p >> 8).astype(np.intp) - 1] = (p & 255).astype(np.uint8)
    return img
