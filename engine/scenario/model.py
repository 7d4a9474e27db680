"""The scenario: environment, ego, agents, road map, and where it came from.

Immutable dataclasses: edits make new objects (`dataclasses.replace`), which keeps undo exact.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Mapping

import numpy as np
from numpy.typing import NDArray

from engine.geometry import footprint_corners
from engine.scenario.map_elements import RoadMap
from engine.scenario.trajectory import Trajectory

EGO_ID = "ego"


class TimeOfDay(StrEnum):
    """`Environment.time_of_day` values (the fields hold the plain strings; members compare equal to them)."""

    DAY = "day"
    DUSK = "dusk"
    NIGHT = "night"


class Weather(StrEnum):
    """`Environment.weather` values."""

    CLEAR = "clear"
    RAIN = "rain"
    FOG = "fog"
    SNOW = "snow"


class TriggerKind(StrEnum):
    """`Maneuver.trigger["kind"]` values (see `Maneuver`)."""

    TIME = "time"
    AFTER = "after"
    TTC = "ttc"
    DISTANCE = "distance"
    REACH = "reach"
    SIGNAL = "signal"


TIMES_OF_DAY: tuple[str, ...] = tuple(v.value for v in TimeOfDay)     # plain strings, in this order
WEATHERS: tuple[str, ...] = tuple(v.value for v in Weather)
DEFAULT_FPS = 12.0
KEYFRAME_HZ = 2.0


@dataclass(frozen=True)
class Environment:
    """Lighting and weather the world model renders."""

    time_of_day: str = "day"
    weather: str = "clear"


TRIGGER_KINDS: tuple[str, ...] = tuple(v.value for v in TriggerKind)


@dataclass(frozen=True)
class Maneuver:
    """One step of an agent's motion: a library manoeuvre with its parameters.

    `start` is when it begins (s, resolved at authoring time), `end` when it is over (s; None when
    it lasts to the end of the clip). `trigger` says why it starts then, for exporters and the
    editor: {"kind": "time"} (at `start`), {"kind": "after"} (when the previous one ends),
    {"kind": "ttc", "other": id, "value": s}, {"kind": "distance", "other": id, "value": m},
    {"kind": "reach", "other": id, "x": m, "y": m, "radius": m} (that agent reaches the point),
    {"kind": "signal", "signal": id, "state": "green"}.
    """

    function: str
    params: Mapping[str, Any] = field(default_factory=dict)
    start: float = 0.0
    end: float | None = None
    trigger: Mapping[str, Any] = field(default_factory=lambda: {"kind": "time"})

    @property
    def trigger_kind(self) -> str:
        return str(self.trigger.get("kind", "time"))


@dataclass(frozen=True)
class Agent:
    """A traffic participant or object.

    `size` is the box [w, l, h] in metres; the box centre is at the trajectory pose, at height h/2.
    `asset` names the mesh (``builtin:<class>`` or a path to a GLB/OBJ file).
    `behavior` names how the trajectory was made (a library function name, or ``manual``),
    `behavior_params` its arguments. `locked` agents come from a real scene and are not editable.
    `maneuvers` is the sequence of manoeuvres the trajectory was made from (format 2); the first
    one repeats `behavior`. Empty for hand-drawn and version-1 agents (see `maneuver_sequence`).
    """

    id: str
    cls: str
    size: tuple[float, float, float]
    trajectory: Trajectory
    asset: str = ""
    behavior: str = "manual"
    behavior_params: Mapping[str, Any] = field(default_factory=dict)
    locked: bool = False
    maneuvers: tuple[Maneuver, ...] = field(default_factory=tuple)
    category: str = ""              # nuScenes category override (e.g. human.pedestrian.child, animal); "" = the class's

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", tuple(float(s) for s in self.size))
        object.__setattr__(self, "maneuvers", tuple(self.maneuvers))
        if not self.asset:
            object.__setattr__(self, "asset", f"builtin:{self.cls}")

    def maneuver_sequence(self) -> tuple[Maneuver, ...]:
        """The manoeuvres, or one made from `behavior` for agents without a stored sequence."""
        if self.maneuvers:
            return self.maneuvers
        start = float(self.behavior_params.get("start", 0.0) or 0.0) if isinstance(
            self.behavior_params.get("start", 0.0), (int, float)) else 0.0
        return (Maneuver(self.behavior, dict(self.behavior_params), start),)

    @property
    def width(self) -> float:
        return self.size[0]

    @property
    def length(self) -> float:
        return self.size[1]

    @property
    def height(self) -> float:
        return self.size[2]

    def box_corners_2d(self, t: float | NDArray[np.float64]) -> NDArray[np.float64]:
        """Footprint corners at time(s) t: (N, 4, 2), order front-left, rear-left, rear-right, front-right."""
        s = self.trajectory.sample(t)
        return footprint_corners(s.x, s.y, s.yaw, self.size[1] / 2, self.size[0] / 2)

    def box_corners_3d(self, t: float) -> NDArray[np.float64]:
        """The 8 box corners at time t in the world frame, (3, 8), in nuscenes-devkit `Box.corners` order."""
        from nuscenes.utils.data_classes import Box
        from pyquaternion import Quaternion

        x, y, yaw = self.trajectory.pose_at(t)
        box = Box([x, y, self.size[2] / 2], list(self.size), Quaternion(axis=[0, 0, 1], angle=yaw))
        corners: NDArray[np.float64] = box.corners()
        return corners


@dataclass(frozen=True)
class Intent:
    """A declared intent the checks confirm instead of flagging (e.g. a near miss).

    kind: ``contact`` | ``near_miss`` | ``min_ttc`` ...; agents: the ids involved; params: thresholds.
    """

    kind: str
    agents: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SceneSource:
    """A real scene the scenario edits (the file refers to it; images are not copied).

    start: seconds into the recording (from its first key frame) where the scenario's time 0 lies.
    """

    kind: str = "nuscenes"
    dataroot: str = ""
    version: str = ""
    scene: str = ""
    start: float = 0.0


def default_ego(trajectory: Trajectory | None = None) -> Agent:
    """The ego vehicle: a car with the nuScenes mean car size, standing at the origin by default."""
    from engine.classes import default_size

    return Agent(
        id=EGO_ID,
        cls="car",
        size=default_size("car"),
        trajectory=trajectory or Trajectory.static(0.0, 0.0, 0.0),
        behavior="manual",
    )


@dataclass(frozen=True)
class Scenario:
    """A corner case: everything needed to render guidance maps and generate video."""

    name: str = "untitled"
    description: str = ""
    seed: int = 0
    fps: float = DEFAULT_FPS
    duration: float = 2.75
    environment: Environment = field(default_factory=Environment)
    ego: Agent = field(default_factory=default_ego)
    agents: tuple[Agent, ...] = field(default_factory=tuple)
    map: RoadMap = field(default_factory=RoadMap)
    prompt: str | None = None
    script: str | None = None
    source: SceneSource | None = None
    intents: tuple[Intent, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "agents", tuple(self.agents))
        object.__setattr__(self, "intents", tuple(self.intents))

    # ---- time ----------------------------------------------------------------------
    @property
    def num_frames(self) -> int:
        """Frames at `fps` in [0, duration): 33 for the default 2.75 s at 12 Hz."""
        return max(1, int(math.floor(self.duration * self.fps + 1e-6)))

    def frame_times(self) -> NDArray[np.float64]:
        """(num_frames,) frame times in seconds."""
        return np.arange(self.num_frames, dtype=np.float64) / self.fps

    def keyframe_indices(self) -> list[int]:
        """Indices of the 2 Hz labelled key frames among the frames."""
        step = max(1, int(round(self.fps / KEYFRAME_HZ)))
        return list(range(0, self.num_frames, step))

    # ---- agents --------------------------------------------------------------------
    @property
    def all_agents(self) -> tuple[Agent, ...]:
        """The ego first, then the agents."""
        return (self.ego, *self.agents)

    def agent(self, agent_id: str) -> Agent:
        """The agent (or the ego) with this id; KeyError names it when absent."""
        if agent_id == EGO_ID:
            return self.ego
        for a in self.agents:
            if a.id == agent_id:
                return a
        raise KeyError(f"no agent with id {agent_id!r}")

    def agent_ids(self) -> list[str]:
        return [a.id for a in self.agents]

    def with_agent(self, agent: Agent) -> "Scenario":
        """A copy with `agent` replaced (same id) or appended (new id); the ego if id is 'ego'."""
        if agent.id == EGO_ID:
            return replace(self, ego=agent)
        agents = list(self.agents)
        for i, a in enumerate(agents):
            if a.id == agent.id:
                agents[i] = agent
                return replace(self, agents=tuple(agents))
        return replace(self, agents=tuple(agents + [agent]))

    def without_agent(self, agent_id: str) -> "Scenario":
        """A copy without the agent; KeyError when absent."""
        self.agent(agent_id)
        return replace(self, agents=tuple(a for a in self.agents if a.id != agent_id))

    def new_agent_id(self, cls: str) -> str:
        """An unused id like ``car_3``."""
        used = set(self.agent_ids())
        i = 1
        while f"{cls}_{i}" in used:
            i += 1
        return f"{cls}_{i}"
