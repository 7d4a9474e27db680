"""The scenario builder library functions work on: rate, duration, road layout, agents placed so far.

The ego starts at the origin driving east (+x) in lane `ego_lane` of the main road, with a
provisional constant-speed motion that a library call on `ego` may replace once. Every agent a
function adds is checked against the class's kinematic limits and, unless the call asked for
contact, against the safe-distance rule with every agent already placed. `build()` fits the road
map to the final trajectories and returns an immutable `Scenario`.
"""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Literal

import numpy as np
from numpy.typing import NDArray

from engine.classes import default_size
from engine.library.clearance import Encounter, footprint_distances, required_clearance
from engine.library.errors import LibraryError, LimitError, PlacementError
from engine.library.limits import kinematic_violations, limits_for
from engine.roadmap.connectors import Connector
from engine.roadmap.layout import LaneRef, RoadLayout
from engine.scenario.model import DEFAULT_FPS, EGO_ID, Agent, Environment, Intent, Maneuver, Scenario
from engine.scenario.map_elements import TrafficSignal
from engine.scenario.trajectory import Trajectory

if TYPE_CHECKING:
    from engine.library.sequence import LanePlan, PathPlan

#: How an agent takes part in the road layout (see AgentRecord).
Role = Literal["road", "crossing", "jaywalk", "parked", "static", "sidewalk"]

#: What `ScenarioBuilder.snapshot` returns: records, layout, ego lane, lanes_fixed_by, intents,
#: contacts, environment, signals.
BuilderSnapshot = tuple[dict[str, "AgentRecord"], RoadLayout, int, "str | None", list[Intent],
                        set[frozenset[str]], Environment, list[TrafficSignal]]

MAX_AGENTS = 150
MAX_LANES = 5
MAX_FRAMES = 7200
MAP_MARGIN = 40.0


@dataclass
class AgentRecord:
    """An agent as the builder keeps it while a script runs.

    role: 'road' (drives in lanes), 'crossing' (crosses at a crosswalk), 'jaywalk', 'parked',
    'static', 'sidewalk' (walks along the road). `lane` is the lane at t = 0 (None off the lanes);
    `connector` the curved lane piece it drives (turns, U-turns); `depends_on` the agents whose motion
    its own motion was computed from; `plan` the motion's recipe while manoeuvres can be appended.
    """

    id: str
    cls: str
    size: tuple[float, float, float]
    trajectory: Trajectory
    behavior: str
    params: dict[str, Any]
    role: Role = "road"
    lane: LaneRef | None = None
    connector: Connector | None = None
    depends_on: frozenset[str] = frozenset()
    provisional: bool = False
    plan: LanePlan | PathPlan | None = None     # the motion's recipe when manoeuvres can be appended
    maneuvers: tuple[Maneuver, ...] = ()
    category: str = ""
    _footprints: NDArray[np.float64] | None = field(default=None, repr=False)

    def agent(self) -> Agent:
        return Agent(id=self.id, cls=self.cls, size=self.size, trajectory=self.trajectory,
                     behavior=self.behavior, behavior_params=dict(self.params), maneuvers=tuple(self.maneuvers),
                     category=self.category)

    def footprints(self, times: NDArray[np.float64]) -> NDArray[np.float64]:
        """(T, 4, 2) footprint corners at the frame times (cached)."""
        if self._footprints is None or len(self._footprints) != len(times):
            self._footprints = self.agent().box_corners_2d(times)
        return self._footprints


class AgentHandle:
    """What a script holds for an agent. Readable attributes (the only ones a script may use):

    id (str), cls (str: class name), lane (str: lane id at t=0 like 'EB_2', '' off the lanes),
    speed (float: m/s at t=0), length (float: m), width (float: m).
    """

    ATTRIBUTES = ("id", "cls", "lane", "speed", "length", "width")
    __slots__ = ("_id", "_builder")

    def __init__(self, agent_id: str, builder: "ScenarioBuilder") -> None:
        self._id = agent_id
        self._builder = builder

    def _rec(self) -> AgentRecord:
        return self._builder.record(self._id)

    @property
    def id(self) -> str:
        return self._id

    @property
    def cls(self) -> str:
        return self._rec().cls

    @property
    def lane(self) -> str:
        lane = self._rec().lane
        return lane.id if lane else ""

    @property
    def speed(self) -> float:
        return round(self._rec().trajectory.speed_at(0.0), 3)

    @property
    def length(self) -> float:
        return self._rec().size[1]

    @property
    def width(self) -> float:
        return self._rec().size[0]

    def __repr__(self) -> str:
        return f"<{self.cls} {self._id}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AgentHandle) and other._id == self._id and other._builder is self._builder

    def __hash__(self) -> int:
        return hash(self._id)


