"""Undoable edits (glue-style): every user action is a command with do, undo and a label.

Scenarios are immutable, so a command maps one scenario to another; undo returns the exact
scenario it started from.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from typing import Mapping, Protocol, Sequence, TypeVar

from editor import speed_profile, trajectory_edit
from engine.classes import class_names, default_size
from engine.scenario.model import EGO_ID, TIMES_OF_DAY, WEATHERS, Agent, Environment, Intent, Scenario
from engine.scenario.map_elements import RoadMap
from engine.scenario.trajectory import Trajectory, Waypoint

_T = TypeVar("_T")


def _saved(value: _T | None, command: object) -> _T:
    """What `command.do()` saved for its undo; undo before do is a programming error."""
    if value is None:
        raise RuntimeError(f"{type(command).__name__}: undo() before do()")
    return value


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
        if self.agent.id == EGO_ID or self.agent.id in scenario.agent_ids():
            raise ValueError(f"an agent with id {self.agent.id!r} exists already")
        if self.agent.cls not in class_names():
            raise ValueError(f"{self.agent.id}: unknown class {self.agent.cls!r}")
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
        if self.agent_id == EGO_ID:
            raise ValueError("the ego cannot be deleted")
        _editable(scenario, self.agent_id)
        self._index = scenario.agent_ids().index(self.agent_id)
        self._removed = scenario.agents[self._index]
        return scenario.without_agent(self.agent_id)

    def undo(self, scenario: Scenario) -> Scenario:
        agents = list(scenario.agents)
        agents.insert(self._index, _saved(self._removed, self))
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
        return scenario.with_agent(_saved(self._old, self))


@dataclass
class SetEnvironment:
    environment: Environment
    label: str = "Change environment"
    _old: Environment | None = None

    def do(self, scenario: Scenario) -> Scenario:
        if self.environment.time_of_day not in TIMES_OF_DAY:
            raise ValueError(f"time of day must be one of {', '.join(TIMES_OF_DAY)}, got {self.environment.time_of_day!r}")
        if self.environment.weather not in WEATHERS:
            raise ValueError(f"weather must be one of {', '.join(WEATHERS)}, got {self.environment.weather!r}")
        self._old = scenario.environment
        return replace(scenario, environment=self.environment)

    def undo(self, scenario: Scenario) -> Scenario:
        return replace(scenario, environment=_saved(self._old, self))


@dataclass
class SetMap:
    road_map: RoadMap
    label: str = "Change map"
    _old: RoadMap | None = None

    def do(self, scenario: Scenario) -> Scenario:
        self._old = scenario.map
        return replace(scenario, map=self.road_map)

    def undo(self, scenario: Scenario) -> Scenario:
        return replace(scenario, map=_saved(self._old, self))


class LockedAgentError(ValueError):
    """An edit of an agent that comes from a real scene (`Agent.locked`)."""


def _editable(scenario: Scenario, agent_id: str) -> Agent:
    """The agent (KeyError naming it when absent); LockedAgentError when it is locked."""
    agent = scenario.agent(agent_id)
    if agent.locked:
        raise LockedAgentError(f"{agent_id} comes from the real scene and is locked")
    return agent


@dataclass
class AgentEdit:
    """Base of the commands that change one agent: subclasses implement `edited(agent, scenario)`.

    `do` keeps the agent it replaced, so `undo` restores it exactly.
    """

    agent_id: str
    label: str = field(default="", kw_only=True)
    _old: Agent | None = field(default=None, init=False, repr=False)

    verb = "Edit"

    def __post_init__(self) -> None:
        self.label = self.label or f"{self.verb} {self.agent_id}"

    def edited(self, agent: Agent, scenario: Scenario) -> Agent:
        raise NotImplementedError

    def do(self, scenario: Scenario) -> Scenario:
        old = _editable(scenario, self.agent_id)
        new = self.edited(old, scenario)
        self._old = old
        return scenario.with_agent(new)

    def undo(self, scenario: Scenario) -> Scenario:
        return scenario.with_agent(_saved(self._old, self))


@dataclass
class MoveAgent(AgentEdit):
    """Translate the agent and its whole trajectory by (dx, dy) metres."""

    dx: float = 0.0
    dy: float = 0.0
    verb = "Move"

    def edited(self, agent: Agent, scenario: Scenario) -> Agent:
        if not (math.isfinite(self.dx) and math.isfinite(self.dy)):
            raise ValueError(f"move of {self.agent_id}: offset must be finite")
        return move_agent(agent, self.dx, self.dy)


@dataclass
class RotateAgent(AgentEdit):
    """Rotate the whole trajectory by `angle` rad (CCW) about the agent's position at `pivot_time`."""

    angle: float = 0.0
    pivot_time: float = 0.0
    verb = "Rotate"

    def edited(self, agent: Agent, scenario: Scenario) -> Agent:
        if not math.isfinite(self.angle):
            raise ValueError(f"rotation of {self.agent_id}: angle must be finite")
        return rotate_agent(agent, self.angle, self.pivot_time)


