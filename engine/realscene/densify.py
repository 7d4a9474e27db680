"""Dense depth from sparse LiDAR depth, on the CPU in milliseconds.

Method 'ipbasic' (default) follows Ku, Harakeh and Waslander, "In Defense of Classical Image
Processing: Fast Depth Completion on the CPU" (CRV 2018): depths are inverted (``max_depth - z``)
so that grey-level dilation prefers the nearer point, then a diamond dilation, a closing, small
and large hole fills, a median and a Gaussian blur (the latter only on filled pixels, as wide as
one beam gap so the steps between beams become ramps and normals stay smooth), and the
inversion is undone. Kernel sizes are the paper's for a 64-beam LiDAR on KITTI (beams about 5 px
apart) scaled by `beam_gap_px`, the expected pixel distance between neighbouring beams in this
image (`beam_gap_pixels`). Unlike the paper, nothing is extrapolated above the highest return:
pixels no fill reaches (sky, beyond range) stay 0 = unknown.

`supported_mask` says where a dense value is backed by the measurement: LiDAR returns lie above
and below the pixel within about one beam gap (after closing the small horizontal gaps along each
beam). Everything else (the sky, beyond the LiDAR's range, the band between a near object's top beam
and a far building's) is left unknown (0) by `densify_depth`: no depth is invented where no return
supports it, and a pixel's validity is simply ``depth > 0``.

Method 'nearest' copies to every empty pixel the depth of the nearest measured pixel within
`max_gap_px` (a Voronoi fill; sharp but blocky).

The LiDAR sits above and behind the cameras, so it sees some background points that the camera
sees hidden behind a near object; 'ipbasic' overwrites those with the nearer neighbours (the
dilation prefers near points). Both methods slightly widen near objects into the background around
them, which errs towards hiding an inserted asset behind a real object rather than drawing it
through one.
"""
from __future__ import annotations

import math
from typing import Literal, get_args

import cv2
import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

DensifyMethod = Literal["ipbasic", "nearest"]
METHODS: tuple[DensifyMethod, ...] = get_args(DensifyMethod)
KITTI_BEAM_GAP_PX = 5.0
HDL32_BEAM_SPACING_DEG = 1.33     # nuScenes' Velodyne HDL-32E: 32 beams over 41.3 degrees


def beam_gap_pixels(fy: float, beam_spacing_deg: float = HDL32_BEAM_SPACING_DEG) -> float:
    """Expected vertical pixel distance between neighbouring LiDAR beams near the horizon."""
    return float(fy * math.tan(math.radians(beam_spacing_deg)))


def _odd(x: float) -> int:
    k = max(3, int(round(x)))
    return k if k % 2 else k + 1


def _diamond(k: int) -> NDArray[np.uint8]:
    r = k // 2
    y, x = np.ogrid[-r:r + 1, -r:r + 1]
    kernel: NDArray[np.uint8] = (np.abs(x) + np.abs(y) <= r).astype(np.uint8)   # np.ogrid is untyped
    return kernel


def densify_ipbasic(sparse: NDArray[np.float32], beam_gap_px: float = KITTI_BEAM_GAP_PX,
                    max_depth: float = 100.0) -> NDArray[np.float32]:
    """(H, W) float32 sparse depth (0 = none) -> (H, W) float32 dense depth (0 = still unknown)."""
    s = beam_gap_px / KITTI_BEAM_GAP_PX
    d = np.asarray(sparse, dtype=np.float32).copy()
    valid = d > 0.1
    d[valid] = np.clip(max_depth - d[valid], 0.1, max_depth)
    # cv2 keeps the float32 dtype; np.asarray only tells the type checker (no copy)
    d = np.asarray(cv2.dilate(d, _diamond(_odd(5 * s))), np.float32)
    d = np.asarray(cv2.morphologyEx(d, cv2.MORPH_CLOSE, np.ones((_odd(5 * s),) * 2, np.uint8)), np.float32)
    empty = d < 0.1
    grown = cv2.dilate(d, np.ones((_odd(7 * s),) * 2, np.uint8))
    d[empty] = grown[empty]
    empty = d < 0.1
    grown = cv2.dilate(d, np.ones((_odd(31 * s),) * 2, np.uint8))
    d[empty] = grown[empty]
    filled = d > 0.1
    d = np.asarray(cv2.medianBlur(d, 5), np.float32)
    filled &= d > 0.1
    k = _odd(2 * beam_gap_px + 1)              # a blur across one beam gap turns the steps between beams into ramps
    blurred = cv2.GaussianBlur(d, (k, k), 0)
    d = np.where(filled, blurred, 0.0).astype(np.float32)
    return np.where(d > 0.1, max_depth - d, 0.0).astype(np.float32)


