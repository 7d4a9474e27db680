"""The bird's-eye-view layout raster: ego-centred, ego heading up, one channel per layer.

Channels (0 / 255 uint8): drivable, ped_crossing, lane_divider, lane_boundary, then one per class
(filled box footprints). Pixel (row, col) covers ego-frame x = (centre_row - row) * resolution
(forward is up) and y = (centre_col - col) * resolution (left is left).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np
from numpy.typing import NDArray
from shapely.geometry import Polygon

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

    def pixels(self, ego_xy: NDArray[np.float64]) -> NDArray[np.int32]:
        """(N, 2) ego-frame x, y -> (N, 2) fixed-point (col, row) for OpenCV drawing."""
        rows, cols = self.size
        col = cols / 2 - ego_xy[:, 1] / self.resolution
        row = rows / 2 - ego_xy[:, 0] / self.resolution
        px: NDArray[np.int32] = np.rint(np.stack([col, row], 1) * (1 << SHIFT)).astype(np.int32)
        return px


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
        # every map polyline's points in one (P, 2) array, transformed and rounded in one go per pose
        groups = [r for rings in self.drivable for r in rings] + self.crossings + self.dividers + self.boundaries
        self._points = (np.concatenate([np.asarray(g, np.float64).reshape(-1, 2) for g in groups])
                        if groups else np.zeros((0, 2)))
        self._splits = np.cumsum([len(g) for g in groups])[:-1]

    @staticmethod
    def _rings(poly: Polygon) -> list[NDArray[np.float64]]:
        return ([np.asarray(poly.exterior.coords, dtype=np.float64)]
                + [np.asarray(r.coords, dtype=np.float64) for r in poly.interiors])

    def _to_pixels(self, world_xy: NDArray[np.float64], ego_from_world: NDArray[np.float64]) -> NDArray[np.int32]:
        """(..., 2) world x, y -> (..., 2) fixed-point (col, row) for the ego pose."""
        ego = world_xy @ ego_from_world[:2, :2].T + ego_from_world[:2, 3]
        return self.spec.pixels(ego.reshape(-1, 2)).reshape(world_xy.shape)

    def map_layers(self, ego_from_world: NDArray[np.float64]) -> NDArray[np.uint8]:
        """(rows, cols, 4) uint8 map layers for the ego pose (`ego_from_world` (4, 4))."""
        rows, cols = self.spec.size
        out = np.zeros((len(MAP_LAYERS), rows, cols), np.uint8)
        px = np.split(self._to_pixels(self._points, ego_from_world), self._splits)
        i = 0
        for rings in self.drivable:
            cv2.fillPoly(out[0], px[i:i + len(rings)], (255,), cv2.LINE_8, SHIFT)
            i += len(rings)
        for layer, group, closed_fill, thickness in ((1, self.crossings, True, 0), (2, self.dividers, False, 1),
                                                     (3, self.boundaries, False, 2)):
            if group:
                pts = px[i:i + len(group)]
                if closed_fill:
                    cv2.fillPoly(out[layer], pts, (255,), cv2.LINE_8, SHIFT)
                else:
                    cv2.polylines(out[layer], pts, False, (255,), thickness, cv2.LINE_8, SHIFT)
            i += len(group)
        return _interleave(list(out))

    def agent_layers(self, footprints: list[tuple[str, NDArray[np.float64]]],
                     ego_from_world: NDArray[np.float64]) -> NDArray[np.uint8]:
        """(rows, cols, 10) uint8 class layers: `footprints` are (class, (4, 2) world corners)."""
        corners = (np.stack([c for _, c in footprints]).astype(np.float64, copy=False) if footprints
                   else np.zeros((0, 4, 2)))
        return self.agent_layers_array([cls for cls, _ in footprints], corners, ego_from_world)

    def agent_layers_array(self, classes: Sequence[str], corners: NDArray[np.float64],
                           ego_from_world: NDArray[np.float64]) -> NDArray[np.uint8]:
        """`agent_layers` of A footprints given as their classes and (A, 4, 2) world corners."""
        return _interleave(self._agent_planes(classes, corners, ego_from_world))

    def with_agent_layers(self, map_layers: NDArray[np.uint8], classes: Sequence[str], corners: NDArray[np.float64],
                          ego_from_world: NDArray[np.float64]) -> NDArray[np.uint8]:
        """(rows, cols, 4 + classes) uint8: `map_layers` (rows, cols, 4) followed by `agent_layers_array`'s
        channels (what concatenating the two along the last axis gives, in one interleaving pass)."""
        planes = [np.asarray(p, np.uint8) for p in cv2.split(map_layers)]
        return _interleave([*planes, *self._agent_planes(classes, corners, ego_from_world)])

    def _agent_planes(self, classes: Sequence[str], corners: NDArray[np.float64],
                      ego_from_world: NDArray[np.float64]) -> list[NDArray[np.uint8]]:
        """One (rows, cols) uint8 plane per class: the filled footprints (A, 4, 2) world corners of that class."""
        rows, cols = self.spec.size
        out = np.zeros((len(self._classes), rows, cols), np.uint8)
        if len(classes):
            px = self._to_pixels(corners, ego_from_world)
            for cls, p in zip(classes, px):
                cv2.fillConvexPoly(out[self._classes.index(cls)], p, (255,), cv2.LINE_8, SHIFT)
        return list(out)


def _interleave(planes: Sequence[NDArray[np.uint8]]) -> NDArray[np.uint8]:
    """(rows, cols, len(planes)) uint8 from (rows, cols) planes (OpenCV's merge: several times faster than
    a transposed copy)."""
    merged = np.asarray(cv2.merge(list(planes)), np.uint8)
    return merged.reshape(*planes[0].shape, len(planes))
