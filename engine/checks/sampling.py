"""Every trajectory sampled once on the scenario time grid, as (A, T) arrays.

Row 0 is the ego, then the agents in scenario order (unless a subset of ids is asked for).
Presence comes from `Trajectory.covers`: several waypoints exist from the first to the last key time,
a single waypoint (a standing object) from its time onwards; the checks ignore an agent where it
does not exist.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from engine.checks.geometry import box_corners
from engine.geometry import footprint_corners_trig
from engine.scenario.model import Agent, Scenario
from engine.scenario.trajectory import COVERS_EPS, sample_many

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.intp]


class Poses(NamedTuple):
    """Poses at arbitrary times: x, y, yaw, vx, vy float64 and present bool arrays of one shape."""

    x: FloatArray
    y: FloatArray
    yaw: FloatArray
    vx: FloatArray
    vy: FloatArray
    present: BoolArray


@dataclass(frozen=True, eq=False)
class SampledScene:
    """Poses of A agents at T times.

    times: (T,) s; x, y, yaw (unwrapped), vx, vy: (A, T) float64; present: (A, T) bool;
    size: (A, 3) [w, l, h]; radius: (A,) half diagonal of the footprint; corners (built on first
    use): (A, T, 4, 2) footprint corners (front-left, rear-left, rear-right, front-right).
    """

    ids: tuple[str, ...]
    classes: tuple[str, ...]
    agents: tuple[Agent, ...]
    times: FloatArray
    x: FloatArray
    y: FloatArray
    yaw: FloatArray
    vx: FloatArray
    vy: FloatArray
    present: BoolArray
    size: FloatArray
    radius: FloatArray

    @property
    def num_agents(self) -> int:
        return len(self.ids)

    @property
    def num_frames(self) -> int:
        return int(self.times.shape[0])

    @property
    def dt(self) -> float:
        """Seconds between samples (1 when there is a single frame)."""
        return float(self.times[1] - self.times[0]) if self.times.shape[0] > 1 else 1.0

    @cached_property
    def half_length(self) -> FloatArray:
        """(A,) half box lengths."""
        out: FloatArray = self.size[:, 1] / 2
        return out

    @cached_property
    def half_width(self) -> FloatArray:
        """(A,) half box widths."""
        out: FloatArray = self.size[:, 0] / 2
        return out

    @cached_property
    def corners(self) -> FloatArray:
        """(A, T, 4, 2) footprint corners of every agent at every frame."""
        return box_corners(self.x, self.y, self.yaw, self.half_length[:, None], self.half_width[:, None])

    def corners_at(self, rows: IntArray, frames: IntArray) -> FloatArray:
        """(..., 4, 2) footprint corners of rows at frames (index arrays of one shape): `corners[rows, frames]`."""
        return footprint_corners_trig(self.x[rows, frames], self.y[rows, frames], self.cos_yaw[rows, frames],
                                      self.sin_yaw[rows, frames], self.half_length[rows], self.half_width[rows])

    def corners_of(self, rows: IntArray) -> FloatArray:
        """(R, T, 4, 2) footprint corners of some rows (the same values as `corners[rows]`)."""
        if "corners" in self.__dict__:
            out: FloatArray = self.corners[rows]
            return out
        return box_corners(self.x[rows], self.y[rows], self.yaw[rows], self.half_length[rows][:, None],
                           self.half_width[rows][:, None])

    @cached_property
    def cos_yaw(self) -> FloatArray:
        """(A, T) cos of the yaw."""
        return np.cos(self.yaw)

    @cached_property
    def sin_yaw(self) -> FloatArray:
        """(A, T) sin of the yaw."""
        return np.sin(self.yaw)

    @cached_property
    def max_steps(self) -> FloatArray:
        """(A,) the longest distance each agent moves between two consecutive frames (both present)."""
        if self.num_frames < 2:
            return np.zeros(self.num_agents)
        step = np.hypot(np.diff(self.x, axis=1), np.diff(self.y, axis=1))
        step = np.where(self.present[:, 1:] & self.present[:, :-1], step, 0.0)
        out: FloatArray = step.max(axis=1)
        return out

    @cached_property
    def speed(self) -> FloatArray:
        """(A, T) ground speed, m/s."""
        return np.hypot(self.vx, self.vy)

    def index(self, agent_id: str) -> int:
        """Row of an agent; KeyError naming it when absent."""
        try:
            return self.ids.index(agent_id)
        except ValueError:
            raise KeyError(f"no agent with id {agent_id!r}") from None

    def poses_at(self, rows: int | ArrayLike, times: ArrayLike) -> Poses:
        """Poses of `rows` at arbitrary times inside the grid, from the frame samples alone.

        rows: (N,) ints (or one int); times: (N, S) or (S,) s. Positions and velocities are cubic
        Hermite interpolants of the sampled positions and velocities of the two frames around each
        time (exact for motion at constant velocity or constant acceleration), the yaw is linear
        between them. An agent counts as present between two frames when it is at both.
        Returns arrays of shape (N, S) (or (S,) for one int row).
        """
        r = np.asarray(rows)
        t = np.asarray(times, dtype=np.float64)
        if r.ndim:
            r = r[:, None]
        T = self.num_frames
        if T < 2:
            k = np.zeros(np.broadcast_shapes(r.shape, t.shape), dtype=int)
            z = np.zeros(k.shape)
            return Poses(self.x[r, k], self.y[r, k], self.yaw[r, k], z, z.copy(), self.present[r, k])
        dt = self.dt
        f = (t - self.times[0]) / dt
        k = np.minimum(np.maximum(np.floor(f).astype(int), 0), T - 2)      # np.clip, without its overhead
        u = np.minimum(np.maximum(f - k, 0.0), 1.0)
        u2, u3 = u * u, u * u * u
        h00, h10, h01, h11 = 2 * u3 - 3 * u2 + 1, u3 - 2 * u2 + u, -2 * u3 + 3 * u2, u3 - u2
        d00, d10, d01, d11 = 6 * u2 - 6 * u, 3 * u2 - 4 * u + 1, -6 * u2 + 6 * u, 3 * u2 - 2 * u

        q0 = r * T + k                                  # flat (row, frame) indices: 1-D gathers
        q1 = q0 + 1

        def herm(p: FloatArray, v: FloatArray) -> tuple[FloatArray, FloatArray]:
            pf, vf = p.ravel(), v.ravel()
            p0, p1, v0, v1 = np.take(pf, q0), np.take(pf, q1), np.take(vf, q0) * dt, np.take(vf, q1) * dt
            return h00 * p0 + h10 * v0 + h01 * p1 + h11 * v1, (d00 * p0 + d10 * v0 + d01 * p1 + d11 * v1) / dt

        x, vx = herm(self.x, self.vx)
        y, vy = herm(self.y, self.vy)
        yawf = self.yaw.ravel()
        yaw = (1 - u) * np.take(yawf, q0) + u * np.take(yawf, q1)
        pres = self.present.ravel()
        p0, p1 = np.take(pres, q0), np.take(pres, q1)
        inside = (t >= self.times[0] - 1e-9) & (t <= self.times[-1] + 1e-9)
        present = np.where(u <= 1e-9, p0, np.where(u >= 1 - 1e-9, p1, p0 & p1)) & inside
        return Poses(x, y, yaw, vx, vy, present)

    def subset(self, rows: Sequence[int]) -> "SampledScene":
        """The same samples for some rows only, in the given order."""
        r = np.asarray(rows, dtype=int)
        return SampledScene(
            ids=tuple(self.ids[i] for i in r), classes=tuple(self.classes[i] for i in r),
            agents=tuple(self.agents[i] for i in r), times=self.times, x=self.x[r], y=self.y[r], yaw=self.yaw[r],
            vx=self.vx[r], vy=self.vy[r], present=self.present[r], size=self.size[r], radius=self.radius[r])

    @classmethod
    def from_scenario(
        cls, scenario: Scenario, agent_ids: Sequence[str] | None = None, times: ArrayLike | None = None
    ) -> "SampledScene":
        """Sample the ego and agents (or only `agent_ids`, in that order) at `times` (default: the frame times)."""
        agents = scenario.all_agents if agent_ids is None else tuple(scenario.agent(a) for a in agent_ids)
        t = scenario.frame_times() if times is None else np.asarray(times, dtype=np.float64)
        return cls.from_agents(agents, t)

    @classmethod
    def from_agents(cls, agents: Sequence[Agent], times: FloatArray) -> "SampledScene":
        """Sample the given agents at `times` (T,)."""
        agents = tuple(agents)
        n = len(agents)
        x, y, yaw, vx, vy = sample_many([a.trajectory for a in agents], times)
        # `Trajectory.covers` of every row at once: from the first key time, to the last one when there are several
        start = np.array([a.trajectory.start_time for a in agents], dtype=np.float64)
        end = np.array([a.trajectory.end_time if len(a.trajectory.points) > 1 else np.inf for a in agents],
                       dtype=np.float64)
        eps = COVERS_EPS
        present = (times[None, :] >= start[:, None] - eps) & (times[None, :] <= end[:, None] + eps)
        size = np.array([a.size for a in agents], dtype=np.float64).reshape(n, 3)
        hl, hw = size[:, 1] / 2, size[:, 0] / 2
        return cls(
            ids=tuple(a.id for a in agents), classes=tuple(a.cls for a in agents), agents=agents, times=times,
            x=x, y=y, yaw=yaw, vx=vx, vy=vy, present=present, size=size, radius=np.hypot(hl, hw),
        )


def runs(mask: ArrayLike) -> list[tuple[int, int]]:
    """Inclusive (first, last) index of each run of True in a (T,) bool array."""
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    edges = np.flatnonzero(m[1:] != m[:-1])
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2])]


def runs_2d(mask: BoolArray) -> tuple[IntArray, IntArray, IntArray]:
    """Runs of True along the last axis of a (N, T) bool array: (row, first, last) arrays, inclusive."""
    n = mask.shape[0]
    pad = np.zeros((n, 1), dtype=bool)
    m = np.concatenate([pad, mask.astype(bool), pad], axis=1)
    d = m[:, 1:] != m[:, :-1]
    rows, cols = np.nonzero(d)
    # edges alternate start / end within each row because every row starts and ends with False
    return rows[::2], cols[::2], cols[1::2] - 1
