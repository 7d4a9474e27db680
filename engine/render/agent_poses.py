"""Where every agent present at one time is, computed once per render and shared by all maps."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from numpy.typing import NDArray

from engine.geometry import wrap_angle
from engine.rig.projection import NEAR, UNIT_BOX_CORNERS
from engine.rig.rig import CameraRig
from engine.scenario.model import Agent
from engine.scenario.trajectory import Trajectory


@dataclass
class Placement:
    """Where every present agent is at one time, computed once per render.

    poses (A, 3) [x, y, yaw]; sizes (A, 3) [w, l, h]; models (A, 4, 4) world_from_unit_asset;
    corners, grown (A, 8, 3) world box corners in `Box.corners` order (grown: widened by the
    shadow reach); visible (C, A) whether each camera may see each agent.
    """

    agents: list[Agent]
    world_from_ego: NDArray[np.float64]
    ego_from_world: NDArray[np.float64]
    cam_from_world: list[NDArray[np.float64]]
    poses: NDArray[np.float64]
    sizes: NDArray[np.float64]
    models: NDArray[np.float64]
    corners: NDArray[np.float64]
    grown: NDArray[np.float64]
    visible: NDArray[np.bool_]

    @classmethod
    def build(cls, agents: list[Agent], t: float, rig: CameraRig, world_from_ego: NDArray[np.float64], reach: float,
              poses: NDArray[np.float64] | None = None) -> "Placement":
        """`poses` (A, 3) [x, y, yaw] of `agents` at t when already known (e.g. from a `PoseCache`)."""
        n = len(agents)
        if poses is None:
            poses = np.array([a.trajectory.pose_at(t) for a in agents], dtype=np.float64).reshape(n, 3)
        poses = np.asarray(poses, dtype=np.float64).reshape(n, 3)
        sizes = np.array([a.size for a in agents], dtype=np.float64).reshape(n, 3)
        c, s = np.cos(poses[:, 2]), np.sin(poses[:, 2])
        rot = np.zeros((n, 3, 3))
        rot[:, 0, 0], rot[:, 0, 1], rot[:, 1, 0], rot[:, 1, 1], rot[:, 2, 2] = c, -s, s, c, 1.0
        lwh = sizes[:, [1, 0, 2]]
        models = np.zeros((n, 4, 4))
        models[:, :3, :3] = rot * lwh[:, None, :]
        models[:, :2, 3] = poses[:, :2]
        models[:, 3, 3] = 1.0
        trans = models[:, None, :3, 3]
        corners = np.einsum("aij,kj->aki", models[:, :3, :3], UNIT_BOX_CORNERS) + trans
        grow = np.ones((n, 3))
        grow[:, 0] = (lwh[:, 0] + 2 * reach) / np.maximum(lwh[:, 0], 1e-9)
        grow[:, 1] = (lwh[:, 1] + 2 * reach) / np.maximum(lwh[:, 1], 1e-9)
        grown = np.einsum("aij,akj->aki", models[:, :3, :3], UNIT_BOX_CORNERS[None] * grow[:, None, :]) + trans
        ego_from_world = _rigid_inverse(world_from_ego)
        cam_from_world = [cam.camera_from_ego @ ego_from_world for cam in rig]
        w, h = rig.size
        visible = np.zeros((len(rig), n), bool)
        if n:
            for k, cam in enumerate(rig):
                visible[k] = in_view(grown, cam_from_world[k], cam.K, w, h)
        return cls(agents, world_from_ego, ego_from_world, cam_from_world, poses, sizes, models,
                   corners, grown, visible)


def _rigid_inverse(m: NDArray[np.float64]) -> NDArray[np.float64]:
    """(4, 4) inverse of a rigid transform: [R^T, -R^T t] (what `Camera.camera_from_world` uses)."""
    from engine.rig.camera import _rigid_inverse as inverse

    return inverse(m)


class PoseCache:
    """Poses and presence of trajectories on a fixed time grid (the scenario's frames), evaluated once.

    `lookup(trajectory, t)` gives (x, y, yaw wrapped to [-pi, pi)) and whether the trajectory covers t,
    exactly what `trajectory.pose_at(t)` / `trajectory.covers(t)` give, from one vectorised sample of
    the whole grid per trajectory; times off the grid fall through to those calls. Entries are keyed
    by trajectory identity, so an edited agent (a new Trajectory object) is re-sampled.
    """

    def __init__(self, times: NDArray[np.float64]) -> None:
        self.times = np.asarray(times, dtype=np.float64)
        self._entries: dict[int, tuple[Trajectory, NDArray[np.float64], NDArray[np.bool_]]] = {}

    def _entry(self, traj: Trajectory) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        e = self._entries.get(id(traj))
        if e is None or e[0] is not traj:
            smp = traj.sample(self.times)
            poses = np.stack([smp.x, smp.y, wrap_angle(smp.yaw)], axis=1).astype(np.float64)
            e = (traj, poses, np.asarray(traj.covers(self.times), bool).reshape(-1))
            self._entries[id(traj)] = e
        return e[1], e[2]

    def index(self, t: float) -> int | None:
        """The grid index of time t, or None when t is not on the grid."""
        i = int(np.searchsorted(self.times, t))
        return i if i < self.times.size and self.times[i] == t else None

    def poses(self, trajs: Sequence[Trajectory], t: float) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        """(N, 3) poses and (N,) presence of `trajs` at t."""
        i = self.index(t)
        n = len(trajs)
        if i is None:
            return (np.array([tr.pose_at(t) for tr in trajs], dtype=np.float64).reshape(n, 3),
                    np.array([bool(tr.covers(t)) for tr in trajs], bool))
        out, present = np.empty((n, 3)), np.empty(n, bool)
        for k, tr in enumerate(trajs):
            p, c = self._entry(tr)
            out[k], present[k] = p[i], c[i]
        return out, present

    def __len__(self) -> int:
        return len(self._entries)

    def forget_unused(self, trajs: Sequence[Trajectory]) -> None:
        """Drop entries of trajectories not in `trajs` (after edits)."""
        keep = {id(t) for t in trajs}
        for k in [k for k in self._entries if k not in keep]:
            del self._entries[k]


def in_view(corners: NDArray[np.float64], cam_from_world: NDArray[np.float64], K: NDArray[np.float64], w: int,
            h: int) -> NDArray[np.bool_]:
    """(A,) bool: boxes (A, 8, 3) that may be seen (conservative: straddling the camera plane counts)."""
    c = corners @ cam_from_world[:3, :3].T + cam_from_world[:3, 3]
    z = c[..., 2]
    front = z > NEAR
    all_front = front.all(axis=1)
    zc = np.maximum(z, NEAR)
    u = K[0, 0] * c[..., 0] / zc + K[0, 1] * c[..., 1] / zc + K[0, 2]
    v = K[1, 1] * c[..., 1] / zc + K[1, 2]
    overlap = (u.max(1) >= -1) & (u.min(1) <= w) & (v.max(1) >= -1) & (v.min(1) <= h)
    return np.where(all_front, overlap, front.any(axis=1))
