"""The bundled demo: a four-lane road into an intersection, the ego and eight agents over 2.75 s.

Story: a work zone (cones and a barrier) closes the right eastbound lane ahead of the ego, so a
car cuts in from it; a truck and a motorcycle come the other way; a pedestrian starts across the
west crosswalk, a cyclist rides south on the cross road, a bus waits to turn at the south arm.
`tools/make_demo.py` writes it to resources/demo/.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from engine.classes import default_size
from engine.roadmap.procedural import IntersectionLayout, intersection_map
from engine.scenario.model import EGO_ID, Agent, Environment, Scenario
from engine.scenario.trajectory import Trajectory

DURATION = 2.75
KEY_STEP = 0.25  # seconds between demo waypoints


def _key_times() -> NDArray[np.float64]:
    return np.round(np.arange(0.0, DURATION + 1e-9, KEY_STEP), 6)


def _straight(x0: float, y0: float, yaw: float, speed: float, accel: float = 0.0) -> Trajectory:
    t = _key_times()
    v = np.maximum(speed + accel * t, 0.0)
    s = speed * t + 0.5 * accel * t ** 2
    if accel < 0:
        t_stop = speed / -accel
        s = np.where(t < t_stop, s, speed * t_stop / 2)
    x = x0 + s * math.cos(yaw)
    y = y0 + s * math.sin(yaw)
    return Trajectory.from_arrays(t, np.round(x, 4), np.round(y, 4), np.full_like(t, yaw), np.round(v, 4))


def _lane_change(x0: float, y0: float, y1: float, speed: float, t_start: float, t_dur: float) -> Trajectory:
    t = _key_times()
    x = x0 + speed * t
    u = np.clip((t - t_start) / t_dur, 0.0, 1.0)
    blend = 0.5 - 0.5 * np.cos(math.pi * u)
    y = y0 + (y1 - y0) * blend
    dy_dt = (y1 - y0) * 0.5 * math.pi * np.sin(math.pi * u) / t_dur * ((t > t_start) & (t < t_start + t_dur))
    yaw = np.arctan2(dy_dt, speed)
    return Trajectory.from_arrays(t, np.round(x, 4), np.round(y, 4), np.round(yaw, 5), np.full_like(t, speed))


def _agent(agent_id: str, cls: str, traj: Trajectory, behavior: str, **params: Any) -> Agent:
    return Agent(id=agent_id, cls=cls, size=default_size(cls), trajectory=traj, behavior=behavior,
                 behavior_params=params)


def build_demo_scenario() -> Scenario:
    """The demo scenario (deterministic)."""
    layout = IntersectionLayout()
    cx = layout.center_x
    lane1, lane2 = layout.lane_offset(1), layout.lane_offset(2)
    agents = [
        _agent("car_1", "car", _lane_change(12.0, -lane2, -lane1, 9.0, 0.5, 1.75), "cut_in",
               side="right", speed=9.0),
        _agent("truck_1", "truck", _straight(78.0, lane1, math.pi, 8.0), "forward", speed=8.0),
        _agent("motorcycle_1", "motorcycle", _straight(62.0, lane2, math.pi, 11.0), "forward", speed=11.0),
        _agent("pedestrian_1", "pedestrian", _straight(cx - layout.half_width - 2.5, -layout.half_width - 1.5,
                                                        math.pi / 2, 1.4), "pedestrian_crossing", speed=1.4),
        _agent("bicycle_1", "bicycle", _straight(cx - lane2, 24.0, -math.pi / 2, 4.5), "forward", speed=4.5),
        _agent("bus_1", "bus", _straight(cx + lane1, -22.0, math.pi / 2, 2.0, accel=-0.7), "brake", speed=2.0),
        _agent("traffic_cone_1", "traffic_cone", Trajectory.static(24.0, -lane2 - 0.8, 0.0), "static"),
        _agent("traffic_cone_2", "traffic_cone", Trajectory.static(27.0, -lane2 - 0.2, 0.0), "static"),
        _agent("traffic_cone_3", "traffic_cone", Trajectory.static(30.0, -lane2 + 0.4, 0.0), "static"),
        _agent("barrier_1", "barrier", Trajectory.static(32.5, -lane2, 0.0), "static"),
    ]
    ego = Agent(id=EGO_ID, cls="car", size=default_size("car"),
                trajectory=_straight(0.0, -lane1, 0.0, 8.0), behavior="forward", behavior_params={"speed": 8.0})
    return Scenario(
        name="demo_intersection",
        description="Work zone closes the right lane; a car cuts in ahead of the ego near an intersection "
                    "with oncoming traffic, a crossing pedestrian, a cyclist and a waiting bus.",
        seed=0,
        fps=12.0,
        duration=DURATION,
        environment=Environment("day", "clear"),
        ego=ego,
        agents=tuple(agents),
        map=intersection_map(layout),
    )
