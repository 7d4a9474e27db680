"""Finishing a camera's maps after the GL read-back: inserted mask, object colour, Canny edges, blanking.

Dream4Drive conditions the world model on the scene's depth, normals and edges with the inserted
objects cut out (their pixels blank) and on the objects themselves in the object map and mask.
"""
from __future__ import annotations

import cv2
import numpy as np

from engine.render.frame import CameraMaps


def _inserted(lut: np.ndarray, instance: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels whose instance id is inserted (ids index `lut`; the renderer only issues those)."""
    if lut[1:].all():                     # every agent inserted (a synthetic scene): a plain comparison
        return instance > 0
    if not lut.any():
        return np.zeros(instance.shape, bool)
    return np.take(lut, instance)


def finish_maps(m: CameraMaps, region: tuple[int, int, int, int] | None, inserted_lut: np.ndarray,
                edge_source: np.ndarray | None, canny_low: int, canny_high: int, blank_dilate: int | None) -> None:
    """Fill m.inserted, m.object, m.edge and blank D, N, E, in place, whole image or `region` (u0, v0, u1, v1).

    inserted_lut: (max id + 1,) bool, which instance ids are inserted objects.
    edge_source: (H, W) uint8 precomputed edges (a real background's), or None for Canny on m.rgb.
    blank_dilate: None = no blanking; else the edge blanking reaches this many pixels beyond the mask
    (Canny marks object outlines on both sides of the border).
    Maps that are None in `m` (left out of a `render(t, maps=...)` request) are neither made nor blanked.
    """
    h, w = m.instance.shape
    u0, v0, u1, v1 = region if region is not None else (0, 0, w, h)
    sl = (slice(v0, v1), slice(u0, u1))
    ins = _inserted(inserted_lut, m.instance[sl])
    m.inserted[sl] = ins
    any_inserted = bool(ins.any())
    if m.object is not None:
        if any_inserted:
            np.multiply(m.rgb[sl], ins[..., None], out=m.object[sl])
        else:
            m.object[sl] = 0
    blank = blank_dilate is not None and any_inserted
    if m.edge is not None:
        if edge_source is not None:
            e = edge_source[sl].copy()
        else:
            e = cv2.Canny(cv2.cvtColor(m.rgb[sl], cv2.COLOR_RGB2GRAY), canny_low, canny_high)
        if blank:
            d = blank_dilate
            grown = cv2.dilate(ins.view(np.uint8), np.ones((2 * d + 1, 2 * d + 1), np.uint8)) if d > 0 else ins
            e[grown.view(bool)] = 0
        m.edge[sl] = e
    if blank:
        if m.depth is not None:
            m.depth[sl][ins] = 0.0
        if m.normal_encoded is not None:
            m.normal_encoded[sl][ins] = 0


def finish_stack(rgb: np.ndarray | None, depth: np.ndarray | None, normal_encoded: np.ndarray | None,
                 edge: np.ndarray | None, obj: np.ndarray | None, instance: np.ndarray, inserted: np.ndarray,
                 inserted_lut: np.ndarray, edge_sources: dict[int, np.ndarray], canny_low: int, canny_high: int,
                 blank_dilate: int | None) -> None:
    """`finish_maps` for all C cameras of a full render at once, in place, on the stacked arrays.

    rgb (C, H, W, 3) uint8, depth (C, H, W) float32, normal_encoded (C, H, W, 3) uint8, edge (C, H, W)
    uint8, obj (C, H, W, 3) uint8, instance (C, H, W) int32, inserted (C, H, W) bool (None = not
    wanted, as in `finish_maps`); edge_sources: camera index -> (H, W) precomputed edges. The
    per-pixel steps (mask, object colour, blanking, grey conversion) run once over the stack;
    Canny and the mask dilation run per camera (they look at neighbours and must not cross tiles).
    Same results as `finish_maps(m, None, ...)` camera by camera.
    """
    n = instance.shape[0]
    np.copyto(inserted, _inserted(inserted_lut, instance))
    any_cam = inserted.reshape(n, -1).any(axis=1)                       # (C,) any inserted pixel per camera
    if obj is not None:
        np.multiply(rgb, inserted[..., None], out=obj)
    blank = blank_dilate is not None
    if edge is not None:
        need_canny = [k for k in range(n) if k not in edge_sources]
        grey = None
        if need_canny:
            grey = cv2.cvtColor(rgb.reshape(n * rgb.shape[1], rgb.shape[2], 3), cv2.COLOR_RGB2GRAY).reshape(rgb.shape[:3])
        kernel = np.ones((2 * blank_dilate + 1, 2 * blank_dilate + 1), np.uint8) if blank and blank_dilate > 0 else None
        for k in range(n):
            if k in edge_sources:
                edge[k] = edge_sources[k]
            else:
                cv2.Canny(grey[k], canny_low, canny_high, edges=edge[k])
            if blank and any_cam[k]:
                grown = cv2.dilate(inserted[k].view(np.uint8), kernel) if kernel is not None else inserted[k]
                edge[k][grown.view(bool)] = 0
    if blank and any_cam.any():
        if depth is not None:
            depth[inserted] = 0.0
        if normal_encoded is not None:
            normal_encoded[inserted] = 0
