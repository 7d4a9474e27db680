"""A procedural single-ring roundabout on the 4-way layout, in right-hand traffic (counter-clockwise).

The roundabout replaces the intersection box of a `RoadLayout` whose `roundabout` flag is set: its
centre is (intersection_x, 0), the four arms are the usual EB/WB/NB/SB roads. The ring has as many
lanes as an arm has per direction; ring lane k (1 = next to the central island) has its centre at
radius `ring_lane_radius(layout, k)`. Vehicles enter from arm lane k into ring lane k, circulate
counter-clockwise (seen from above, x east, y north) and leave into lane k of the exit arm.

Exit numbering follows the road-sign convention: exit 1 is the first arm after the entry (a right
turn), 2 is straight on, 3 a left turn, 4 a U-turn.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
from numpy.typing import NDArray

from engine.roadmap.connectors import SAMPLES_PER_METRE, Connector, _curve_max_curvature, bezier5
from engine.roadmap.layout import (
    DIRECTION_HEADING, INTERSECTION_CROSSWALK_GAP, INTERSECTION_CROSSWALK_WIDTH, FloatArray, LaneRef, RoadLayout,
)
from engine.scenario.map_elements import Crossing, Lane, Polyline, RoadMap

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry   # untyped library: Any to mypy

ISLAND_RADIUS = 12.0          # m: central island (kerb) radius
ENTRY_ANGLE = math.radians(40.0)   # where the entry curve joins the ring, measured from the arm axis
ENTRY_REACH = 14.0            # m: the entry curve starts this far outside the ring's outer edge
EXIT_DIRECTIONS = {0: "EB", 1: "NB", 2: "WB", 3: "SB"}    # arm angle index (k * 90 deg) -> outbound direction


def island_radius(layout: RoadLayout) -> float:
    return ISLAND_RADIUS


def ring_lane_radius(layout: RoadLayout, k: int) -> float:
    """Centre-line radius (m) of ring lane k (1 = innermost)."""
    return island_radius(layout) + (k - 0.5) * layout.lane_width


def outer_radius(layout: RoadLayout) -> float:
    """Radius (m) of the ring's outer edge (where the arms end)."""
    return island_radius(layout) + layout.lanes_per_direction * layout.lane_width


def centre(layout: RoadLayout) -> FloatArray:
    """(2,) world centre of the roundabout; ValueError when the layout has none."""
    if layout.intersection_x is None or not layout.roundabout:
        raise ValueError("the layout has no roundabout")
    return np.array([float(layout.intersection_x), 0.0])


def inbound_arm_angle(direction: str) -> float:
    """Angle (rad, from the centre) of the arm traffic travelling `direction` enters from."""
    return DIRECTION_HEADING[direction] + math.pi


def exit_direction(entry: str, exit_number: int) -> str:
    """Outbound direction when traffic entering as `entry` takes exit `exit_number` (1-4)."""
    if exit_number not in (1, 2, 3, 4):
        raise ValueError(f"exit must be 1, 2, 3 or 4 (got {exit_number!r})")
    a = inbound_arm_angle(entry) + exit_number * math.pi / 2
    idx = int(round(a / (math.pi / 2))) % 4
    return EXIT_DIRECTIONS[idx]


def _arm_point(layout: RoadLayout, direction: str, k: int, dist: float, inbound: bool) -> FloatArray:
    """World point of lane k of `direction` at `dist` m from the centre (on the inbound or outbound arm)."""
    f = layout.frame(direction)
    s_c = float(f.from_world(centre(layout)[None])[0][0])
    s = s_c - dist if inbound else s_c + dist
    point: FloatArray = f.to_world(s, layout.lane_lat(k))[0]
    return point


def ring_arc(layout: RoadLayout, k: int, a0: float, a1: float) -> FloatArray:
    """(N, 2) points of ring lane k counter-clockwise from angle a0 to a1 (a1 > a0, rad)."""
    r = ring_lane_radius(layout, k)
    n = max(8, int(abs(a1 - a0) * r * SAMPLES_PER_METRE))
    a = np.linspace(a0, a1, n)
    arc: FloatArray = centre(layout) + r * np.stack([np.cos(a), np.sin(a)], axis=1)
    return arc


