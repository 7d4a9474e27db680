"""Colourised 8-bit views of every guidance map, for display (editor preview) and contact sheets.

`colorize(maps, name)` turns one camera's map into (H, W, 3) uint8 RGB; `colorize_bev(bev, channels)`
does the same for the bird's-eye raster. Nothing here changes the maps themselves.
"""
from __future__ import annotations

from functools import lru_cache

from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.classes import CLASS_COLORS, class_names
from engine.render.frame import MAP_NAMES, CameraMaps

DEPTH_RANGE = (2.0, 150.0)   # metres mapped onto the colour scale (log depth, near = warm)
BEV_MAP_COLORS = {"drivable": (70, 70, 76), "ped_crossing": (200, 200, 200), "lane_divider": (240, 200, 40),
                  "lane_boundary": (230, 60, 60)}


@lru_cache(maxsize=1)
def _class_palette() -> NDArray[np.float32]:
    return np.array([CLASS_COLORS[c] for c in class_names()], np.float32)


@lru_cache(maxsize=4)
def instance_palette(n: int = 4096) -> NDArray[np.uint8]:
    """(n, 3) uint8 distinct colours for instance ids (golden-ratio hues); id 0 is black."""
    hues = (np.arange(n) * 0.618033988749895) % 1.0
    hsv = np.stack([hues * 179, np.full(n, 200), np.full(n, 255)], -1).astype(np.uint8)[None]
    rgb: NDArray[np.uint8] = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0]
    rgb[0] = 0
    return rgb


@lru_cache(maxsize=1)
def _turbo_lut() -> NDArray[np.uint8]:
    """(257, 3) uint8 RGB: entry 0 is black (no depth), entries 1..256 the turbo scale from far to near."""
    bgr = cv2.applyColorMap(np.arange(256, dtype=np.uint8)[:, None], cv2.COLORMAP_TURBO)
    ramp = np.asarray(bgr, dtype=np.uint8)[:, 0, ::-1]
    return np.concatenate([np.zeros((1, 3), np.uint8), ramp])


def colorize_depth(depth: NDArray[np.floating[Any]], depth_range: tuple[float, float] = DEPTH_RANGE) -> NDArray[np.uint8]:
    """(H, W) metres -> (H, W, 3) uint8: log depth on the turbo scale (near red, far blue), 0 (no depth) black."""
    near, far = depth_range
    d = np.maximum(depth.astype(np.float32, copy=False), np.float32(near))
    idx = (np.float32(256.0) - np.log(d * np.float32(1.0 / near)) * np.float32(255.0 / np.log(far / near)))
    idx = np.clip(idx, 1, 256).astype(np.intp)
    idx[depth <= 0] = 0
    rgb: NDArray[np.uint8] = _turbo_lut()[idx]
    return rgb


def colorize_instances(instance: NDArray[np.integer[Any]]) -> NDArray[np.uint8]:
    """(H, W) int ids -> (H, W, 3) uint8 colours (0 black)."""
    pal = instance_palette()
    rgb: NDArray[np.uint8] = pal[np.mod(instance, len(pal))]
    return rgb


def colorize_boxes(boxes: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """(H, W, 10) per-class box channels -> (H, W, 3) uint8 in the class colours, brightness = value."""
    h, w, c = boxes.shape
    flat = boxes.reshape(-1, c)
    rows = np.flatnonzero(flat.any(axis=1))
    out = np.zeros((h * w, 3), np.uint8)
    if len(rows):
        out[rows] = np.clip(flat[rows].astype(np.float32) @ _class_palette()[:c] / 255.0, 0, 255).astype(np.uint8)
    return out.reshape(h, w, 3)


def colorize(maps: CameraMaps, name: str) -> NDArray[np.uint8]:
    """(H, W, 3) uint8 RGB view of one map of one camera (`name` in MAP_NAMES).

    KeyError names an unknown map or one that was not rendered (as `CameraMaps.get`).
    """
    if name not in MAP_NAMES:
        raise KeyError(f"unknown map {name!r}; maps: {', '.join(MAP_NAMES)}")
    if name in ("rgb", "object", "hdmap"):
        rgb: NDArray[np.uint8] = maps.get(name)
        return rgb
    if name == "depth":
        return colorize_depth(maps.get("depth"))
    if name == "normal":
        encoded = maps.normal_encoded
        if encoded is None:
            raise KeyError(f"{maps.name}: map 'normal' was not rendered (left out of render(t, maps=...))")
        return encoded
    if name == "edge":
        return np.repeat(maps.get("edge")[..., None], 3, axis=-1)
    if name == "mask":
        return colorize_instances(maps.instance)
    if name == "inserted":
        return np.repeat((maps.inserted.view(np.uint8) * 255)[..., None], 3, axis=-1)
    return colorize_boxes(maps.get("boxes"))


def colorize_bev(bev: NDArray[np.uint8], channels: tuple[str, ...]) -> NDArray[np.uint8]:
    """(Hb, Wb, K) BEV raster -> (Hb, Wb, 3) uint8: map layers underneath, class footprints on top."""
    out = np.full(bev.shape[:2] + (3,), 24, np.uint8)
    for i, ch in enumerate(channels):
        color = BEV_MAP_COLORS.get(ch) or CLASS_COLORS.get(ch)
        if color is not None:
            out[bev[..., i] > 0] = color
    h, w = out.shape[:2]
    cv2.rectangle(out, (w // 2 - 2, h // 2 - 4), (w // 2 + 2, h // 2 + 4), (255, 255, 255), -1)  # the ego
    return out
