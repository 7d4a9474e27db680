"""Procedural road layouts in right-hand traffic: a straight multi-lane road and a 4-way intersection.

The main road runs along x (its centre line on y = 0); eastbound (+x) lanes lie at y < 0,
westbound at y > 0. Lane 1 is the innermost (next to the centre divider).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.scenario.map_elements import Crossing, Lane, Polyline, RoadMap


@dataclass(frozen=True)
class IntersectionLayout:
    """Parameters of a 4-way intersection of two straight roads (metres)."""

    center_x: float = 45.0
    lanes_per_direction: int = 2
    lane_width: float = 3.5
    west_extent: float = -60.0      # x where the main road starts
    east_extent: float = 140.0      # x where the main road ends
    cross_extent: float = 70.0      # how far the cross road reaches north and south of y = 0
    crosswalk_width: float = 3.0
    crosswalk_gap: float = 1.0      # from the intersection box to the crosswalk
    corner_radius: float = 5.0

    @property
    def half_width(self) -> float:
        return self.lanes_per_direction * self.lane_width

    def lane_offset(self, lane_number: int) -> float:
        """Distance from the road centre line to the centre of lane `lane_number` (1 = innermost)."""
        return (lane_number - 0.5) * self.lane_width


def _line(points: list[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    return tuple((round(float(x), 4), round(float(y), 4)) for x, y in points)


def _arc(cx: float, cy: float, r: float, a0: float, a1: float, n: int = 8) -> list[tuple[float, float]]:
    return [(cx + r * math.cos(a), cy + r * math.sin(a)) for a in np.linspace(a0, a1, n)]


def straight_road_map(
    x0: float = -60.0, x1: float = 200.0, lanes_per_direction: int = 2, lane_width: float = 3.5, one_way: bool = False
) -> RoadMap:
    """A straight road along x: lanes, dividers, kerbs and drivable area (no crossings)."""
    half = lanes_per_direction * lane_width
    lanes, dividers = [], []
    for k in range(1, lanes_per_direction + 1):
        off = (k - 0.5) * lane_width
        lanes.append(Lane(f"EB_{k}", _line([(x0, -off), (x1, -off)]), lane_width))
        if not one_way:
            lanes.append(Lane(f"WB_{k}", _line([(x1, off), (x0, off)]), lane_width))
    for k in range(1, lanes_per_direction):
        y = k * lane_width
        dividers.append(Polyline(f"div_EB_{k}", _line([(x0, -y), (x1, -y)]), "dashed"))
        if not one_way:
            dividers.append(Polyline(f"div_WB_{k}", _line([(x0, y), (x1, y)]), "dashed"))
    if not one_way:
        dividers.append(Polyline("div_center", _line([(x0, 0.0), (x1, 0.0)]), "double"))
    top = 0.0 if one_way else half
    bounds = (
        Polyline("kerb_south", _line([(x0, -half), (x1, -half)]), "solid"),
        Polyline("kerb_north", _line([(x0, top), (x1, top)]), "solid"),
    )
    area = (_line([(x0, -half), (x1, -half), (x1, top), (x0, top)]),)
    return RoadMap(lanes=tuple(lanes), lane_boundaries=bounds, lane_dividers=tuple(dividers), drivable_area=area)


TURN_CURVATURE = 1.0 / 7.0  # 1/m: a 7 m radius, comfortable for every vehicle class


def _turn_lanes(L: IntersectionLayout) -> list[Lane]:
    """Turn lanes through the box named like ``EB_left`` / ``EB_right`` (plus straight lead-in/out)."""
    from engine.roadmap.connectors import turn_connector
    from engine.roadmap.layout import RoadLayout

    road = RoadLayout(lanes_per_direction=L.lanes_per_direction, lane_width=L.lane_width, intersection_x=L.center_x)
    n = L.lanes_per_direction
    out = []
    for d in ("EB", "WB", "NB", "SB"):
        for turn, lane in (("left", 1), ("right", n)):
            c = turn_connector(road, d, lane, turn, lane, TURN_CURVATURE)
            out.append(Lane(f"{d}_{turn}", _line(np.asarray(c.points)[::2].tolist() + [tuple(c.points[-1])]), L.lane_width))
    return out


def intersection_map(layout: IntersectionLayout = IntersectionLayout()) -> RoadMap:
    """A 4-way intersection with crosswalks on every arm, turn lanes through the box, kerbs with rounded corners."""
    L = layout
    cx, h, w, r = L.center_x, L.half_width, L.lane_width, L.corner_radius
    xw, xe, ys, yn = L.west_extent, L.east_extent, -L.cross_extent, L.cross_extent
    lanes: list[Lane] = []
    dividers: list[Polyline] = []

    # through lanes (they run across the box)
    for k in range(1, L.lanes_per_direction + 1):
        o = L.lane_offset(k)
        lanes.append(Lane(f"EB_{k}", _line([(xw, -o), (xe, -o)]), w))
        lanes.append(Lane(f"WB_{k}", _line([(xe, o), (xw, o)]), w))
        lanes.append(Lane(f"NB_{k}", _line([(cx + o, ys), (cx + o, yn)]), w))
        lanes.append(Lane(f"SB_{k}", _line([(cx - o, yn), (cx - o, ys)]), w))

    # turn connectors: left turns lane 1 -> 1, right turns outermost -> outermost, drawn with the
    # same curves the library's turning agents follow (engine.roadmap.connectors), so maps agree
    lanes += _turn_lanes(L)

    # dividers on each arm (none inside the box)
    arms = {
        "W": ((xw, cx - h), "x"), "E": ((cx + h, xe), "x"),
        "S": ((ys, -h), "y"), "N": ((h, yn), "y"),
    }
    for arm, ((a, b), axis) in arms.items():
        def seg(off: float) -> tuple[tuple[float, float], ...]:
            return _line([(a, off), (b, off)]) if axis == "x" else _line([(cx + off, a), (cx + off, b)])
        dividers.append(Polyline(f"div_{arm}_center", seg(0.0), "double"))
        for k in range(1, L.lanes_per_direction):
            dividers.append(Polyline(f"div_{arm}_{k}a", seg(k * w), "dashed"))
            dividers.append(Polyline(f"div_{arm}_{k}b", seg(-k * w), "dashed"))

    # kerbs: four L-shaped edges with rounded corners
    bounds = []
    for name, sx, sy in (("SW", -1, -1), ("SE", 1, -1), ("NW", -1, 1), ("NE", 1, 1)):
        far_x = xw if sx < 0 else xe
        far_y = ys if sy < 0 else yn
        corner_c = (cx + sx * (h + r), sy * (h + r))
        a0, a1 = math.atan2(-sy, 0.0), math.atan2(0.0, -sx)
        if a1 - a0 > math.pi:  # take the quarter turn, not the long way round
            a1 -= 2 * math.pi
        elif a1 - a0 < -math.pi:
            a1 += 2 * math.pi
        arc = _arc(corner_c[0], corner_c[1], r, a0, a1, 8)
        pts = [(far_x, sy * h)] + arc + [(cx + sx * h, far_y)]
        bounds.append(Polyline(f"kerb_{name}", _line(pts), "solid"))

    # crosswalks on each arm
    crossings = []
    g, cw = L.crosswalk_gap, L.crosswalk_width
    crossings.append(Crossing("cross_W", _line([(cx - h - g - cw, -h), (cx - h - g, -h), (cx - h - g, h), (cx - h - g - cw, h)])))
    crossings.append(Crossing("cross_E", _line([(cx + h + g, -h), (cx + h + g + cw, -h), (cx + h + g + cw, h), (cx + h + g, h)])))
    crossings.append(Crossing("cross_S", _line([(cx - h, -h - g - cw), (cx + h, -h - g - cw), (cx + h, -h - g), (cx - h, -h - g)])))
    crossings.append(Crossing("cross_N", _line([(cx - h, h + g), (cx + h, h + g), (cx + h, h + g + cw), (cx - h, h + g + cw)])))

    # drivable area: the two roads plus the rounded corners
    from shapely.geometry import Point, box
    from shapely.ops import unary_union

    parts = [box(xw, -h, xe, h), box(cx - h, ys, cx + h, yn)]
    for sx in (-1, 1):
        for sy in (-1, 1):
            corner = box(min(cx + sx * h, cx + sx * (h + r)), min(sy * h, sy * (h + r)),
                         max(cx + sx * h, cx + sx * (h + r)), max(sy * h, sy * (h + r)))
            parts.append(corner.difference(Point(cx + sx * (h + r), sy * (h + r)).buffer(r, 16)))
    area = unary_union(parts).simplify(0.01)
    ring = list(area.exterior.coords)[:-1]
    return RoadMap(
        lanes=tuple(lanes),
        lane_boundaries=tuple(bounds),
        lane_dividers=tuple(dividers),
        ped_crossings=tuple(crossings),
        drivable_area=(_line(ring),),
    )
