"""8-bit pictures of the guidance maps for the preview pane (numpy only; runs on the render worker).

Uses the engine's own colouring (`engine.render.visualize.colorize`, one camera at a time) so the
preview shows exactly what contact sheets and exports show; the fallbacks here only serve when that
module is missing. Every function returns (C, H, W, 3) uint8.
"""
from __future__ import annotations

import numpy as np

from engine.classes import CLASS_COLORS, class_names

# What the selector offers: label -> map name of GuidanceFrame
PREVIEW_MAPS: dict[str, str] = {
    "RGB preview": "rgb", "Depth": "depth", "Normal": "normal", "Edge": "edge", "Object": "object",
    "Mask": "mask", "Boxes": "boxes", "HD map": "hdmap",
}

_TURBO_KNOTS = np.array([
    [48, 18, 59], [70, 107, 227], [40, 188, 235], [50, 241, 152], [164, 252, 60],
    [239, 206, 51], [251, 129, 35], [208, 47, 5], [122, 4, 3]], dtype=np.float32)


def colormap(u: np.ndarray) -> np.ndarray:
    """(...,) values in [0, 1] -> (..., 3) uint8 colours (a turbo-like ramp, blue near to red far)."""
    u = np.clip(u, 0.0, 1.0) * (len(_TURBO_KNOTS) - 1)
    i = np.minimum(u.astype(np.int32), len(_TURBO_KNOTS) - 2)
    f = (u - i)[..., None]
    return (_TURBO_KNOTS[i] * (1 - f) + _TURBO_KNOTS[i + 1] * f).astype(np.uint8)


def depth_to_rgb(depth: np.ndarray, far: float = 80.0) -> np.ndarray:
    """(C, H, W) metres (0 = none) -> (C, H, W, 3): near warm-to-far cool on a log scale, black where none."""
    d = np.asarray(depth, dtype=np.float32)
    u = 1.0 - np.log1p(np.clip(d, 0, far)) / np.log1p(far)
    out = colormap(u)
    out[d <= 0] = 0
    return out


def normal_to_rgb(normal: np.ndarray) -> np.ndarray:
    """(C, H, W, 3) unit normals (0 = none) -> (C, H, W, 3) with (n + 1) / 2, black where none."""
    n = np.asarray(normal, dtype=np.float32)
    out = ((n + 1.0) * 127.5).clip(0, 255).astype(np.uint8)
    out[~np.any(n != 0, axis=-1)] = 0
    return out


def gray_to_rgb(img: np.ndarray) -> np.ndarray:
    """(C, H, W) uint8 -> (C, H, W, 3)."""
    return np.repeat(np.asarray(img, dtype=np.uint8)[..., None], 3, axis=-1)


def instances_to_rgb(instance: np.ndarray) -> np.ndarray:
    """(C, H, W) int ids (0 = background) -> (C, H, W, 3) a stable colour per id, black background."""
    ids = np.asarray(instance, dtype=np.int64)
    h = (ids * 2654435761) & 0xFFFFFF
    out = np.stack([(h >> 16) & 255, (h >> 8) & 255, h & 255], axis=-1).astype(np.uint8) | 64
    out[ids == 0] = 0
    return out


def boxes_to_rgb(boxes: np.ndarray) -> np.ndarray:
    """(C, H, W, K) per-class box channels -> (C, H, W, 3): each class in its colour, strongest class wins."""
    b = np.asarray(boxes)
    palette = np.array([CLASS_COLORS[c] for c in class_names()[: b.shape[-1]]], dtype=np.float32)
    k = b.argmax(axis=-1)
    v = b.max(axis=-1).astype(np.float32)[..., None] / 255.0
    return (palette[k] * v).astype(np.uint8)


def frame_map_rgb(frame, map_name: str) -> np.ndarray:
    """(C, H, W, 3) uint8 picture of one map of a GuidanceFrame (`frame.stack(name)` is (C, H, W, ...))."""
    try:
        from engine.render.visualize import colorize
    except ImportError:
        colorize = None
    if colorize is not None:
        return np.stack([np.asarray(colorize(frame[name], map_name), dtype=np.uint8) for name in frame.camera_names])
    if map_name not in _FALLBACK:
        raise KeyError(f"unknown map {map_name!r}; maps: {', '.join(PREVIEW_MAPS.values())}")
    source = "mask" if map_name == "instance" else map_name
    return _FALLBACK[map_name](np.asarray(frame.stack(source)))


_FALLBACK = {
    "rgb": lambda a: a.astype(np.uint8, copy=False),
    "depth": depth_to_rgb,
    "normal": normal_to_rgb,
    "edge": gray_to_rgb,
    "object": lambda a: a.astype(np.uint8, copy=False),
    "mask": instances_to_rgb,
    "instance": instances_to_rgb,
    "inserted": lambda a: gray_to_rgb(a.astype(np.uint8) * 255),
    "boxes": boxes_to_rgb,
    "hdmap": lambda a: a.astype(np.uint8, copy=False),
}


def camera_map_rgb(frame, camera: str, map_name: str) -> np.ndarray:
    """(H, W, 3) uint8 picture of one map of one camera of a GuidanceFrame (`engine.render.visualize`'s
    colouring, as `frame_map_rgb`)."""
    try:
        from engine.render.visualize import colorize
    except ImportError:
        colorize = None
    if colorize is not None:
        return np.asarray(colorize(frame[camera], map_name), dtype=np.uint8)
    k = list(frame.camera_names).index(camera)
    source = "mask" if map_name == "instance" else map_name
    return _FALLBACK[map_name](np.asarray(frame.stack(source))[k:k + 1])[0]
