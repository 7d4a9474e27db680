"""A scene staged as a one-scene dataset, and its merge into a shared dataset (light: no rendering imports).

    staged = stage_clip(scenario, clip, "job/dataset")     # engine.export.pipeline (a worker)
    staged.merge_into("out/dataset")                        # here (the batch driver, an export)

Kept apart from `engine.export.pipeline` so that a batch driver, which only merges the scenes its
workers staged, does not import the renderer, the world models and their libraries.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from engine.export.manifest import DATASET_NOTES
from engine.export.nuscenes_dataset import EXTRA_DIR, MergeResult, NuScenesDatasetError, merge_scene
from engine.export.nuscenes_schema import Record, new_token
from engine.fileio import atomic_write_json

log = logging.getLogger(__name__)

MERGE_ATTEMPTS = 3
REKEYED_TABLES = ("instance", "sample_annotation")


@dataclass(frozen=True)
class StagedScene:
    """A scene written into a one-scene staging dataset, ready for `nuscenes_dataset.merge_scene`."""

    staging: Path
    version: str
    scene_name: str
    scene_token: str
    log_name: str
    num_frames: int
    entry: dict[str, Any]
    timings: dict[str, float]

    def merge_into(self, dataroot: str | os.PathLike[str], extra_entry: dict[str, Any] | None = None) -> MergeResult:
        """Append this scene to the dataset at `dataroot` (removes the staging folder); returns MergeResult.

        Instance / annotation tokens kept from a source scene that the dataset already holds are
        replaced by fresh ones first (and again if another export took them meanwhile).
        """
        entry = {**self.entry, **(extra_entry or {})}
        for attempt in range(MERGE_ATTEMPTS):
            rekey_taken_tokens(self.staging, self.version, self.log_name, dataroot)
            try:
                return merge_scene(self.staging, dataroot, self.version, entry, DATASET_NOTES)
            except NuScenesDatasetError as e:
                if attempt + 1 == MERGE_ATTEMPTS or not any(f"table {t} " in str(e) for t in REKEYED_TABLES):
                    raise
                log.debug("merging %s: %s; re-keying and trying again", self.scene_name, e)
        raise AssertionError("unreachable: the last attempt returns or raises")


def rekey_taken_tokens(staging: str | os.PathLike[str], version: str, log_name: str, dataroot: str | os.PathLike[str]) -> int:
    """Give fresh tokens to the staged scene's instances and annotations whose tokens the dataset at
    `dataroot` already holds (kept source tokens of a scene exported before); returns how many.

    Rewrites the staged instance and sample_annotation tables (references included) and the scene
    manifest's ``instances`` and ``source_tokens`` (which keep pointing at the source tokens).
    """
    staging, root = Path(staging), Path(dataroot)
    staged: dict[str, list[Record]] = {}
    taken: dict[str, set[str]] = {}
    for table in REKEYED_TABLES:
        staged[table] = json.loads((staging / version / f"{table}.json").read_text())
        path = root / version / f"{table}.json"
        try:
            taken[table] = {r["token"] for r in json.loads(path.read_text())} if path.is_file() else set()
        except (OSError, json.JSONDecodeError, TypeError, KeyError) as e:
            raise NuScenesDatasetError(f"{path}: cannot read table: {e}") from None
    remap = {r["token"]: new_token() for table in REKEYED_TABLES for r in staged[table] if r["token"] in taken[table]}
    if not remap:
        return 0
    fix: Callable[[str], str] = lambda tok: remap.get(tok, tok)  # noqa: E731
    for r in staged["instance"]:
        for key in ("token", "first_annotation_token", "last_annotation_token"):
            r[key] = fix(r[key])
    for r in staged["sample_annotation"]:
        for key in ("token", "prev", "next", "instance_token"):
            r[key] = fix(r[key])
    for table in REKEYED_TABLES:
        atomic_write_json(staging / version / f"{table}.json", staged[table], indent=None)
    manifest_path = staging / EXTRA_DIR / log_name / "manifest.json"
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        manifest["instances"] = {fix(k): v for k, v in manifest.get("instances", {}).items()}
        manifest["source_tokens"] = {t: {fix(k): v for k, v in m.items()}
                                     for t, m in manifest.get("source_tokens", {}).items()}
        atomic_write_json(manifest_path, manifest)
    return len(remap)
