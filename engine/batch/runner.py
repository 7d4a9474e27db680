"""Run a batch: every variant generated and exported as its own scene, resumable, failures isolated.

    report = run_batch(load_spec("sweep.json"), "out/", BatchOptions(executor="local"))

Layout of the output folder:
    dataset/                the shared nuScenes dataset (one scene per exported variant)
    openscenario/           <variant id>.xosc (+ .xodr) per variant (format openscenario)
    batch.json              the spec as run and every variant with its status, scene and error
    .batch/records/         one record per finished / filtered / failed variant (what makes runs resumable)
    .batch/logs/            the traceback of each failed variant
Executors: 'inline' (this process, one at a time), 'local' (a process pool over this machine's
cores, its workers forked from a fork server that imported the job's modules once, see
`_pool_context`), 'ray' (Ray tasks; `ray_address` 'local' or a cluster address). Workers only write into
their own job folders; this process merges each finished job into the dataset under the dataset
lock and records it, so stopping a run (Ctrl-C, a crash, `stop_after`) loses at most the variants
in flight, and the next run skips every finished one.

Throughput of the local pool (`benchmarks/bench_batch.py`): the fork server is started as early as
possible (`start_pool_server`; the `batch` command calls it before it reads the spec), so its ~2 s of
imports overlap the caller's own; the driver merges with `engine.export.staged_scene` and never loads
the renderer; each worker gets one library thread per core it owns and, with one core, no llvmpipe
rasteriser thread (`_thread_settings`). One variant is one task (about 2 x workers in flight).
"""
from __future__ import annotations

import logging
import os
import shutil
import time
from contextlib import contextmanager
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from engine.batch.job import JobResult, run_job, unpack
from engine.batch.records import FINISHED, STATE_DIR, BatchState, VariantRecord, VariantStatus
from engine.batch.spec import BatchSpec
from engine.batch.variants import Variant, VariantSource, expand_variants

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext


class Executor(StrEnum):
    """Where the variants run: this process one at a time, a local process pool, or Ray tasks."""

    INLINE = "inline"
    LOCAL = "local"
    RAY = "ray"


EXECUTORS = tuple(e.value for e in Executor)

log = logging.getLogger(__name__)
DATASET_DIR = "dataset"
OSC_DIR = "openscenario"


@dataclass(frozen=True)
class BatchOptions:
    """executor: inline | local | ray; workers: processes for 'local' (default: the CPU count) or CPUs
    of a local Ray instance; ray_address: 'local' or a cluster address; stop_after: run at most this
    many variants now (the rest stay pending); retry_failed: run variants that failed last time again."""

    executor: Executor = Executor.LOCAL
    workers: int | None = None
    ray_address: str = "local"
    stop_after: int | None = None
    retry_failed: bool = True

    def __post_init__(self) -> None:
        if self.executor not in EXECUTORS:
            raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}, got {self.executor!r}")
        object.__setattr__(self, "executor", Executor(self.executor))   # a plain string is accepted
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
        if self.stop_after is not None and self.stop_after < 0:
            raise ValueError(f"stop_after must be >= 0, got {self.stop_after}")


@dataclass(frozen=True)
class BatchProgress:
    """After each variant: counts so far this run, and the record of the variant that just ended."""

    total: int
    to_run: int
    finished: int
    failed: int
    filtered: int
    skipped: int
    last: VariantRecord | None
    elapsed_s: float


@dataclass
class BatchReport:
    """How the run went: counts of this run, the variants still pending, and every record."""

    out_dir: Path
    total: int
    skipped: int
    done: int = 0
    filtered: int = 0
    failed: int = 0
    pending: int = 0
    records: dict[str, VariantRecord] = field(default_factory=dict)

    @property
    def dataset_dir(self) -> Path:
        return self.out_dir / DATASET_DIR

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.pending == 0


def _dataset_variant_keys(dataset: Path) -> dict[str, dict[str, Any]]:
    """variant key -> scene entry for every scene already committed to the dataset."""
    from engine.export.nuscenes_dataset import load_dataset_manifest

    if not (dataset / "manifest.json").is_file():
        return {}
    return {s["variant_key"]: s for s in load_dataset_manifest(dataset).get("scenes", []) if "variant_key" in s}


