"""Where every agent present at one time is, computed once per render and shared by all maps."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.rig.projection import NEAR, UNIT_BOX_CORNERS
from engine.rig.rig import CameraRig
from engine.scenario.model import Agent


@dataclass
class Placement:
    """Where every present agent is at one time, computed once per render.

    poses (A, 3) [x, y, yaw]; sizes (A, 3) [w, l, h]; models (A, 4, 4) world_from_unit_asset;
    corners, grown (A, 8, 3) world box corners in `Box.corners` order (grown: widened by the
    shadow reach); visible (C, A) whether each camera may see each agent.
    """

    agents: list[Agent]
    world_from_ego: np.ndarray
    ego_from_world: np.ndarray
    cam_from_world: list[np.ndarray]
    poses: np.ndarray
    sizes: np.ndarray
    models: np.ndarray
    corners: np.ndarray
    grown: np.ndarray
    visible: np.ndarray

    @classmethod
    def build(cls, agents: list[Agent], t: float, rig: CameraRig, world_from_ego: np.ndarray, reach: float) -> "Placement":
        n = len(agents)
        poses = np.array([a.trajectory.pose_at(t) for a in agents], dtype=np.float64).reshape(n, 3)
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
        cam_from_world = [cam.camera_from_world(world_from_ego) for cam in rig]
        w, h = rig.size
        visible = np.zeros((len(rig), n), bool)
        if n:
            for k, cam in enumerate(rig):
                visible[k] = in_view(grown, cam_from_world[k], cam.K, w, h)
        return cls(agents, world_from_ego, np.linalg.inv(world_from_ego), cam_from_world, poses, sizes, models,
                   corners, grown, visible)


def in_view(corners: np.ndarray, cam_from_world: np.ndarray, K: np.ndarray, w: int, h: int) -> np.ndarray:
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
