"""Running batch jobs as Ray tasks, on this machine or a cluster.

    address 'local'        a private local Ray instance: ray.init(num_cpus=N, include_dashboard=False),
                           N = --workers or the CPU count
    address 'auto'/host    an existing cluster: ray.init(address=...), the project folder shipped as the
                           job's working_dir (its .venv, .git, tests and outputs left out); the nodes need
                           the same Python packages installed
Each variant is one task (`job.run_job_packed`) asking for one CPU, and one GPU when the diffusion
backend runs on CUDA; its outputs come back as a tar archive, so workers need no shared filesystem.
At most `max_in_flight` tasks are pending at once, so results do not pile up in the object store.
A task that dies (worker crash, out of memory) is reported as a failed variant.
"""
from __future__ import annotations

import os
from typing import Iterator

from engine.batch.job import JobResult, run_job_packed
from engine.batch.spec import BatchSpec
from engine.batch.variants import Variant
from engine.paths import REPO_ROOT

ENV_VARS = {"MPLBACKEND": "Agg", "PYOPENGL_PLATFORM": "egl"}
WORKING_DIR_EXCLUDES = [".venv", ".git", "**/__pycache__", "tests", "*.mp4", "*.npz", ".batch", "out", "outputs"]


def init_ray(address: str, num_cpus: int | None = None) -> bool:
    """Connect to (or start) Ray; returns True when this call started it (and should shut it down)."""
    import ray

    if ray.is_initialized():
        return False
    if address == "local":
        env = dict(ENV_VARS)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p)
        ray.init(num_cpus=num_cpus or os.cpu_count() or 1, include_dashboard=False,
                 runtime_env={"env_vars": env}, log_to_driver=False, configure_logging=False)
    else:
        ray.init(address=address, log_to_driver=False, configure_logging=False,
                 runtime_env={"working_dir": str(REPO_ROOT), "excludes": WORKING_DIR_EXCLUDES, "env_vars": ENV_VARS})
    return True


def ray_results(spec: BatchSpec, variants: list[Variant], address: str = "local", num_cpus: int | None = None,
                max_in_flight: int | None = None) -> Iterator[JobResult]:
    """Run the variants as Ray tasks and yield their results as they finish (in completion order)."""
    import ray

    started = init_ray(address, num_cpus)
    try:
        gpus = 1 if spec.export.needs_gpu else 0
        task = ray.remote(run_job_packed).options(num_cpus=1, num_gpus=gpus, max_retries=0)
        cpus = int(ray.cluster_resources().get("CPU", 1))
        window = max_in_flight or max(2, 2 * cpus)
        pending: dict = {}
        queue = list(variants)
        while queue or pending:
            while queue and len(pending) < window:
                v = queue.pop(0)
                pending[task.remote(spec, v)] = v
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                v = pending.pop(ref)
                try:
                    yield ray.get(ref)
                except Exception as e:  # the task itself died: a failed variant, not a failed batch
                    yield JobResult(v.id, v.key, "failed", error=f"Ray task failed: {type(e).__name__}: {e}")
    finally:
        if started:
            ray.shutdown()
