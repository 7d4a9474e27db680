"""Triangulating shapely polygons (with holes) without an external triangulation engine.

trimesh's `triangulate_polygon` needs mapbox_earcut, triangle or manifold3d, none of which is pinned,
so this uses shapely alone: the Delaunay triangles of all polygon vertices either lie inside the
polygon (kept), outside (dropped), or are cut by polygon edges. Because no polygon vertex lies inside
a Delaunay triangle, every edge that enters one crosses it from side to side, so each piece of
triangle-and-polygon is convex and is fan-triangulated. The result covers the polygon exactly.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.prepared import prep


def polygons_of(geom: BaseGeometry | None) -> list[Polygon]:
    """The non-empty polygons inside any shapely geometry (Polygon, MultiPolygon, collection)."""
    if geom is None or geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return [g for g in geom.geoms if not g.is_empty]
    if hasattr(geom, "geoms"):
        return [p for g in geom.geoms for p in polygons_of(g)]
    return []


def triangulate(geom: BaseGeometry, min_area: float = 1e-9) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Triangles covering a polygonal geometry.

    Returns vertices (V, 2) float64 and faces (F, 3) int64, counter-clockwise.
    """
    verts: list[NDArray[np.float64]] = []
    faces: list[NDArray[np.int64]] = []
    offset = 0
    for poly in polygons_of(geom):
        poly = shapely.make_valid(poly) if not poly.is_valid else poly
        for p in polygons_of(poly):
            for tri in _pieces(p, min_area):
                n = len(tri)
                verts.append(tri)
                faces.append(np.stack([np.zeros(n - 2, np.int64), np.arange(1, n - 1, dtype=np.int64),
                                       np.arange(2, n, dtype=np.int64)], 1) + offset)
                offset += n
    if not verts:
        return np.zeros((0, 2)), np.zeros((0, 3), dtype=np.int64)
    return np.concatenate(verts), np.concatenate(faces).astype(np.int64)


def _pieces(poly: Polygon, min_area: float) -> list[NDArray[np.float64]]:
    """Convex pieces (each (n, 2), counter-clockwise, n >= 3) that tile `poly`."""
    if len(poly.interiors) == 0 and _is_convex(np.asarray(poly.exterior.coords)[:-1]):
        return [_ccw(np.asarray(poly.exterior.coords)[:-1])]
    tris = shapely.delaunay_triangles(shapely.MultiPoint(_all_vertices(poly)))
    inside = prep(poly)
    out = []
    for t in polygons_of(tris):
        if t.area < min_area:
            continue
        if inside.contains(t):
            out.append(_ccw(np.asarray(t.exterior.coords)[:-1]))
            continue
        if not inside.intersects(t):
            continue
        for piece in polygons_of(t.intersection(poly)):
            if piece.area >= min_area:
                ring = np.asarray(shapely.remove_repeated_points(piece.exterior, 1e-9).coords)[:-1]
                if len(ring) >= 3:
                    out.append(_ccw(ring))
    return out


def _all_vertices(poly: Polygon) -> NDArray[np.float64]:
    rings = [np.asarray(poly.exterior.coords)[:-1]] + [np.asarray(r.coords)[:-1] for r in poly.interiors]
    verts: NDArray[np.float64] = np.unique(np.concatenate(rings), axis=0)
    return verts


def _signed_area(ring: NDArray[np.float64]) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def _ccw(ring: NDArray[np.float64]) -> NDArray[np.float64]:
    out: NDArray[np.float64] = ring if _signed_area(ring) >= 0 else ring[::-1].copy()
    return out


def _is_convex(ring: NDArray[np.float64]) -> bool:
    d1 = np.roll(ring, -1, 0) - ring
    d2 = np.roll(d1, -1, 0)
    cross = d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]
    return bool(np.all(cross >= -1e-12) or np.all(cross <= 1e-12))