def collect(result: JobResult, spec: BatchSpec, variant: Variant, out_dir: Path, state: BatchState) -> VariantRecord:
    """Merge a finished job's outputs into the batch folder and record the variant (returns the record)."""
    staging_root = out_dir / STATE_DIR / "staging"
    job_dir = Path(result.job_dir) if result.job_dir else None
    try:
        if result.status == VariantStatus.DONE:
            if result.archive is not None:
                job_dir = unpack(result.archive, staging_root / f"{variant.id}-{os.getpid()}-{time.time_ns()}")
            if job_dir is None or not job_dir.is_dir():
                raise RuntimeError("the job reported success but its folder is missing")
            files = dict(result.files)
            for key in ("openscenario", "opendrive"):
                rel = files.get(key)
                if rel:
                    dst = out_dir / OSC_DIR / Path(rel).name
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(job_dir / rel, dst)
                    files[key] = f"{OSC_DIR}/{dst.name}"
            scene_name = scene_token = None
            if result.staged is not None:
                from engine.export.staged_scene import StagedScene   # light: the driver never renders

                st = result.staged
                staged = StagedScene(job_dir / "dataset", st["version"], st["scene_name"], st["scene_token"],
                                     st["log_name"], 0, st["entry"], {})
                merged = staged.merge_into(out_dir / DATASET_DIR, {
                    "variant": variant.id, "variant_key": variant.key, "params": variant.params,
                    "prompt": variant.prompt, "batch": spec.name})
                entry = staged.entry
                scene_name, scene_token = merged.scene_name, merged.scene_token
                files["scene_folder"] = f"{DATASET_DIR}/{entry['folder']}"
            record = VariantRecord(variant.id, variant.key, VariantStatus.DONE, variant.label, scene_name, scene_token, files,
                                   timings=result.timings, worker=result.worker)
        else:
            record = VariantRecord(variant.id, variant.key, result.status, variant.label, files=result.files,
                                   error=result.error, traceback=result.traceback, timings=result.timings,
                                   worker=result.worker)
    except Exception as e:  # merging failed: the variant failed, the dataset is untouched (merge is atomic)
        import traceback as tb

        record = VariantRecord(variant.id, variant.key, VariantStatus.FAILED, variant.label, error=f"collecting: {type(e).__name__}: {e}",
                               traceback=tb.format_exc(), timings=result.timings, worker=result.worker)
    finally:
        if job_dir is not None:
            shutil.rmtree(job_dir, ignore_errors=True)
    state.save(record)
    log.debug("%s %s in %.2f s on %s%s", variant.id, record.status, record.timings.get("total", 0.0),
              record.worker or "?", f": {record.error}" if record.error else "")
    if record.status == VariantStatus.FAILED and record.traceback:
        from engine.fileio import atomic_write_text

        atomic_write_text(out_dir / STATE_DIR / "logs" / f"{variant.id}.log",
                          f"{variant.label}\n{record.error}\n\n{record.traceback}")
    return record


def resolve_prompts(spec: BatchSpec, variants: list[Variant], out_dir: Path) -> tuple[list[Variant], dict[str, str]]:
    """Interpret each prompt once and give its variants the script (cached in DIR/.batch/prompts/).

    An LLM writes a different script each time; interpreting once per batch makes the variants of a
    prompt differ only in what the spec sweeps, and a resumed run reuse the same script. Returns the
    variants and, per prompt that could not be interpreted, the error.
    """
    import hashlib
    import json
    from dataclasses import replace as dc_replace

    from engine.batch.scripts import script_for_prompt
    from engine.fileio import atomic_write_json

    scripts: dict[str, str] = {}
    errors: dict[str, str] = {}
    for prompt in dict.fromkeys(v.prompt for v in variants if v.source == VariantSource.PROMPT and v.prompt is not None):
        key = hashlib.sha256(f"{spec.interpreter}\n{prompt}".encode()).hexdigest()[:16]
        path = out_dir / STATE_DIR / "prompts" / f"{key}.json"
        try:
            if path.is_file():
                scripts[prompt] = json.loads(path.read_text())["script"]
            else:
                scripts[prompt] = script_for_prompt(prompt, spec.interpreter)
                atomic_write_json(path, {"prompt": prompt, "interpreter": spec.interpreter, "script": scripts[prompt]})
        except Exception as e:  # one prompt the interpreter cannot handle fails only its own variants
            errors[prompt] = f"{type(e).__name__}: {e}"
    return [dc_replace(v, script=scripts[v.prompt]) if v.source == VariantSource.PROMPT and v.prompt in scripts else v
            for v in variants], errors


def _inline_results(spec: BatchSpec, todo: list[Variant], staging: Path) -> Iterator[JobResult]:
    for v in todo:
        yield run_job(spec, v, staging / v.id)


THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "LP_NUM_THREADS")
RASTER_VAR = "LP_NUM_THREADS"   # llvmpipe's rasteriser threads, read when a worker creates its GL context
FORK_SERVER_VAR = "CORNERCASE_BATCH_FORK_SERVER"   # tells `worker_preload` it runs in the fork server


