"""Exporters: nuScenes-format datasets that nuscenes-devkit loads, and OpenSCENARIO / OpenDRIVE files.

Public API
----------
``export_nuscenes(scenario, dataroot, ExportSettings(...), progress=None, cancel=None) -> ExportResult``
    Generate the clip with a world model and add it as one more scene to the dataset at `dataroot`
    (`pipeline`). ``export_clip(scenario, clip, dataroot, ...)`` does the same for a clip generated
    earlier (`GeneratedClip`); ``stage_clip`` writes a one-scene staging dataset that
    ``nuscenes_dataset.merge_scene`` appends later (the batch runner's path).
``export_openscenario(scenario, out_dir, minor_version=2) -> OpenScenarioResult``
    ``<stem>.xosc`` (OpenSCENARIO 1.0-1.3) and ``<stem>.xodr`` (OpenDRIVE 1.7, when the map is a
    straight road or a junction of two), both validated against the ASAM schemas before writing.
``read_openscenario(path) -> OscDocument``, ``scenario_from_openscenario(path) -> Scenario``
    Read a written file back (entities, boxes, trajectories, environment).
``load_tables(root, version)``, ``check_tables(tables, root)``, ``merge_scene``, ``recover``
    The dataset folder: tables, consistency, appending scenes safely (`nuscenes_dataset`).

Dataset layout, label conventions and the honest ``num_lidar_pts = 0`` are described in
`pipeline`, `nuscenes_scene` and `manifest.DATASET_NOTES`.
"""
from engine.export.clip_source import GenerationOptions
from engine.export.nuscenes_dataset import check_tables, load_tables, merge_scene, recover
from engine.export.nuscenes_scene import NuScenesOptions, SceneWriter
from engine.export.openscenario import OpenScenarioResult, export_openscenario
from engine.export.openscenario_reader import OscDocument, read_openscenario, scenario_from_openscenario
from engine.export.pipeline import (
    ExportProgress, ExportResult, ExportSettings, StagedScene, export_clip, export_nuscenes, stage_clip,
)

__all__ = [
    "ExportProgress", "ExportResult", "ExportSettings", "GenerationOptions", "NuScenesOptions", "OpenScenarioResult",
    "OscDocument", "SceneWriter", "StagedScene", "check_tables", "export_clip", "export_nuscenes",
    "export_openscenario", "load_tables", "merge_scene", "read_openscenario", "recover",
    "scenario_from_openscenario", "stage_clip",
]
