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
        cell = self.cells(x, y)
        out: NDArray[np.bool_] = cell == INSIDE
        amb = cell == BOUNDARY
        if amb.any():
            out[amb] = shapely.contains_xy(self.geom, x[amb], y[amb])
        return out

    def cells(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.uint8]:
        """Raster value (OUTSIDE / INSIDE / BOUNDARY) of the cells of points x, y (one shape); not for an empty region.

        Points off the grid (or NaN) read a cell of its outer frame, which is OUTSIDE: the grid has a
        margin of 4 cells around the geometry's bounds and the boundary band is at most 2 cells wide.
        """
        shape = np.broadcast_shapes(np.shape(x), np.shape(y))
        x, y = np.broadcast_to(x, shape).ravel(), np.broadcast_to(y, shape).ravel()    # 1-D: `out=` needs arrays
        fx, fy = np.floor((x - self.x0) / self.res), np.floor((y - self.y0) / self.res)
        # fmax / fmin clip and send NaN to 0 (they return the number where one argument is NaN)
        ix = np.fmin(np.fmax(fx, 0.0, out=fx), self.w - 1, out=fx).astype(np.intp)
        iy = np.fmin(np.fmax(fy, 0.0, out=fy), self.h - 1, out=fy).astype(np.intp)
        iy *= self.w
        iy += ix
        out: NDArray[np.uint8] = np.take(self.grid.ravel(), iy).reshape(shape)
        return out
