"""Editor fixtures: small scenarios built in code (no files, no Qt)."""
from __future__ import annotations

import pytest

from engine.classes import default_size
from engine.roadmap.procedural import straight_road_map
from engine.scenario.model import Agent, Scenario
from engine.scenario.trajectory import Trajectory


def straight_agent(agent_id: str, cls: str = "car", x0: float = 0.0, y0: float = -5.25, speed: float = 8.0,
                   n: int = 12, step: float = 0.25) -> Agent:
    """An agent driving along +x at `speed` with `n` waypoints every `step` seconds."""
    t = [i * step for i in range(n)]
    return Agent(agent_id, cls, default_size(cls),
                 Trajectory.from_arrays(t, [x0 + speed * ti for ti in t], [y0] * n, [0.0] * n, [speed] * n))


def make_road_scenario() -> Scenario:
    """A straight two-lane-per-direction road with the ego and two cars (immutable: safe to share)."""
    return Scenario(name="road", map=straight_road_map(), ego=straight_agent("ego", y0=-1.75),
                    agents=(straight_agent("car_1", x0=20.0), straight_agent("car_2", x0=-10.0, y0=1.75, speed=6.0)))


@pytest.fixture()
def road_scenario() -> Scenario:
    return make_road_scenario()
