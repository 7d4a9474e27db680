"""Fixtures for the rendering tests: one GL renderer per session, small synthetic scenes, a cube asset."""
from __future__ import annotations

import pytest
import trimesh



@pytest.fixture(scope="session")
def rig():
    from engine.rig import CameraRig

    return CameraRig.default((448, 256))


@pytest.fixture(scope="session")
def renderer(rig):
    """One GuidanceRenderer for the whole session (GL contexts are costly; pytest runs on one thread)."""
    from engine.render.guidance import GuidanceRenderer

    r = GuidanceRenderer(rig)
    yield r
    r.release()


@pytest.fixture(scope="session")
def cube_asset(tmp_path_factory):
    """Path of a GLB holding a plain cube: its silhouette is exactly the projected box."""
    path = tmp_path_factory.mktemp("assets") / "cube.glb"
    cube = trimesh.creation.box(extents=(1.0, 1.0, 1.0))
    cube.visual.vertex_colors = [200, 60, 60, 255]
    path.write_bytes(trimesh.exchange.gltf.export_glb(trimesh.Scene(cube)))
    return str(path)