def roundabout_connector(layout: RoadLayout, entry: str, k: int, exit_number: int) -> Connector:
    """The path from lane k of `entry` (outside the ring) round the ring to lane k of the exit arm.

    Entry and exit are quintic Bezier curves (zero curvature where they meet the arm); the ring part
    is a circular arc of radius `ring_lane_radius(layout, k)`. ValueError without a roundabout.
    """
    if not 1 <= k <= layout.lanes_per_direction:
        raise ValueError(f"lane {k} does not exist on a roundabout arm with {layout.lanes_per_direction} lanes")
    out_dir = exit_direction(entry, exit_number)
    c = centre(layout)
    r = ring_lane_radius(layout, k)
    d0 = outer_radius(layout) + ENTRY_REACH
    phi = inbound_arm_angle(entry)
    th_in = phi + ENTRY_ANGLE
    th_out = phi + exit_number * math.pi / 2 - ENTRY_ANGLE
    p_start = _arm_point(layout, entry, k, d0, inbound=True)
    p_ring0 = c + r * np.array([math.cos(th_in), math.sin(th_in)])
    p_ring1 = c + r * np.array([math.cos(th_out), math.sin(th_out)])
    p_end = _arm_point(layout, out_dir, k, d0, inbound=False)
    h_entry, h_exit = DIRECTION_HEADING[entry], DIRECTION_HEADING[out_dir]
    d_in = float(np.hypot(*(p_ring0 - p_start)))
    d_out = float(np.hypot(*(p_end - p_ring1)))
    fracs = [(a, b) for a in (0.2, 0.25, 0.3, 0.35, 0.4) for b in (0.15, 0.2, 0.25, 0.3, 0.35)]
    enter = min((bezier5(p_start, h_entry, p_ring0, th_in + math.pi / 2, a * d_in, b * d_in) for a, b in fracs),
                key=_curve_max_curvature)
    arc = ring_arc(layout, k, th_in, th_out)
    leave = min((bezier5(p_ring1, th_out + math.pi / 2, p_end, h_exit, b * d_out, a * d_out) for a, b in fracs),
                key=_curve_max_curvature)
    pts = np.vstack([enter[:-1], arc, leave[1:]])
    cid = f"{entry}_{k}_rbt{exit_number}_{out_dir}_{k}"
    return Connector(cid, pts, LaneRef(entry, k), LaneRef(out_dir, k))


def _circle(cx: float, cy: float, r: float, n: int = 96) -> list[tuple[float, float]]:
    a = np.linspace(0.0, 2 * math.pi, n + 1)
    return [(round(cx + r * math.cos(t), 4), round(cy + r * math.sin(t), 4)) for t in a]