@dataclass
class AddWaypoint(AgentEdit):
    """Insert a waypoint in time order (an interpolated point keeps the motion as it was)."""

    waypoint: Waypoint | None = None
    verb = "Add waypoint to"

    def edited(self, agent: Agent, scenario: Scenario) -> Agent:
        if self.waypoint is None:
            raise ValueError("AddWaypoint needs a waypoint")
        traj, _ = trajectory_edit.insert_waypoint(agent.trajectory, self.waypoint)
        return with_trajectory(agent, traj)


@dataclass
class AppendWaypoint(AgentEdit):
    """Add a waypoint at (x, y) after the last one, reached at `speed` m/s."""

    x: float = 0.0
    y: float = 0.0
    speed: float = 5.0
    verb = "Append waypoint to"

    def edited(self, agent: Agent, scenario: Scenario) -> Agent:
        return with_trajectory(agent, trajectory_edit.append_waypoint(agent.trajectory, self.x, self.y, self.speed))


@dataclass
class MoveWaypoint(AgentEdit):
    """Move waypoint `index` to (x, y); it and its neighbours turn to face along the new path."""

    index: int = 0
    x: float = 0.0
    y: float = 0.0
    verb = "Move waypoint of"

    def edited(self, agent: Agent, scenario: Scenario) -> Agent:
        traj = agent.trajectory
        if len(traj.points) == 1 or trajectory_edit.is_static(traj):
            p = traj.points[0]
            return move_agent(agent, self.x - p.x, self.y - p.y)
        return with_trajectory(agent, trajectory_edit.move_waypoint(traj, self.index, self.x, self.y))


@dataclass
class DeleteWaypoint(AgentEdit):
    """Remove waypoint `index` (not the last remaining one)."""

    index: int = 0
    verb = "Delete waypoint of"

    def edited(self, agent: Agent, scenario: Scenario) -> Agent:
        return with_trajectory(agent, trajectory_edit.delete_waypoint(agent.trajectory, self.index))


@dataclass
class SetWaypoint(AgentEdit):
    """Set some of t, x, y, yaw, v of waypoint `index` (from the waypoint table)."""

    index: int = 0
    values: Mapping[str, float | None] = field(default_factory=dict)
    verb = "Edit waypoint of"

    def edited(self, agent: Agent, scenario: Scenario) -> Agent:
        return with_trajectory(agent, trajectory_edit.set_waypoint_fields(agent.trajectory, self.index, **self.values))


@dataclass
class SetSpeedProfile(AgentEdit):
    """Retime the trajectory so the agent has `speeds[i]` m/s at waypoint i (the path stays)."""

    speeds: Sequence[float] = ()
    t_end: float | None = None   # cut the retimed trajectory here (keeps it inside the clip's time range)
    verb = "Change speed of"

    def edited(self, agent: Agent, scenario: Scenario) -> Agent:
        return with_trajectory(agent, speed_profile.retimed_in_clip(agent.trajectory, list(self.speeds), self.t_end))


@dataclass
class SetAgentClass(AgentEdit):
    """Change the class; a built-in asset follows the class, and with `resize` the box gets its default size."""

    cls: str = "car"
    resize: bool = True
    verb = "Change class of"

    def edited(self, agent: Agent, scenario: Scenario) -> Agent:
        if self.cls not in class_names():
            raise ValueError(f"unknown class {self.cls!r}; expected one of {', '.join(class_names())}")
        if self.agent_id == EGO_ID and self.cls != "car":
            raise ValueError("the ego is a car")
        asset = f"builtin:{self.cls}" if agent.asset.startswith("builtin:") else agent.asset
        size = default_size(self.cls) if self.resize else agent.size
        return replace(agent, cls=self.cls, asset=asset, size=size)


