"""From `FrameConditions` (numpy, per camera) to the pipeline's stitched control tensors (torch, panorama)."""
from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
import torch
from numpy.typing import NDArray

from engine.rig import CameraRig
from engine.scenario.model import TIMES_OF_DAY, WEATHERS, Environment
from engine.worldmodel.conditions import FrameConditions
from engine.worldmodel.diffusion.pipeline import ENV_DIM, FrameControl

ScalarT = TypeVar("ScalarT", bound=np.generic)


def stitch_views(views: NDArray[np.floating[Any]] | NDArray[np.uint8]) -> torch.Tensor:
    """(V, H, W, C) per-camera maps -> (1, C, H, V*W) float32 panorama, views side by side in camera order."""
    v, h, w, c = views.shape
    t = torch.from_numpy(np.ascontiguousarray(views, dtype=np.float32))
    return t.permute(3, 1, 0, 2).reshape(1, c, h, v * w)


def unstitch_panorama(pano: NDArray[ScalarT], num_views: int) -> NDArray[ScalarT]:
    """(H, V*W, C) panorama -> (V, H, W, C) views (the inverse of `stitch_views`, numpy, any dtype)."""
    h, vw, c = pano.shape
    if vw % num_views:
        raise ValueError(f"panorama width {vw} is not a multiple of {num_views} views")
    return np.ascontiguousarray(pano.reshape(h, num_views, vw // num_views, c).transpose(1, 0, 2, 3))


def camera_ray_map(rig: CameraRig) -> NDArray[np.float32]:
    """(V, H, W, 3) float32 in [0, 1]: each pixel's viewing direction in the ego frame, (d + 1) / 2.

    This carries the camera parameters (intrinsics and mounting rotation) densely, per pixel.
    """
    w, h = rig.size
    u, v = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
    pix = np.stack([u, v, np.ones_like(u)], axis=-1)  # (H, W, 3)
    out = np.empty((len(rig), h, w, 3), dtype=np.float32)
    for i, cam in enumerate(rig):
        rays_cam = pix @ np.linalg.inv(cam.K).T
        rays_ego = rays_cam @ cam.ego_from_camera[:3, :3].T
        rays_ego /= np.linalg.norm(rays_ego, axis=-1, keepdims=True)
        out[i] = (rays_ego + 1.0) * 0.5
    return out


def environment_vector(env: Environment) -> torch.Tensor:
    """(1, 7) float32 one-hot: time of day (day, dusk, night), then weather (clear, rain, fog, snow)."""
    vec = torch.zeros(1, ENV_DIM)
    vec[0, TIMES_OF_DAY.index(env.time_of_day)] = 1.0
    vec[0, len(TIMES_OF_DAY) + WEATHERS.index(env.weather)] = 1.0
    return vec


def prompt_text(text: str, env: Environment) -> str:
    """The text prompt: the scenario's words plus the environment, e.g. 'a truck cuts in. night, rain'."""
    words = " ".join(text.split())
    tail = f"{env.time_of_day}, {env.weather}"
    return f"{words}. {tail}" if words else tail


def frame_control(frame: FrameConditions, rays: NDArray[np.float32], env: torch.Tensor,
                  objects_in_controls: bool = False) -> FrameControl:
    """Stitched control tensors of one frame: guidance (1, 9, H, V*W); layout + rays (1, 16, H, V*W).

    objects_in_controls: feed `frame.guidance_with_objects` (inserted objects kept in D, N, E), for
    ControlNets that never learnt O/M (converted public checkpoints); else Dream4Drive's blanked stack.
    """
    layout = np.concatenate([frame.layout, rays], axis=-1)
    dense = frame.guidance_with_objects if objects_in_controls else frame.guidance
    return FrameControl(stitch_views(dense), stitch_views(layout), env)
