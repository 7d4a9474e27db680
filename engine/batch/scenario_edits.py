"""Scenario-level sweep edits: environment fields and agent retiming / shifting.

    environment.weather / environment.time_of_day   set the field
    agent.<id>.speed_scale  s > 0   run the same path s times as fast: t -> t0 + (t - t0) / s, v -> s v
    agent.<id>.delay        d (s)   start d seconds later (the first pose is held until then)
    agent.<id>.shift_x / shift_y    translate the whole trajectory (world frame, metres)
``agent.ego...`` edits the ego. Values are checked here, per variant, so one bad value fails only
its own variant.
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from engine.batch.spec import SweepKey, SweepKind
from engine.scenario.model import TIMES_OF_DAY, WEATHERS, Scenario
from engine.scenario.trajectory import Trajectory, Waypoint


class EditError(ValueError):
    """A sweep value cannot be applied (the message names the parameter and the value)."""


def _number(key: SweepKey, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise EditError(f"{key.text}: expected a finite number, got {value!r}")
    return float(value)


def retimed(traj: Trajectory, scale: float = 1.0, delay: float = 0.0) -> Trajectory:
    """The same path with times t -> t0 + (t - t0) / scale + delay and speeds multiplied by scale."""
    t0 = traj.start_time
    return Trajectory(tuple(
        Waypoint(t0 + (p.t - t0) / scale + delay, p.x, p.y, p.yaw, None if p.v is None else p.v * scale)
        for p in traj.points))


def apply_edit(scenario: Scenario, key: SweepKey, value: Any) -> Scenario:
    """The scenario with one environment or agent edit applied (function-argument keys are not handled here)."""
    if key.kind == SweepKind.ENVIRONMENT:
        allowed = WEATHERS if key.arg == "weather" else TIMES_OF_DAY
        if value not in allowed:
            raise EditError(f"{key.text}: {value!r} is not one of {', '.join(allowed)}")
        return replace(scenario, environment=replace(scenario.environment, **{key.arg: value}))
    if key.kind != SweepKind.AGENT:
        raise EditError(f"{key.text}: not a scenario edit")
    try:
        agent = scenario.agent(key.target)
    except KeyError:
        ids = ", ".join(["ego", *scenario.agent_ids()])
        raise EditError(f"{key.text}: the scenario has no agent {key.target!r} (agents: {ids})") from None
    v = _number(key, value)
    traj = agent.trajectory
    if key.arg == "speed_scale":
        if v <= 0:
            raise EditError(f"{key.text}: speed_scale must be positive, got {value!r}")
        traj = retimed(traj, scale=v)
    elif key.arg == "delay":
        traj = retimed(traj, delay=v)
    elif key.arg == "shift_x":
        traj = traj.translated(v, 0.0)
    elif key.arg == "shift_y":
        traj = traj.translated(0.0, v)
    return scenario.with_agent(replace(agent, trajectory=traj))
