"""nuScenes attributes of an agent at a key frame, from its trajectory.

Rules (the agent's motion is known exactly, so one small threshold suffices):
  * vehicles (car, truck, bus, trailer, construction vehicle): ``vehicle.moving`` above MOVING_SPEED;
    when slower, ``vehicle.parked`` if it never moves during the clip (a parked car), else
    ``vehicle.stopped`` (waiting with intent to move, e.g. braking to a halt);
  * bicycle, motorcycle: ``cycle.with_rider`` if it moves at any time in the clip, else
    ``cycle.without_rider`` (a parked bike); ``behavior_params['rider']`` (bool) overrides;
  * pedestrian: ``pedestrian.moving`` above MOVING_SPEED, else ``pedestrian.standing``;
  * traffic cone, barrier: no attribute (as in nuScenes).
"""
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from engine.scenario.model import Agent

MOVING_SPEED = 0.2  # m/s
VEHICLES = frozenset({"car", "truck", "bus", "trailer", "construction_vehicle"})
CYCLES = frozenset({"bicycle", "motorcycle"})


def moves_during(agent: Agent, times: NDArray[np.float64]) -> bool:
    """Whether the agent exceeds MOVING_SPEED at any of `times` (N,) seconds."""
    return bool(np.any(agent.trajectory.sample(times).speed > MOVING_SPEED))


def attribute_name(agent: Agent, t: float, clip_times: NDArray[np.float64]) -> str | None:
    """The nuScenes attribute name of `agent` at time t, or None for classes without attributes."""
    speed = agent.trajectory.speed_at(float(t))
    if agent.cls in VEHICLES:
        if speed > MOVING_SPEED:
            return "vehicle.moving"
        return "vehicle.stopped" if moves_during(agent, clip_times) else "vehicle.parked"
    if agent.cls in CYCLES:
        rider = agent.behavior_params.get("rider") if agent.behavior_params else None
        if rider is None:
            rider = moves_during(agent, clip_times)
        return "cycle.with_rider" if rider else "cycle.without_rider"
    if agent.cls == "pedestrian":
        return "pedestrian.moving" if speed > MOVING_SPEED else "pedestrian.standing"
    return None
