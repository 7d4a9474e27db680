"""Export a scenario as one more scene of a nuScenes-format dataset, with its videos, guidance maps and manifest.

    result = export_nuscenes(scenario, "out/dataset", ExportSettings(size=(448, 256)))
    result = export_clip(scenario, clip, "out/dataset")          # a clip generated earlier
    staged = stage_clip(scenario, clip, "job/dataset")           # write now, merge later (batch workers)
    staged.merge_into("out/dataset")

Layout of the dataset folder (``dataroot``):
    <version>/*.json                    the 13 nuScenes tables (NuScenes(version, dataroot) loads them)
    samples/<CAM>/*.jpg                 key frames (2 Hz), sweeps/<CAM>/*.jpg the other frames (12 Hz)
    maps/<token>.png                    one map mask per scene (log)
    cornercase/<log name>/              per scene: <CAM>.mp4, panorama.mp4, guidance/, scenario.json,
                                        <name>.xosc (+ .xodr), manifest.json
    manifest.json                       the dataset: notes (num_lidar_pts ...) and the list of scenes
Everything of a scene is written into ``.staging/<id>/`` first and merged under the dataset lock
(`nuscenes_dataset.merge_scene`): a failing or cancelled export leaves the earlier scenes intact.
Labels come from a guidance renderer at the clip's size, run at the key frames only unless the
guidance maps are saved (then at every frame); JPEGs and guidance files are encoded on helper threads.

Edited real scenes (``scenario.source`` names a nuScenes scene): the clip is generated over the real
frames (`clip_source`), the rig is that log's calibration at the clip's size (so the exported
calibrated_sensor records are the log's, intrinsics scaled), the label renderer depth-tests against
the real frames' depth, and the recorded objects keep their original annotations, categories and
(with `export_clip`) instance and annotation tokens (`nuscenes_writer`, `engine.realscene.labels`).
A token the target dataset already holds (a second variant of the same scene) is replaced by a fresh
one; the scene manifest's ``source_tokens`` maps every exported token to its source token.
"""
from __future__ import annotations

import logging
import os
import shutil
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from numpy.typing import NDArray

from engine.config.models import ExportSettings as ExportSettings  # re-exported: the settings live in engine.config
from engine.export.clip_source import generate_for_scenario
from engine.export.guidance_files import camera_stack, write_guidance_frame, write_guidance_index
from engine.export.manifest import DATASET_NOTES, jsonable_dict, package_versions
from engine.export.nuscenes_dataset import EXTRA_DIR, STAGING_DIR
from engine.export.staged_scene import MERGE_ATTEMPTS as MERGE_ATTEMPTS  # re-exported: merging lives there
from engine.export.staged_scene import REKEYED_TABLES as REKEYED_TABLES
from engine.export.staged_scene import StagedScene as StagedScene
from engine.export.staged_scene import rekey_taken_tokens as rekey_taken_tokens
from engine.export.nuscenes_writer import SceneWriter
from engine.fileio import StagingDir, atomic_write_json
from engine.rig import CameraRig
from engine.scenario.model import Scenario

if TYPE_CHECKING:
    from engine.conditions import SceneInputs
    from engine.realscene.labels import RecordedLabels
    from engine.render.guidance import Background
    from engine.worldmodel.base import CancelToken
    from engine.worldmodel.events import GeneratedClip, GenerationEvent

log = logging.getLogger(__name__)

ProgressCallback = Callable[["ExportProgress"], None]


class ExportStage(StrEnum):
    """The stages an export reports progress for (the values are the strings shown to users)."""

    GENERATE = "generate"
    WRITE = "write"
    MERGE = "merge"


@dataclass(frozen=True)
class ExportProgress:
    """stage: generate | write | merge; done / total in that stage's units; message for a status line."""

    stage: ExportStage
    done: int
    total: int
    message: str = ""


@dataclass(frozen=True)
class ExportResult:
    """Where the scene went and how long each stage took (seconds)."""

    dataroot: Path
    version: str
    scene_name: str
    scene_token: str
    scene_dir: Path
    num_scenes: int
    num_frames: int
    timings: dict[str, float]

    @property
    def manifest_path(self) -> Path:
        return self.scene_dir / "manifest.json"


