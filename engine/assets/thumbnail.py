"""Thumbnails of assets, rendered off-screen with pyrender (EGL: set PYOPENGL_PLATFORM=egl before import)."""
from __future__ import annotations

import numpy as np
import trimesh
from numpy.typing import NDArray


def render_thumbnail(mesh: trimesh.Trimesh, size: int = 128,
                     background: tuple[int, int, int] = (235, 238, 242)) -> NDArray[np.uint8]:
    """(size, size, 3) uint8 view of a canonical-frame mesh from the front-left, slightly above.

    The camera distance follows the mesh's bounding sphere, so every class fills the frame.
    """
    import pyrender

    lo, hi = mesh.bounds
    centre = (lo + hi) / 2
    radius = float(np.linalg.norm(hi - lo)) / 2
    direction = np.array([1.0, 0.75, 0.55])
    direction /= np.linalg.norm(direction)
    yfov = np.radians(35.0)
    eye = centre + direction * radius / np.sin(yfov / 2) * 1.02
    pose = _look_at(eye, centre, np.array([0.0, 0.0, 1.0]))

    scene = pyrender.Scene(bg_color=[*(c / 255 for c in background), 1.0], ambient_light=[0.45, 0.45, 0.45])
    scene.add(pyrender.Mesh.from_trimesh(mesh, smooth=False))
    scene.add(pyrender.PerspectiveCamera(yfov=yfov, aspectRatio=1.0), pose=pose)
    scene.add(pyrender.DirectionalLight(intensity=3.0), pose=_look_at(centre + [2.0, 1.0, 4.0], centre, np.array([0.0, 0.0, 1.0])))
    from engine.gl.pyrender_util import release_offscreen

    renderer = pyrender.OffscreenRenderer(size, size)
    try:
        color, _ = renderer.render(scene)
    finally:
        release_offscreen(renderer)
    return np.ascontiguousarray(color[..., :3])


def _look_at(eye: NDArray[np.float64], target: NDArray[np.float64], up: NDArray[np.float64]) -> NDArray[np.float64]:
    """(4, 4) OpenGL camera pose (looking down its -z) at `eye`, aimed at `target`."""
    back = eye - target
    back /= np.linalg.norm(back)
    right = np.cross(up, back)
    right /= np.linalg.norm(right)
    true_up = np.cross(back, right)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = right, true_up, back, eye
    return m
