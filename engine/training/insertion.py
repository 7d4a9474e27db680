"""Dream4Drive's self-supervised insertion on a real frame: an annotated object becomes the "inserted" one.

The recorded object is already in the real image (the target). Its box and class asset are rendered
into the object map O and mask M as if it had been inserted, and D, N, E are blanked inside M, so the
model learns to re-synthesise an object from O/M alone.

The real depth holds the object's own LiDAR returns, which would hide its rendered asset (the renderer
depth-tests assets against the background). `clear_object_depth` removes those returns: pixels inside
the object's projected box hull that are not nearer than the box (so real occluders in front still hide
it) become unknown depth for the render only.
"""
from __future__ import annotations

import dataclasses


import cv2
import numpy as np
from numpy.typing import NDArray

from engine.rig.camera import Camera
from engine.rig.pose import agent_present
from engine.rig.projection import clipped_hull_points, project_agent_box
from engine.rig.rig import CameraRig
from engine.scenario.model import Agent, Scenario

OCCLUDER_MARGIN = 0.5   # metres: real depth this much nearer than the box's nearest corner counts as an occluder


def candidate_agents(scenario: Scenario, t: float, rig: CameraRig, world_from_ego: NDArray[np.float64],
                     min_distance: float = 2.0, max_distance: float = 40.0) -> list[Agent]:
    """Recorded (locked) agents present at t, between min and max distance (m) from the ego, in view of a camera.

    Sorted by id, so a seeded choice among them is reproducible."""
    ego_from_world = np.linalg.inv(world_from_ego)
    out: list[Agent] = []
    for a in scenario.agents:
        if not a.locked or not agent_present(a, t):
            continue
        x, y, _ = a.trajectory.pose_at(float(t))
        p = ego_from_world @ np.array([x, y, 0.0, 1.0])
        d = float(np.hypot(p[0], p[1]))
        if not min_distance <= d <= max_distance:
            continue
        if any(project_agent_box(a, t, cam, cam.camera_from_world(world_from_ego)).visible for cam in rig):
            out.append(a)
    return sorted(out, key=lambda a: a.id)


def as_inserted(scenario: Scenario, agent: Agent) -> Scenario:
    """The scenario with `agent` unlocked: the renderer then draws it into O and M over the real frames."""
    return dataclasses.replace(scenario, agents=tuple(
        dataclasses.replace(a, locked=False) if a.id == agent.id else a for a in scenario.agents))


def box_hull_mask(agent: Agent, t: float, camera: Camera, world_from_ego: NDArray[np.float64],
                  grow_px: int = 2) -> tuple[NDArray[np.bool_], float]:
    """(H, W) bool pixels of the agent's projected box (convex hull, grown by `grow_px`) and the box's
    nearest camera depth (m); an empty mask and inf when the box is out of view."""
    h, w = camera.height, camera.width
    mask = np.zeros((h, w), np.uint8)
    pb = project_agent_box(agent, t, camera, camera.camera_from_world(world_from_ego))
    if not pb.visible:
        return mask.astype(bool), float("inf")
    pts = clipped_hull_points(pb.corners_camera)
    uv = camera.project(pts).T
    uv = np.clip(uv, -4 * max(w, h), 4 * max(w, h))
    hull = cv2.convexHull(np.round(uv).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, (1,))   # color as a sequence (one channel), as OpenCV's stubs type it
    if grow_px > 0:
        mask = np.asarray(cv2.dilate(mask, np.ones((2 * grow_px + 1, 2 * grow_px + 1), np.uint8)), np.uint8)
    return mask.astype(bool), float(pts[2].min())


def clear_object_depth(depth: NDArray[np.float32], agent: Agent, t: float, camera: Camera,
                       world_from_ego: NDArray[np.float64]) -> NDArray[np.float32]:
    """A copy of (H, W) real depth (0 = unknown) with the object's own returns set to 0 (see module doc)."""
    hull, near = box_hull_mask(agent, t, camera, world_from_ego)
    if not hull.any():
        return depth
    out = depth.copy()
    out[hull & (depth >= near - OCCLUDER_MARGIN)] = 0.0
    return out


def blank_edges(edge: NDArray[np.uint8], inserted: NDArray[np.bool_], dilate: int = 1) -> NDArray[np.uint8]:
    """(V, H, W) uint8 edges with the inserted mask (V, H, W) grown by `dilate` px set to 0 (a copy)."""
    out = edge.copy()
    kernel = np.ones((2 * dilate + 1, 2 * dilate + 1), np.uint8)
    for k in range(out.shape[0]):
        if inserted[k].any():
            grown = cv2.dilate(inserted[k].astype(np.uint8), kernel) if dilate > 0 else inserted[k]
            out[k][grown.astype(bool)] = 0
    return out
