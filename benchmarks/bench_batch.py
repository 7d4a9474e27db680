"""Batch throughput on this machine: variants per minute, a process pool against one by one.

    python benchmarks/bench_batch.py [--variants 6] [--frames 12] [--size 224x128] [--workers 2]

The spec: the bundled demo swept over weather x seeds, exported to nuScenes (naive backend, JPEGs,
no videos, no guidance arrays) and OpenSCENARIO. Rows, each a fresh batch folder, measured in the
same run (one-by-one first, then the pool, then one-by-one again; the one-by-one figure is the mean
of its two runs so that a load change during the run hits both alike):
    one by one     executor 'inline': this process, one variant after the other
    pool           executor 'local': a pool of `--workers` spawned processes (both cores busy)
Also printed: the CPU time all processes used (children included) per variant and the mean CPU
utilisation (CPU seconds / wall seconds; 2.0 = both cores busy all the time).
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")


def _spec(variants: int, frames: int, size: tuple[int, int]):
    from engine.batch.spec import parse_spec

    weathers = ["clear", "rain", "fog", "snow"]
    seeds = max(1, -(-variants // len(weathers)))
    doc = {"name": "bench_batch", "base": "demo", "seeds": {"start": 0, "count": seeds},
           "sweep": {"environment.weather": weathers[:min(variants, len(weathers))]},
           "export": {"formats": ["nuscenes", "openscenario"], "size": list(size), "frames": frames,
                      "backend": "naive", "videos": False, "guidance": False}}
    return parse_spec(doc, REPO)


def _cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def _run(spec, executor: str, workers: int, tmp: Path, label: str) -> tuple[float, float, int]:
    """(wall s, CPU s, variants done) of one batch run into a fresh folder."""
    from engine.batch.runner import BatchOptions, run_batch

    out = tmp / label
    c0, t0 = _cpu(), time.perf_counter()
    report = run_batch(spec, out, BatchOptions(executor=executor, workers=workers))
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    if report.failed:
        bad = [r.error for r in report.records.values() if r.status == "failed"]
        raise RuntimeError(f"{label}: {report.failed} variants failed: {bad[:2]}")
    return wall, cpu, report.done


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variants", type=int, default=6)
    p.add_argument("--frames", type=int, default=12)
    p.add_argument("--size", default="224x128")
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    size = tuple(int(v) for v in args.size.split("x"))
    spec = _spec(args.variants, args.frames, size)
    from engine.batch.variants import expand_variants

    n = len(expand_variants(spec))
    with tempfile.TemporaryDirectory(prefix="bench_batch_") as td:
        tmp = Path(td)
        _run(_spec(1, 2, size), "inline", 1, tmp, "warmup")      # imports, first GL context
        a = _run(spec, "inline", 1, tmp, "inline_1")
        pool = _run(spec, "local", args.workers, tmp, "pool")
        b = _run(spec, "inline", 1, tmp, "inline_2")
    one = tuple((x + y) / 2 for x, y in zip(a, b))
    print(f"batch of {n} variants (demo, {args.frames} frames at {args.size}, naive backend, nuScenes + OpenSCENARIO); "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print(f"{'executor':28s} {'wall s':>8s} {'variants/min':>13s} {'CPU s/variant':>14s} {'CPU use':>8s} {'speed-up':>9s}")
    for label, (wall, cpu, done) in (("one by one (inline)", one), (f"pool ({args.workers} processes)", pool)):
        print(f"{label:28s} {wall:8.1f} {60 * done / wall:13.1f} {cpu / max(done, 1):14.2f} {cpu / wall:8.2f} "
              f"{one[0] / wall:8.2f}x")
    print(f"one-by-one runs: {a[0]:.1f} s and {b[0]:.1f} s wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
