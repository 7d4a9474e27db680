"""`train prepare`: a nuScenes-format dataset -> a sharded, resumable training cache (`engine.training.cache`).

    report = prepare_cache("/data/nuscenes", "v1.0-mini", "cache/", PrepareSettings(size=(448, 256)),
                           workers=8)                      # or ray_address="auto"

Parallel over scenes: one scene per task, in a local process pool (spawn: each worker owns its own
OpenGL context and dataset) or as Ray tasks. Each scene writes its shards atomically and then a
`<scene>.done.json` marker; a rerun skips finished scenes and finished shards, so a killed run resumes
where it stopped. The index is written last. A broken dataset (missing tables, unknown scenes, unreadable
images or LiDAR) raises PrepareError naming it, before any sample is written where it can be told early.
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

from engine.training.cache import (
    INDEX_FILE, SETTINGS_FILE, SHARD_DIR, CacheIndex, SampleArrays, ShardInfo, atomic_write_json, shard_name,
    write_shard,
)
from engine.training.samples import PrepareSettings, Timings
from engine.worldmodel.errors import MissingExtraError
from engine.worldmodel.extras import require_packages

if TYPE_CHECKING:
    from engine.sources import SceneInfo

DONE_SUFFIX = ".done.json"


class ShardRecord(TypedDict):
    """One written shard as a scene job reports it (and its `.done.json` marker stores it)."""

    file: str
    scene: str
    split: str
    num_samples: int
    frames: list[int]


class SceneResult(TypedDict, total=False):
    """A scene job's outcome: shards, samples written / skipped, stage seconds; or only `error`."""

    shards: list[ShardRecord]
    written: int
    skipped: int
    timings: dict[str, float]
    error: str


class TickQueue(Protocol):
    """Where a worker reports finished samples (a multiprocessing manager's queue)."""

    def put(self, item: int) -> None: ...


class Progress(Protocol):
    """The progress bar's `update` (engine.training.progress)."""

    def update(self, n: int = 1) -> Any: ...


class PrepareError(RuntimeError):
    """The dataset or the cache folder cannot be used; the message names the problem and where."""


@dataclass
class PrepareReport:
    """What a `prepare_cache` run did: index, samples written now, skipped (done before), seconds, timings."""

    index: CacheIndex
    written: int
    skipped: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SceneJob:
    dataroot: str
    version: str
    scene: str
    split: str
    out: str
    settings: PrepareSettings


def _scene_job(job: SceneJob, ticks: TickQueue | None = None) -> SceneResult:
    """Prepare one scene (in a worker); returns {'shards': [...], 'written', 'skipped', 'timings'} or {'error'}."""
    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    os.environ.setdefault("MPLBACKEND", "Agg")
    from engine.sources import SceneSourceError
    from engine.training.samples import ScenePreparer

    out = Path(job.out)
    marker = out / SHARD_DIR / (shard_name(job.scene, 0)[:-9] + DONE_SUFFIX)
    if marker.is_file():
        doc: dict[str, list[ShardRecord]] = json.loads(marker.read_text())
        if ticks is not None:
            ticks.put(sum(s["num_samples"] for s in doc["shards"]))
        return {"shards": doc["shards"], "written": 0, "skipped": sum(s["num_samples"] for s in doc["shards"]),
                "timings": {}}
    encoder = None
    try:
        if job.settings.model:
            from engine.training.latents import LatentEncoder

            encoder = LatentEncoder.from_model(job.settings.model, job.settings.device)
        with ScenePreparer(job.dataroot, job.version, job.scene, job.settings, encoder) as sp:
            targets = sp.targets()
            n = job.settings.shard_size
            shards: list[ShardRecord] = []
            written, skipped = 0, 0
            for c in range(math.ceil(len(targets) / n)):
                frames = targets[c * n:(c + 1) * n]
                rel = f"{SHARD_DIR}/{shard_name(job.scene, c)}"
                if not (out / rel).is_file():
                    samples: list[SampleArrays] = []
                    for k in frames:
                        samples.append(sp.sample(k))
                        if ticks is not None:
                            ticks.put(1)
                    write_shard(out / rel, samples)
                    written += len(frames)
                else:
                    skipped += len(frames)
                    if ticks is not None:
                        ticks.put(len(frames))
                shards.append({"file": rel, "scene": job.scene, "split": job.split, "num_samples": len(frames),
                               "frames": frames})
            atomic_write_json(marker, {"shards": shards})
            return {"shards": shards, "written": written, "skipped": skipped, "timings": dict(sp.timings.seconds)}
    except (SceneSourceError, OSError, ValueError) as e:
        return {"error": f"{job.scene}: {e}"}


def _split_scenes(names: list[str], val_share: float) -> dict[str, str]:
    """'val' for the last ceil(val_share * n) scenes in name order (none when n == 1), 'train' for the rest."""
    names = sorted(names)
    n_val = 0 if len(names) < 2 or val_share <= 0 else min(len(names) - 1, math.ceil(val_share * len(names)))
    return {n: ("val" if i >= len(names) - n_val else "train") for i, n in enumerate(names)}


