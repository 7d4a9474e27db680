"""Helpers for the rendering tests: small synthetic scenes and analytic depths."""
from __future__ import annotations

import numpy as np

from engine.classes import default_size
from engine.roadmap.procedural import straight_road_map
from engine.scenario import Agent, Scenario, Trajectory
from engine.scenario.map_elements import RoadMap


def make_agent(agent_id: str, cls: str, x: float, y: float, yaw: float = 0.0, size=None, asset: str = "") -> Agent:
    return Agent(agent_id, cls, size or default_size(cls), Trajectory.static(x, y, yaw), asset=asset)


def make_scenario(agents, road: bool = True) -> Scenario:
    """The ego parked at the origin facing +x, on a straight road (or an empty map: ground only)."""
    m = straight_road_map(-80.0, 120.0) if road else RoadMap()
    return Scenario(name="test", agents=tuple(agents), map=m)


def ray_plane_depth(cam, world_from_ego, u: np.ndarray, v: np.ndarray, normal, offset) -> np.ndarray:
    """Camera-frame z at pixels (u, v) where their rays meet the world plane normal . p = offset."""
    wfc = cam.world_from_camera(world_from_ego)
    rays = np.linalg.inv(cam.K) @ np.stack([u, v, np.ones_like(u)]).astype(np.float64)   # z = 1 in the camera
    d = wfc[:3, :3] @ rays
    o = wfc[:3, 3]
    n = np.asarray(normal, dtype=np.float64)
    return (offset - n @ o) / (n @ d)
