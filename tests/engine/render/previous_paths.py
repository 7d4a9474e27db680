"""The previous (per-camera, per-box, per-polyline Python) HD-map, boxes and BEV drawing, kept as references.

`engine.render.hdmap.render_hdmaps` and `engine.render.boxes.render_box_stack` batch this work over
all cameras, `BevRasterizer` transforms every polyline and footprint at once; the equivalence tests
check that they give the same pixels as these functions (copied from the previous implementation).
"""
from __future__ import annotations

import cv2
import numpy as np

from engine.render.bev import MAP_LAYERS, SHIFT as BEV_SHIFT, BevRasterizer
from engine.render.boxes import EDGE_VALUE, FACE_VALUE, FRONT_VALUE, SHIFT
from engine.render.hdmap import BOUNDARY_CHANNEL, CROSSING_CHANNEL, DIVIDER_CHANNEL, MAX_RANGE, MapSegments
from engine.rig.camera import Camera
from engine.rig.projection import BOX_EDGES, NEAR, clip_polygon, clip_segments, transform_points

_EDGES = np.array(BOX_EDGES)
_FRONT = [0, 1, 2, 3]


def previous_render_hdmap(segments: MapSegments, camera: Camera, cam_from_world: np.ndarray,
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


def previous_render_boxes(boxes: list[tuple[int, np.ndarray]], camera: Camera, num_classes: int,
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


def previous_bev_map_layers(bev: BevRasterizer, ego_from_world: np.ndarray) -> np.ndarray:
    """(rows, cols, 4) uint8 map layers for the ego pose, one transform per polyline."""
    rows, cols = bev.spec.size
    out = np.zeros((len(MAP_LAYERS), rows, cols), np.uint8)
    tf = lambda a: bev.spec.pixels(a @ ego_from_world[:2, :2].T + ego_from_world[:2, 3])
    for rings in bev.drivable:
        cv2.fillPoly(out[0], [tf(r) for r in rings], 255, cv2.LINE_8, BEV_SHIFT)
    if bev.crossings:
        cv2.fillPoly(out[1], [tf(c) for c in bev.crossings], 255, cv2.LINE_8, BEV_SHIFT)
    if bev.dividers:
        cv2.polylines(out[2], [tf(d) for d in bev.dividers], False, 255, 1, cv2.LINE_8, BEV_SHIFT)
    if bev.boundaries:
        cv2.polylines(out[3], [tf(b) for b in bev.boundaries], False, 255, 2, cv2.LINE_8, BEV_SHIFT)
    return np.ascontiguousarray(out.transpose(1, 2, 0))


def previous_bev_agent_layers(bev: BevRasterizer, footprints: list[tuple[str, np.ndarray]],
                              ego_from_world: np.ndarray) -> np.ndarray:
    """(rows, cols, 10) uint8 class layers, one transform per footprint."""
    rows, cols = bev.spec.size
    classes = bev._classes
    out = np.zeros((len(classes), rows, cols), np.uint8)
    for cls, corners in footprints:
        px = bev.spec.pixels(corners @ ego_from_world[:2, :2].T + ego_from_world[:2, 3])
        cv2.fillConvexPoly(out[classes.index(cls)], px, 255, cv2.LINE_8, BEV_SHIFT)
    return np.ascontiguousarray(out.transpose(1, 2, 0))
