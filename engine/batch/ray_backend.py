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

Ray is an optional extra (``pip install 'cornercase-studio[ray]'``): without it `require_ray` raises
`RayNotInstalledError`, whose message names that command.
"""
from __future__ import annotations

import logging
import os
from types import ModuleType
from typing import Any, Iterator

from engine.batch.job import JobResult, run_job_packed
from engine.batch.records import VariantStatus
from engine.batch.spec import BatchSpec
from engine.batch.variants import Variant
from engine.paths import REPO_ROOT
from engine.worldmodel.errors import MissingExtraError
from engine.worldmodel.extras import install_hint, missing_extra

ENV_VARS = {"MPLBACKEND": "Agg", "PYOPENGL_PLATFORM": "egl"}
WORKING_DIR_EXCLUDES = [".venv", ".git", "**/__pycache__", "tests", "*.mp4", "*.npz", ".batch", "out", "outputs"]
INSTALL_HINT = install_hint("ray")

log = logging.getLogger(__name__)


class RayNotInstalledError(MissingExtraError):
    """Ray (the optional ``[ray]`` extra) is not installed; the message says how to install it."""


def require_ray(feature: str = "Ray batch runs") -> ModuleType:
    """The `ray` module; RayNotInstalledError ("<feature> needs ray: pip install '...[ray]'") when it is
    missing (the same message form as every optional extra, `engine.worldmodel.extras`)."""
    try:
        import ray
    except ImportError:
        raise RayNotInstalledError(str(missing_extra("ray", feature, "ray")), name="ray") from None
    return ray


def init_ray(address: str, num_cpus: int | None = None) -> bool:
    """Connect to (or start) Ray; returns True when this call started it (and should shut it down)."""
    ray = require_ray()
    if ray.is_initialized():
        return False
    if address == "local":
        env = dict(ENV_VARS)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p)
        log.debug("starting a local Ray instance with %s CPUs", num_cpus or os.cpu_count() or 1)
        ray.init(num_cpus=num_cpus or os.cpu_count() or 1, include_dashboard=False,
                 runtime_env={"env_vars": env}, log_to_driver=False, configure_logging=False)
    else:
        log.debug("connecting to the Ray cluster at %s", address)
        ray.init(address=address, log_to_driver=False, configure_logging=False,
                 runtime_env={"working_dir": str(REPO_ROOT), "excludes": WORKING_DIR_EXCLUDES, "env_vars": ENV_VARS})
    return True


def ray_results(spec: BatchSpec, variants: list[Variant], address: str = "local", num_cpus: int | None = None,
                max_in_flight: int | None = None) -> Iterator[JobResult]:
    """Run the variants as Ray tasks and yield their results as they finish (in completion order)."""
    ray = require_ray()
    started = init_ray(address, num_cpus)
    try:
        gpus = 1 if spec.export.needs_gpu else 0
        task = ray.remote(run_job_packed).options(num_cpus=1, num_gpus=gpus, max_retries=0)
        cpus = int(ray.cluster_resources().get("CPU", 1))
        window = max_in_flight or max(2, 2 * cpus)
        pending: dict[Any, Variant] = {}   # ray.ObjectRef -> its variant
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
                    yield JobResult(v.id, v.key, VariantStatus.FAILED, error=f"Ray task failed: {type(e).__name__}: {e}")
    finally:
        if started:
            ray.shutdown()
