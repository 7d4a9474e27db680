"""The road map of a real scene: from the nuScenes map expansion when the dataset has it, otherwise
inferred from the annotated traffic.

Expansion (``<dataroot>/maps/expansion/<location>.json``, read with nuscenes-devkit's
`NuScenesMap`): inside a patch around the ego's path (`margin` metres), lanes and lane connectors
become lanes (centre lines from their arcline paths, width = polygon area / length), lane dividers
dashed and road dividers solid dividers, the drivable-area outline the lane boundaries, pedestrian
crossings crossings, and the drivable area its polygons. `RoadMap.drivable_area` holds polygons
without holes, so polygons with holes (traffic islands) are cut into hole-free pieces.

Inferred (no expansion): the drivable area is the union of the ego's path buffered by
`EGO_HALF_CORRIDOR` and every vehicle footprint swept over its track buffered by `VEHICLE_MARGIN`,
closed by `CLOSING` metres so parallel tracks merge into one road; the ego path and each moving
vehicle track become lanes (``inferred_ego``, ``inferred_<agent id>``). Pedestrians, cones and
barriers do not make drivable area. This under-estimates the road where nobody drove.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Literal, Sequence, get_args

import numpy as np
from numpy.typing import NDArray
from shapely.geometry import LineString, MultiPolygon, Polygon, box
from shapely.ops import split, unary_union

from engine.classes import VEHICLE_CLASSES
from engine.scenario.model import Agent
from engine.scenario.map_elements import Crossing, Lane, Polyline, RoadMap
from engine.sources.errors import SceneSourceError

if TYPE_CHECKING:   # untyped libraries: Any to the type checker
    from nuscenes.map_expansion.map_api import NuScenesMap
    from shapely.geometry.base import BaseGeometry

EGO_HALF_CORRIDOR = 2.5     # m either side of the ego path
VEHICLE_MARGIN = 0.5        # m around vehicle footprints
CLOSING = 3.0               # m: morphological closing of the inferred area
MOVING_TRACK = 5.0          # m: a vehicle whose track is longer than this makes an inferred lane
LANE_STEP = 1.0             # m between lane centre-line points
MapSource = Literal["auto", "expansion", "traffic"]
"""Where a scene's road map comes from: 'auto' = the expansion when present, else the traffic."""
MAP_SOURCES: tuple[MapSource, ...] = get_args(MapSource)
MapOrigin = Literal["expansion", "traffic"]
"""Where a scene's road map came from."""

_maps_lock = threading.Lock()
_maps: dict[tuple[str, int], NuScenesMap] = {}


def expansion_path(dataroot: str | Path, location: str) -> Path:
    return Path(dataroot) / "maps" / "expansion" / f"{location}.json"


def _load_expansion(dataroot: Path, location: str) -> NuScenesMap:
    path = expansion_path(dataroot, location)
    key = (str(path.resolve()), path.stat().st_mtime_ns)
    with _maps_lock:
        if key in _maps:
            return _maps[key]
    from nuscenes.map_expansion.map_api import NuScenesMap

    m = NuScenesMap(dataroot=str(dataroot), map_name=location)
    with _maps_lock:
        _maps.clear()      # one map in memory (boston-seaport alone is ~100 MB of JSON)
        _maps[key] = m
    return m


def _xy(coords: Iterable[Sequence[float]]) -> tuple[tuple[float, float], ...]:
    return tuple((round(float(x), 3), round(float(y), 3)) for x, y in coords)


def hole_free_pieces(poly: Polygon) -> list[Polygon]:
    """Cut a polygon with holes into pieces without holes (their union is the polygon)."""
    if poly.is_empty:
        return []
    if not poly.interiors:
        return [poly]
    hole = Polygon(poly.interiors[0])
    px = hole.representative_point().x
    ymin, ymax = poly.bounds[1] - 1.0, poly.bounds[3] + 1.0
    pieces = split(poly, LineString([(px, ymin), (px, ymax)]))
    out: list[Polygon] = []
    for g in pieces.geoms:
        if isinstance(g, Polygon) and g.area > 1e-9:
            out += hole_free_pieces(g)
    return out


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    if geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return list(geom.geoms)
    return [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)]


