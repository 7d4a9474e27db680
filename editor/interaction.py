"""What the mouse means on the bird's-eye view, without Qt: hit testing and drag sessions.

The canvas converts pixels to world metres and calls these; a drag session maps a mouse position
to a whole new scenario computed from the scenario the drag started from (never cumulatively), so
a drag is exact, cancellable and becomes one command (`Document.begin_drag` ... `end_drag`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from editor.commands import MoveWaypoint, _editable, move_agent, rotate_agent
from editor.lane_snap import snap_to_lane
from editor.trajectory_edit import is_static, nearest_time_on_path
from engine.rig.pose import agent_present
from engine.scenario.model import Scenario

HitKind = Literal["rotate", "waypoint", "agent", "path"]
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


def _inside(corners: np.ndarray, x: float, y: float, margin: float) -> bool:
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
             radius: float = 0.5, handle_gap: float = 1.5) -> Hit | None:
    """The editable thing under (x, y) at time t; `radius` is the pick tolerance in metres.

    Order: the rotate handle of a single selected agent, waypoint handles of selected agents,
    agent bodies (smallest first, so a pedestrian in front of a bus can be picked), then the path
    of a selected agent.
    """
    present = {a.id: a for a in scenario.all_agents if agent_present(a, t)}
    if len(selection) == 1 and selection[0] in present:
        hx, hy = rotate_handle_position(scenario, selection[0], t, handle_gap)
        if math.hypot(x - hx, y - hy) <= radius * 1.2:
            return Hit("rotate", selection[0])
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
    for a in sorted(present.values(), key=lambda a: a.width * a.length):
        if _inside(a.box_corners_2d(t)[0], x, y, margin=radius * 0.5):
            return Hit("agent", a.id)
    for aid in selection:
        try:
            traj = scenario.agent(aid).trajectory
        except KeyError:
            continue
        if len(traj.points) >= 2:
            tp, d = nearest_time_on_path(traj, x, y)
            if d <= radius:
                return Hit("path", aid, t=tp)
    return None


class DragSession(Protocol):
    """One drag: `scenario_at` gives the whole scenario for a mouse position."""

    label: str

    def scenario_at(self, x: float, y: float, snap: bool = False, fine: bool = False) -> Scenario: ...


@dataclass
class AgentDrag:
    """Drag an agent: its whole trajectory moves with the mouse.

    With `snap`, its position at the drag time lands on the nearest lane centre line (inside the
    lane); a parked object also turns to face along that lane.
    """

    start: Scenario
    agent_id: str
    x0: float
    y0: float
    t: float

    def __post_init__(self) -> None:
        _editable(self.start, self.agent_id)
        self.label = f"Move {self.agent_id}"

    def scenario_at(self, x: float, y: float, snap: bool = False, fine: bool = False) -> Scenario:
        agent = self.start.agent(self.agent_id)
        dx, dy = x - self.x0, y - self.y0
        if snap:
            px, py, yaw = agent.trajectory.pose_at(self.t)
            proj = snap_to_lane(self.start.map, px + dx, py + dy)
            if proj is not None:
                dx, dy = proj.x - px, proj.y - py
                moved = move_agent(agent, dx, dy)
                if is_static(agent.trajectory):
                    moved = rotate_agent(moved, math.remainder(proj.heading - yaw, 2 * math.pi), self.t)
                return self.start.with_agent(moved)
        return self.start.with_agent(move_agent(agent, dx, dy))


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
        self.label = f"Move waypoint {self.index} of {self.agent_id}"

    def scenario_at(self, x: float, y: float, snap: bool = False, fine: bool = False) -> Scenario:
        tx, ty = x + self._offset[0], y + self._offset[1]
        if snap:
            proj = snap_to_lane(self.start.map, tx, ty)
            if proj is not None:
                tx, ty = proj.x, proj.y
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
