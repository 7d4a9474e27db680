"""What the mouse means on the bird's-eye view, without Qt: hit testing and drag sessions.

The canvas converts pixels to world metres and calls these; a drag session maps a mouse position
to a whole new scenario computed from the scenario the drag started from (never cumulatively), so
a drag is exact, cancellable and becomes one command (`Document.begin_drag` ... `end_drag`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from editor.commands import MoveWaypoint, _editable, move_agent, rotate_agent
from editor.lane_snap import snap_to_lane
from editor.trajectory_edit import is_static, nearest_time_on_path
from engine.scenario.model import Agent, Scenario

HitKind = Literal["rotate", "waypoint", "agent", "path"]


def agent_present(agent: Agent, t: float, eps: float = 1e-6) -> bool:
    """Whether the agent exists at time t (as `engine.rig.pose.agent_present`, which it must agree with;
    kept here so that the editor does not load the camera rig, and with it nuscenes-devkit, at start-up)."""
    return bool(agent.trajectory.covers(float(t), eps))
ROTATE_SNAP = math.radians(15.0)


@dataclass(frozen=True)
class Hit:
    """What lies under the mouse: a rotate handle, a waypoint handle, an agent body or a path.

    `index` is the waypoint index (kind ``waypoint``); `t` the time on the path (kind ``path``).
    """

    kind: HitKind
    agent_id: str
    index: int = -1
    t: float = 0.0


def rotate_handle_position(scenario: Scenario, agent_id: str, t: float, gap: float) -> tuple[float, float]:
    """Where the rotate handle of an agent is drawn: `gap` metres ahead of its nose at time t."""
    a = scenario.agent(agent_id)
    x, y, yaw = a.trajectory.pose_at(t)
    r = a.length / 2 + gap
    return x + r * math.cos(yaw), y + r * math.sin(yaw)


def _inside(corners: NDArray[np.float64], x: float, y: float, margin: float) -> bool:
    """Whether (x, y) lies in the convex footprint (4, 2) grown by `margin` metres."""
    c = corners
    centre = c.mean(axis=0)
    for i in range(4):
        a, b = c[i], c[(i + 1) % 4]
        edge = b - a
        normal = np.array([edge[1], -edge[0]])
        normal /= max(np.hypot(*normal), 1e-12)
        if np.dot(centre - a, normal) > 0:
            normal = -normal
        if np.dot(np.array([x, y]) - a, normal) > margin:
            return False
    return True


def hit_test(scenario: Scenario, t: float, x: float, y: float, selection: tuple[str, ...] = (),
             radius: float = 0.5, handle_gap: float = 1.5, prefer_waypoint: bool = False) -> Hit | None:
    """The editable thing under (x, y) at time t; `radius` is the pick tolerance in metres.

    Order: the rotate handle of a single selected agent; the body of a selected agent (so grabbing
    a selected car by its body moves the car, even when one of its waypoints lies under it: at
    the time of a waypoint the box sits on it); waypoint handles of selected agents; the other
    agent bodies (smallest first, so a pedestrian in front of a bus can be picked); then the path
    of a selected agent. With `prefer_waypoint` (the Alt modifier) waypoint handles come before
    every body: that is how a single waypoint under its own agent is dragged.
    """
    present = {a.id: a for a in scenario.all_agents if agent_present(a, t)}
    if len(selection) == 1 and selection[0] in present:
        hx, hy = rotate_handle_position(scenario, selection[0], t, handle_gap)
        if math.hypot(x - hx, y - hy) <= radius * 1.2:
            return Hit("rotate", selection[0])

    def body(candidates: Iterable[Agent]) -> Hit | None:
        for a in sorted(candidates, key=lambda a: a.width * a.length):
            if _inside(a.box_corners_2d(t)[0], x, y, margin=radius * 0.5):
                return Hit("agent", a.id)
        return None

    if not prefer_waypoint:
        hit = body([present[i] for i in selection if i in present])
        if hit is not None:
            return hit
    best: tuple[float, Hit] | None = None
    for aid in selection:
        try:
            traj = scenario.agent(aid).trajectory
        except KeyError:
            continue
        if len(traj.points) < 2 or is_static(traj):
            continue
        d = np.hypot(traj.key_xy[:, 0] - x, traj.key_xy[:, 1] - y)
        i = int(np.argmin(d))
        if d[i] <= radius and (best is None or d[i] < best[0]):
            best = (float(d[i]), Hit("waypoint", aid, i))
    if best is not None:
        return best[1]
    hit = body(present.values())
    if hit is not None:
        return hit
    for aid in selection:
        try:
            traj = scenario.agent(aid).trajectory
        except KeyError:
            continue
        if len(traj.points) >= 2:
            tp, dist = nearest_time_on_path(traj, x, y)
            if dist <= radius:
                return Hit("path", aid, t=tp)
    return None


def agents_touching_rect(scenario: Scenario, t: float, x0: float, y0: float, x1: float,
                         y1: float) -> tuple[str, ...]:
    """Ids of the agents present at t whose footprint at t intersects the axis-aligned rectangle spanned
    by (x0, y0) and (x1, y1) (world metres; any corner order), in scenario order: what a rubber band
    selects (a band over part of a bus takes the bus, although its centre lies outside)."""
    lo_x, hi_x = min(x0, x1), max(x0, x1)
    lo_y, hi_y = min(y0, y1), max(y0, y1)
    rect = np.array([[lo_x, lo_y], [hi_x, lo_y], [hi_x, hi_y], [lo_x, hi_y]])
    out = []
    for a in scenario.all_agents:
        if not agent_present(a, t):
            continue
        c = a.box_corners_2d(t)[0]   # (4, 2), a rectangle: the rectangle's axes and its two edge normals
        if c[:, 0].max() < lo_x or c[:, 0].min() > hi_x or c[:, 1].max() < lo_y or c[:, 1].min() > hi_y:
            continue
        separated = False
        for e in (c[1] - c[0], c[2] - c[1]):
            n = np.array([-e[1], e[0]])
            pc, pr = c @ n, rect @ n
            if pc.max() < pr.min() or pr.max() < pc.min():
                separated = True
                break
        if not separated:
            out.append(a.id)
    return tuple(out)


class DragSession(Protocol):
    """One drag: `scenario_at` gives the whole scenario for a mouse position."""

    label: str

    def scenario_at(self, x: float, y: float, snap: bool = False, fine: bool = False) -> Scenario: ...


@dataclass
class AgentDrag:
    """Drag an agent: its whole trajectory moves with the mouse (the other `also` agents, the rest of a
    multi-selection, move by the same offset).

    With `snap`, the grabbed agent's position at the drag time lands on the nearest lane centre
    line (inside the lane); a parked object also turns to face along that lane. `snap_target`
    is then the (x, y, heading) it snapped to (None when it did not), for the canvas to show.
    """

    start: Scenario
    agent_id: str
    x0: float
    y0: float
    t: float
    also: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _editable(self.start, self.agent_id)
        self.also = tuple(i for i in self.also if i != self.agent_id and not self.start.agent(i).locked)
        n = 1 + len(self.also)
        self.label = f"Move {self.agent_id}" if n == 1 else f"Move {n} agents"
        self.snap_target: tuple[float, float, float] | None = None

    @property
    def agent_ids(self) -> tuple[str, ...]:
        return (self.agent_id,) + self.also

    def scenario_at(self, x: float, y: float, snap: bool = False, fine: bool = False) -> Scenario:
        agent = self.start.agent(self.agent_id)
        dx, dy = x - self.x0, y - self.y0
        self.snap_target = None
        moved = None
        if snap:
            px, py, yaw = agent.trajectory.pose_at(self.t)
            proj = snap_to_lane(self.start.map, px + dx, py + dy)
            if proj is not None:
                dx, dy = proj.x - px, proj.y - py
                moved = move_agent(agent, dx, dy)
                if is_static(agent.trajectory) and not self.also:
                    moved = rotate_agent(moved, math.remainder(proj.heading - yaw, 2 * math.pi), self.t)
                self.snap_target = (proj.x, proj.y, proj.heading)
        out = self.start.with_agent(moved if moved is not None else move_agent(agent, dx, dy))
        for aid in self.also:
            out = out.with_agent(move_agent(self.start.agent(aid), dx, dy))
        return out


@dataclass
class WaypointDrag:
    """Drag one waypoint; the grab offset is kept so the handle does not jump to the cursor.

    With `snap`, the waypoint lands on the nearest lane centre line (inside the lane).
    """

    start: Scenario
    agent_id: str
    index: int
    x0: float
    y0: float

    def __post_init__(self) -> None:
        agent = _editable(self.start, self.agent_id)
        p = agent.trajectory.points[self.index]
        self._offset = (p.x - self.x0, p.y - self.y0)
        self.snap_target: tuple[float, float, float] | None = None
        self.label = f"Move waypoint {self.index + 1} of {self.agent_id}"

    def scenario_at(self, x: float, y: float, snap: bool = False, fine: bool = False) -> Scenario:
        tx, ty = x + self._offset[0], y + self._offset[1]
        self.snap_target = None
        if snap:
            proj = snap_to_lane(self.start.map, tx, ty)
            if proj is not None:
                tx, ty = proj.x, proj.y
                self.snap_target = (proj.x, proj.y, proj.heading)
        return MoveWaypoint(self.agent_id, index=self.index, x=tx, y=ty).do(self.start)


@dataclass
class RotateDrag:
    """Turn an agent (its whole trajectory) about its position at the drag time.

    With `snap`, the heading at that time is rounded to 15 degree steps.
    """

    start: Scenario
    agent_id: str
    x0: float
    y0: float
    t: float

    def __post_init__(self) -> None:
        agent = _editable(self.start, self.agent_id)
        self._px, self._py, self._yaw0 = agent.trajectory.pose_at(self.t)
        self._a0 = math.atan2(self.y0 - self._py, self.x0 - self._px)
        self.label = f"Rotate {self.agent_id}"

    def angle_at(self, x: float, y: float, snap: bool = False) -> float:
        """The rotation (rad) for a mouse position."""
        if math.hypot(x - self._px, y - self._py) < 1e-6:
            return 0.0
        angle = math.remainder(math.atan2(y - self._py, x - self._px) - self._a0, 2 * math.pi)
        if snap:
            target = round((self._yaw0 + angle) / ROTATE_SNAP) * ROTATE_SNAP
            angle = target - self._yaw0
        return angle

    def scenario_at(self, x: float, y: float, snap: bool = False, fine: bool = False) -> Scenario:
        agent = self.start.agent(self.agent_id)
        return self.start.with_agent(rotate_agent(agent, self.angle_at(x, y, snap), self.t))