@dataclass
class SetAgentAsset(AgentEdit):
    """Change the mesh (``builtin:<class>`` or a path to a GLB/OBJ file)."""

    asset: str = ""
    verb = "Change asset of"

    def edited(self, agent: Agent, scenario: Scenario) -> Agent:
        if not self.asset.strip():
            raise ValueError(f"{self.agent_id}: asset must not be empty")
        return replace(agent, asset=self.asset.strip())


@dataclass
class SetAgentSize(AgentEdit):
    """Change the box size [w, l, h] in metres (each > 0)."""

    size: tuple[float, float, float] = (1.0, 1.0, 1.0)
    verb = "Resize"

    def edited(self, agent: Agent, scenario: Scenario) -> Agent:
        size = tuple(float(v) for v in self.size)
        if len(size) != 3 or not all(math.isfinite(v) and v > 0 for v in size):
            raise ValueError(f"{self.agent_id}: size must be three positive numbers [w, l, h], got {list(self.size)}")
        return replace(agent, size=size)


@dataclass
class DuplicateAgent:
    """Add a copy of an agent (a new id of the same class) shifted by `offset` metres."""

    agent_id: str
    offset: tuple[float, float] = (0.0, 4.0)
    label: str = ""
    new_id: str | None = None

    def __post_init__(self) -> None:
        self.label = self.label or f"Duplicate {self.agent_id}"

    def do(self, scenario: Scenario) -> Scenario:
        if self.agent_id == EGO_ID:
            raise ValueError("the ego cannot be duplicated")
        src = scenario.agent(self.agent_id)
        if self.new_id is None:
            self.new_id = scenario.new_agent_id(src.cls)
        if self.new_id in scenario.agent_ids():
            raise ValueError(f"an agent with id {self.new_id!r} exists already")
        copy = replace(move_agent(src, *self.offset), id=self.new_id, locked=False)
        return scenario.with_agent(copy)

    def undo(self, scenario: Scenario) -> Scenario:
        return scenario.without_agent(_saved(self.new_id, self))


@dataclass
class CompoundCommand:
    """Several commands done in order and undone in reverse, as one undo step."""

    label: str
    commands: Sequence[Command]

    def do(self, scenario: Scenario) -> Scenario:
        done: list[Command] = []
        try:
            for c in self.commands:
                scenario = c.do(scenario)
                done.append(c)
        except Exception:          # roll back what was done, then re-raise: the compound is all-or-nothing
            for c in reversed(done):
                scenario = c.undo(scenario)
            raise
        return scenario

    def undo(self, scenario: Scenario) -> Scenario:
        for c in reversed(list(self.commands)):
            scenario = c.undo(scenario)
        return scenario


class PromptMode(StrEnum):
    """How a prompt's result is applied to the open scenario (see `merge_prompt_result`)."""

    ADD = "add"
    REPLACE = "replace"


PROMPT_MODES: tuple[PromptMode, ...] = tuple(PromptMode)


