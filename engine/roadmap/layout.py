"""The logical road layout a prompted scenario is built on, and lane-aligned frames on it.

Right-hand traffic, as in `engine.roadmap.procedural`: the main road runs along x with its centre
line on y = 0; eastbound (EB, +x) lanes lie at y < 0, westbound (WB) at y > 0. An optional cross
road runs along y through x = `intersection_x` (northbound NB at x > cx, southbound SB at x < cx).
Lane 1 is the innermost lane of each direction.

Every direction has a lane-aligned frame: `s` along the direction of travel, `lat` to the left of
it, metres. Lane k of every direction has its centre at lat = -(k - 0.5) * lane_width.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
Coords = float | Sequence[float] | NDArray[np.floating[Any]]
"""Frame coordinates: one number, or (N,) numbers as a list or an array."""

DIRECTIONS = ("EB", "WB", "NB", "SB")
DIRECTION_HEADING = {"EB": 0.0, "NB": math.pi / 2, "WB": math.pi, "SB": -math.pi / 2}
OPPOSITE = {"EB": "WB", "WB": "EB", "NB": "SB", "SB": "NB"}
AFTER_LEFT_TURN = {"EB": "NB", "NB": "WB", "WB": "SB", "SB": "EB"}
AFTER_RIGHT_TURN = {"EB": "SB", "SB": "WB", "WB": "NB", "NB": "EB"}
MAIN_ROAD = ("EB", "WB")
CROSS_ROAD = ("NB", "SB")

PARKING_WIDTH = 2.5
SIDEWALK_OFFSET = 1.5          # a pedestrian waits this far beyond the kerb
MIDBLOCK_CROSSWALK_WIDTH = 4.0
INTERSECTION_CROSSWALK_WIDTH = 3.0
INTERSECTION_CROSSWALK_GAP = 1.0
PARKING_CLEARANCE = 12.0       # no parking this close to the intersection box
RAMP_TAPER = 40.0              # length over which a merge lane narrows to nothing


@dataclass(frozen=True)
class LaneRef:
    """A lane of the layout: travel direction (EB/WB/NB/SB) and number (1 = innermost)."""

    direction: str
    number: int

    @property
    def id(self) -> str:
        return f"{self.direction}_{self.number}"

    @classmethod
    def parse(cls, text: str) -> "LaneRef":
        """'EB_2' -> LaneRef('EB', 2); ValueError names a malformed id."""
        parts = str(text).split("_")
        if len(parts) != 2 or parts[0] not in DIRECTIONS or not parts[1].isdigit() or int(parts[1]) < 1:
            raise ValueError(f"lane id {text!r} is not like 'EB_2' (direction EB/WB/NB/SB, number from 1)")
        return cls(parts[0], int(parts[1]))


@dataclass(frozen=True)
class LaneFrame:
    """A straight frame aligned with a travel direction: world = origin + s * t + lat * n.

    t = (cos h, sin h) is the direction of travel, n = (-sin h, cos h) points to its left.
    """

    origin: tuple[float, float]
    heading: float

    @property
    def tangent(self) -> FloatArray:
        """(2,) unit direction of travel."""
        return np.array([math.cos(self.heading), math.sin(self.heading)])

    @property
    def normal(self) -> FloatArray:
        """(2,) unit vector to the left of the direction of travel."""
        return np.array([-math.sin(self.heading), math.cos(self.heading)])

    def to_world(self, s: Coords, lat: Coords) -> FloatArray:
        """(N, 2) world points for (N,) s and lat (scalars broadcast)."""
        s_arr, lat_arr = np.broadcast_arrays(np.atleast_1d(np.asarray(s, np.float64)),
                                             np.atleast_1d(np.asarray(lat, np.float64)))
        o = np.asarray(self.origin, dtype=np.float64)
        world: FloatArray = o + s_arr[:, None] * self.tangent + lat_arr[:, None] * self.normal
        return world

    def from_world(self, xy: Sequence[Sequence[float]] | NDArray[np.floating[Any]]) -> tuple[FloatArray, FloatArray]:
        """(s, lat), each (N,), for (N, 2) world points."""
        d = np.atleast_2d(np.asarray(xy, dtype=np.float64)) - np.asarray(self.origin)
        return d @ self.tangent, d @ self.normal


@dataclass(frozen=True)
class Ramp:
    """A merge (acceleration) lane outside the outermost lane of `direction`, ending at s = `s_end`."""

    direction: str
    s_end: float


@dataclass(frozen=True)
class RoadLayout:
    """Parameters of the procedural road: lanes, optional intersection, parking, crossings, ramps."""

    lanes_per_direction: int = 2
    lane_width: float = 3.5
    intersection_x: float | None = None
    parking: frozenset[str] = field(default_factory=frozenset)     # directions with a kerbside parking lane
    crosswalks: tuple[float, ...] = ()                            # mid-block crosswalk centres (x) on the main road
    ramps: tuple[Ramp, ...] = ()
    roundabout: bool = False                                      # the intersection is a roundabout

    # ---- lanes ----------------------------------------------------------------------
    @property
    def half_width(self) -> float:
        """Width of the traffic lanes of one direction (centre line to the outer lane edge)."""
        return self.lanes_per_direction * self.lane_width

    def lane_lat(self, number: float) -> float:
        """Lateral offset of lane `number`'s centre in its direction frame (negative: right of the centre line)."""
        return -(number - 0.5) * self.lane_width

    def frame(self, direction: str) -> LaneFrame:
        """The lane-aligned frame of a travel direction (cross-road frames are centred on the intersection)."""
        if direction in MAIN_ROAD:
            origin = (0.0, 0.0)
        elif self.intersection_x is None:
            raise ValueError(f"direction {direction} needs an intersection, and the layout has none")
        else:
            origin = (float(self.intersection_x), 0.0)
        return LaneFrame(origin, DIRECTION_HEADING[direction])

    def has_ramp(self, direction: str) -> bool:
        return any(r.direction == direction for r in self.ramps)

    def ramp(self, direction: str) -> Ramp | None:
        return next((r for r in self.ramps if r.direction == direction), None)

    def ramp_lat(self) -> float:
        """Lateral offset of a merge lane's centre (just outside the outermost lane)."""
        return self.lane_lat(self.lanes_per_direction + 1)

    def parking_lat(self, direction: str) -> float:
        """Lateral offset of the parking lane's centre on `direction`'s kerb side."""
        return -(self.half_width + PARKING_WIDTH / 2)

    def kerb_lat(self, direction: str) -> float:
        """Lateral offset of the right-hand kerb of `direction` (road edge, incl. parking lanes)."""
        edge = self.half_width
        if direction in self.parking:
            edge += PARKING_WIDTH
        if self.has_ramp(direction):
            edge = max(edge, self.half_width + self.lane_width)
        return -edge

    # ---- intersection ---------------------------------------------------------------
    @property
    def box_half(self) -> float:
        """Half size of the junction: the intersection box, or the roundabout's outer ring radius."""
        if self.roundabout:
            from engine.roadmap.roundabout import outer_radius

            return outer_radius(self)
        return self.half_width

    def box(self) -> tuple[float, float, float, float] | None:
        """(xmin, xmax, ymin, ymax) of the intersection box (where the two roads overlap), or None."""
        if self.intersection_x is None:
            return None
        cx, h = self.intersection_x, self.box_half
        return (cx - h, cx + h, -h, h)

    def box_entry_s(self, direction: str) -> float:
        """s (in `direction`'s frame) where the intersection box begins for traffic travelling that way."""
        if self.intersection_x is None:
            raise ValueError("the layout has no intersection")
        if direction == "EB":
            return self.intersection_x - self.box_half
        if direction == "WB":
            return -(self.intersection_x + self.box_half)
        return -self.box_half                         # NB / SB frames are centred on the intersection

    def box_exit_s(self, direction: str) -> float:
        """s (in `direction`'s frame) where traffic travelling that way leaves the intersection box."""
        return -self.box_entry_s(OPPOSITE[direction])

    def intersection_crosswalk_s(self, direction: str) -> float:
        """s (in `direction`'s frame) of the centre of the crosswalk just before the box."""
        return self.box_entry_s(direction) - INTERSECTION_CROSSWALK_GAP - INTERSECTION_CROSSWALK_WIDTH / 2

    def main_crosswalk_centres(self) -> list[float]:
        """x of every crosswalk across the main road (mid-block ones and the intersection's west/east arms)."""
        xs = list(self.crosswalks)
        if self.intersection_x is not None:
            d = self.box_half + INTERSECTION_CROSSWALK_GAP + INTERSECTION_CROSSWALK_WIDTH / 2
            xs += [self.intersection_x - d, self.intersection_x + d]
        return sorted(xs)

    def crosswalk_half_width_at(self, x: float) -> float:
        """Half the width (along x) of the main-road crosswalk centred at x."""
        return (MIDBLOCK_CROSSWALK_WIDTH if x in self.crosswalks else INTERSECTION_CROSSWALK_WIDTH) / 2

    def near_intersection(self, x: float, margin: float) -> bool:
        """Whether main-road position x lies within `margin` of the intersection box."""
        if self.intersection_x is None:
            return False
        return abs(x - self.intersection_x) < self.box_half + margin

    # ---- edits (return new layouts) ---------------------------------------------------
    def with_lanes(self, n: int) -> "RoadLayout":
        return replace(self, lanes_per_direction=int(n))

    def with_intersection(self, x: float) -> "RoadLayout":
        return replace(self, intersection_x=float(x))

    def with_roundabout(self, x: float) -> "RoadLayout":
        """A roundabout centred at (x, 0) in place of the intersection."""
        return replace(self, intersection_x=float(x), roundabout=True)

    def with_parking(self, direction: str) -> "RoadLayout":
        return replace(self, parking=frozenset(self.parking | {direction}))

    def with_crosswalk(self, x: float) -> "RoadLayout":
        if any(abs(x - c) < 1e-6 for c in self.crosswalks):
            return self
        return replace(self, crosswalks=tuple(sorted(self.crosswalks + (float(x),))))

    def with_ramp(self, ramp: Ramp) -> "RoadLayout":
        return replace(self, ramps=tuple(r for r in self.ramps if r.direction != ramp.direction) + (ramp,))