def _lines(geom: BaseGeometry) -> list[LineString]:
    if geom.is_empty:
        return []
    if isinstance(geom, LineString):
        return [geom]
    return [g for g in getattr(geom, "geoms", []) if isinstance(g, LineString)]


def _area_list(area: BaseGeometry) -> tuple[tuple[tuple[float, float], ...], ...]:
    out: list[tuple[tuple[float, float], ...]] = []
    for p in _polygons(area):
        for piece in hole_free_pieces(p.simplify(0.05)):
            ring = list(piece.exterior.coords)[:-1]
            if len(ring) >= 3:
                out.append(_xy(ring))
    return tuple(out)


def map_from_expansion(nusc_map: NuScenesMap, patch: tuple[float, float, float, float]) -> RoadMap:
    """The RoadMap of a NuScenesMap inside `patch` (xmin, ymin, xmax, ymax)."""
    region = box(*patch)
    inner = box(patch[0] + 0.01, patch[1] + 0.01, patch[2] - 0.01, patch[3] - 0.01)
    recs = nusc_map.get_records_in_patch(patch, ["drivable_area", "lane", "lane_connector", "ped_crossing",
                                                 "road_divider", "lane_divider"], mode="intersect")
    drivable: list[Polygon] = []
    for tok in recs["drivable_area"]:
        rec = nusc_map.get("drivable_area", tok)
        drivable += [nusc_map.extract_polygon(pt) for pt in rec["polygon_tokens"]]
    area = unary_union([p.buffer(0) for p in drivable]).intersection(region) if drivable else Polygon()
    lanes: list[Lane] = []
    lane_tokens = list(recs["lane"]) + list(recs["lane_connector"])
    discrete = nusc_map.discretize_lanes(lane_tokens, LANE_STEP)
    for tok in lane_tokens:
        pts = np.asarray(discrete.get(tok, []), dtype=np.float64).reshape(-1, 3)
        if len(pts) < 2:
            continue
        layer = "lane" if tok in recs["lane"] else "lane_connector"
        width = 3.5
        rec = nusc_map.get(layer, tok)
        if rec.get("polygon_token"):
            poly = nusc_map.extract_polygon(rec["polygon_token"])
            length = LineString(pts[:, :2]).length
            if length > 1.0 and poly.area > 0:
                width = float(np.clip(poly.area / length, 2.0, 6.0))
        lanes.append(Lane(f"lane_{tok[:8]}", _xy(pts[:, :2]), round(width, 2)))
    dividers: list[Polyline] = []
    for layer, style in (("road_divider", "solid"), ("lane_divider", "dashed")):
        for tok in recs[layer]:
            line = nusc_map.extract_line(nusc_map.get(layer, tok)["line_token"])
            for i, part in enumerate(_lines(line.intersection(region))):
                dividers.append(Polyline(f"{layer}_{tok[:8]}_{i}", _xy(part.coords), style))
    crossings: list[Crossing] = []
    for tok in recs["ped_crossing"]:
        poly = nusc_map.extract_polygon(nusc_map.get("ped_crossing", tok)["polygon_token"]).intersection(region)
        for i, p in enumerate(_polygons(poly)):
            crossings.append(Crossing(f"crossing_{tok[:8]}_{i}", _xy(list(p.exterior.coords)[:-1])))
    boundaries: list[Polyline] = []
    for i, p in enumerate(_polygons(area)):
        for ring in [p.exterior, *p.interiors]:
            for j, part in enumerate(_lines(LineString(ring.coords).intersection(inner))):
                boundaries.append(Polyline(f"boundary_{i}_{len(boundaries)}_{j}", _xy(part.coords), "solid"))
    return RoadMap(lanes=tuple(lanes), lane_boundaries=tuple(boundaries), lane_dividers=tuple(dividers),
                   ped_crossings=tuple(crossings), drivable_area=_area_list(area))


def _swept_footprint(agent: Agent, times: NDArray[np.float64]) -> BaseGeometry:
    """The area an agent's box covers over `times` (union of hulls of consecutive footprints)."""
    ts = times[np.asarray(agent.trajectory.covers(times), bool)]
    if ts.size == 0:
        ts = np.array([agent.trajectory.start_time])
    corners = agent.box_corners_2d(ts)
    if len(corners) == 1:
        return Polygon(corners[0])
    return unary_union([Polygon(np.concatenate([a, b])).convex_hull for a, b in zip(corners[:-1], corners[1:])])


