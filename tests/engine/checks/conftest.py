"""Builders for hand-made scenarios whose check results are known analytically."""
from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
import pytest

from engine.classes import default_size
from engine.roadmap.procedural import straight_road_map
from engine.scenario.model import EGO_ID, Agent, Intent, Scenario
from engine.scenario.map_elements import RoadMap
from engine.scenario.trajectory import Trajectory

FPS = 12.0


def straight(x0: float, y0: float, yaw: float, speed: float, duration: float, accel: float = 0.0,
             t_brake: float = math.inf, step: float = 1.0 / 24) -> Trajectory:
    """Straight motion along `yaw`: constant `speed`, then constant `accel` from `t_brake` (stops at 0)."""
    t = np.round(np.arange(0.0, duration + 1e-9, step), 9)
    tb = np.minimum(t, t_brake)
    tau = np.maximum(t - t_brake, 0.0)
    if accel < 0:
        tau = np.minimum(tau, speed / -accel)
    s = speed * tb + speed * tau + 0.5 * accel * tau ** 2
    return Trajectory.from_arrays(t, x0 + s * math.cos(yaw), y0 + s * math.sin(yaw), np.full_like(t, yaw))


def agent(agent_id: str, cls: str, traj: Trajectory) -> Agent:
    return Agent(id=agent_id, cls=cls, size=default_size(cls), trajectory=traj)


def scenario(ego: Trajectory, agents: Sequence[Agent] = (), duration: float = 3.0, road: RoadMap | None = None,
             intents: Sequence[Intent] = ()) -> Scenario:
    return Scenario(name="hand_made", fps=FPS, duration=duration,
                    ego=Agent(id=EGO_ID, cls="car", size=default_size("car"), trajectory=ego),
                    agents=tuple(agents), map=road if road is not None else straight_road_map(-200.0, 400.0),
                    intents=tuple(intents))


def crossing_behind(pet: float, car_speed: float = 10.0, ped_speed: float = 1.4):
    """Ego car eastbound on y=0 from x=-30; a pedestrian walks north across x=0 and enters the car's path
    `pet` s after the car has left the crossing area. Returns (scenario, t_car_leaves, t_ped_enters)."""
    car_w, car_l = default_size("car")[:2]
    ped_w, ped_l = default_size("pedestrian")[:2]
    # the car (length along x) leaves the area |x| <= ped_w/2 when its rear passes x = ped_w/2
    t_leave = (ped_w / 2 + car_l / 2 + 30.0) / car_speed
    # the pedestrian (length along y) enters the area |y| <= car_w/2 when its front reaches y = -car_w/2
    t_enter = t_leave + pet
    y0 = -car_w / 2 - ped_l / 2 - ped_speed * t_enter
    ego = straight(-30.0, 0.0, 0.0, car_speed, 8.0)
    ped = agent("pedestrian_1", "pedestrian", straight(0.0, y0, math.pi / 2, ped_speed, 8.0))
    return scenario(ego, [ped], duration=8.0), t_leave, t_enter


@pytest.fixture
def build() -> dict[str, Callable]:
    """The builders above, for the test modules."""
    return {"straight": straight, "agent": agent, "scenario": scenario, "crossing_behind": crossing_behind}


@pytest.fixture
def head_on(build):
    """Ego eastbound at 10 m/s from x=0; car_1 westbound at 10 m/s from x=50, same line: they meet."""
    ego = straight(0.0, -1.75, 0.0, 10.0, 3.0)
    other = agent("car_1", "car", straight(50.0, -1.75, math.pi, 10.0, 3.0))
    return scenario(ego, [other], duration=3.0)