def _check_cancel(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.raise_if_cancelled()


def export_nuscenes(scenario: Scenario, dataroot: str | os.PathLike[str], settings: ExportSettings | None = None,
                    progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> ExportResult:
    """Generate the clip with the configured world model, then `export_clip` it."""
    settings = settings or ExportSettings()
    t0 = time.perf_counter()

    def on_event(ev: GenerationEvent) -> None:
        from engine.worldmodel.events import FrameReady

        if progress is not None and isinstance(ev, FrameReady):
            progress(ExportProgress(ExportStage.GENERATE, ev.frame + 1, ev.num_frames,
                                    f"generating frame {ev.frame + 1}/{ev.num_frames}"))

    clip, model = generate_for_scenario(scenario, settings.size, settings.frames, settings.generation, cancel, on_event)
    return export_clip(scenario, clip, dataroot, settings, progress, cancel,
                       model=model, timings={"generate": time.perf_counter() - t0})


def export_clip(scenario: Scenario, clip: GeneratedClip, dataroot: str | os.PathLike[str],
                settings: ExportSettings | None = None, progress: ProgressCallback | None = None,
                cancel: CancelToken | None = None, model: str = "",
                timings: dict[str, float] | None = None) -> ExportResult:
    """Write a generated clip (`GeneratedClip`: frames (T, V, H, W, 3) uint8) and its scenario as a new scene.

    Stages the scene under ``<dataroot>/.staging/`` (`stage_clip`) and merges it into the dataset.
    """
    settings = settings or ExportSettings()
    root = Path(dataroot)
    staging_lock = StagingDir.create(root / STAGING_DIR, "", make_dir=False)  # cleans stale ones of killed runs
    staging = staging_lock.path
    try:
        staged = stage_clip(scenario, clip, staging, settings, progress, cancel, model, timings,
                            keep_source_tokens=True)
        if progress is not None:
            progress(ExportProgress(ExportStage.MERGE, 0, 1, "adding the scene to the dataset"))
        t3 = time.perf_counter()
        merged = staged.merge_into(root)
        staged.timings["merge"] = time.perf_counter() - t3
        if progress is not None:
            progress(ExportProgress(ExportStage.MERGE, 1, 1, f"scene {merged.scene_name} added ({merged.num_scenes} in the dataset)"))
    except BaseException:  # clean up on any exit (Ctrl-C included), then re-raise
        shutil.rmtree(staging, ignore_errors=True)
        staging_lock.release()
        _remove_empty(root / STAGING_DIR)
        raise
    staging_lock.release()
    _remove_empty(root / STAGING_DIR)
    return ExportResult(root, staged.version, merged.scene_name, merged.scene_token,
                        root / EXTRA_DIR / staged.log_name, merged.num_scenes, staged.num_frames, staged.timings)


def stage_clip(scenario: Scenario, clip: GeneratedClip, staging: str | os.PathLike[str],
               settings: ExportSettings | None = None, progress: ProgressCallback | None = None,
               cancel: CancelToken | None = None, model: str = "",
               timings: dict[str, float] | None = None, keep_source_tokens: bool = False) -> StagedScene:
    """Write the clip and its labels as a one-scene dataset in the new folder `staging`.

    The labels come from the guidance renderer at the clip's size: instance masks for visibility, and
    the guidance maps that are saved next to the scene. The clip's cameras must be rig cameras in
    panorama order. An edited real scene uses its log's rig, its real frames behind the label
    renderer and its recorded labels; `keep_source_tokens` writes the source instance / annotation
    tokens as they are (merge with `StagedScene.merge_into`, which re-keys those the target holds).
    On failure the staging folder is removed.
    """
    from engine.render.guidance import GuidanceRenderer

    settings = settings or ExportSettings()
    timings = dict(timings or {})
    staging = Path(staging)
    frames = np.asarray(clip.frames)
    if frames.ndim != 5 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"clip frames must be (T, V, H, W, 3) uint8, got {frames.shape} {frames.dtype}")
    t_count, v, h, w, _ = frames.shape
    times = np.asarray(clip.times if clip.times is not None else scenario.frame_times()[:t_count], dtype=np.float64)
    if times.shape[0] != t_count:
        raise ValueError(f"clip has {t_count} frames but {times.shape[0]} frame times")
    real = _RealSource.open(scenario, (w, h), times) if scenario.source is not None else None
    rig = real.rig if real is not None else CameraRig.default((w, h))
    if tuple(clip.camera_names) != rig.names:
        rig = rig.subset(clip.camera_names)
        if tuple(clip.camera_names) != rig.names:
            raise ValueError(f"clip cameras {clip.camera_names} are not in panorama order {rig.names}")
    staging.mkdir(parents=True, exist_ok=False)
    try:
        t1 = time.perf_counter()
        writer = SceneWriter(staging, scenario, rig, times, settings.nuscenes,
                             recorded=real.labels if real is not None else None,
                             keep_source_tokens=keep_source_tokens,
                             camera_poses=(lambda i, cam: real.camera_pose(float(times[i]), cam)) if real is not None
                             else None)
        scene_dir = staging / EXTRA_DIR / writer.log_name
        guidance_dir = scene_dir / "guidance"
        own = own_silhouette_pixels(scenario, rig, times, sorted(writer.key_frames), real is not None)
        renderer = GuidanceRenderer(rig)
        io_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="guidance")
        guidance_jobs: list[Future[Path]] = []
        try:
            renderer.set_scenario(scenario)
            for i, t in enumerate(times):
                _check_cancel(cancel)
                if i in writer.key_frames or settings.guidance:  # labels need key frames only
                    if real is not None:
                        renderer.set_backgrounds(real.backgrounds(float(t), rig))
                    gf = renderer.render(float(t))
                    writer.add_frame(i, frames[i], camera_stack(gf, "instance"), gf.instance_ids,
                                     camera_stack(gf, "depth"), own.get(i) if i in writer.key_frames else None)
                else:
                    writer.add_frame(i, frames[i])
                if settings.guidance:  # compressed on a helper thread (zlib releases the GIL)
                    guidance_jobs.append(io_pool.submit(write_guidance_frame, guidance_dir, i, gf))
                if progress is not None:
                    progress(ExportProgress(ExportStage.WRITE, i + 1, t_count, f"writing frame {i + 1}/{t_count}"))
            instance_ids = renderer.instance_ids
            for job in guidance_jobs:
                job.result()
        except BaseException:  # clean up on any exit (Ctrl-C included), then re-raise
            writer.close()
            raise
        finally:
            io_pool.shutdown(wait=True, cancel_futures=True)
            renderer.release()
        writer.finish()
        if settings.guidance:
            write_guidance_index(guidance_dir, list(rig.names), list(times), instance_ids, (w, h))
        timings["write_frames"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        files = _write_extras(scenario, clip, frames, rig, scene_dir, settings)
        timings["write_extras"] = time.perf_counter() - t2
        _check_cancel(cancel)
        manifest = _scene_manifest(scenario, clip, writer, rig, times, settings, model, timings, files)
        atomic_write_json(scene_dir / "manifest.json", manifest)
    except BaseException:  # clean up on any exit (Ctrl-C included), then re-raise
        shutil.rmtree(staging, ignore_errors=True)
        raise
    entry = {"folder": f"{EXTRA_DIR}/{writer.log_name}", "manifest": f"{EXTRA_DIR}/{writer.log_name}/manifest.json",
             "scenario": scenario.name, "backend": clip.backend, "seed": int(clip.seed), "frames": t_count}
    return StagedScene(staging, settings.nuscenes.version, writer.scene_name, writer.scene_token, writer.log_name,
                       t_count, entry, timings)


def own_silhouette_pixels(scenario: Scenario, rig: CameraRig, times: NDArray[np.float64], key_frames: list[int],
                          real: bool = False) -> dict[int, dict[str, int]]:
    """{key frame index: {agent id: pixels of the agent rendered alone, over all cameras}}: each agent's own
    full silhouette, the denominator of its visibility. Recorded agents of a real scene (drawn by the
    footage, not the renderer) are left out. One renderer, one scenario per agent, instance map only."""
    from dataclasses import replace

    from engine.render.guidance import GuidanceRenderer
    from engine.rig.pose import agent_present

    out: dict[int, dict[str, int]] = {i: {} for i in key_frames}
    agents = [a for a in scenario.agents if not (real and a.locked)]
    if not agents or not key_frames:
        return out
    renderer = GuidanceRenderer(rig)
    try:
        for agent in agents:
            present = [i for i in key_frames if i < len(times) and agent_present(agent, float(times[i]))]
            if not present:
                continue
            renderer.set_scenario(replace(scenario, agents=(agent,)))
            own_id = renderer.instance_ids.get(agent.id)
            if own_id is None:
                continue
            for i in present:
                g = renderer.render(float(times[i]), {"instance"})
                out[i][agent.id] = int(sum(int((g[name].instance == own_id).sum()) for name in rig.names))
    finally:
        renderer.release()
    return out


@dataclass(frozen=True)
class _RealSource:
    """The real scene behind an edited scenario, for its export: its `SceneInputs` at the clip size
    (`engine.conditions.scene_inputs`, the same rig and backgrounds the clip was generated with), labels."""

    inputs: SceneInputs
    labels: RecordedLabels

    @property
    def rig(self) -> CameraRig:
        return self.inputs.rig

    @classmethod
    def open(cls, scenario: Scenario, size: tuple[int, int], times: NDArray[np.float64]) -> "_RealSource":
        """SceneSourceError when the source scene cannot be opened (it is never exported as synthetic)."""
        from engine.conditions import scene_inputs
        from engine.realscene.labels import recorded_labels

        return cls(scene_inputs(scenario, size), recorded_labels(scenario, times))

    def camera_pose(self, t: float, camera: str) -> tuple[int, NDArray[np.float64]] | None:
        """(capture timestamp us, world_from_ego (4, 4)) of the real image of `camera` at clip time t
        (None past the recording)."""
        from engine.sources import NuScenesScene

        scene = self.inputs.scene
        if not isinstance(scene, NuScenesScene):
            raise TypeError(f"the real scene of {self.inputs.scenario.name!r} is not a recorded nuScenes scene")
        k = int(round(t * self.inputs.scenario.fps))
        if not 0 <= k < scene.num_frames:
            return None
        f = scene.frame(k, camera)
        return int(f.timestamp_us), np.asarray(f.world_from_ego, np.float64)

    def backgrounds(self, t: float, rig: CameraRig) -> dict[str, Background] | None:
        """{camera: Background} of the real frame at clip time t for the cameras of `rig` (None past the recording)."""
        from engine.render.guidance import Background

        k = int(round(t * self.inputs.scenario.fps))
        bgs = self.inputs.backgrounds_at(k)
        if bgs is None:
            return None
        return {name: bg for name in rig.names if isinstance(bg := bgs.get(name), Background)}


def _write_extras(scenario: Scenario, clip: GeneratedClip, frames: NDArray[np.uint8], rig: CameraRig, scene_dir: Path,
                  settings: ExportSettings) -> dict[str, object]:
    """Videos, the scenario file and its OpenSCENARIO form next to the scene; returns their relative names."""
    from engine.scenario.io import save_scenario

    scene_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, object] = {}
    if settings.videos:
        from engine.video import panorama_frames, write_mp4

        for k, name in enumerate(rig.names):
            write_mp4(frames[:, k], scene_dir / f"{name}.mp4", clip.fps)
        write_mp4(panorama_frames(frames), scene_dir / "panorama.mp4", clip.fps)
        files["videos"] = {name: f"{name}.mp4" for name in rig.names}
        files["panorama"] = "panorama.mp4"
    save_scenario(scenario, scene_dir / "scenario.json")
    files["scenario"] = "scenario.json"
    if settings.guidance:
        files["guidance"] = "guidance/index.json"
    if settings.openscenario:
        from engine.export.openscenario import export_openscenario

        res = export_openscenario(scenario, scene_dir, stem="scenario")
        files["openscenario"] = res.xosc_path.name
        files["opendrive"] = res.xodr_path.name if res.xodr_path else None
        files["opendrive_note"] = res.road_note
    return files