def densify_nearest(sparse: NDArray[np.float32], max_gap_px: float = 40.0) -> NDArray[np.float32]:
    """(H, W) float32 sparse depth -> each empty pixel takes the nearest measurement within `max_gap_px`."""
    d = np.asarray(sparse, dtype=np.float32)
    valid = d > 0.1
    if not valid.any():
        return np.zeros_like(d)
    dist, (iy, ix) = ndimage.distance_transform_edt(~valid, return_indices=True)
    out: NDArray[np.float32] = d[iy, ix]
    out[dist > max_gap_px] = 0.0
    return out.astype(np.float32)


SUPPORT_REACH_GAPS = 1.6     # a pixel is supported by returns at most this many beam gaps above and below it


def supported_mask(sparse: NDArray[np.float32], beam_gap_px: float = KITTI_BEAM_GAP_PX,
                   reach_gaps: float = SUPPORT_REACH_GAPS) -> NDArray[np.bool_]:
    """(H, W) bool: pixels with LiDAR returns both above and below within `reach_gaps` beam gaps.

    Returns along one beam are closed horizontally over about two beam gaps first (the azimuth spacing
    is finer than the beam spacing), so the mask covers the surfaces the LiDAR swept and nothing
    above its highest return or beyond its range.
    """
    valid = (np.asarray(sparse) > 0.1).astype(np.uint8)
    h, w = valid.shape
    if not valid.any():
        return np.zeros((h, w), bool)
    # close the gaps along a beam (a closing: it bridges gaps between returns, never extends past the last one)
    grown = cv2.dilate(valid, np.ones((3, 1), np.uint8))         # the returns of one beam wander by a pixel
    swept = cv2.morphologyEx(grown, cv2.MORPH_CLOSE, np.ones((1, _odd(2 * beam_gap_px)), np.uint8)).astype(bool)
    rows = np.arange(h, dtype=np.int32)[:, None]
    big = np.int32(1 << 28)
    above = np.maximum.accumulate(np.where(swept, rows, -big), axis=0)              # last return at or above
    below = np.minimum.accumulate(np.where(swept, rows, big)[::-1], axis=0)[::-1]   # next return at or below
    below = np.where(below >= big, h - 1 + np.int32(0) * below, below)              # the ground runs on below the frame
    reach = max(1.0, reach_gaps * beam_gap_px)
    supported: NDArray[np.bool_] = (rows - above <= reach) & (below - rows <= reach)
    return supported


def densify_depth(sparse: NDArray[np.float32], method: DensifyMethod = "ipbasic",
                  beam_gap_px: float = KITTI_BEAM_GAP_PX, max_depth: float = 100.0,
                  support: NDArray[np.bool_] | None = None) -> NDArray[np.float32]:
    """(H, W) float32 dense depth by `method` ('ipbasic' or 'nearest'), 0 where no return supports a value
    (`supported_mask`, or the given `support` (H, W) bool); ValueError names a bad method."""
    if method == "ipbasic":
        dense = densify_ipbasic(sparse, beam_gap_px, max_depth)
    elif method == "nearest":
        dense = densify_nearest(sparse, max_gap_px=8 * max(beam_gap_px, 1.0))
    else:
        raise ValueError(f"unknown densification method {method!r}; expected one of {', '.join(METHODS)}")
    if support is None:
        support = supported_mask(sparse, beam_gap_px)
    return np.where(support, dense, np.float32(0.0)).astype(np.float32)
