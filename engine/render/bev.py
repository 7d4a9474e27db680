"""The bird's-eye-view layout raster: ego-centred, ego heading up, one channel per layer.

Channels (0 / 255 uint8): drivable, ped_crossing, lane_divider, lane_boundary, then one per class
(filled box footprints). Pixel (row, col) covers ego-frame x = (centre_row - row) * resolution
(forward is up) and y = (centre_col - col) * resolution (left is left).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engine.classes import class_names
from engine.render.scene_geometry import drivable_geometry
from engine.render.triangulate import polygons_of
from engine.scenario.map_elements import RoadMap

MAP_LAYERS = ("drivable", "ped_crossing", "lane_divider", "lane_boundary")
SHIFT = 2


def bev_channels() -> tuple[str, ...]:
    """Channel names of the BEV raster."""
    return MAP_LAYERS + tuple(class_names())


@dataclass(frozen=True)
class BevSpec:
    """Raster size in pixels and metres per pixel; the ego sits at the centre."""

    size: tuple[int, int] = (200, 200)   # (rows, cols)
    resolution: float = 0.5

    def pixels(self, ego_xy: np.ndarray) -> np.ndarray:
        """(N, 2) ego-frame x, y -> (N, 2) fixed-point (col, row) for OpenCV drawing."""
        rows, cols = self.size
        col = cols / 2 - ego_xy[:, 1] / self.resolution
        row = rows / 2 - ego_xy[:, 0] / self.resolution
        return np.rint(np.stack([col, row], 1) * (1 << SHIFT)).astype(np.int32)


class BevRasterizer:
    """Draws the map layers (prepared once per map) and the agents' footprints for an ego pose."""

    def __init__(self, road_map: RoadMap, spec: BevSpec = BevSpec()) -> None:
        self.spec = spec
        self.drivable = [self._rings(p) for p in polygons_of(drivable_geometry(road_map))]
        self.crossings = [c.array for c in road_map.ped_crossings if len(c.array) >= 3]
        self.dividers = [d.array for d in road_map.lane_dividers if len(d.array) >= 2]
        self.boundaries = [b.array for b in road_map.lane_boundaries if len(b.array) >= 2]
        self.boundaries += [np.asarray(sg.stop_line, dtype=np.float64)           # H16: signal stop lines
                            for sg in getattr(road_map, "signals", ())]
        self._classes = class_names()

    @staticmethod
    def _rings(poly) -> list[np.ndarray]:
        return [np.asarray(poly.exterior.coords)] + [np.asarray(r.coords) for r in poly.interiors]

    def map_layers(self, ego_from_world: np.ndarray) -> np.ndarray:
        """(rows, cols, 4) uint8 map layers for the ego pose (`ego_from_world` (4, 4))."""
        rows, cols = self.spec.size
        out = np.zeros((len(MAP_LAYERS), rows, cols), np.uint8)
        tf = lambda a: self.spec.pixels(a @ ego_from_world[:2, :2].T + ego_from_world[:2, 3])
        for rings in self.drivable:
            cv2.fillPoly(out[0], [tf(r) for r in rings], 255, cv2.LINE_8, SHIFT)
        if self.crossings:
            cv2.fillPoly(out[1], [tf(c) for c in self.crossings], 255, cv2.LINE_8, SHIFT)
        if self.dividers:
            cv2.polylines(out[2], [tf(d) for d in self.dividers], False, 255, 1, cv2.LINE_8, SHIFT)
        if self.boundaries:
            cv2.polylines(out[3], [tf(b) for b in self.boundaries], False, 255, 2, cv2.LINE_8, SHIFT)
        return np.ascontiguousarray(out.transpose(1, 2, 0))

    def agent_layers(self, footprints: list[tuple[str, np.ndarray]], ego_from_world: np.ndarray) -> np.ndarray:
        """(rows, cols, 10) uint8 class layers: `footprints` are (class, (4, 2) world corners)."""
        rows, cols = self.spec.size
        out = np.zeros((len(self._classes), rows, cols), np.uint8)
        for cls, corners in footprints:
            px = self.spec.pixels(corners @ ego_from_world[:2, :2].T + ego_from_world[:2, 3])
            cv2.fillConvexPoly(out[self._classes.index(cls)], px, 255, cv2.LINE_8, SHIFT)
        return np.ascontiguousarray(out.transpose(1, 2, 0))