def _scene_manifest(scenario: Scenario, clip: GeneratedClip, writer: SceneWriter, rig: CameraRig, times: NDArray[np.float64],
                    settings: ExportSettings, model: str, timings: dict[str, float],
                    files: dict[str, object]) -> dict[str, Any]:
    from engine.scenario.io import to_document

    n = len(times)
    total = sum(timings.values())
    return jsonable_dict({
        "scene_name": writer.scene_name, "scene_token": writer.scene_token, "log_name": writer.log_name,
        "version": settings.nuscenes.version,
        "scenario": to_document(scenario), "prompt": scenario.prompt, "script": scenario.script,
        "seed": int(clip.seed), "backend": clip.backend, "model": model or clip.backend,
        "generation": {k: getattr(settings.generation, k) for k in ("steps", "guidance_scale", "device")},
        "clip_metadata": dict(getattr(clip, "metadata", {}) or {}),
        "image_size": list(rig.size), "cameras": list(rig.names), "fps": float(clip.fps), "num_frames": n,
        "times": [round(float(t), 6) for t in times],
        "key_frames": sorted(writer.key_frames),
        "instances": writer.instance_agents,
        "source": None if scenario.source is None else {
            "kind": scenario.source.kind, "dataroot": scenario.source.dataroot, "version": scenario.source.version,
            "scene": scenario.source.scene, "start_s": float(scenario.source.start)},
        "source_tokens": writer.source_tokens,
        "visibility": {f"{i}:{a}": round(f, 4) for (i, a), f in sorted(writer.visibility.items())},
        "files": files, "versions": package_versions(),
        "timings_s": {k: round(v, 4) for k, v in timings.items()},
        "throughput_frames_per_s": round(n / total, 3) if total > 0 else None,
        "notes": DATASET_NOTES,
    })


def _remove_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass
