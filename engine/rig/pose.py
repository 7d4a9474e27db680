"""Poses of the ego and the agents as 4x4 transforms, built with nuscenes-devkit's `transform_matrix`."""
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from pyquaternion import Quaternion

from engine.rig.devkit import transform_matrix   # nuscenes-devkit's (see engine.rig.devkit)
from engine.scenario.model import Agent, Scenario


def pose_matrix(x: float, y: float, yaw: float, z: float = 0.0) -> NDArray[np.float64]:
    """(4, 4) float64 transform of a ground pose: rotation by `yaw` about +z, then translation."""
    m: NDArray[np.float64] = transform_matrix(np.array([x, y, z], dtype=np.float64),
                                              Quaternion(axis=[0.0, 0.0, 1.0], angle=float(yaw)))
    return m


def ego_pose(scenario: Scenario, t: float) -> NDArray[np.float64]:
    """(4, 4) world_from_ego at time t: the ego trajectory's pose on the ground (z = 0)."""
    x, y, yaw = scenario.ego.trajectory.pose_at(float(t))
    return pose_matrix(x, y, yaw)


def agent_present(agent: Agent, t: float, eps: float = 1e-6) -> bool:
    """Whether the agent exists at time t.

    A trajectory with several waypoints covers its key time range; a single waypoint (a parked
    object, `Trajectory.static`) holds from its time onwards.
    """
    return bool(agent.trajectory.covers(float(t), eps))


def agent_model_matrix(agent: Agent, t: float) -> NDArray[np.float64]:
    """(4, 4) world_from_unit_asset: places a unit asset (x, y in [-0.5, 0.5], z in [0, 1]) in the agent's box.

    Scales by (length, width, height), then rotates by yaw and translates to the ground position.
    """
    x, y, yaw = agent.trajectory.pose_at(float(t))
    m = pose_matrix(x, y, yaw)
    scale = np.diag(np.array([agent.length, agent.width, agent.height, 1.0], dtype=np.float64))
    return m @ scale
