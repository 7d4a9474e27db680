"""New agents dropped from the asset palette: where they stand, where they head, how they move.

A vehicle dropped on the road drives along the nearest lane at a typical speed for its class, and is
exactly at the drop point at the current time; off the road it is parked, facing along the nearest
lane. A pedestrian dropped on a crosswalk walks across it; elsewhere it walks along the nearest lane.
Cones and barriers stand still (a barrier faces along the lane, so it blocks it).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from editor.lane_snap import nearest_projection, point_along_lane, snap_to_lane
from engine.classes import STATIC_CLASSES, VEHICLE_CLASSES, class_names, default_size
from engine.scenario.model import Agent, Scenario
from engine.scenario.map_elements import Crossing
from engine.scenario.trajectory import Trajectory

if TYPE_CHECKING:
    from shapely.geometry import Point

# Typical speeds (m/s) of a newly placed agent of each class.
DEFAULT_SPEEDS: dict[str, float] = {
    "car": 8.0, "truck": 7.0, "bus": 6.0, "trailer": 7.0, "construction_vehicle": 4.0,
    "pedestrian": 1.4, "motorcycle": 9.0, "bicycle": 4.5, "traffic_cone": 0.0, "barrier": 0.0,
}
KEY_STEP = 0.5  # seconds between the waypoints of a new agent


@dataclass(frozen=True)
class Placement:
    """How a drop was interpreted: pose at the drop time, speed, and why (for the status bar)."""

    x: float
    y: float
    yaw: float
    speed: float
    reason: str


def default_speed(cls: str) -> float:
    """Typical speed in m/s of a class (0 for static objects)."""
    return DEFAULT_SPEEDS.get(cls, 0.0)


def _crossing_at(scenario: Scenario, x: float, y: float) -> Crossing | None:
    from shapely.geometry import Point, Polygon

    p = Point(x, y)
    for c in scenario.map.ped_crossings:
        if len(c.polygon) >= 3 and Polygon(c.polygon).buffer(0.25).contains(p):
            return c
    return None


def _crossing_direction(crossing: Crossing, x: float, y: float) -> float:
    """Heading along the crossing's long axis, towards its farther end from (x, y)."""
    from shapely.geometry import Polygon

    rect = np.asarray(Polygon(crossing.polygon).minimum_rotated_rectangle.exterior.coords)[:4]
    edges = np.diff(np.vstack([rect, rect[:1]]), axis=0)
    e = edges[int(np.argmax(np.hypot(edges[:, 0], edges[:, 1])))]
    axis = e / max(np.hypot(*e), 1e-12)
    centre = rect.mean(axis=0)
    along = float(np.dot(np.array([x, y]) - centre, axis))
    if along > 0:  # past the middle: walk back towards the other end
        axis = -axis
    return float(math.atan2(axis[1], axis[0]))


def plan_placement(scenario: Scenario, cls: str, x: float, y: float) -> Placement:
    """Where and how an agent of class `cls` dropped at (x, y) stands and moves."""
    proj = nearest_projection(scenario.map, x, y)
    lane_heading = proj.heading if proj is not None else 0.0
    if cls in STATIC_CLASSES:
        return Placement(x, y, lane_heading, 0.0, "static object facing along the lane")
    speed = default_speed(cls)
    if cls == "pedestrian":
        crossing = _crossing_at(scenario, x, y)
        if crossing is not None:
            return Placement(x, y, _crossing_direction(crossing, x, y), speed, f"walking across {crossing.id}")
        return Placement(x, y, lane_heading, speed, "walking along the lane")
    on_road = scenario.map.drivable_geometry.is_empty or scenario.map.drivable_geometry.buffer(0.5).contains(
        _point(x, y))
    if cls in VEHICLE_CLASSES and not on_road:
        return Placement(x, y, lane_heading, 0.0, "parked off the road")
    snapped = snap_to_lane(scenario.map, x, y)
    if snapped is not None:
        return Placement(snapped.x, snapped.y, snapped.heading, speed, f"driving along lane {snapped.lane.id}")
    return Placement(x, y, lane_heading, speed, "driving along the nearest lane's direction")


def _point(x: float, y: float) -> Point:
    from shapely.geometry import Point

    return Point(x, y)


def placement_trajectory(scenario: Scenario, cls: str, placement: Placement, t_drop: float) -> Trajectory:
    """A trajectory over the whole clip that is at the placement's pose at time `t_drop`.

    Vehicles on a lane follow its centre line (straight on past its ends); others move straight.
    Waypoints every `KEY_STEP` seconds plus the clip's first and last frame times.
    """
    t_end = (scenario.num_frames - 1) / scenario.fps
    if placement.speed <= 0 or t_end <= 0:
        return Trajectory.static(placement.x, placement.y, placement.yaw)
    times = np.unique(np.round(np.concatenate([np.arange(0.0, t_end, KEY_STEP), [t_end]]), 6))
    snapped = snap_to_lane(scenario.map, placement.x, placement.y, max_distance=0.05)
    lane_proj = snapped if snapped is not None and cls != "pedestrian" and abs(
        math.remainder(snapped.heading - placement.yaw, 2 * math.pi)) < 0.1 else None
    xs: list[float] = []
    ys: list[float] = []
    yaws: list[float] = []
    for t in times:
        d = placement.speed * (t - t_drop)
        if lane_proj is not None:
            px, py, h = point_along_lane(lane_proj.lane, lane_proj.s + d)
        else:
            px = placement.x + d * math.cos(placement.yaw)
            py = placement.y + d * math.sin(placement.yaw)
            h = placement.yaw
        xs.append(round(px, 4))
        ys.append(round(py, 4))
        yaws.append(h)
    unwrapped = np.unwrap(np.asarray(yaws))
    return Trajectory.from_arrays(times, xs, ys, np.round(unwrapped, 6), np.full(len(times), placement.speed))


def new_agent_at(scenario: Scenario, cls: str, x: float, y: float, t_drop: float = 0.0,
                 asset: str | None = None) -> tuple[Agent, Placement]:
    """A new agent of class `cls` dropped at (x, y) at time `t_drop`, with an unused id.

    Raises ValueError naming the class when it is not one of the ten detection classes.
    """
    if cls not in class_names():
        raise ValueError(f"unknown class {cls!r}; expected one of {', '.join(class_names())}")
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError(f"drop position must be finite, got ({x}, {y})")
    placement = plan_placement(scenario, cls, x, y)
    traj = placement_trajectory(scenario, cls, placement, t_drop)
    agent = Agent(id=scenario.new_agent_id(cls), cls=cls, size=default_size(cls), trajectory=traj,
                  asset=asset or f"builtin:{cls}", behavior="manual")
    return agent, placement