def pool_threads(workers: int) -> int:
    """Library threads per worker process so that `workers` processes share this machine's cores."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def _thread_settings(threads: int) -> dict[str, str]:
    """The THREAD_VARS values a pool worker runs with, leaving out those the user set in this process.

    llvmpipe gets no rasteriser thread of its own when a worker has one core (`LP_NUM_THREADS=0`: it
    rasterises in the thread that draws): a rasteriser thread per worker only adds hand-offs between
    the threads of a worker, and with as many workers as cores the cores are busy anyway.
    """
    values = {var: str(threads) for var in THREAD_VARS}
    values[RASTER_VAR] = str(threads) if threads > 1 else "0"
    return {var: value for var, value in values.items() if var not in os.environ}


def _worker_init(settings: dict[str, str]) -> None:
    """Runs first in every pool process, before its first variant creates a GL context: share the
    cores between the workers instead of each one starting a thread per core (BLAS, OpenMP, llvmpipe's
    rasteriser threads). Set, not defaulted: the fork server's environment holds the values of the
    batch that started it (`_thread_settings` already leaves out what the user set)."""
    os.environ.update(settings)


def _pool_context(threads: int) -> BaseContext:
    """The start method of the pool's workers: forked from a fork server that imported the job's
    modules once (`worker_preload`), where the platform has one; else spawned (each imports them).

    Never a plain fork of this process: it may hold GL contexts and library threads that do not
    survive a fork. The server is started here with `THREAD_VARS` set (its BLAS reads them at import),
    and this process's environment is restored afterwards. Starting it returns at once: the server
    imports in the background, and the first worker it forks waits for that.
    """
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    from multiprocessing import forkserver

    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["engine.batch.worker_preload"])
    saved = {var: os.environ.get(var) for var in (*THREAD_VARS, FORK_SERVER_VAR)}
    try:
        os.environ.update(_thread_settings(threads))
        os.environ[FORK_SERVER_VAR] = "1"    # `worker_preload` reads it (and removes it) in the server only
        forkserver.ensure_running()     # a server already running (an earlier batch) is reused as it is
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
    return ctx


def start_pool_server(workers: int | None = None) -> None:
    """Start the local pool's fork server now, so that its imports (about 2 s of numpy, OpenCV, the
    renderer, the world model...) run while this process does other work, e.g. parsing the spec or
    interpreting prompts. `run_batch` starts it anyway; calling this first only saves time. Idempotent."""
    _pool_context(pool_threads(max(1, workers or os.cpu_count() or 1)))


def _pool_results(spec: BatchSpec, todo: list[Variant], staging: Path, workers: int,
                  max_restarts: int = 3) -> Iterator[JobResult]:
    """Run the jobs in a pool of worker processes (`_pool_context`); a pool broken by a dying worker is
    replaced (the variants in flight are reported failed) up to `max_restarts` times."""
    from concurrent.futures.process import BrokenProcessPool

    workers = max(1, min(workers, len(todo)))     # no idle processes for a short batch
    threads = pool_threads(workers)
    ctx = _pool_context(threads)
    queue = list(todo)
    restarts = 0
    while queue:
        futures: dict[Future[JobResult], Variant] = {}
        broken = False
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init,
                                 initargs=(_thread_settings(threads),)) as pool:
            try:
                while (queue and not broken) or futures:
                    while queue and not broken and len(futures) < 2 * workers:
                        v = queue[0]
                        try:
                            futures[pool.submit(run_job, spec, v, staging / v.id)] = v
                        except BrokenProcessPool:
                            broken = True
                            break
                        queue.pop(0)
                    if not futures:
                        break
                    done, _ = wait(list(futures), return_when=FIRST_COMPLETED)
                    for f in done:
                        v = futures.pop(f)
                        try:
                            yield f.result()
                        except BrokenProcessPool as e:
                            broken = True
                            yield JobResult(v.id, v.key, VariantStatus.FAILED, str(staging / v.id),
                                            error=f"worker process died: {e}")
                        except Exception as e:  # the result did not come back (e.g. unpicklable): that variant failed
                            yield JobResult(v.id, v.key, VariantStatus.FAILED, str(staging / v.id),
                                            error=f"worker process failed: {type(e).__name__}: {e}")
            finally:
                for f in futures:
                    f.cancel()
        if broken:
            restarts += 1
            log.warning("the worker pool broke (a worker process died); restart %d of %d", restarts, max_restarts)
            if restarts > max_restarts:
                for v in queue:
                    yield JobResult(v.id, v.key, VariantStatus.FAILED, None,
                                    error=f"not run: the worker pool broke {restarts} times")
                return


class BatchBusyError(RuntimeError):
    """Another run is already working in this batch folder."""


@contextmanager
def _batch_lock(out: Path) -> Iterator[None]:
    """One driver per batch folder (a file lock on DIR/.batch/.lock)."""
    from filelock import FileLock, Timeout

    (out / STATE_DIR).mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(out / STATE_DIR / ".lock"))
    try:
        lock.acquire(timeout=1.0)
    except Timeout:
        raise BatchBusyError(f"{out}: another batch run is using this folder") from None
    try:
        yield
    finally:
        lock.release()


def run_batch(spec: BatchSpec, out_dir: str | os.PathLike[str], options: BatchOptions | None = None,
              progress: Callable[[BatchProgress], None] | None = None) -> BatchReport:
    """Run the pending variants of `spec` into `out_dir` (see the module docstring)."""
    options = options or BatchOptions()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = BatchState(out)
    variants = expand_variants(spec)
    by_id = {v.id: v for v in variants}
    t0 = time.perf_counter()
    with _batch_lock(out):
        staging = out / STATE_DIR / "staging"
        shutil.rmtree(staging, ignore_errors=True)  # job folders of an interrupted run
        staging.mkdir(parents=True, exist_ok=True)
        committed = _dataset_variant_keys(out / DATASET_DIR)
        for v in variants:  # a scene committed just before a crash, whose record was not written
            if v.key in committed and not state.is_finished(v.id, v.key):
                s = committed[v.key]
                state.save(VariantRecord(v.id, v.key, VariantStatus.DONE, v.label, s.get("scene_name"), s.get("scene_token"),
                                         {"scene_folder": f"{DATASET_DIR}/{s.get('folder', '')}"}))
        todo = []
        for v in variants:
            rec = state.load(v.id)
            if rec is not None and rec.key == v.key and (rec.status in FINISHED
                                                          or (rec.status == VariantStatus.FAILED and not options.retry_failed)):
                continue
            todo.append(v)
        skipped = len(variants) - len(todo)
        if options.stop_after is not None:
            todo = todo[:options.stop_after]
        workers = options.workers or os.cpu_count() or 1
        if options.executor == Executor.LOCAL and todo:
            start_pool_server(min(workers, len(todo)))    # it imports while the prompts are interpreted
        todo, prompt_errors = resolve_prompts(spec, todo, out)
        unresolved = [v for v in todo if v.source == VariantSource.PROMPT and v.prompt in prompt_errors]
        todo = [v for v in todo if v not in unresolved]
        report = BatchReport(out, len(variants), skipped)
        for v in unresolved:
            error = f"interpreting the prompt: {prompt_errors[v.prompt or '']}"
            rec = collect(JobResult(v.id, v.key, VariantStatus.FAILED, None, error=error),
                          spec, v, out, state)
            report.records[v.id] = rec
            report.failed += 1
        state.write_summary(spec.to_dict(), variants)
        results: Iterator[JobResult]
        if options.executor == Executor.INLINE or not todo:
            results = _inline_results(spec, todo, staging)
        elif options.executor == Executor.LOCAL:
            results = _pool_results(spec, todo, staging, workers)
        else:
            from engine.batch.ray_backend import ray_results

            results = ray_results(spec, todo, options.ray_address, num_cpus=options.workers)
        last_summary = 0.0
        try:
            for result in results:
                v = by_id[result.variant_id]
                rec = collect(result, spec, v, out, state)
                report.records[v.id] = rec
                if rec.status == VariantStatus.DONE:
                    report.done += 1
                elif rec.status == VariantStatus.FILTERED:
                    report.filtered += 1
                else:
                    report.failed += 1
                if time.perf_counter() - last_summary > 1.0:
                    state.write_summary(spec.to_dict(), variants)
                    last_summary = time.perf_counter()
                if progress is not None:
                    progress(BatchProgress(len(variants), len(todo), report.done + report.filtered + report.failed,
                                           report.failed, report.filtered, skipped, rec, time.perf_counter() - t0))
        finally:
            close = getattr(results, "close", None)
            if close is not None:
                close()
            state.write_summary(spec.to_dict(), variants, {"elapsed_s": round(time.perf_counter() - t0, 3)})
            shutil.rmtree(staging, ignore_errors=True)
        finished = state.all()
        report.pending = sum(1 for v in variants
                             if not (v.id in finished and finished[v.id].key == v.key and finished[v.id].status in FINISHED))
    return report
