"""Synthetic conditions without the renderer: a flat ground under an empty sky, exact depth per pixel.

For benchmarks on machines without OpenGL (a GPU box) and for tests. Each camera's shaded pass is
grey ground / blue sky with the red channel = 30 * k + 20 for camera k, so views can be told apart.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from engine.rig import CameraRig
from engine.scenario.model import Environment
from engine.conditions.clip import AgentState, ClipConditions, FrameConditions


def plane_frames(rig: CameraRig, num_frames: int, agents: tuple[AgentState, ...] = (),
                 fps: float = 12.0) -> list[FrameConditions]:
    """`num_frames` FrameConditions of the flat scene seen by `rig` (all guidance maps filled in)."""
    v = len(rig)
    w, h = rig.size
    depth = np.empty((v, h, w), np.float32)
    u, vv = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
    pix = np.stack([u, vv, np.ones_like(u)]).reshape(3, -1)            # (3, H*W) pixel centres' coordinates
    for k, cam in enumerate(rig):
        m = cam.ego_from_camera
        rz = (m[2, :3] @ np.linalg.inv(cam.K) @ pix).reshape(h, w)       # ego z per unit camera depth
        with np.errstate(divide="ignore"):
            depth[k] = np.where(rz < -1e-6, -m[2, 3] / rz, np.inf)      # hits the ground z = 0
    ground = np.isfinite(depth)
    shaded = np.empty((v, h, w, 3), np.uint8)
    shaded[...] = np.where(ground[..., None], np.array([110, 110, 112], np.uint8), np.array([120, 160, 220], np.uint8))
    for k in range(v):
        shaded[k, ..., 0] = 30 * k + 20
    # the ground faces up, roughly camera-frame -y: encoded (128, 0, 128); no surface (sky) encodes as 0
    normal = np.zeros((v, h, w, 3), np.uint8)
    normal[ground] = (128, 0, 128)
    hdmap = np.zeros((v, h, w, 3), np.uint8)
    frames = []
    for i in range(num_frames):
        frames.append(FrameConditions(
            index=i, time=i / fps, depth=depth.copy(), normal=normal.copy(), edge=np.zeros((v, h, w), np.uint8),
            object=np.zeros((v, h, w, 3), np.uint8), inserted=np.zeros((v, h, w), bool),
            boxes=np.zeros((v, h, w, 10), np.uint8), hdmap=hdmap.copy(), agents=agents, shaded=shaded.copy()))
    return frames


def plane_conditions(size: tuple[int, int] = (448, 256), num_frames: int = 33, environment: Environment | None = None,
                     agents: tuple[AgentState, ...] = (), rig: CameraRig | None = None, fps: float = 12.0,
                     **kw: Any) -> ClipConditions:
    """ClipConditions of the flat scene for the default six-camera rig at `size` (width, height)."""
    rig = rig or CameraRig.default(size)
    return ClipConditions.from_frames(rig, plane_frames(rig, num_frames, agents, fps), fps,
                                      environment or Environment(), text="a straight road", **kw)
