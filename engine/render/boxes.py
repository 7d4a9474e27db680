"""Projected 3-D boxes as a one-channel-per-class image (the layout condition of box-conditioned models).

Boxes are painted far to near: a nearer box overwrites every channel under its silhouette, so each
pixel belongs to at most one box. Inside a box: the silhouette (all faces) is FACE_VALUE, the front
face (+x, the heading) FRONT_VALUE when it faces the camera, and the 12 edges EDGE_VALUE.
Boxes that cross the camera's near plane are clipped in 3-D first (exact silhouettes); the clipping
and projection of all boxes of all cameras is vectorised (`render_box_stack`), only the drawing
is done box by box, and the class channels of every camera are split out in one pass.
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.rig.camera import Camera
from engine.rig.projection import BOX_EDGES, NEAR

FACE_VALUE, FRONT_VALUE, EDGE_VALUE = 96, 160, 255
SHIFT = 2  # OpenCV sub-pixel bits
_EDGES = np.array(BOX_EDGES)
_FRONT = [0, 1, 2, 3]


def _px(uv: NDArray[np.float64]) -> NDArray[np.int32]:
    """(..., 2) pixel coordinates -> OpenCV fixed point."""
    # points behind the camera project to inf/nan; they are masked out by the caller, but must not
    # overflow the int32 cast: nan goes far to the negative side, +-inf to the far side (as
    # nan_to_num then clip would; fmax/fmin skip nan)
    fixed = np.fmin(np.fmax(uv * (1 << SHIFT), -(2.0 ** 28)), 2.0 ** 28)
    px: NDArray[np.int32] = np.rint(fixed).astype(np.int32)
    return px


def _clip_edges(corners: NDArray[np.float64],
                near: float) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
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


def render_boxes(boxes: list[tuple[int, NDArray[np.float64]]], camera: Camera, num_classes: int,
                 out: NDArray[np.uint8] | None = None, out_is_zero: bool = False) -> NDArray[np.uint8]:
    """(H, W, num_classes) uint8 box image of one camera, drawn into `out` when given
    (`out_is_zero`: `out` is known to be all zeros already, e.g. fresh from np.zeros, so it is not cleared).

    `boxes`: (class index, (3, 8) camera-frame corners in `Box.corners` order), ordered far to near.
    Every pixel is painted in one (H, W) uint16 image as (class + 1) * 256 + value, so that a nearer
    box replaces class and value at once; the channels are split out at the end.
    """
    img = np.zeros((1, camera.height, camera.width, num_classes), np.uint8) if out is None else out[None]
    render_box_stack([boxes], [camera], num_classes, img, out_is_zero=out is None or out_is_zero)
    single: NDArray[np.uint8] = img[0]
    return single


def render_box_stack(boxes: Sequence[Sequence[tuple[int, NDArray[np.float64]]]], cameras: Sequence[Camera],
                     num_classes: int, out: NDArray[np.uint8], out_is_zero: bool = False) -> NDArray[np.uint8]:
    """`render_boxes` for C cameras of one size at once, into `out` (C, H, W, num_classes) uint8; returns `out`.

    boxes[k]: camera k's (class index, (3, 8) camera-frame corners), far to near. The clipping,
    projection and facing tests run over every box of every camera in one set of array operations;
    only the OpenCV drawing is done box by box, and the channels of all cameras are split out at once.
    """
    n_cam = len(cameras)
    if n_cam == 0:
        return out
    h, w = cameras[0].height, cameras[0].width
    if out.shape != (n_cam, h, w, num_classes) or any(c.size != (w, h) for c in cameras):
        raise ValueError(f"render_box_stack: cameras must share one size and out be "
                         f"({n_cam}, {h}, {w}, {num_classes}), got {out.shape}")
    paint = np.zeros((n_cam, h, w), np.uint16)
    thickness = max(1, int(round(w / 400)))
    counts = [len(b) for b in boxes]
    if sum(counts):
        corners = np.stack([c for cam_boxes in boxes for _, c in cam_boxes])   # (n, 3, 8), camera by camera
        z = corners[:, 2]
        front_ok = z >= NEAR                                             # (n, 8)
        start, end, kept = _clip_edges(corners, NEAR)                     # (n, 12, 3) x2, (n, 12)
        crossing = kept & ~(front_ok[:, _EDGES[:, 0]] & front_ok[:, _EDGES[:, 1]])
        # corners (valid where front_ok), clipped edge starts and ends (valid where kept): 8 + 12 + 12 points
        points = np.concatenate([corners.transpose(0, 2, 1), start, end], axis=1)   # (n, 32, 3)
        proj = np.empty(points.shape[:2] + (2,))
        first = 0
        for cam, count in zip(cameras, counts):
            if count:
                p = points[first:first + count]
                K = cam.K
                proj[first:first + count] = ((p[..., :2] @ K[:2, :2].T + p[..., 2:3] * K[:2, 2])
                                             / np.maximum(p[..., 2:3], NEAR))
                first += count
        px = _px(proj)
        corner_px, start_px, end_px = px[:, :8], px[:, 8:20], px[:, 20:]
        # where an edge crosses the near plane, its clipped end point is a vertex of the visible part
        cut_px = np.where((z[:, _EDGES[:, 0]] < NEAR)[..., None], start_px, end_px)
        front = corners[:, :, _FRONT]
        normal = np.cross(front[:, :, 1] - front[:, :, 0], front[:, :, 3] - front[:, :, 0])
        facing = np.einsum("ni,ni->n", normal, front.mean(axis=2)) < 0  # the front face looks at the camera
        whole = front_ok.all(axis=1)                                     # no clipping needed (the common case)
        edge_px = np.ascontiguousarray(corner_px[:, _EDGES])             # (n, 12, 2, 2)
        corner_px = np.ascontiguousarray(corner_px)
        front_px = np.ascontiguousarray(corner_px[:, _FRONT])
        i = 0
        for k, cam_boxes in enumerate(boxes):
            canvas = paint[k]
            for cls, _ in cam_boxes:
                _draw_box(canvas, (cls + 1) * 256, thickness, bool(whole[i]), bool(facing[i]), corner_px[i],
                          front_px[i], edge_px[i], front_ok[i], kept[i], crossing[i], cut_px[i], start_px[i],
                          end_px[i])
                i += 1
        row_ranges = _painted_rows(px, front_ok, kept, counts, h, thickness)
    else:
        row_ranges = [(0, 0)] * n_cam
    if not out_is_zero:
        out[:] = 0
    # split the channels out, scanning only the rows each camera's boxes can have painted
    flat = np.concatenate([k * h * w + v0 * w + np.flatnonzero(paint[k, v0:v1] != 0)   # a bool scan is ~4x faster
                           for k, (v0, v1) in enumerate(row_ranges)])
    p = paint.ravel()[flat]
    out.reshape(-1, num_classes)[flat, (p >> 8).astype(np.intp) - 1] = (p & 255).astype(np.uint8)
    return out


def _painted_rows(px: NDArray[np.int32], front_ok: NDArray[np.bool_], kept: NDArray[np.bool_], counts: list[int],
                  height: int, thickness: int) -> list[tuple[int, int]]:
    """Per camera, image rows [v0, v1) that hold every pixel its boxes may have painted.

    px (n, 32, 2): fixed-point corners, clipped edge starts and ends; every point a box is drawn from
    is a valid one of these (corners in front of the near plane, ends of kept edges). The range is
    grown by the line thickness and rounding, and clipped to the image.
    """
    valid = np.concatenate([front_ok, kept, kept], axis=1)                 # (n, 32)
    v = px[..., 1]
    lo = np.where(valid, v, np.iinfo(np.int32).max).min(axis=1)          # (n,) per box
    hi = np.where(valid, v, np.iinfo(np.int32).min).max(axis=1)
    margin = thickness + 2
    out = []
    first = 0
    for count in counts:
        if count == 0:
            out.append((0, 0))
            continue
        box_lo, box_hi = int(lo[first:first + count].min()), int(hi[first:first + count].max())
        first += count
        if box_lo > box_hi:   # no valid point: nothing drawn
            out.append((0, 0))
            continue
        v0 = min(max((box_lo >> SHIFT) - margin, 0), height)
        v1 = min(max((box_hi >> SHIFT) + 1 + margin, 0), height)
        out.append((v0, v1))
    return out


def _draw_box(paint: NDArray[np.uint16], base: int, thickness: int, whole: bool, facing: bool,
              corner_px: NDArray[np.int32], front_px: NDArray[np.int32], edge_px: NDArray[np.int32],
              front_ok: NDArray[np.bool_], kept: NDArray[np.bool_], crossing: NDArray[np.bool_],
              cut_px: NDArray[np.int32], start_px: NDArray[np.int32], end_px: NDArray[np.int32]) -> None:
    """Paint one box (fixed-point pixels of its corners (8, 2), front face (4, 2), edges (12, 2, 2) and,
    when it crosses the near plane, the clipped edges) as base + FACE/FRONT/EDGE_VALUE."""
    if whole:
        hull = cv2.convexHull(corner_px)
        face = front_px if facing else None
        segs = edge_px
    else:
        if not kept.any():
            return
        pts = np.concatenate([corner_px[front_ok], cut_px[crossing]])
        if len(pts) < 3:
            return
        hull = cv2.convexHull(pts)
        face = None
        if facing:   # edges 0-3 are the front face's: their clipped ends outline its visible part
            outline = np.concatenate([front_px[front_ok[_FRONT]], cut_px[:4][crossing[:4]]])
            face = cv2.convexHull(outline) if len(outline) >= 3 else None
        segs = np.stack([start_px[kept], end_px[kept]], 1)
    cv2.fillConvexPoly(paint, hull, (base + FACE_VALUE,), cv2.LINE_8, SHIFT)
    if face is not None:
        cv2.fillConvexPoly(paint, face, (base + FRONT_VALUE,), cv2.LINE_8, SHIFT)
    cv2.polylines(paint, list(segs), False, (base + EDGE_VALUE,), thickness, cv2.LINE_8, SHIFT)
