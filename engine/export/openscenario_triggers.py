"""OpenSCENARIO start triggers for triggered manoeuvres, and traffic signal controllers.

An agent whose manoeuvre sequence (format 2) holds a manoeuvre started by a condition (time to
collision, distance, another agent reaching a point, a signal state) is written as two events of
one Maneuver: the trajectory up to the trigger time in absolute time (started at t = 0), and the
rest in time relative to its own start, started by the condition (priority override ends the first).
A replay that evaluates the condition therefore starts the rest when the authored scenario did.
Only the first conditioned manoeuvre of an agent becomes a trigger; later ones ride along in the
relative part (their times follow from the first).

Signals become TrafficSignalControllers (one per signal, one Phase per state interval); OpenDRIVE
signal ids are the signal ids.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scenariogeneration import xosc

from engine.export.openscenario_frame import centre_offset, centre_to_reference
from engine.scenario.model import Agent, Maneuver, Scenario

CONDITION_KINDS = ("ttc", "distance", "reach", "signal")


def first_conditioned(agent: Agent) -> Maneuver | None:
    """The agent's first manoeuvre that starts on a condition (None when all are timed)."""
    for m in agent.maneuvers:
        if m.trigger_kind in CONDITION_KINDS:
            return m
    return None


def condition_trigger(name: str, agent: Agent, m: Maneuver, scenario: Scenario) -> xosc.EntityTrigger | xosc.ValueTrigger:
    """The scenariogeneration trigger for manoeuvre `m` of `agent`."""
    tr = m.trigger
    kind = m.trigger_kind
    edge = xosc.ConditionEdge.rising
    if kind == "ttc":
        cond = xosc.TimeToCollisionCondition(float(tr["value"]), xosc.Rule.lessThan, alongroute=False,
                                             freespace=True, entity=agent.id,
                                             distance_type=xosc.RelativeDistanceType.longitudinal,
                                             coordinate_system=xosc.CoordinateSystem.entity)
        return xosc.EntityTrigger(name, 0, edge, cond, str(tr["other"]))
    if kind == "distance":
        cond = xosc.RelativeDistanceCondition(float(tr["value"]), xosc.Rule.lessThan,
                                              xosc.RelativeDistanceType.cartesianDistance, agent.id,
                                              alongroute=False, freespace=False)
        return xosc.EntityTrigger(name, 0, edge, cond, str(tr["other"]))
    if kind == "reach":
        other = scenario.agent(str(tr["other"]))
        _, _, yaw = other.trajectory.pose_at(m.start)
        (xr,), (yr,) = centre_to_reference(np.array([float(tr["x"])]), np.array([float(tr["y"])]), np.array([yaw]),
                                           centre_offset(other.cls, other.size))
        cond = xosc.ReachPositionCondition(xosc.WorldPosition(float(xr), float(yr), 0.0, float(yaw)),
                                           float(tr.get("radius", 2.0)))
        return xosc.EntityTrigger(name, 0, edge, cond, other.id)
    if kind == "signal":
        cond = xosc.TrafficSignalCondition(str(tr["signal"]), str(tr["state"]))
        return xosc.ValueTrigger(name, 0, edge, cond)
    raise ValueError(f"manoeuvre trigger kind {kind!r} has no OpenSCENARIO condition")


def split_times(times: NDArray[np.float64], t_split: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Vertex times before/at and at/after the split (the split time in both)."""
    before = np.append(times[times < t_split - 1e-9], t_split)
    after = np.insert(times[times > t_split + 1e-9], 0, t_split)
    return before, after


def signal_controllers(scenario: Scenario, road: xosc.RoadNetwork) -> int:
    """Add one TrafficSignalController per map signal to `road`; returns how many."""
    n = 0
    for sg in scenario.map.signals:
        ctrl = xosc.TrafficSignalController(f"{sg.id}_controller")
        phases = list(sg.phases)
        for i, ph in enumerate(phases):
            end = phases[i + 1].t if i + 1 < len(phases) else max(scenario.duration, ph.t + 1.0)
            dur = max(end - max(ph.t, 0.0), 0.01)
            p = xosc.Phase(f"{sg.id}_{i}_{ph.state}", float(dur))
            p.add_signal_state(sg.id, ph.state)
            ctrl.add_phase(p)
        road.add_traffic_signal_controller(ctrl)
        n += 1
    return n


__all__ = ["CONDITION_KINDS", "condition_trigger", "first_conditioned", "signal_controllers", "split_times", "math"]
