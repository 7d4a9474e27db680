"""One variant's work, run in a worker process (local pool or Ray task): build, filter, export into a job folder.

The job folder holds everything the variant produces and nothing else:
    <job>/dataset/        a one-scene nuScenes staging dataset (format nuscenes)
    <job>/openscenario/   <variant id>.xosc and .xodr (format openscenario)
The driver then merges the scene into the batch's shared dataset and moves the rest into place
(`runner.collect`), so workers never write to shared files. Every exception is caught and returned
as a failed result with its traceback: one failing variant never stops the others.
"""
from __future__ import annotations

import io
import os
import shutil
import socket
import tarfile
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.batch.records import VariantStatus
from engine.batch.spec import BatchSpec, ExportFormat
from engine.batch.variants import Variant

if TYPE_CHECKING:
    from engine.export.pipeline import ExportSettings


@dataclass
class JobResult:
    """status: done | filtered | failed. `staged` describes the staged scene (entry for the dataset manifest)."""

    variant_id: str
    key: str
    status: VariantStatus
    job_dir: str | None = None
    staged: dict[str, Any] | None = None
    files: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    traceback: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    worker: str = ""
    archive: bytes | None = None   # the job folder as a tar, when it travels back from a remote worker


def export_settings(spec: BatchSpec, variant: Variant) -> ExportSettings:
    """The pipeline's ExportSettings for a variant."""
    from engine.export.clip_source import GenerationOptions
    from engine.export.nuscenes_writer import NuScenesOptions
    from engine.export.pipeline import ExportSettings

    e = spec.export
    return ExportSettings(
        size=e.size, frames=e.frames,
        generation=GenerationOptions(e.backend, e.model_dir, e.steps, e.guidance_scale, variant.seed, e.device),
        nuscenes=NuScenesOptions(version=e.version, jpeg_quality=e.jpeg_quality, scene_name=f"{spec.name}_{variant.id}",
                                 lidar_stub=e.lidar_stub),
        videos=e.videos, guidance=e.guidance, openscenario=ExportFormat.OPENSCENARIO in e.formats)


def run_job(spec: BatchSpec, variant: Variant, job_dir: str | os.PathLike[str]) -> JobResult:
    """Run one variant into `job_dir` (created; must not exist). Never raises for the variant's own errors."""
    job = Path(job_dir)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    try:
        from engine.batch.materialize import build_variant_scenario

        job.mkdir(parents=True, exist_ok=False)
        scenario = build_variant_scenario(spec, variant)
        timings["build"] = time.perf_counter() - t0
        if spec.filter:
            from engine.checks import check_scenario, report_matches

            t = time.perf_counter()
            report = check_scenario(scenario)
            timings["checks"] = time.perf_counter() - t
            if not report_matches(report, spec.filter):
                return JobResult(variant.id, variant.key, VariantStatus.FILTERED, str(job), timings=timings, worker=worker,
                                 files={"checks": report.to_dict().get("summary", {})})
        files: dict[str, Any] = {}
        if ExportFormat.OPENSCENARIO in spec.export.formats:
            from engine.export.openscenario import export_openscenario

            t = time.perf_counter()
            res = export_openscenario(scenario, job / "openscenario", stem=variant.id,
                                      minor_version=spec.export.osc_version)
            files["openscenario"] = f"openscenario/{res.xosc_path.name}"
            if res.xodr_path is not None:
                files["opendrive"] = f"openscenario/{res.xodr_path.name}"
            files["opendrive_note"] = res.road_note
            timings["openscenario"] = time.perf_counter() - t
        staged = None
        if ExportFormat.NUSCENES in spec.export.formats:
            from engine.export.clip_source import generate_for_scenario
            from engine.export.pipeline import stage_clip

            settings = export_settings(spec, variant)
            t = time.perf_counter()
            clip, model = generate_for_scenario(scenario, settings.size, settings.frames, settings.generation)
            timings["generate"] = time.perf_counter() - t
            # a real scene keeps its recorded instance / annotation tokens (fresh ones only where taken)
            st = stage_clip(scenario, clip, job / "dataset", settings, model=model,
                            keep_source_tokens=scenario.source is not None)
            timings.update(st.timings)
            staged = {"entry": st.entry, "scene_name": st.scene_name, "scene_token": st.scene_token,
                      "log_name": st.log_name, "version": st.version}
        timings["total"] = time.perf_counter() - t0
        return JobResult(variant.id, variant.key, VariantStatus.DONE, str(job), staged, files, timings=timings, worker=worker)
    except BaseException as e:  # noqa: BLE001 - a variant's failure is data, not a crash of the batch
        if isinstance(e, KeyboardInterrupt):
            raise
        timings["total"] = time.perf_counter() - t0
        return JobResult(variant.id, variant.key, VariantStatus.FAILED, str(job), error=f"{type(e).__name__}: {e}",
                         traceback=traceback.format_exc(), timings=timings, worker=worker)


def run_job_packed(spec: BatchSpec, variant: Variant) -> JobResult:
    """`run_job` in a temporary folder whose content comes back as a tar archive (for remote workers)."""
    tmp = Path(tempfile.mkdtemp(prefix=f"cornercase-{variant.id}-"))
    try:
        result = run_job(spec, variant, tmp / "job")
        if (tmp / "job").is_dir() and result.status == VariantStatus.DONE:
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w") as tar:
                tar.add(tmp / "job", arcname=".")
            result.archive = buf.getvalue()
        result.job_dir = None
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def unpack(archive: bytes, job_dir: str | os.PathLike[str]) -> Path:
    """Extract a job archive into `job_dir` (refusing members that would land outside it)."""
    job = Path(job_dir)
    job.mkdir(parents=True, exist_ok=False)
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r") as tar:
        tar.extractall(job, filter="data")
    return job
