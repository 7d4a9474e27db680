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

Dataset layout, label conventions and the honest ``num_lidar_pts = 0`` of generated and inserted
boxes (recorded boxes of a real source scene keep their counts) are described in
`pipeline`, `nuscenes_writer` and `manifest.DATASET_NOTES`.
"""
import importlib
from typing import Any

# Lazy: importing a submodule (e.g. nuscenes_schema for the CLI's --help) must not pull in
# nuscenes-devkit, torch and the renderer. Names resolve on first use (PEP 562).
_HOME = {
    "GenerationOptions": "clip_source",
    "check_tables": "nuscenes_dataset", "load_tables": "nuscenes_dataset", "merge_scene": "nuscenes_dataset",
    "recover": "nuscenes_dataset",
    "NuScenesOptions": "nuscenes_writer", "SceneWriter": "nuscenes_writer",
    "OpenScenarioResult": "openscenario", "export_openscenario": "openscenario",
    "OscDocument": "openscenario_reader", "read_openscenario": "openscenario_reader",
    "scenario_from_openscenario": "openscenario_reader",
    "ExportProgress": "pipeline", "ExportResult": "pipeline", "ExportStage": "pipeline", "ExportSettings": "pipeline", "StagedScene": "staged_scene",
    "export_clip": "pipeline", "export_nuscenes": "pipeline", "stage_clip": "pipeline",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ExportProgress", "ExportResult", "ExportSettings", "ExportStage", "GenerationOptions", "NuScenesOptions", "OpenScenarioResult",
    "OscDocument", "SceneWriter", "StagedScene", "check_tables", "export_clip", "export_nuscenes",
    "export_openscenario", "load_tables", "merge_scene", "read_openscenario", "recover",
    "scenario_from_openscenario", "stage_clip",
]
