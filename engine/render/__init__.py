"""Guidance-map rendering: the static scene from the road map, six cameras in one GL pass, every map.

Entry points: `GuidanceRenderer` (engine.render.guidance), `GuidanceFrame` / `CameraMaps`
(engine.render.frame), `Lighting` (engine.render.gl_tiles), `colorize` (engine.render.visualize),
`contact_sheet` (engine.render.sheet), `write_frame` (engine.render.write). Submodules are imported
lazily so that importing the package does not start OpenGL.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "GuidanceRenderer": "engine.render.guidance",
    "RenderSettings": "engine.render.guidance",
    "Background": "engine.render.guidance",
    "GuidanceFrame": "engine.render.frame",
    "CameraMaps": "engine.render.frame",
    "MAP_NAMES": "engine.render.frame",
    "Lighting": "engine.render.gl_tiles",
    "colorize": "engine.render.visualize",
    "colorize_bev": "engine.render.visualize",
    "contact_sheet": "engine.render.sheet",
    "write_frame": "engine.render.write",
    "build_scene_geometry": "engine.render.scene_geometry",
    "normals_from_depth": "engine.render.depth_normals",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:   # lazy submodule attributes (PEP 562): their types are the submodules'
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'engine.render' has no attribute {name!r}")
