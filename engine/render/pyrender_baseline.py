"""The straightforward reference renderer: separate pyrender passes per camera.

Per camera: a shaded colour + depth pass, a segmentation pass, normals from depth in numpy and Canny
on the colour image. Same meshes (trimesh) and poses as `GuidanceRenderer`. It serves as the speed
baseline of benchmarks/bench_guidance.py and as an independent cross-check of the fast renderer's
projection and depth (tests). Headless: set PYOPENGL_PLATFORM=egl before importing pyrender.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.assets.library import AssetLibrary
from engine.render.depth_normals import normals_from_depth
from engine.render.gl_tiles import FAR_PLANE, NEAR_PLANE
from engine.gl.pyrender_util import release_offscreen
from engine.render.scene_geometry import build_scene_geometry
from engine.rig.pose import agent_model_matrix, agent_present, ego_pose
from engine.rig.rig import CameraRig
from engine.scenario.model import Scenario

if TYPE_CHECKING:   # imported lazily at run time (PYOPENGL_PLATFORM must be set first); untyped library
    import pyrender

MeshKey = tuple[str, str | None]   # (asset ref, asset class)

GL_FROM_CV = np.diag([1.0, -1.0, -1.0, 1.0])  # OpenCV camera axes -> OpenGL camera axes


@dataclass
class BaselineMaps:
    """One camera: color (H, W, 3) uint8, depth (H, W) float32 (0 = none), segmentation (H, W) int32
    instance ids, normal (H, W, 3) float32 from depth, edge (H, W) uint8."""

    color: NDArray[np.uint8]
    depth: NDArray[np.float32]
    segmentation: NDArray[np.int32]
    normal: NDArray[np.float32]
    edge: NDArray[np.uint8]


class PyrenderBaseline:
    """Separate pyrender passes per camera (the way one would write it first)."""

    def __init__(self, rig: CameraRig, library: AssetLibrary | None = None) -> None:
        import pyrender

        self.pyrender = pyrender
        self.rig = rig
        self.library = library or AssetLibrary()
        w, h = rig.size
        self.renderer = pyrender.OffscreenRenderer(w, h)
        self.scene: pyrender.Scene | None = None
        self.nodes: dict[str, pyrender.Node] = {}
        self.ids: dict[str, int] = {}
        self._mesh_cache: dict[MeshKey, pyrender.Mesh] = {}

    def set_scenario(self, scenario: Scenario) -> None:
        """Build the pyrender scene: static geometry, one node per agent, a sun, one camera node."""
        pr = self.pyrender
        self.scenario = scenario
        scene = pr.Scene(bg_color=[0.7, 0.8, 0.9, 1.0], ambient_light=[0.4, 0.4, 0.4])
        static = build_scene_geometry(scenario.map).combined()
        scene.add(pr.Mesh.from_trimesh(static, smooth=False))
        self.nodes, self.ids = {}, {}
        for i, a in enumerate(scenario.agents, start=1):
            asset, _ = self.library.for_agent(a.asset, a.cls)
            key = (asset.ref, asset.cls)
            if key not in self._mesh_cache:
                self._mesh_cache[key] = pr.Mesh.from_trimesh(asset.mesh, smooth=False)
            self.nodes[a.id] = scene.add(self._mesh_cache[key], pose=np.eye(4))
            self.ids[a.id] = i
        sun = np.eye(4)
        sun[:3, :3] = _look_rotation(np.array([-0.35, -0.45, -0.82]))
        scene.add(pr.DirectionalLight(intensity=2.5), pose=sun)
        cam = self.rig.cameras[0]
        K = cam.K
        self.camera = pr.IntrinsicsCamera(K[0, 0], K[1, 1], K[0, 2], K[1, 2], znear=NEAR_PLANE, zfar=FAR_PLANE)
        self.camera_node = scene.add(self.camera, pose=np.eye(4))
        self.scene = scene

    def render(self, t: float) -> dict[str, BaselineMaps]:
        """Every camera's maps at time t, by camera name."""
        pr = self.pyrender
        s = self.scenario
        scene = self.scene
        if scene is None:
            raise RuntimeError("set_scenario() first")
        for a in s.agents:
            node = self.nodes[a.id]
            if agent_present(a, t):
                scene.set_pose(node, agent_model_matrix(a, t))
            else:  # absent agents wait far below the ground, out of every view
                away = np.eye(4)
                away[2, 3] = -1e4
                scene.set_pose(node, away)
        seg_map = {self.nodes[a.id]: (self.ids[a.id], 0, 0) for a in s.agents}
        world_from_ego = ego_pose(s, t)
        out = {}
        for cam in self.rig:
            K = cam.K
            self.camera.fx, self.camera.fy, self.camera.cx, self.camera.cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
            scene.set_pose(self.camera_node, cam.world_from_camera(world_from_ego) @ GL_FROM_CV)
            color, depth = self.renderer.render(scene)
            seg, _ = self.renderer.render(scene, flags=pr.RenderFlags.SEG, seg_node_map=seg_map)
            depth = depth.astype(np.float32)
            normal = normals_from_depth(depth, K)
            edge = cv2.Canny(cv2.cvtColor(color, cv2.COLOR_RGB2GRAY), 50, 140)
            out[cam.name] = BaselineMaps(color, depth, seg[..., 0].astype(np.int32), normal, edge)
        return out

    def release(self) -> None:
        """Free pyrender's context (without terminating the EGL display other renderers share)."""
        release_offscreen(self.renderer)


def _look_rotation(direction: NDArray[np.float64]) -> NDArray[np.float64]:
    """(3, 3) rotation whose -z axis points along `direction` (pyrender lights shine down their -z)."""
    d = direction / np.linalg.norm(direction)
    z = -d
    x = np.cross([0.0, 0.0, 1.0], z)
    if np.linalg.norm(x) < 1e-6:
        x = np.array([1.0, 0.0, 0.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=1)
