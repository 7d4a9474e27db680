"""Scene sources: real driving scenes opened for editing (nuScenes through nuscenes-devkit).

    from engine.sources import list_scenes, open_nuscenes_scene, scene_for_scenario
    scenes = list_scenes(dataroot, "v1.0-mini")          # quick: names, descriptions, lengths
    scene = open_nuscenes_scene(dataroot, "v1.0-mini", "scene-0061")
    scene.scenario   # ego + locked annotated agents + map; scenario.source names the scene
    scene.rig        # that log's CameraRig; scene.frame(k, "CAM_FRONT").path -> the real image

Every failure is a `SceneSourceError` naming the dataset, table, scene or file concerned.
"""
import importlib
from typing import TYPE_CHECKING, Any

from engine.sources.errors import SceneSourceError

# Lazy (PEP 562): `from engine.sources.errors import SceneSourceError`, which every command that may
# open a real scene does, must not import nuscenes-devkit's package (about 1 s) before it is needed.
_HOME = {
    "SceneInfo": "nuscenes_db", "available_versions": "nuscenes_db", "list_scenes": "nuscenes_db",
    "load_nuscenes": "nuscenes_db",
    "NuScenesScene": "nuscenes_reader", "open_nuscenes_scene": "nuscenes_reader",
    "open_scene_source": "nuscenes_reader", "read_image": "nuscenes_reader", "scene_for_scenario": "nuscenes_reader",
    "CameraFrame": "streams", "LidarSweep": "streams",
}

if TYPE_CHECKING:
    from engine.sources.nuscenes_db import SceneInfo, available_versions, list_scenes, load_nuscenes
    from engine.sources.nuscenes_reader import (
        NuScenesScene, open_nuscenes_scene, open_scene_source, read_image, scene_for_scenario,
    )
    from engine.sources.streams import CameraFrame, LidarSweep


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "SceneSourceError", "SceneInfo", "available_versions", "list_scenes", "load_nuscenes",
    "NuScenesScene", "open_nuscenes_scene", "open_scene_source", "read_image", "scene_for_scenario",
    "CameraFrame", "LidarSweep",
]
