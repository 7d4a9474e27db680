"""Undoable edits of manoeuvre sequences and of the clip length (no Qt).

RetimeManeuver moves the start of one manoeuvre of an agent (and everything after it) earlier or
later by a time warp of its trajectory: before the new start nothing changes; a delay inserts
cruising at the speed and heading the agent had when the manoeuvre was due; an advance cuts that
much of the preceding cruise. The motion stays continuous in position and (when the agent cruised
before the manoeuvre, as library sequences do) in velocity.

SetClipDuration changes the clip length (1 to 60 s): longer clips extend moving agents at their
final speed and heading, shorter ones cut their trajectories at the new end.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from engine.scenario.model import EGO_ID, Maneuver, Scenario
from engine.scenario.trajectory import Trajectory

MIN_DURATION = 1.0
MAX_DURATION = 60.0


def _extrapolate(traj: Trajectory, times: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """(x, y, yaw, v) at `times`; beyond the last key time the agent keeps its final speed and heading."""
    s = traj.sample(np.clip(times, traj.start_time, traj.end_time))
    x, y, yaw = s.x.copy(), s.y.copy(), s.yaw.copy()
    v_end = traj.points[-1].v if traj.points[-1].v is not None else float(traj.sample(traj.end_time).speed[0])
    over = times > traj.end_time
    if len(traj.points) > 1 and np.any(over):
        dt = times[over] - traj.end_time
        x[over] += dt * v_end * np.cos(yaw[over])
        y[over] += dt * v_end * np.sin(yaw[over])
    v = np.where(over, v_end, s.speed)
    return x, y, yaw, v


def retimed_trajectory(traj: Trajectory, start: float, new_start: float, times: NDArray[np.float64]) -> Trajectory:
    """The trajectory with the motion from `start` on moved to begin at `new_start` (see module doc)."""
    dt = new_start - start
    x0, y0, yaw0, v0 = _extrapolate(traj, times)
    if abs(dt) < 1e-9:
        return Trajectory.from_arrays(times, x0, y0, yaw0, v0)
    sx, sy, syaw, sv = _extrapolate(traj, np.array([start]))
    heading = float(syaw[0])
    speed = float(sv[0])
    x, y, yaw, v = x0.copy(), y0.copy(), yaw0.copy(), v0.copy()
    if dt > 0:
        cruise = (times >= start) & (times < new_start)
        d = (times[cruise] - start) * speed
        x[cruise] = sx[0] + d * math.cos(heading)
        y[cruise] = sy[0] + d * math.sin(heading)
        yaw[cruise], v[cruise] = heading, speed
        later = times >= new_start
        lx, ly, lyaw, lv = _extrapolate(traj, times[later] - dt)
        off = dt * speed
        x[later], y[later] = lx + off * math.cos(heading), ly + off * math.sin(heading)
        yaw[later], v[later] = lyaw, lv
    else:
        a = -dt
        later = times >= new_start
        lx, ly, lyaw, lv = _extrapolate(traj, times[later] + a)
        bx, by, _, _ = _extrapolate(traj, np.array([new_start]))
        ox, oy = sx[0] - bx[0], sy[0] - by[0]
        x[later], y[later] = lx - ox, ly - oy
        yaw[later], v[later] = lyaw, lv
    return Trajectory.from_arrays(np.round(times, 6), np.round(x, 4), np.round(y, 4), np.round(yaw, 5),
                                  np.round(np.maximum(v, 0.0), 4))


@dataclass
class RetimeManeuver:
    """Start manoeuvre `index` of `agent_id` at `new_start` seconds (undoable)."""

    agent_id: str
    index: int
    new_start: float
    label: str = ""
    _before: Scenario | None = None

    def __post_init__(self) -> None:
        self.label = self.label or f"Retime {self.agent_id} manoeuvre {self.index + 1}"

    def do(self, scenario: Scenario) -> Scenario:
        agent = scenario.agent(self.agent_id)
        if agent.locked:
            raise ValueError(f"{self.agent_id} comes from a recorded scene and cannot be edited")
        mans = list(agent.maneuver_sequence())
        if not 1 <= self.index < len(mans):
            raise ValueError(f"{self.agent_id} has no manoeuvre {self.index + 1} that can move "
                             f"(it has {len(mans)}; the first one starts the motion)")
        m = mans[self.index]
        lo = mans[self.index - 1].start
        t_last = scenario.frame_times()[-1]
        if not (lo <= self.new_start <= t_last) or not math.isfinite(self.new_start):
            raise ValueError(f"manoeuvre {self.index + 1} of {self.agent_id} must start between {lo:.2f} s "
                             f"(the previous one) and {t_last:.2f} s (got {self.new_start:g})")
        dt = self.new_start - m.start
        traj = retimed_trajectory(agent.trajectory, m.start, self.new_start, scenario.frame_times())
        new_mans = mans[:self.index - 1]
        prev = mans[self.index - 1]
        new_mans.append(replace(prev, end=round(self.new_start, 4)))
        for k, mm in enumerate(mans[self.index:]):
            trig = {"kind": "time"} if k == 0 else dict(mm.trigger)
            new_mans.append(Maneuver(mm.function, dict(mm.params), round(mm.start + dt, 4),
                                     None if mm.end is None else round(mm.end + dt, 4), trig))
        self._before = scenario
        return scenario.with_agent(replace(agent, trajectory=traj, maneuvers=tuple(new_mans)))

    def undo(self, scenario: Scenario) -> Scenario:
        assert self._before is not None
        return self._before


@dataclass
class SetClipDuration:
    """Make the clip `duration` seconds long (1 to 60), extending or cutting trajectories (undoable)."""

    duration: float
    label: str = ""
    _before: Scenario | None = None

    def __post_init__(self) -> None:
        self.label = self.label or f"Clip length {self.duration:g} s"

    def do(self, scenario: Scenario) -> Scenario:
        d = float(self.duration)
        if not (MIN_DURATION <= d <= MAX_DURATION):
            raise ValueError(f"the clip length must be between {MIN_DURATION:g} and {MAX_DURATION:g} s (got {d:g})")
        probe = replace(scenario, duration=d)
        times = probe.frame_times()
        agents = []
        for a in scenario.all_agents:
            traj = a.trajectory
            if len(traj.points) > 1 and not a.locked:
                x, y, yaw, v = _extrapolate(traj, times)
                traj = Trajectory.from_arrays(np.round(times, 6), np.round(x, 4), np.round(y, 4), np.round(yaw, 5),
                                              np.round(np.maximum(v, 0.0), 4))
            agents.append(replace(a, trajectory=traj))
        self._before = scenario
        return replace(scenario, duration=d, ego=agents[0] if agents[0].id == EGO_ID else scenario.ego,
                       agents=tuple(agents[1:]))

    def undo(self, scenario: Scenario) -> Scenario:
        assert self._before is not None
        return self._before


__all__ = ["RetimeManeuver", "SetClipDuration", "retimed_trajectory"]