def merge_prompt_result(current: Scenario, result: Scenario, mode: PromptMode | str = PromptMode.ADD,
                        prompt: str | None = None, script: str | None = None) -> Scenario:
    """The scenario after applying a prompt's result.

    mode ``replace``: the result's map, ego, agents, environment, timing and intents replace the
    current ones (the name and the real-scene source stay). mode ``add``: the current map and ego
    stay; the result's agents are added (renamed ``<class>_<n>`` when their id is taken, intents
    follow the renaming) and the fields of the result's environment that differ from the default are taken over (the rest stays). A script
    places agents relative to its own ego, so in ``add`` mode they are moved rigidly by the
    transform that takes the result's ego pose at t = 0 onto the current ego's. Both modes record
    the prompt and the script.
    """
    if mode not in PROMPT_MODES:
        raise ValueError(f"apply mode must be one of {', '.join(PROMPT_MODES)}, got {mode!r}")
    prompt = result.prompt if prompt is None else prompt
    script = result.script if script is None else script
    if mode == PromptMode.REPLACE:
        return replace(result, name=current.name, source=current.source, prompt=prompt, script=script)
    out = current
    renamed: dict[str, str] = {}
    rx, ry, ryaw = result.ego.trajectory.pose_at(0.0)
    cx, cy, cyaw = current.ego.trajectory.pose_at(0.0)
    dyaw = math.remainder(cyaw - ryaw, 2 * math.pi)
    for a in result.agents:
        new_id = a.id if a.id not in out.agent_ids() and a.id != EGO_ID else out.new_agent_id(a.cls)
        renamed[a.id] = new_id
        traj = trajectory_edit.rotated(a.trajectory, dyaw, (rx, ry)).translated(cx - rx, cy - ry)
        out = out.with_agent(replace(a, id=new_id, trajectory=traj))
    intents = tuple(Intent(i.kind, tuple(renamed.get(x, x) for x in i.agents), dict(i.params)) for i in result.intents)
    # field by field: what the prompt set (a non-default value) is taken over, the rest of this scene's
    # environment stays ("a truck at night" keeps the rain of a rainy scene)
    default = Environment()
    env = replace(out.environment, **{f.name: getattr(result.environment, f.name) for f in fields(Environment)
                                     if getattr(result.environment, f.name) != getattr(default, f.name)})
    return replace(out, intents=out.intents + intents, environment=env, prompt=prompt, script=script)


@dataclass
class ApplyPromptResult:
    """Apply what a prompt's script produced (see `merge_prompt_result`) as one undoable edit."""

    result: Scenario
    mode: PromptMode | str = PromptMode.ADD
    prompt: str | None = None
    script: str | None = None
    label: str = ""
    _before: Scenario | None = field(default=None, init=False, repr=False)
    _after: Scenario | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.result.agents)
        self.label = self.label or f"Apply prompt ({n} agent{'s' if n != 1 else ''})"

    def do(self, scenario: Scenario) -> Scenario:
        if self._before is not scenario or self._after is None:
            self._after = merge_prompt_result(scenario, self.result, self.mode, self.prompt, self.script)
        self._before = scenario
        return self._after

    def undo(self, scenario: Scenario) -> Scenario:
        return _saved(self._before, self)


def hand_edited(agent: Agent) -> Agent:
    """The agent marked as edited by hand: behavior ``manual``, the behavior it came from kept in
    ``behavior_params['from']`` (so the inspector can say "manual, from cut_in"); the other
    parameters (rider, instance token, ...) stay."""
    if agent.behavior == "manual":
        return agent
    params = dict(agent.behavior_params or {})
    params["from"] = agent.behavior
    return replace(agent, behavior="manual", behavior_params=params)


def behavior_text(agent: Agent) -> str:
    """What the behavior of an agent is, in words: ``cut_in``, ``manual``, ``manual, from cut_in``."""
    params = dict(agent.behavior_params or {})
    if agent.behavior == "manual" and params.get("from"):
        return f"manual, from {params['from']}"
    return agent.behavior


def move_agent(agent: Agent, dx: float, dy: float) -> Agent:
    """The agent with its whole trajectory translated by (dx, dy) metres (a hand edit: see `hand_edited`)."""
    if dx == 0 and dy == 0:
        return agent
    return hand_edited(replace(agent, trajectory=agent.trajectory.translated(dx, dy)))


def with_trajectory(agent: Agent, trajectory: Trajectory, behavior: str | None = "manual") -> Agent:
    """The agent with a new trajectory; hand edits mark the behavior `manual` (keeping where it came
    from, see `hand_edited`) unless told otherwise (`behavior` None keeps it, a name sets it)."""
    out = replace(agent, trajectory=trajectory)
    if behavior is None:
        return out
    if behavior == "manual":
        return hand_edited(out)
    return replace(out, behavior=behavior)


def rotate_agent(agent: Agent, angle: float, pivot_time: float) -> Agent:
    """The agent with its trajectory rotated by `angle` rad about its position at `pivot_time` (a hand edit)."""
    if angle == 0:
        return agent
    x, y, _ = agent.trajectory.pose_at(pivot_time)
    return hand_edited(replace(agent, trajectory=trajectory_edit.rotated(agent.trajectory, angle, (x, y))))