def check_dataset(dataroot: str, version: str, scenes: list[str] | None) -> list[SceneInfo]:
    """The SceneInfos to prepare; PrepareError for a broken dataset or unknown scene names."""
    from engine.sources import SceneSourceError, list_scenes, load_nuscenes

    try:
        infos = list_scenes(dataroot, version)
        load_nuscenes(dataroot, version)     # nuscenes-devkit checks every table and reference
    except SceneSourceError as e:
        raise PrepareError(f"broken dataset: {e}") from None
    except (AssertionError, KeyError, IndexError, TypeError, ValueError, OSError) as e:
        # what nuscenes-devkit raises for broken tables where engine.sources has no SceneSourceError for it
        raise PrepareError(f"broken dataset {dataroot} ({version}): {type(e).__name__}: {e}") from None
    if not infos:
        raise PrepareError(f"{dataroot} ({version}) has no scenes")
    if scenes:
        known = {i.name: i for i in infos}
        unknown = [s for s in scenes if s not in known]
        if unknown:
            raise PrepareError(f"{dataroot} ({version}): no scene(s) {', '.join(unknown)}; "
                               f"scenes: {', '.join(sorted(known)[:10])}{' ...' if len(known) > 10 else ''}")
        infos = [known[s] for s in scenes]
    return infos


def _check_settings(out: Path, doc: dict[str, Any]) -> None:
    path = out / SETTINGS_FILE
    if path.is_file():
        old = json.loads(path.read_text())
        if old != doc:
            diff = sorted(k for k in set(old) | set(doc) if old.get(k) != doc.get(k))
            raise PrepareError(f"{out} was prepared with other settings ({', '.join(diff)} differ); "
                               "use the same arguments to resume, or another output folder")
    else:
        atomic_write_json(path, doc)


def prepare_cache(dataroot: str, version: str, out: str | os.PathLike[str], settings: PrepareSettings,
                  scenes: list[str] | None = None, workers: int = 1, ray_address: str | None = None,
                  progress: bool = True) -> PrepareReport:
    """Prepare (or resume) the cache in `out`; see the module docstring. Raises PrepareError (also when the
    `[ray]` extra is missing for `ray_address`, or the `[diffusion]` extra for latents with `settings.model`)."""
    from engine.training.progress import progress_bar

    try:
        if ray_address:
            require_packages(("ray",), "train prepare --ray", "ray")
        if settings.model:
            require_packages(("diffusers",), "train prepare --model (VAE latents)", "diffusion")
    except MissingExtraError as e:
        raise PrepareError(str(e)) from None
    t_start = time.perf_counter()
    dataroot = str(Path(dataroot).expanduser().resolve())
    infos = check_dataset(dataroot, version, scenes)
    out_dir = Path(out).expanduser()
    if out_dir.exists() and not out_dir.is_dir():
        raise PrepareError(f"output {out_dir} exists and is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = {"dataroot": dataroot, "version": version, "scenes": sorted(i.name for i in infos), **settings.to_json()}
    _check_settings(out_dir, doc)
    split = _split_scenes([i.name for i in infos], settings.val_share)
    jobs = [SceneJob(dataroot, version, i.name, split[i.name], str(out_dir), settings) for i in infos]
    total = sum(math.ceil((math.floor(i.duration * settings.fps + 1e-6) + 1) / settings.stride) for i in infos)
    results: list[SceneResult] = []
    with progress_bar(total, "prepare", "samples", progress) as bar:
        if ray_address:
            results = _run_ray(jobs, ray_address, workers, bar)
        elif workers <= 1:
            for job in jobs:
                r = _scene_job(job)
                bar.update(sum(s["num_samples"] for s in r.get("shards", [])))
                results.append(r)
        else:
            results = _run_pool(jobs, workers, bar)
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        raise PrepareError("cannot prepare " + "; ".join(errors) +
                           " (finished scenes are kept: fix the data and run again to resume)")
    shards = sorted((ShardInfo(s["file"], s["scene"], s["split"], int(s["num_samples"]), tuple(s["frames"]))
                     for r in results for s in r["shards"]), key=lambda s: s.file)
    index = CacheIndex(out_dir, doc, tuple(shards))
    atomic_write_json(out_dir / INDEX_FILE, index.to_json())
    timings = Timings()
    for r in results:
        for k, v in r.get("timings", {}).items():
            timings.add(k, v)
    return PrepareReport(index, sum(r["written"] for r in results), sum(r["skipped"] for r in results),
                         time.perf_counter() - t_start, dict(timings.seconds))


def _run_pool(jobs: list[SceneJob], workers: int, bar: Progress) -> list[SceneResult]:
    import multiprocessing as mp
    import queue as queue_mod

    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager:
        ticks = manager.Queue()
        with ctx.Pool(min(workers, len(jobs))) as pool:
            pending = [pool.apply_async(_scene_job, (job, ticks)) for job in jobs]
            while any(not p.ready() for p in pending):
                try:
                    bar.update(ticks.get(timeout=0.2))
                except queue_mod.Empty:
                    pass
            while True:
                try:
                    bar.update(ticks.get_nowait())
                except queue_mod.Empty:
                    break
            return [p.get() for p in pending]


def _run_ray(jobs: list[SceneJob], address: str, workers: int, bar: Progress) -> list[SceneResult]:
    """Scenes as Ray tasks (one CPU each); the dataset and `out` must be on storage every node sees."""
    import ray

    from engine.batch.ray_backend import init_ray

    started = init_ray(address, workers if workers > 1 else None)
    try:
        task = ray.remote(_scene_job).options(num_cpus=1, max_retries=1)
        refs = {task.remote(job): job for job in jobs}
        results: list[SceneResult] = []
        while refs:
            done, _ = ray.wait(list(refs), num_returns=1)
            for ref in done:
                r = ray.get(ref)
                bar.update(sum(s["num_samples"] for s in r.get("shards", [])))
                results.append(r)
                refs.pop(ref)
        return results
    finally:
        if started:
            ray.shutdown()
