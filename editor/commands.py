"""Undoable edits (glue-style): every user action is a command with do, undo and a label.

Scenarios are immutable, so a command maps one scenario to another; undo returns the exact
scenario it started from.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from engine.scenario.model import Agent, Environment, Scenario
from engine.scenario.roadmap import RoadMap
from engine.scenario.trajectory import Trajectory


class Command(Protocol):
    """An edit. `label` drives the Undo/Redo menu text ("Undo Move car_1")."""

    label: str

    def do(self, scenario: Scenario) -> Scenario: ...

    def undo(self, scenario: Scenario) -> Scenario: ...


@dataclass
class ReplaceScenario:
    """The general command: from `before` to `after` (used for drags and applied prompt results)."""

    label: str
    before: Scenario
    after: Scenario

    def do(self, scenario: Scenario) -> Scenario:
        return self.after

    def undo(self, scenario: Scenario) -> Scenario:
        return self.before


@dataclass
class AddAgent:
    agent: Agent
    label: str = ""

    def __post_init__(self) -> None:
        self.label = self.label or f"Add {self.agent.id}"

    def do(self, scenario: Scenario) -> Scenario:
        if self.agent.id in scenario.agent_ids():
            raise ValueError(f"an agent with id {self.agent.id!r} exists already")
        return scenario.with_agent(self.agent)

    def undo(self, scenario: Scenario) -> Scenario:
        return scenario.without_agent(self.agent.id)


@dataclass
class RemoveAgent:
    agent_id: str
    label: str = ""
    _removed: Agent | None = None
    _index: int = -1

    def __post_init__(self) -> None:
        self.label = self.label or f"Delete {self.agent_id}"

    def do(self, scenario: Scenario) -> Scenario:
        self._index = scenario.agent_ids().index(self.agent_id)
        self._removed = scenario.agents[self._index]
        return scenario.without_agent(self.agent_id)

    def undo(self, scenario: Scenario) -> Scenario:
        agents = list(scenario.agents)
        agents.insert(self._index, self._removed)
        return replace(scenario, agents=tuple(agents))


@dataclass
class SetAgent:
    """Replace one agent (same id) by a new version: move, rotate, edit waypoints, speed, class, size."""

    new: Agent
    label: str = ""
    _old: Agent | None = None

    def __post_init__(self) -> None:
        self.label = self.label or f"Edit {self.new.id}"

    def do(self, scenario: Scenario) -> Scenario:
        self._old = scenario.agent(self.new.id)
        return scenario.with_agent(self.new)

    def undo(self, scenario: Scenario) -> Scenario:
        return scenario.with_agent(self._old)


@dataclass
class SetEnvironment:
    environment: Environment
    label: str = "Change environment"
    _old: Environment | None = None

    def do(self, scenario: Scenario) -> Scenario:
        self._old = scenario.environment
        return replace(scenario, environment=self.environment)

    def undo(self, scenario: Scenario) -> Scenario:
        return replace(scenario, environment=self._old)


@dataclass
class SetMap:
    road_map: RoadMap
    label: str = "Change map"
    _old: RoadMap | None = None

    def do(self, scenario: Scenario) -> Scenario:
        self._old = scenario.map
        return replace(scenario, map=self.road_map)

    def undo(self, scenario: Scenario) -> Scenario:
        return replace(scenario, map=self._old)


def move_agent(agent: Agent, dx: float, dy: float) -> Agent:
    """The agent with its whole trajectory translated by (dx, dy) metres."""
    return replace(agent, trajectory=agent.trajectory.translated(dx, dy))


def with_trajectory(agent: Agent, trajectory: Trajectory, behavior: str | None = "manual") -> Agent:
    """The agent with a new trajectory; hand edits mark the behavior `manual` unless told otherwise."""
    return replace(agent, trajectory=trajectory, behavior=agent.behavior if behavior is None else behavior)
