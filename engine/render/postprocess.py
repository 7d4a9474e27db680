"""Finishing a camera's maps after the GL read-back: inserted mask, object colour, Canny edges, blanking.

Dream4Drive conditions the world model on the scene's depth, normals and edges with the inserted
objects cut out (their pixels blank) and on the objects themselves in the object map and mask.
"""
from __future__ import annotations

from typing import Any, TypeVar

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.render.frame import CameraMaps

_P = TypeVar("_P", np.uint8, np.float32)   # pixel types that the masked blanking handles


def _inserted(lut: NDArray[np.bool_], instance: NDArray[np.int32]) -> NDArray[np.bool_]:
    """(H, W) bool: pixels whose instance id is inserted (ids index `lut`; the renderer only issues those)."""
    if lut[1:].all():                     # every agent inserted (a synthetic scene): a plain comparison
        positive: NDArray[np.bool_] = instance > 0
        return positive
    if not lut.any():
        return np.zeros(instance.shape, bool)
    return np.take(lut, instance)


def _rgb_source(rgb: NDArray[np.uint8] | None) -> NDArray[np.uint8]:
    """The shaded image that the object and edge maps are made from (the renderer always reads it for them)."""
    if rgb is None:
        raise ValueError("the object and edge maps are made from the rgb map, which was not read back")
    return rgb


def finish_maps(m: CameraMaps, region: tuple[int, int, int, int] | None, inserted_lut: NDArray[np.bool_],
                edge_source: NDArray[np.uint8] | None, canny_low: int, canny_high: int, blank_dilate: int | None) -> None:
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
            np.multiply(_rgb_source(m.rgb)[sl], ins[..., None], out=m.object[sl])
        else:
            m.object[sl] = 0
    d = blank_dilate if any_inserted else None     # None: nothing to blank
    if m.edge is not None:
        if edge_source is not None:
            e = edge_source[sl].copy()
        else:
            e = np.asarray(cv2.Canny(cv2.cvtColor(_rgb_source(m.rgb)[sl], cv2.COLOR_RGB2GRAY), canny_low, canny_high),
                           np.uint8)
        if d is not None:
            grown = (np.asarray(cv2.dilate(ins.view(np.uint8), np.ones((2 * d + 1, 2 * d + 1), np.uint8)))
                     if d > 0 else ins)
            e[grown.view(bool)] = 0
        m.edge[sl] = e
    if d is not None:
        if m.depth is not None:
            m.depth[sl][ins] = 0.0
        if m.normal_encoded is not None:
            m.normal_encoded[sl][ins] = 0


def finish_stack(rgb: NDArray[np.uint8] | None, depth: NDArray[np.float32] | None,
                 normal_encoded: NDArray[np.uint8] | None, edge: NDArray[np.uint8] | None,
                 obj: NDArray[np.uint8] | None, instance: NDArray[np.int32], inserted: NDArray[np.bool_],
                 inserted_lut: NDArray[np.bool_], edge_sources: dict[int, NDArray[np.uint8]], canny_low: int,
                 canny_high: int, blank_dilate: int | None) -> None:
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
    rows, w = n * instance.shape[1], instance.shape[2]
    mask = inserted.reshape(rows, w).view(np.uint8)                    # (C*H, W) 0 / 1, the tiles stacked
    if obj is not None:   # rgb inside the mask, 0 elsewhere (OpenCV's masked copy: far faster than a multiply)
        obj.fill(0)
        cv2.copyTo(_rgb_source(rgb).reshape(rows, w, 3), mask, obj.reshape(rows, w, 3))
    blank = blank_dilate is not None
    if edge is not None:
        need_canny = [k for k in range(n) if k not in edge_sources]
        grey: NDArray[np.uint8] | None = None
        if need_canny:
            src = _rgb_source(rgb)
            grey = np.asarray(cv2.cvtColor(src.reshape(n * src.shape[1], src.shape[2], 3), cv2.COLOR_RGB2GRAY),
                              np.uint8).reshape(src.shape[:3])
        kernel = (np.ones((2 * blank_dilate + 1, 2 * blank_dilate + 1), np.uint8)
                  if blank_dilate is not None and blank_dilate > 0 else None)
        for k in range(n):
            if k in edge_sources:
                edge[k] = edge_sources[k]
            elif grey is not None:
                cv2.Canny(grey[k], canny_low, canny_high, edges=edge[k])
            if blank and any_cam[k]:
                mask_k = inserted[k].view(np.uint8)
                grown = np.asarray(cv2.dilate(mask_k, kernel), np.uint8) if kernel is not None else mask_k
                _blank(edge[k], grown)
    if blank and any_cam.any():
        if depth is not None:
            _blank(depth, mask)
        if normal_encoded is not None:
            _blank(normal_encoded, mask)


def _blank(a: NDArray[_P], mask: NDArray[np.uint8]) -> None:
    """a[mask != 0] = 0, in place. a: pixels with one value or a trailing axis of channels, e.g. (C, H, W) or
    (C, H, W, 3) stacked tiles, (H, W) one camera; mask: (rows, W) uint8 0 / 1, one entry per pixel of `a`.
    A masked copy of a cached zero array when `a` is C-contiguous (several times faster than boolean
    indexing), boolean indexing otherwise."""
    channels = a.size // mask.size
    trailing = () if channels == 1 else (channels,)
    if a.flags.c_contiguous:
        flat = a.reshape(*mask.shape, *trailing)        # a view of `a` (C-contiguous)
        cv2.copyTo(_zeros(flat.shape, a.dtype.type), mask, flat)
    else:
        a[mask.reshape(a.shape[:a.ndim - len(trailing)]).view(bool)] = 0


_ZEROS: dict[tuple[tuple[int, ...], type[np.generic]], NDArray[Any]] = {}


def _zeros(shape: tuple[int, ...], dtype: type[_P]) -> NDArray[_P]:
    """A read-only zero array of `shape` and `dtype`, made once per shape (a fresh one per call costs a page
    fault per 4 KiB page as OpenCV reads it: ~1 ms for the stacked normals of 6 cameras)."""
    z = _ZEROS.get((shape, dtype))
    if z is None:
        if len(_ZEROS) > 8:     # a few sizes in any run; never let the cache grow without bound
            _ZEROS.clear()
        z = _ZEROS[shape, dtype] = np.zeros(shape, dtype)
        z.flags.writeable = False
    made: NDArray[_P] = z
    return made
