"""Boxes leaving the drivable area, and pedestrians on the roadway outside a crossing.

Vehicles (car, truck, bus, trailer, construction vehicle, motorcycle): a corner more than
`offroad_tolerance` outside the map's drivable area is a warning, the box centre outside it an
error. Bicycles: warning only (cycle paths and pavements are not in the map). Pedestrians are
expected off the roadway (pavements are not drivable area): they are never "off-road"; walking on
the roadway away from any crossing is reported as info. Traffic cones and barriers are not checked.
Point-in-polygon tests (corners and centres) go through a per-map `RegionRaster`, which answers as
`shapely.contains_xy` does on the prepared geometry, faster.
"""
from __future__ import annotations

import weakref
from typing import Any, NamedTuple

import numpy as np
import shapely

from engine.checks.config import OFFROAD_ERROR_CLASSES, OFFROAD_WARNING_CLASSES, CheckConfig
from engine.checks.findings import Finding, FindingCode, Severity, name_of
from engine.checks.raster import BOUNDARY, INSIDE, OUTSIDE, RegionRaster
from engine.checks.sampling import BoolArray, FloatArray, IntArray, SampledScene, runs, runs_2d
from engine.geometry import CORNER_SIGNS
from engine.scenario.map_elements import RoadMap

CORNER_NAMES = ("front-left", "rear-left", "rear-right", "front-right")
JAYWALK_MIN_DURATION = 0.5    # s on the roadway outside a crossing before it is reported
CROSSING_MARGIN = 0.5         # m around a crossing that still counts as on it



class MapLayers(NamedTuple):
    """A map's prepared shapely geometries (untyped library: Any) and their point-in-region rasters."""

    drivable: Any
    crossings: Any
    drivable_raster: RegionRaster
    crossings_raster: RegionRaster


_cache: dict[int, tuple[weakref.ref[RoadMap], MapLayers]] = {}


def map_layers(road_map: RoadMap) -> MapLayers:
    """Prepared shapely geometries of a map and their rasters, built once per RoadMap object."""
    key = id(road_map)
    hit = _cache.get(key)
    if hit is not None and hit[0]() is road_map:
        return hit[1]
    drivable = road_map.drivable_geometry
    shapely.prepare(drivable)
    polys = [shapely.Polygon(c.array) for c in road_map.ped_crossings if len(c.polygon) >= 3]
    crossings = shapely.union_all([p.buffer(CROSSING_MARGIN) for p in polys]) if polys else shapely.Polygon()
    shapely.prepare(crossings)
    layers = MapLayers(drivable, crossings, RegionRaster(drivable), RegionRaster(crossings))
    for k in [k for k, (ref, _) in _cache.items() if ref() is None]:
        del _cache[k]
    _cache[key] = (weakref.ref(road_map), layers)
    return layers


def _signed_outside(geom: Any, xy: FloatArray) -> FloatArray:
    """Signed distance (m) of points (..., 2) to a polygon: positive outside, negative inside."""
    flat = xy.reshape(-1, 2)
    inside = shapely.contains_xy(geom, flat[:, 0], flat[:, 1])
    d = shapely.distance(geom.boundary, shapely.points(flat))
    out: FloatArray = np.where(inside, -d, d).reshape(xy.shape[:-1])
    return out


def offroad_findings(scene: SampledScene, road_map: RoadMap, cfg: CheckConfig) -> list[Finding]:
    """Off-road warnings and errors for vehicles and bicycles, jaywalking info for pedestrians."""
    layers = map_layers(road_map)
    geom = layers.drivable
    if geom.is_empty:
        return [Finding(FindingCode.MAP_INCOMPLETE, Severity.INFO, scene.times[0], scene.times[-1], (),
                        "The map has no drivable area: leaving the road was not checked.")]
    out: list[Finding] = []
    rows = np.array([r for r, c in enumerate(scene.classes)
                     if c in OFFROAD_ERROR_CLASSES or c in OFFROAD_WARNING_CLASSES], dtype=int)
    if rows.size:
        out += _vehicle_offroad(scene, rows, geom, layers.drivable_raster, cfg)
    peds = np.array([r for r, c in enumerate(scene.classes) if c == "pedestrian"], dtype=int)
    if peds.size:
        out += _jaywalking(scene, peds, layers.drivable_raster, layers.crossings_raster)
    return out


