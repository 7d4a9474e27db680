"""The road map of a scenario: lanes, boundaries, dividers, crossings and drivable area.

All coordinates are in the scenario's world frame (metres, x/y on the ground).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry   # untyped library: Any to mypy

Point2 = tuple[float, float]


@dataclass(frozen=True)
class Polyline:
    """An open polyline (lane boundary or divider). `style`: solid, dashed or double."""

    id: str
    points: tuple[Point2, ...]
    style: str = "solid"

    @property
    def array(self) -> NDArray[np.float64]:
        """(N, 2) float64 points."""
        return np.asarray(self.points, dtype=np.float64).reshape(-1, 2)


@dataclass(frozen=True)
class Lane:
    """A directed lane: traffic moves from the first to the last centre-line point."""

    id: str
    centerline: tuple[Point2, ...]
    width: float = 3.5

    @property
    def array(self) -> NDArray[np.float64]:
        """(N, 2) float64 centre-line points in driving order."""
        return np.asarray(self.centerline, dtype=np.float64).reshape(-1, 2)


@dataclass(frozen=True)
class Crossing:
    """A pedestrian crossing as a closed polygon (first point not repeated)."""

    id: str
    polygon: tuple[Point2, ...]

    @property
    def array(self) -> NDArray[np.float64]:
        """(N, 2) float64 polygon vertices."""
        return np.asarray(self.polygon, dtype=np.float64).reshape(-1, 2)


class SignalState(StrEnum):
    """What a signal head shows (`SignalPhase.state` holds the plain string)."""

    RED = "red"
    YELLOW = "yellow"
    GREEN = "green"
    OFF = "off"


SIGNAL_STATES: tuple[str, ...] = tuple(v.value for v in SignalState)


@dataclass(frozen=True)
class SignalPhase:
    """From time `t` (s) on, the head shows `state` (one of SIGNAL_STATES) until the next phase."""

    t: float
    state: str


@dataclass(frozen=True)
class TrafficSignal:
    """A signal head at an intersection approach, with its state timeline.

    `position` (x, y) is the head (at the kerb-side corner of the stop line); `yaw` the direction
    traffic it controls drives in (rad); `stop_line` the two ends of the line where that traffic
    must stop. `phases` are sorted by time; before the first phase the first state holds.
    `kind`: 'light' (a three-aspect traffic light) or 'stop_sign'. `controls` names the lane ids
    (or direction prefix like 'EB') it governs.
    """

    id: str
    position: Point2
    yaw: float
    stop_line: tuple[Point2, Point2]
    phases: tuple[SignalPhase, ...] = (SignalPhase(0.0, "green"),)
    kind: str = "light"
    controls: str = ""

    def state_at(self, t: float) -> str:
        """The state shown at time t (s)."""
        state = self.phases[0].state
        for ph in self.phases:
            if ph.t <= t + 1e-9:
                state = ph.state
            else:
                break
        return state

    def first_time(self, state: str, after: float = 0.0) -> float | None:
        """The first time >= after at which the head shows `state` (None if never)."""
        if self.state_at(after) == state:
            return after
        for ph in self.phases:
            if ph.t > after and ph.state == state:
                return ph.t
        return None


@dataclass(frozen=True)
class RoadMap:
    """HD-map layers. `drivable_area` is a list of polygons whose union is drivable."""

    lanes: tuple[Lane, ...] = field(default_factory=tuple)
    lane_boundaries: tuple[Polyline, ...] = field(default_factory=tuple)
    lane_dividers: tuple[Polyline, ...] = field(default_factory=tuple)
    ped_crossings: tuple[Crossing, ...] = field(default_factory=tuple)
    drivable_area: tuple[tuple[Point2, ...], ...] = field(default_factory=tuple)
    signals: tuple[TrafficSignal, ...] = field(default_factory=tuple)

    def signal(self, signal_id: str) -> TrafficSignal:
        """The signal with this id; KeyError names it when absent."""
        for sg in self.signals:
            if sg.id == signal_id:
                return sg
        raise KeyError(f"no traffic signal with id {signal_id!r}")

    @property
    def is_empty(self) -> bool:
        return not (self.lanes or self.lane_boundaries or self.lane_dividers or self.ped_crossings or self.drivable_area)

    @cached_property
    def drivable_geometry(self) -> BaseGeometry:
        """The drivable area as one shapely geometry (union of the polygons); empty if none."""
        from shapely.geometry import Polygon
        from shapely.ops import unary_union

        polys = [Polygon(p).buffer(0) for p in self.drivable_area if len(p) >= 3]
        return unary_union(polys) if polys else Polygon()

    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) over every map element; zeros when the map is empty."""
        arrays = [l.array for l in self.lanes] + [b.array for b in self.lane_boundaries]
        arrays += [d.array for d in self.lane_dividers] + [c.array for c in self.ped_crossings]
        arrays += [np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in self.drivable_area]
        arrays = [a for a in arrays if a.size]
        if not arrays:
            return (0.0, 0.0, 0.0, 0.0)
        pts = np.concatenate(arrays)
        return (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))

    def nearest_lane(self, x: float, y: float) -> tuple[Lane, float, float] | None:
        """The lane whose centre line passes closest to (x, y).

        Returns (lane, distance in m, lane heading in rad at the closest point), or None without lanes.
        """
        best = None
        p = np.array([x, y], dtype=np.float64)
        for lane in self.lanes:
            pts = lane.array
            if len(pts) < 2:
                continue
            a, b = pts[:-1], pts[1:]
            ab = b - a
            denom = np.maximum((ab ** 2).sum(1), 1e-12)
            u = np.clip(((p - a) * ab).sum(1) / denom, 0.0, 1.0)
            proj = a + u[:, None] * ab
            d = np.hypot(*(proj - p).T)
            i = int(np.argmin(d))
            if best is None or d[i] < best[1]:
                best = (lane, float(d[i]), float(np.arctan2(ab[i, 1], ab[i, 0])), proj[i])
        if best is None:
            return None
        return best[0], best[1], best[2]
