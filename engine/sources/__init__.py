"""Scene sources: real driving scenes opened for editing (nuScenes through nuscenes-devkit).

    from engine.sources import list_scenes, open_nuscenes_scene, scene_for_scenario
    scenes = list_scenes(dataroot, "v1.0-mini")          # quick: names, descriptions, lengths
    scene = open_nuscenes_scene(dataroot, "v1.0-mini", "scene-0061")
    scene.scenario   # ego + locked annotated agents + map; scenario.source names the scene
    scene.rig        # that log's CameraRig; scene.frame(k, "CAM_FRONT").path -> the real image

Every failure is a `SceneSourceError` naming the dataset, table, scene or file concerned.
"""
from engine.sources.errors import SceneSourceError
from engine.sources.nuscenes_db import SceneInfo, available_versions, list_scenes, load_nuscenes
from engine.sources.nuscenes_reader import (
    NuScenesScene, open_nuscenes_scene, open_scene_source, read_image, scene_for_scenario,
)
from engine.sources.streams import CameraFrame, LidarSweep

__all__ = [
    "SceneSourceError", "SceneInfo", "available_versions", "list_scenes", "load_nuscenes",
    "NuScenesScene", "open_nuscenes_scene", "open_scene_source", "read_image", "scene_for_scenario",
    "CameraFrame", "LidarSweep",
]