def roundabout_base(layout: RoadLayout, xmin: float, xmax: float,
                    ymax: float) -> tuple[RoadMap, BaseGeometry, BaseGeometry]:
    """The roundabout's own map pieces over the extent: arm lanes (cut at the ring), ring lanes
    (closed counter-clockwise circles), arm dividers, ring lane dividers, crosswalks on every arm.

    Returns (RoadMap without drivable area, shapely area of arms + ring disk, shapely island disk).
    """
    from shapely.geometry import Point, box
    from shapely.ops import unary_union

    c = centre(layout)
    cx = float(c[0])
    n, w, h = layout.lanes_per_direction, layout.lane_width, layout.half_width
    r_out, r_isl = outer_radius(layout), island_radius(layout)
    stop = math.sqrt(max(r_out ** 2 - h ** 2, 0.0))      # where the arm's edge meets the ring
    reach = {"EB": cx - xmin, "WB": xmax - cx, "NB": ymax, "SB": ymax}   # inbound arm length per direction
    out_reach = {"EB": xmax - cx, "WB": cx - xmin, "NB": ymax, "SB": ymax}
    lanes: list[Lane] = []
    dividers: list[Polyline] = []

    def r4(p: Sequence[Sequence[float]] | NDArray[np.floating[Any]]) -> tuple[tuple[float, float], ...]:
        return tuple((round(float(x), 4), round(float(y), 4)) for x, y in np.asarray(p).reshape(-1, 2))

    for d in ("EB", "WB", "NB", "SB"):
        f = layout.frame(d)
        s_c = float(f.from_world(c[None])[0][0])
        for k in range(1, n + 1):
            lat = layout.lane_lat(k)
            lanes.append(Lane(f"{d}_{k}", r4(f.to_world([s_c - reach[d], s_c - stop], lat)), w))
            lanes.append(Lane(f"{d}_{k}_out", r4(f.to_world([s_c + stop, s_c + out_reach[d]], lat)), w))
    for d in ("EB", "WB", "NB", "SB"):          # every arm once: the arm EB traffic enters on, etc.
        f = layout.frame(d)
        s_c = float(f.from_world(c[None])[0][0])
        seg = [s_c - reach[d], s_c - stop]
        dividers.append(Polyline(f"div_rbt_{d}_center", r4(f.to_world(seg, 0.0)), "double"))
        for k in range(1, n):
            dividers.append(Polyline(f"div_rbt_{d}_{k}a", r4(f.to_world(seg, -k * w)), "dashed"))
            dividers.append(Polyline(f"div_rbt_{d}_{k}b", r4(f.to_world(seg, k * w)), "dashed"))
    for k in range(1, n + 1):
        r = ring_lane_radius(layout, k)
        a = np.linspace(0.0, 2 * math.pi, max(64, int(2 * math.pi * r * 2)) + 1)
        lanes.append(Lane(f"ring_{k}", r4(c + r * np.stack([np.cos(a), np.sin(a)], 1)), w))
    for k in range(1, n):
        dividers.append(Polyline(f"div_ring_{k}", tuple(_circle(cx, 0.0, r_isl + k * w)), "dashed"))
    # yield lines across each entry (dashed, "give way" style)
    for d in ("EB", "WB", "NB", "SB"):
        f = layout.frame(d)
        s_c = float(f.from_world(c[None])[0][0])
        dividers.append(Polyline(f"yield_{d}", r4(f.to_world([s_c - stop] * 2, [0.0, -h])), "dashed"))

    crossings: list[Crossing] = []
    g, cw = INTERSECTION_CROSSWALK_GAP, INTERSECTION_CROSSWALK_WIDTH
    d_cw = r_out + g + 3.0
    for d in ("EB", "WB", "NB", "SB"):
        f = layout.frame(d)
        s_c = float(f.from_world(c[None])[0][0])
        s0, s1 = s_c - d_cw - cw, s_c - d_cw
        crossings.append(Crossing(f"cross_rbt_{d}", r4(f.to_world([s0, s1, s1, s0], [-h, -h, h, h]))))

    parts = [box(xmin, -h, xmax, h), box(cx - h, -ymax, cx + h, ymax), Point(cx, 0.0).buffer(r_out, 128)]
    area = unary_union(parts)
    area = area.buffer(4.0, join_style=1).buffer(-4.0, join_style=1)   # flared entries
    island = Point(cx, 0.0).buffer(r_isl, 128)
    return RoadMap(lanes=tuple(lanes), lane_boundaries=(), lane_dividers=tuple(dividers),
                   ped_crossings=tuple(crossings), drivable_area=()), area, island


def split_holes(area: BaseGeometry) -> list[BaseGeometry]:
    """Hole-free polygons covering `area` (a RoadMap's drivable area cannot hold holes): every
    polygon with interiors is cut along the vertical line through each hole's centre."""
    from shapely.geometry import box

    out: list[BaseGeometry] = []
    for poly in (area.geoms if hasattr(area, "geoms") else [area]):
        if not poly.interiors:
            out.append(poly)
            continue
        x0, y0, x1, y1 = poly.bounds
        hx = poly.interiors[0].centroid.x
        for half in (box(x0 - 1, y0 - 1, hx, y1 + 1), box(hx, y0 - 1, x1 + 1, y1 + 1)):
            out += split_holes(poly.intersection(half))
    return [p for p in out if not p.is_empty and p.area > 1e-6]


def roundabout_map(center_x: float = 45.0, lanes_per_direction: int = 2, lane_width: float = 3.5,
                   west_extent: float = -60.0, east_extent: float = 140.0, cross_extent: float = 70.0) -> RoadMap:
    """A stand-alone roundabout map (4 arms, ring, island, crossings), like `procedural.intersection_map`."""
    from engine.roadmap.fitted import MapExtent, fitted_road_map

    layout = RoadLayout(lanes_per_direction=lanes_per_direction, lane_width=lane_width).with_roundabout(center_x)
    return fitted_road_map(layout, MapExtent(west_extent, east_extent, cross_extent))
