"""A road map fitted to a layout and to the paths agents drive (DriveDreamer-2's HD-map step, procedurally).

Starts from `engine.roadmap.procedural` (a straight road or a 4-way intersection), replaces its turn
connectors with the ones agents actually use (same geometry as their trajectories), adds kerbside
parking lanes, merge lanes, mid-block crosswalks and U-turn connectors, makes the drivable area the
union of all of them (connectors widened by the swept width of the vehicles on them), and redraws
the kerbs as the edge of that area.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from engine.roadmap.connectors import Connector, turn_connector
from engine.roadmap.layout import (
    DIRECTIONS, MIDBLOCK_CROSSWALK_WIDTH, PARKING_CLEARANCE, PARKING_WIDTH, RAMP_TAPER, RoadLayout,
)
from engine.roadmap.procedural import IntersectionLayout, intersection_map, straight_road_map
from engine.scenario.map_elements import Crossing, Lane, Polyline, RoadMap

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry   # untyped library: Any to mypy

Pieces = tuple[list[Lane], list[Polyline], list["BaseGeometry"]]
"""Lanes, lines and drivable-area polygons a map feature adds."""

STANDARD_TURN_CURVATURE = 1.0 / 7.0      # the map's own turn lanes (for agents that do not turn)
CLOSING_RADIUS = 1.5                     # m; rounds the concave corners the union of pieces leaves


@dataclass(frozen=True)
class MapExtent:
    """How far the map reaches: the main road over [xmin, xmax], the cross road over [-ymax, ymax]."""

    xmin: float
    xmax: float
    ymax: float = 60.0


def _r(points: Sequence[Sequence[float]] | NDArray[np.floating[Any]]) -> tuple[tuple[float, float], ...]:
    """(N, 2) points as rounded (x, y) tuples (4 decimals: 0.1 mm)."""
    return tuple((round(float(x), 4), round(float(y), 4)) for x, y in np.asarray(points).reshape(-1, 2))


def standard_connectors(layout: RoadLayout) -> list[Connector]:
    """Left turns lane 1 -> 1 and right turns outermost -> outermost from every approach."""
    if layout.intersection_x is None or layout.roundabout:
        return []
    n = layout.lanes_per_direction
    out: list[Connector] = []
    for d in DIRECTIONS:
        out.append(turn_connector(layout, d, 1, "left", 1, STANDARD_TURN_CURVATURE))
        out.append(turn_connector(layout, d, n, "right", n, STANDARD_TURN_CURVATURE))
    return out


def _main_road_segments(layout: RoadLayout, extent: MapExtent, clearance: float) -> list[tuple[float, float]]:
    """x ranges of the main road that keep `clearance` from the intersection box."""
    if layout.intersection_x is None:
        return [(extent.xmin, extent.xmax)]
    cx, h = layout.intersection_x, layout.box_half
    segs = [(extent.xmin, cx - h - clearance), (cx + h + clearance, extent.xmax)]
    return [(a, b) for a, b in segs if b - a > 1.0]


def _parking(layout: RoadLayout, extent: MapExtent) -> Pieces:
    from shapely.geometry import box

    lanes: list[Lane] = []
    lines: list[Polyline] = []
    polys: list[BaseGeometry] = []
    for d in sorted(layout.parking):
        f = layout.frame(d)
        lat_c = layout.parking_lat(d)
        lat_in, lat_out = -layout.half_width, -(layout.half_width + PARKING_WIDTH)
        for i, (a, b) in enumerate(_main_road_segments(layout, extent, PARKING_CLEARANCE)):
            s0, s1 = (a, b) if d == "EB" else (-b, -a)
            name = f"{d}_park" if i == 0 else f"{d}_park_{i + 1}"
            lanes.append(Lane(name, _r(f.to_world([s0, s1], lat_c)), PARKING_WIDTH))
            lines.append(Polyline(f"edge_{name}", _r(f.to_world([s0, s1], lat_in)), "solid"))
            corners = f.to_world([s0, s1, s1, s0], [lat_in, lat_in, lat_out, lat_out])
            polys.append(box(*corners.min(0), *corners.max(0)))
    return lanes, lines, polys


def _ramps(layout: RoadLayout, extent: MapExtent) -> Pieces:
    from shapely.geometry import Polygon

    lanes: list[Lane] = []
    lines: list[Polyline] = []
    polys: list[BaseGeometry] = []
    w = layout.lane_width
    for r in layout.ramps:
        f = layout.frame(r.direction)
        start = extent.xmin if r.direction == "EB" else -extent.xmax
        lat_c, lat_in, lat_out = layout.ramp_lat(), -layout.half_width, -layout.half_width - w
        if r.s_end <= start:
            continue
        lanes.append(Lane(f"{r.direction}_merge", _r(f.to_world([start, r.s_end], lat_c)), w))
        lines.append(Polyline(f"div_{r.direction}_merge", _r(f.to_world([start, r.s_end], lat_in)), "dashed"))
        ring = f.to_world([start, r.s_end, r.s_end + RAMP_TAPER, start], [lat_out, lat_out, lat_in, lat_in])
        polys.append(Polygon(ring))
    return lanes, lines, polys


def _midblock_crosswalks(layout: RoadLayout) -> list[Crossing]:
    out: list[Crossing] = []
    y0 = layout.kerb_lat("EB")                  # EB frame lat == world y on the main road
    y1 = -layout.kerb_lat("WB")
    half = MIDBLOCK_CROSSWALK_WIDTH / 2
    for i, x in enumerate(layout.crosswalks):
        out.append(Crossing(f"cross_mid_{i + 1}", _r([(x - half, y0), (x + half, y0), (x + half, y1), (x - half, y1)])))
    return out


def _fit_crossings(crossings: list[Crossing], area: BaseGeometry) -> list[Crossing]:
    """Stretch every (axis-aligned) crosswalk to the kerbs of the drivable area it lies on, so it
    spans corner fillets and widened turns too."""
    from shapely.geometry import Point, box

    out: list[Crossing] = []
    for c in crossings:
        a = c.array
        x0, y0 = a.min(axis=0)
        x1, y1 = a.max(axis=0)
        across_y = (x1 - x0) <= (y1 - y0)          # people walk along y (across the main road)
        strip = box(x0, -1e5, x1, 1e5) if across_y else box(-1e5, y0, 1e5, y1)
        piece = strip.intersection(area)
        centre = Point((x0 + x1) / 2, (y0 + y1) / 2)
        parts = list(piece.geoms) if hasattr(piece, "geoms") else [piece]
        part = next((p for p in parts if p.buffer(0.01).contains(centre)), None)
        if part is None or part.is_empty:
            out.append(c)
            continue
        px0, py0, px1, py1 = part.bounds
        if across_y:
            rect = [(x0, py0), (x1, py0), (x1, py1), (x0, py1)]
        else:
            rect = [(px0, y0), (px1, y0), (px1, y1), (px0, y1)]
        out.append(Crossing(c.id, _r(rect)))
    return out


def _kerbs(area: BaseGeometry, extent: MapExtent, layout: RoadLayout) -> list[Polyline]:
    """The edge of the drivable area, minus the pieces that are only where the map is cut off."""
    tol = 1e-3
    ymax = extent.ymax if layout.intersection_x is not None else None

    def on_cut(p: Sequence[float], q: Sequence[float]) -> bool:
        for k, v in ((0, extent.xmin), (0, extent.xmax)):
            if abs(p[k] - v) < tol and abs(q[k] - v) < tol:
                return True
        if ymax is not None:
            for v in (-ymax, ymax):
                if abs(p[1] - v) < tol and abs(q[1] - v) < tol:
                    return True
        return False

    polys = list(area.geoms) if hasattr(area, "geoms") else [area]
    out: list[Polyline] = []
    for poly in polys:
        rings = [poly.exterior] + list(poly.interiors)
        for ring in rings:
            pts = list(ring.coords)[:-1]
            n = len(pts)
            cut = [on_cut(pts[i], pts[(i + 1) % n]) for i in range(n)]
            if not any(cut):
                out.append(Polyline(f"kerb_{len(out) + 1}", _r(pts + [pts[0]]), "solid"))
                continue
            start = cut.index(True)
            chain: list[tuple[float, float]] = []
            for j in range(1, n + 1):
                i = (start + j) % n
                if cut[i]:
                    if len(chain) >= 2:
                        out.append(Polyline(f"kerb_{len(out) + 1}", _r(chain), "solid"))
                    chain = []
                else:
                    if not chain:
                        chain = [pts[i]]
                    chain.append(pts[(i + 1) % n])
            if len(chain) >= 2:
                out.append(Polyline(f"kerb_{len(out) + 1}", _r(chain), "solid"))
    return out


def fitted_road_map(layout: RoadLayout, extent: MapExtent, connectors: Sequence[Connector] = (),
                    sweep: Mapping[str, float] | None = None) -> RoadMap:
    """The map of `layout` over `extent`, with the turn/U-turn `connectors` agents drive.

    `sweep` gives, per connector id, the half width (m) the drivable area must have around it
    (the farthest any footprint corner of a vehicle on it gets from its centre line); at least half
    a lane width is used.
    """
    from shapely.geometry import LineString, Polygon
    from shapely.ops import unary_union

    sweep = dict(sweep or {})
    n, w = layout.lanes_per_direction, layout.lane_width
    island = None
    if layout.roundabout:
        from engine.roadmap.roundabout import roundabout_base

        base, rbt_area, island = roundabout_base(layout, extent.xmin, extent.xmax, extent.ymax)
        lanes = list(base.lanes)
    elif layout.intersection_x is not None:
        base = intersection_map(IntersectionLayout(
            center_x=layout.intersection_x, lanes_per_direction=n, lane_width=w,
            west_extent=extent.xmin, east_extent=extent.xmax, cross_extent=extent.ymax))
        lanes = [l for l in base.lanes if "_left" not in l.id and "_right" not in l.id]
    else:
        base = straight_road_map(extent.xmin, extent.xmax, n, w)
        lanes = list(base.lanes)
    dividers = list(base.lane_dividers)
    crossings = list(base.ped_crossings) + _midblock_crosswalks(layout)
    areas = [Polygon(p) for p in base.drivable_area] + ([rbt_area] if island is not None else [])

    conns: dict[str, Connector] = {c.id: c for c in standard_connectors(layout)}
    conns.update({c.id: c for c in connectors})
    for c in conns.values():
        lanes.append(Lane(c.id, _r(c.points), w))
        half = max(w / 2, sweep.get(c.id, 0.0) + 0.15)
        areas.append(LineString(c.points).buffer(half, cap_style=2, join_style=1))

    for part in (_parking(layout, extent), _ramps(layout, extent)):
        lanes += part[0]
        dividers += part[1]
        areas += part[2]

    area = unary_union([a.buffer(0) for a in areas])
    # close small notches where widened connectors meet the kerbs, fill enclosed pockets
    area = area.buffer(CLOSING_RADIUS, join_style=1).buffer(-CLOSING_RADIUS, join_style=1)
    area = unary_union([Polygon(p.exterior) for p in (area.geoms if hasattr(area, "geoms") else [area])])
    if island is not None:
        area = area.difference(island)             # the roundabout's central island is not drivable
    area = area.simplify(0.005)
    area_polys = list(area.geoms) if hasattr(area, "geoms") else [area]
    if island is not None:
        from engine.roadmap.roundabout import split_holes

        area_polys = split_holes(area)
    drivable = tuple(_r(list(p.exterior.coords)[:-1]) for p in area_polys if not p.is_empty)
    return RoadMap(
        lanes=tuple(lanes),
        lane_boundaries=tuple(_kerbs(area, extent, layout)),
        lane_dividers=tuple(dividers),
        ped_crossings=tuple(_fit_crossings(crossings, area)),
        drivable_area=drivable,
    )