def _jsonable(v: Any) -> Any:
    if isinstance(v, AgentHandle):
        return v.id
    if isinstance(v, float):
        return round(v, 4)
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


class ScenarioBuilder:
    """Collects agents, road layout and environment while library functions run; `build()` makes the Scenario."""

    def __init__(self, seed: int = 0, fps: float = DEFAULT_FPS, duration: float = 2.75,
                 check_deadline: Callable[[], None] | None = None) -> None:
        for name, v, lo, hi in (("fps", fps, 1.0, 120.0), ("duration", duration, 0.05, 600.0)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not lo <= v <= hi:
                raise LibraryError(f"{name} must be a number in [{lo:g}, {hi:g}] (got {v!r})")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise LibraryError(f"seed must be a non-negative integer (got {seed!r})")
        self.seed = int(seed)
        self.fps = float(fps)
        self.duration = float(duration)
        self.times = Scenario(fps=self.fps, duration=self.duration).frame_times()
        if len(self.times) > MAX_FRAMES:
            raise LibraryError(f"{len(self.times)} frames is more than the {MAX_FRAMES} the library plans")
        self.environment = Environment()
        self.layout = RoadLayout()
        self.ego_lane = 2
        self.lanes_fixed_by: str | None = None
        self.intents: list[Intent] = []
        self.contacts: set[frozenset[str]] = set()
        self.signals: list[TrafficSignal] = []
        self.check_deadline = check_deadline or (lambda: None)
        self.call_name = "script"
        self.call_params: dict[str, Any] = {}
        self._records: dict[str, AgentRecord] = {}
        self._ego_handle = AgentHandle(EGO_ID, self)
        self.reset_default_ego()

    # ---- time --------------------------------------------------------------------------
    @property
    def t_end(self) -> float:
        """Time of the last frame (s)."""
        return float(self.times[-1])

    def default_start(self) -> float:
        """When a manoeuvre starts unless told: a fifth into the clip, within [0.25, 3] s."""
        return float(min(max(0.2 * self.duration, 0.25), 3.0, max(self.t_end - 0.2, 0.0)))

    def rng(self, key: str) -> np.random.Generator:
        """A generator seeded from the scenario seed and `key` (an agent id): adding an agent does
        not change the random choices made for the others."""
        return np.random.default_rng([self.seed, zlib.crc32(key.encode("utf-8"))])

    # ---- calls -------------------------------------------------------------------------
    def begin_call(self, name: str, params: dict[str, Any]) -> None:
        """Record which library function is running and with which arguments (for behavior fields)."""
        self.call_name = name
        self.call_params = {k: _jsonable(v) for k, v in params.items()}
        self.check_deadline()

    def snapshot(self) -> BuilderSnapshot:
        """Everything a library call may change, to restore when the call fails (calls are all-or-nothing)."""
        import copy

        return (
            {k: copy.copy(v) for k, v in self._records.items()}, self.layout, self.ego_lane, self.lanes_fixed_by,
            list(self.intents), set(self.contacts), self.environment, list(self.signals),
        )

    def restore(self, snap: BuilderSnapshot) -> None:
        (self._records, self.layout, self.ego_lane, self.lanes_fixed_by, intents, contacts,
         self.environment, self.signals) = snap
        self.intents, self.contacts = intents, contacts

    def error(self, message: str, kind: type[LibraryError] = LibraryError) -> LibraryError:
        return kind(f"{self.call_name}: {message}")

    # ---- agents ------------------------------------------------------------------------
    @property
    def ego(self) -> AgentHandle:
        return self._ego_handle

    def handle(self, agent_id: str) -> AgentHandle:
        self.record(agent_id)
        return AgentHandle(agent_id, self) if agent_id != EGO_ID else self._ego_handle

    def record(self, agent: AgentHandle | str) -> AgentRecord:
        agent_id = agent.id if isinstance(agent, AgentHandle) else agent
        try:
            return self._records[agent_id]
        except KeyError:
            raise self.error(f"no agent with id {agent_id!r}") from None

    def records(self) -> list[AgentRecord]:
        return list(self._records.values())

    def new_id(self, cls: str) -> str:
        i = 1
        while f"{cls}_{i}" in self._records:
            i += 1
        return f"{cls}_{i}"

    def reset_default_ego(self) -> None:
        """(Re)install the ego's provisional motion: constant speed in `ego_lane` from the origin."""
        from engine.library.motion import lane_motion
        from engine.library.profiles import speed_profile

        v = float(np.round(self.rng(EGO_ID).uniform(7.0, 10.0), 2))
        lane = LaneRef("EB", self.ego_lane)
        prof = speed_profile(v, [], limits_for("car").max_jerk, self.t_end)
        traj = lane_motion(self.layout.frame("EB"), 0.0, self.layout.lane_lat(self.ego_lane), prof, [], self.times)
        from engine.library.sequence import LanePlan

        rec = AgentRecord(EGO_ID, "car", default_size("car"), traj, "forward", {"speed": v},
                          role="road", lane=lane, provisional=True)
        rec.plan = LanePlan("car", lane, 0.0, v)
        rec.maneuvers = (self.first_maneuver("forward", {"speed": v}),)
        self._records[EGO_ID] = rec

    # ---- layout ------------------------------------------------------------------------
    def fix_lanes(self, reason: str) -> None:
        """From now on the lane count cannot grow (geometry that depends on it has been placed)."""
        if self.lanes_fixed_by is None:
            self.lanes_fixed_by = reason

    def require_lane(self, lane: LaneRef) -> None:
        """Make sure `lane` exists, adding lanes on the kerb side if allowed."""
        if lane.number <= self.layout.lanes_per_direction:
            return
        if lane.number > MAX_LANES:
            raise self.error(f"lane {lane.id} is beyond the {MAX_LANES} lanes per direction the road can have",
                             PlacementError)
        if self.lanes_fixed_by is not None:
            raise self.error(f"lane {lane.id} does not exist: the road has {self.layout.lanes_per_direction} lanes "
                             f"per direction, fixed when {self.lanes_fixed_by}; call set_road(lanes=...) first",
                             PlacementError)
        self.layout = self.layout.with_lanes(lane.number)

    def set_layout(self, layout: RoadLayout) -> None:
        self.layout = layout

    # ---- safety ------------------------------------------------------------------------
    def closest_encounter(self, cls: str, size: tuple[float, float, float], traj: Trajectory,
                          exclude: Iterable[str] = ()) -> Encounter | None:
        """The agent that `traj` comes closest to relative to the required clearance, or None."""
        excl = set(exclude)
        probe = Agent(id="probe", cls=cls, size=size, trajectory=traj).box_corners_2d(self.times)
        worst: Encounter | None = None
        for rec in self._records.values():
            if rec.id in excl:
                continue
            d = footprint_distances(probe, rec.footprints(self.times))
            i = int(np.argmin(d))
            enc = Encounter(rec.id, float(d[i]), float(self.times[i]), required_clearance(cls, rec.cls))
            if worst is None or enc.distance - enc.required < worst.distance - worst.required:
                worst = enc
        return worst

    def conflict(self, cls: str, size: tuple[float, float, float], traj: Trajectory,
                 exclude: Iterable[str] = ()) -> Encounter | None:
        """The closest encounter if it breaks the safe-distance rule, else None."""
        enc = self.closest_encounter(cls, size, traj, exclude)
        return enc if enc is not None and enc.too_close else None

    def check_limits(self, cls: str, traj: Trajectory, what: str) -> None:
        bad = kinematic_violations(traj, cls, self.times)
        if bad:
            raise self.error(f"{what} would exceed the {cls} limits: {bad[0]}", LimitError)

    # ---- adding ------------------------------------------------------------------------
    def add_agent(self, cls: str, traj: Trajectory, *, role: Role = "road", lane: LaneRef | None = None,
                  connector: Connector | None = None, depends_on: Iterable[str] = (), contact_with: Iterable[str] = (),
                  params: dict[str, Any] | None = None, behavior: str | None = None, agent_id: str | None = None,
                  conflict_checked: bool = False) -> AgentHandle:
        """Add a new agent after checking limits and (unless the caller just did) safe distances."""
        if len(self._records) >= MAX_AGENTS + 1:
            raise self.error(f"a scenario holds at most {MAX_AGENTS} agents", PlacementError)
        agent_id = agent_id or self.new_id(cls)
        size = default_size(cls)
        contact = set(contact_with)
        self.check_limits(cls, traj, agent_id)
        if not conflict_checked:
            enc = self.conflict(cls, size, traj, exclude=contact)
            if enc is not None:
                raise self.error(self.describe_conflict(agent_id, enc), PlacementError)
        rec = AgentRecord(agent_id, cls, size, traj, behavior or self.call_name,
                          {**self.call_params, **(params or {})}, role=role, lane=lane, connector=connector,
                          depends_on=frozenset(depends_on))
        rec.maneuvers = (self.first_maneuver(rec.behavior, rec.params),)
        self._records[agent_id] = rec
        for other in contact:
            self.contacts.add(frozenset((agent_id, other)))
            self.intents.append(Intent("contact", (agent_id, other), {}))
        self.check_deadline()
        return AgentHandle(agent_id, self)

    @staticmethod
    def first_maneuver(function: str, params: dict[str, Any]) -> Maneuver:
        """The manoeuvre a motion function starts an agent with (its `start` if it has one)."""
        st = params.get("start", params.get("enter_time", 0.0))
        start = float(st) if isinstance(st, (int, float)) and not isinstance(st, bool) else 0.0
        return Maneuver(function, dict(params), max(start, 0.0), None, {"kind": "time"})

    def describe_conflict(self, agent_id: str, enc: Encounter) -> str:
        return (f"{agent_id} would come within {enc.distance:.2f} m of {enc.other} at t={enc.t:.2f} s "
                f"(the safe distance is {enc.required:.2f} m)")

    def set_motion(self, handle: AgentHandle, traj: Trajectory, *, lane: LaneRef | None = None,
                   connector: Connector | None = None, depends_on: Iterable[str] = (),
                   contact_with: Iterable[str] = (), params: dict[str, Any] | None = None) -> AgentHandle:
        """Give an existing agent (in practice the ego) its motion; one motion per agent."""
        rec = self.record(handle)
        if not rec.provisional:
            raise self.error(f"{rec.id} already moves by {rec.behavior}(); each agent gets one motion function",
                             PlacementError)
        users = [r.id for r in self._records.values() if rec.id in r.depends_on]
        if users:
            raise self.error(f"{', '.join(users)} was placed relative to {rec.id}'s motion; set the motion of "
                             f"{rec.id} before placing agents relative to it", PlacementError)
        self.check_limits(rec.cls, traj, rec.id)
        contact = set(contact_with)
        enc = self.conflict(rec.cls, rec.size, traj, exclude=contact | {rec.id})
        if enc is not None:
            raise self.error(self.describe_conflict(rec.id, enc), PlacementError)
        rec.trajectory = traj
        rec._footprints = None
        rec.behavior = self.call_name
        rec.params = {**self.call_params, **(params or {})}
        rec.lane = lane or rec.lane
        rec.connector = connector
        rec.depends_on = frozenset(depends_on)
        rec.provisional = False
        rec.plan = None
        rec.maneuvers = (self.first_maneuver(rec.behavior, rec.params),)
        for other in contact:
            self.contacts.add(frozenset((rec.id, other)))
            self.intents.append(Intent("contact", (rec.id, other), {}))
        return handle

    # ---- result ------------------------------------------------------------------------
    def build(self, name: str = "prompted", prompt: str | None = None, script: str | None = None,
              description: str | None = None) -> Scenario:
        """The finished scenario with a road map fitted to every agent's trajectory."""
        from engine.library.mapfit import fit_map

        recs = self.records()
        ego = recs[0].agent()
        agents = tuple(r.agent() for r in recs[1:])
        road = fit_map(self)
        if self.signals:
            from dataclasses import replace as _replace

            road = _replace(road, signals=tuple(self.signals))
        return Scenario(
            name=name,
            description=description if description is not None else (prompt or ""),
            seed=self.seed,
            fps=self.fps,
            duration=self.duration,
            environment=self.environment,
            ego=ego,
            agents=agents,
            map=road,
            prompt=prompt,
            script=script,
            intents=tuple(self.intents),
        )
