"""The map mask PNG a nuScenes ``map`` record points to: the drivable area, in nuscenes-devkit's convention.

nuscenes-devkit's `MapMask` reads the PNG at MAP_RESOLUTION metres per pixel with the global origin
at the image's bottom-left corner (pixel column x / res, row H - y / res), foreground 255. The mask
therefore covers global x in [0, xmax], y in [0, ymax] of the drivable area; parts of the map at
negative coordinates cannot be expressed in that convention and are left out. When the extent would
exceed MAX_PIXELS per side, or the map is empty, a 1x1 background image is written instead (the
devkit only needs the file to exist).
"""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.fileio import atomic_write_bytes
from engine.scenario.map_elements import RoadMap

MAP_RESOLUTION = 0.1  # metres per pixel, nuscenes-devkit's default
MAX_PIXELS = 6000
MARGIN_M = 5.0


def map_mask_image(road_map: RoadMap, resolution: float = MAP_RESOLUTION) -> NDArray[np.uint8]:
    """(H, W) uint8 mask: 255 on the drivable area, 0 elsewhere (see the module docstring)."""
    geom = road_map.drivable_geometry
    if geom.is_empty:
        return np.zeros((1, 1), dtype=np.uint8)
    _, _, xmax, ymax = geom.bounds
    w = int(np.ceil((xmax + MARGIN_M) / resolution))
    h = int(np.ceil((ymax + MARGIN_M) / resolution))
    if w <= 0 or h <= 0 or w > MAX_PIXELS or h > MAX_PIXELS:
        return np.zeros((1, 1), dtype=np.uint8)
    img = np.zeros((h, w), dtype=np.uint8)
    polys = getattr(geom, "geoms", [geom])
    for poly in polys:
        rings = [np.asarray(poly.exterior.coords)] + [np.asarray(r.coords) for r in poly.interiors]
        px = [np.stack([r[:, 0] / resolution, h - r[:, 1] / resolution], axis=1) for r in rings]
        pts = [np.round(p * 16).astype(np.int32) for p in px]
        cv2.fillPoly(img, pts[:1], (255,), lineType=cv2.LINE_8, shift=4)
        if len(pts) > 1:
            cv2.fillPoly(img, pts[1:], (0,), lineType=cv2.LINE_8, shift=4)
    return img


def write_map_mask(road_map: RoadMap, path: str | os.PathLike[str], resolution: float = MAP_RESOLUTION) -> Path:
    """Write the mask PNG atomically; returns its path."""
    ok, buf = cv2.imencode(".png", map_mask_image(road_map, resolution))
    if not ok:
        raise OSError(f"cannot encode the map mask {path}")
    return atomic_write_bytes(path, buf.tobytes())
