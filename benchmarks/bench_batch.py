"""Batch throughput on this machine: variants per minute, a process pool against one by one.

    python benchmarks/bench_batch.py [--variants 6] [--frames 12] [--size 224x128] [--workers 2] [--no-cli] [--baseline DIR]

The spec: the bundled demo swept over weather x seeds, exported to nuScenes (naive backend, JPEGs,
no videos, no guidance arrays) and OpenSCENARIO. Rows, each a fresh batch folder, measured in the
same run (one-by-one first, then the pools, then one-by-one again; the one-by-one figure is the mean
of its two runs so that a load change during the run hits both alike):
    one by one     executor 'inline': this process, one variant after the other
    pool           executor 'local': a pool of `--workers` processes forked from a fork server that
                   imported the job's modules once (`runner._pool_context`, the current start method)
    pool, spawned  the same pool with the previous start method: every worker a spawned process that
                   imports everything itself
The rows above run in this process, which has imported everything and warmed up a GL context
first (the one-by-one rows pay no start-up; the pools pay their workers'). The `main.py batch` rows
(skipped with --no-cli) run the command as a user does, a fresh process each, start-up included:
    main.py batch --inline         one by one in the command's process
    main.py batch --workers N      the pool
    DIR/main.py batch --workers N  the pool of an earlier checkout (--baseline DIR, e.g. from `git archive`)
Also printed: the CPU time all processes used per variant (this process and every descendant: the
pool's workers and the fork server, sampled every 0.1 s with psutil because forked workers are not
this process's children) and the mean CPU utilisation (CPU seconds / wall seconds; 2.0 = both cores
busy all the time). On a machine shared with other work the wall figures follow the share of the
cores this run gets; CPU seconds per variant say what a variant costs.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")


def _spec(variants: int, frames: int, size: tuple[int, int]):
    from engine.batch.spec import parse_spec

    return parse_spec(_spec_doc(variants, frames, size), REPO)


def _spec_doc(variants: int, frames: int, size: tuple[int, int]) -> dict:
    weathers = ["clear", "rain", "fog", "snow"]
    seeds = max(1, -(-variants // len(weathers)))
    doc = {"name": "bench_batch", "base": "demo", "seeds": {"start": 0, "count": seeds},
           "sweep": {"environment.weather": weathers[:min(variants, len(weathers))]},
           "export": {"formats": ["nuscenes", "openscenario"], "size": list(size), "frames": frames,
                      "backend": "naive", "videos": False, "guidance": False}}
    return doc


def _run_cli(spec_path: Path, flags: list[str], tmp: Path, label: str, repo: Path = REPO) -> tuple[float, float, int]:
    """(wall s, CPU s, variants done) of `python REPO/main.py batch SPEC -o DIR -q FLAGS` in a fresh process."""
    import json
    import subprocess

    out = tmp / label
    t0 = time.perf_counter()
    with _TreeCPU() as meter:
        r = subprocess.run([sys.executable, "main.py", "batch", str(spec_path), "-o", str(out), "-q", *flags],
                           cwd=repo, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{label}: exit {r.returncode}: {r.stderr[-500:]}")
    counts = json.loads((out / "batch.json").read_text())["counts"]
    return wall, meter.cpu, int(counts.get("done", 0))


class _TreeCPU:
    """CPU seconds (user + system) this process and all its descendants use inside the `with` block.

    Descendants are sampled every `period` s (their cumulative CPU times, per pid); a process that
    exits loses at most its last `period` s. Processes alive at the start count from their times then.
    """

    def __init__(self, period: float = 0.1) -> None:
        import psutil

        self._me = psutil.Process()
        self.period = period
        self._seen: dict[int, float] = {}
        self._base: dict[int, float] = {}
        self._stop = threading.Event()
        self.cpu = 0.0

    def _sample(self) -> None:
        import psutil

        for p in self._me.children(recursive=True):
            try:
                t = p.cpu_times()
            except psutil.Error:
                continue
            self._seen[p.pid] = max(self._seen.get(p.pid, 0.0), t.user + t.system)

    def _loop(self) -> None:
        while not self._stop.wait(self.period):
            self._sample()

    def __enter__(self) -> "_TreeCPU":
        self._sample()
        self._base = dict(self._seen)
        s = resource.getrusage(resource.RUSAGE_SELF)
        self._self0 = s.ru_utime + s.ru_stime
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        s = resource.getrusage(resource.RUSAGE_SELF)
        self.cpu = (s.ru_utime + s.ru_stime - self._self0) + sum(
            v - self._base.get(pid, 0.0) for pid, v in self._seen.items())


def _run(spec, executor: str, workers: int, tmp: Path, label: str, spawned: bool = False) -> tuple[float, float, int]:
    """(wall s, CPU s, variants done) of one batch run into a fresh folder (`spawned`: the previous
    start method of the pool's workers)."""
    import multiprocessing

    from engine.batch import runner
    from engine.batch.runner import BatchOptions, run_batch

    out = tmp / label
    current = runner._pool_context
    if spawned:
        runner._pool_context = lambda threads: multiprocessing.get_context("spawn")
    t0 = time.perf_counter()
    try:
        with _TreeCPU() as meter:
            report = run_batch(spec, out, BatchOptions(executor=executor, workers=workers))
    finally:
        runner._pool_context = current
    wall, cpu = time.perf_counter() - t0, meter.cpu
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
    p.add_argument("--no-cli", action="store_true", help="skip the fresh-process `main.py batch` rows")
    p.add_argument("--baseline", type=Path, default=None, help="an earlier checkout whose pool to measure too")
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
        spawned = _run(spec, "local", args.workers, tmp, "pool_spawned", spawned=True)
        b = _run(spec, "inline", 1, tmp, "inline_2")
        cli: list[tuple[str, tuple[float, float, int]]] = []
        if not args.no_cli:
            import json

            spec_path = tmp / "spec.json"
            spec_path.write_text(json.dumps(_spec_doc(args.variants, args.frames, size)))
            cli_a = _run_cli(spec_path, ["--inline"], tmp, "cli_inline_1")
            cli_pool = _run_cli(spec_path, ["--workers", str(args.workers)], tmp, "cli_pool")
            if args.baseline is not None:
                cli_base = _run_cli(spec_path, ["--workers", str(args.workers)], tmp, "cli_pool_base", args.baseline)
            cli_b = _run_cli(spec_path, ["--inline"], tmp, "cli_inline_2")
            cli_one = tuple((x + y) / 2 for x, y in zip(cli_a, cli_b))
            cli = [("main.py batch --inline", cli_one), (f"main.py batch --workers {args.workers}", cli_pool)]
            if args.baseline is not None:
                cli.append((f"baseline --workers {args.workers}", cli_base))
    one = tuple((x + y) / 2 for x, y in zip(a, b))
    print(f"batch of {n} variants (demo, {args.frames} frames at {args.size}, naive backend, nuScenes + OpenSCENARIO); "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    head = f"{'executor':28s} {'wall s':>8s} {'variants/min':>13s} {'CPU s/variant':>14s} {'CPU use':>8s} {'speed-up':>9s}"

    def row(label: str, run: tuple[float, float, int], ref: tuple[float, ...]) -> str:
        wall, cpu, done = run
        return (f"{label:28s} {wall:8.1f} {60 * done / wall:13.1f} {cpu / max(done, 1):14.2f} {cpu / wall:8.2f} "
                f"{ref[0] / wall:8.2f}x")

    print(head)
    for label, run in (("one by one (inline)", one), (f"pool ({args.workers} processes)", pool),
                       ("pool, spawned (previous)", spawned)):
        print(row(label, run, one))
    print(f"one-by-one runs: {a[0]:.1f} s and {b[0]:.1f} s wall")
    if cli:
        print("\nfresh processes, start-up included (speed-up against main.py batch --inline):")
        print(head)
        for label, run in cli:
            print(row(label, run, cli[0][1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