def _vehicle_offroad(scene: SampledScene, rows: IntArray, geom: Any, raster: RegionRaster,
                     cfg: CheckConfig) -> list[Finding]:
    present = scene.present[rows]                                   # (R, T)
    at = np.flatnonzero(present)                                    # (N,) flat (row, frame) where present
    px, py, inside = _corners_inside(scene, rows, at, raster)       # corners (4, N) each, inside (N, 4)
    out_dist = np.zeros(inside.shape)
    cand = ~inside
    if cand.any():
        flat = np.flatnonzero(cand.ravel())
        e, q = np.divmod(flat, 4)
        out_dist.ravel()[flat] = shapely.distance(geom, shapely.points(np.stack([px[q, e], py[q, e]], -1)))
    corner_out = np.zeros(present.shape + (4,), dtype=bool)
    corner_out.reshape(-1, 4)[at] = out_dist > cfg.offroad_tolerance
    dist = np.zeros(present.shape + (4,))
    dist.reshape(-1, 4)[at] = out_dist
    any_out = corner_out.any(-1)
    findings: list[Finding] = []
    if not any_out.any():
        return findings
    cx, cy = scene.x[rows], scene.y[rows]
    rr, k0s, k1s = runs_2d(any_out)
    for r, k0, k1 in zip(rr, k0s, k1s):
        row = int(rows[r])
        aid, cls = scene.ids[row], scene.classes[row]
        ks = np.arange(k0, k1 + 1)
        centre_in = raster.contains(cx[r, ks], cy[r, ks])
        centre_out = ~centre_in & (shapely.distance(geom, shapely.points(np.stack([cx[r, ks], cy[r, ks]], -1)))
                                   > cfg.offroad_tolerance)
        worst_k, worst_c = np.unravel_index(int(np.argmax(dist[r, k0:k1 + 1])), (k1 - k0 + 1, 4))
        worst = float(dist[r, k0 + worst_k, worst_c])
        first_c = int(np.argmax(dist[r, k0]))
        t_exit = _exit_time(scene, row, k0, geom, cfg.offroad_tolerance)
        t0, t1 = scene.times[k0], scene.times[k1]
        metrics = {"t_exit": t_exit, "max_outside": worst}
        where = tuple(scene.corners_at(np.array([row]), np.array([k0]))[0, first_c])
        if centre_out.any() and cls in OFFROAD_ERROR_CLASSES:
            tc = float(scene.times[ks[np.argmax(centre_out)]])
            metrics["t_centre_out"] = tc
            msg = (f"{name_of(aid, True)} leaves the drivable area at {t_exit:.2f} s ({CORNER_NAMES[first_c]} corner first) and is "
                   f"off the road with its centre from {tc:.2f} s; up to {worst:.2f} m outside until {t1:.2f} s.")
            sev = Severity.ERROR
        else:
            msg = (f"{name_of(aid, True)} leaves the drivable area with its {CORNER_NAMES[first_c]} corner at {t_exit:.2f} s, "
                   f"up to {worst:.2f} m outside, until {t1:.2f} s.")
            sev = Severity.WARNING
        findings.append(Finding(FindingCode.OFF_ROAD, sev, t0, t1, (aid,), msg, where, metrics))
    return findings


def _corners_inside(scene: SampledScene, rows: IntArray, at: IntArray,
                    raster: RegionRaster) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Footprint corners of `rows` at the flat (row, frame) indices `at` (N,) of an (R, T) array: x and y
    (4, N) each (corner order of `CORNER_SIGNS`), and whether each lies inside the region (N, 4): the
    values of `scene.corners_at` and `raster.contains`.

    Computed a corner at a time on whole (R, T) rows (no per-entry gathers); only the corners in
    boundary cells of the raster go to shapely.
    """
    x, y = scene.x[rows], scene.y[rows]
    c, s = scene.cos_yaw[rows], scene.sin_yaw[rows]
    hl, hw = scene.half_length[rows][:, None], scene.half_width[rows][:, None]
    n = at.size
    px, py = np.empty((4, n)), np.empty((4, n))
    cells = np.empty((4, n), dtype=np.uint8)
    for q, (sl, sw) in enumerate(CORNER_SIGNS):
        lx, ly = sl * hl, sw * hw                  # the arithmetic of `footprint_corners_trig`
        px[q] = (x + c * lx - s * ly).ravel()[at]
        py[q] = (y + s * lx + c * ly).ravel()[at]
        cells[q] = raster.cells(px[q], py[q]) if not raster.empty else OUTSIDE
    inside: BoolArray = cells == INSIDE
    amb = np.flatnonzero(cells == BOUNDARY)
    if amb.size:
        inside.ravel()[amb] = shapely.contains_xy(raster.geom, px.ravel()[amb], py.ravel()[amb])
    out: BoolArray = inside.T
    return px, py, out


def _exit_time(scene: SampledScene, row: int, k0: int, geom: Any, tol: float) -> float:
    """When the outermost corner crosses `tol` outside, interpolated between frames k0-1 and k0."""
    t1 = float(scene.times[k0])
    if k0 == 0 or not scene.present[row, k0 - 1]:
        return t1
    corners = scene.corners_at(np.array([row, row]), np.array([k0 - 1, k0]))   # (2, 4, 2)
    s = _signed_outside(geom, corners).max(-1)   # (2,)
    if not s[1] > s[0]:
        return t1
    u = float(np.clip((tol - s[0]) / (s[1] - s[0]), 0.0, 1.0))
    return float(scene.times[k0 - 1] + u * (t1 - scene.times[k0 - 1]))


def _jaywalking(scene: SampledScene, rows: IntArray, road: RegionRaster, crossings: RegionRaster) -> list[Finding]:
    x, y = scene.x[rows], scene.y[rows]
    on_road = road.contains(x, y) & scene.present[rows]
    if not on_road.any():
        return []
    on_road &= ~crossings.contains(x, y)
    min_frames = max(1, int(round(JAYWALK_MIN_DURATION / scene.dt)))
    out = []
    for r in np.flatnonzero(on_road.any(1)):
        for k0, k1 in runs(on_road[r]):
            if k1 - k0 + 1 < min_frames:
                continue
            aid = scene.ids[int(rows[r])]
            out.append(Finding(FindingCode.JAYWALKING, Severity.INFO, scene.times[k0], scene.times[k1], (aid,),
                               f"{aid} walks on the roadway outside a crossing from {scene.times[k0]:.2f} "
                               f"to {scene.times[k1]:.2f} s.", (float(x[r, k0]), float(y[r, k0]))))
    return out
