"""Fast point-in-region tests for a map layer: a raster of cells known to be inside or outside, and
exact shapely tests only for points in the cells the boundary passes through.

The raster is built once per geometry (OpenCV polygon fill) at `resolution` metres per cell, coarser
when the layer is so large that the grid would exceed `max_cells`. Results are exactly those of
`shapely.contains_xy` on the same geometry: a cell is only trusted when the boundary cannot touch it.
"""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

OUTSIDE, INSIDE, BOUNDARY = 0, 1, 2


class RegionRaster:
    """contains(x, y) for a shapely Polygon / MultiPolygon, equal to `shapely.contains_xy` but faster."""

    def __init__(self, geom: Any, resolution: float = 0.25, max_cells: int = 8_000_000) -> None:
        import cv2

        self.geom = geom
        shapely.prepare(geom)
        self.empty = geom.is_empty
        if self.empty:
            return
        minx, miny, maxx, maxy = geom.bounds
        res = max(resolution, math.sqrt(max(maxx - minx, 1e-9) * max(maxy - miny, 1e-9) / max_cells))
        self.res = res
        self.x0, self.y0 = minx - 4 * res, miny - 4 * res
        self.w = int(math.ceil((maxx - self.x0) / res)) + 4
        self.h = int(math.ceil((maxy - self.y0) / res)) + 4
        grid = np.zeros((self.h, self.w), dtype=np.uint8)
        shift = 4                                    # fixed-point vertex coordinates: 1/16 cell
        scale = float(1 << shift)

        def pix(coords: Iterable[tuple[float, ...]]) -> NDArray[np.int32]:
            a = np.asarray(coords, dtype=np.float64)[:, :2]
            # cell i spans [x0 + i res, x0 + (i + 1) res); OpenCV puts pixel i's centre at integer i
            p = np.stack([(a[:, 0] - self.x0) / res - 0.5, (a[:, 1] - self.y0) / res - 0.5], -1)
            out: NDArray[np.int32] = np.round(p * scale).astype(np.int32)
            return out

        polys = list(getattr(geom, "geoms", [geom]))
        rings = []
        for poly in polys:
            if poly.is_empty or poly.geom_type != "Polygon":
                continue
            cv2.fillPoly(grid, [pix(poly.exterior.coords)], (INSIDE,), lineType=cv2.LINE_8, shift=shift)
            for hole in poly.interiors:
                cv2.fillPoly(grid, [pix(hole.coords)], (OUTSIDE,), lineType=cv2.LINE_8, shift=shift)
            rings += [poly.exterior.coords, *(h.coords for h in poly.interiors)]
        for ring in rings:        # every cell within ~2 cells of the boundary is decided exactly
            cv2.polylines(grid, [pix(ring)], True, (BOUNDARY,), thickness=4, lineType=cv2.LINE_8, shift=shift)
        self.grid = grid

    def contains(self, x: ArrayLike, y: ArrayLike) -> NDArray[np.bool_]:
        """Whether points (any shape) lie inside the region (as `shapely.contains_xy`)."""
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        if self.empty:
            return np.zeros(np.broadcast_shapes(x.shape, y.shape), dtype=bool)
        ix = np.floor((x - self.x0) / self.res)
        iy = np.floor((y - self.y0) / self.res)
        on = (ix >= 0) & (ix < self.w) & (iy >= 0) & (iy < self.h)
        cell = np.full(on.shape, OUTSIDE, dtype=np.uint8)
        cell[on] = self.grid[iy[on].astype(np.intp), ix[on].astype(np.intp)]
        out: NDArray[np.bool_] = cell == INSIDE
        amb = cell == BOUNDARY
        if amb.any():
            out[amb] = shapely.contains_xy(self.geom, x[amb], y[amb])
        return out