def map_from_traffic(ego: Agent, agents: list[Agent], times: NDArray[np.float64]) -> RoadMap:
    """A drivable area and lanes inferred from where the ego and the annotated vehicles drove."""
    parts: list[BaseGeometry] = []
    ego_xy = ego.trajectory.sample(times).xy
    lanes: list[Lane] = []
    if len(ego_xy) >= 2 and np.ptp(ego_xy, axis=0).max() > 0.5:
        path = LineString(ego_xy)
        parts.append(path.buffer(EGO_HALF_CORRIDOR, cap_style=2))
        lanes.append(Lane("inferred_ego", _xy(_resample(ego_xy)), round(2 * EGO_HALF_CORRIDOR, 2)))
    else:
        parts.append(Polygon(ego.box_corners_2d(float(times[0]))[0]).buffer(EGO_HALF_CORRIDOR))
    for a in agents:
        if a.cls not in VEHICLE_CLASSES:
            continue
        parts.append(_swept_footprint(a, times).buffer(VEHICLE_MARGIN))
        covered = times[np.asarray(a.trajectory.covers(times), bool)]
        if covered.size >= 2:
            xy = a.trajectory.sample(covered).xy
            if LineString(xy).length > MOVING_TRACK:
                lanes.append(Lane(f"inferred_{a.id}", _xy(_resample(xy)), round(max(a.width + 1.0, 3.0), 2)))
    area = unary_union(parts).buffer(CLOSING, join_style=2).buffer(-CLOSING, join_style=2)
    return RoadMap(lanes=tuple(lanes), drivable_area=_area_list(area.simplify(0.1)))


def _resample(xy: NDArray[np.float64], step: float = LANE_STEP) -> NDArray[np.float64]:
    """(N, 2) points resampled every `step` metres along the polyline (ends kept)."""
    seg = np.hypot(*np.diff(xy, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] <= step:
        return xy[[0, -1]]
    u = np.concatenate([np.arange(0.0, s[-1], step), [s[-1]]])
    return np.stack([np.interp(u, s, xy[:, 0]), np.interp(u, s, xy[:, 1])], axis=1)


def scene_road_map(
    dataroot: Path, location: str, ego: Agent, agents: list[Agent], times: NDArray[np.float64],
    source: MapSource = "auto", margin: float = 60.0,
) -> tuple[RoadMap, MapOrigin, list[str]]:
    """(map, where it came from: 'expansion' | 'traffic', warnings) for one scene.

    `source`: 'auto' (expansion if present, else traffic), 'expansion' (SceneSourceError when it is
    missing or unreadable) or 'traffic'.
    """
    if source not in MAP_SOURCES:
        raise SceneSourceError(f"map source must be one of {', '.join(MAP_SOURCES)} (got {source!r})")
    warnings: list[str] = []
    path = expansion_path(dataroot, location)
    if source in ("auto", "expansion"):
        if path.is_file():
            try:
                nusc_map = _load_expansion(dataroot, location)
                xy = ego.trajectory.sample(times).xy
                patch = (float(xy[:, 0].min() - margin), float(xy[:, 1].min() - margin),
                         float(xy[:, 0].max() + margin), float(xy[:, 1].max() + margin))
                road = map_from_expansion(nusc_map, patch)
                if road.drivable_area:
                    return road, "expansion", warnings
                warnings.append(f"{path}: the map expansion has no drivable area around this scene")
            # a malformed expansion file makes the devkit and shapely raise AssertionError, KeyError, ValueError,
            # OSError, GEOSException...: each one is reported (or, with 'auto', the map is inferred instead)
            except Exception as e:  # noqa: BLE001
                if source == "expansion":
                    raise SceneSourceError(f"{path}: cannot read the map expansion: {e}") from None
                warnings.append(f"{path}: cannot read the map expansion ({e}); the drivable area is inferred from traffic")
        elif source == "expansion":
            raise SceneSourceError(f"no map expansion for location {location!r}: {path} does not exist")
    if source == "expansion":
        raise SceneSourceError(f"{path}: the map expansion has no drivable area around this scene")
    return map_from_traffic(ego, agents, times), "traffic", warnings
