"""Batch throughput on this machine: variants per minute, the local process pool against one by one.

    python benchmarks/bench_batch.py [--variants 4,8,16] [--repeat 3] [--frames 12] [--size 224x128]
                                     [--workers N] [--in-process] [--baseline DIR]

The spec: the bundled demo swept over weather x seeds (--variants is rounded up to a multiple of 4),
exported to nuScenes (naive backend, JPEGs, no videos, no guidance arrays) and OpenSCENARIO. For each
batch size, `--repeat` rounds; each round runs the command as a user does, a fresh process each,
start-up included, into a fresh folder:
    one by one   main.py batch SPEC --inline       this process, one variant after the other
    pool         main.py batch SPEC --workers N    a pool of N processes (default: the CPU count)
    baseline     DIR/main.py batch SPEC --workers N the pool of an earlier checkout (--baseline DIR,
                                                   e.g. extracted with `git archive`)
The order alternates between rounds (one by one first, then last) so that a load change hits both
alike. Printed per size: the median over the rounds of the wall time, variants per minute, CPU
seconds per variant and the mean CPU utilisation (CPU seconds / wall seconds: 2.0 = two cores busy
all the time), and the speed-up: the median of the rounds' ratios (one-by-one wall / pool wall, both
measured in the same round). CPU time counts every process of the run (the command, the pool's fork
server and its workers, sampled every 0.1 s with psutil); `first s` the seconds from the start to the
first variant recorded (start-up plus one variant: the fixed cost); `others` the CPU utilisation of
every other process of the machine meanwhile (0 on a quiet machine). Then the mean time per variant of each
phase of a job (from batch.json) for the largest batch's last round.

--in-process adds rows run inside this process, after a warm-up (imports and a first GL context done,
the pool's fork server already running): what a second batch from a long-lived process (the editor)
costs. On a machine shared with other work the wall figures follow the share of the cores the run
gets; CPU seconds per variant say what a variant costs.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

from engine.batch.runner import Executor  # noqa: E402 - after the path and environment set-up above

PHASES = ("build", "openscenario", "generate", "write_frames", "write_extras", "total")


def _spec_doc(variants: int, frames: int, size: tuple[int, int]) -> dict[str, Any]:
    weathers = ["clear", "rain", "fog", "snow"]
    seeds = max(1, -(-variants // len(weathers)))
    return {"name": "bench_batch", "base": "demo", "seeds": {"start": 0, "count": seeds},
            "sweep": {"environment.weather": weathers[:min(variants, len(weathers))]},
            "export": {"formats": ["nuscenes", "openscenario"], "size": list(size), "frames": frames,
                       "backend": "naive", "videos": False, "guidance": False}}


def _machine_busy() -> float:
    """CPU seconds all processes of this machine have used since boot (every core, not idle)."""
    import psutil

    t = psutil.cpu_times()
    return float(sum(t) - t.idle - getattr(t, "iowait", 0.0) - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0))


class _TreeCPU:
    """CPU seconds (user + system) this process and all its descendants use inside the `with` block,
    and `others`: what every other process of the machine used meanwhile.

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
        self._busy0 = _machine_busy()
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
        self.others = max(0.0, _machine_busy() - self._busy0 - self.cpu)


Run = tuple[float, float, int, float, float]   # wall s, CPU s, variants done, others' CPU s, first variant s


def _first_done(out: Path, since: float) -> float:
    """Seconds from `since` (time.time()) to the first variant recorded in the batch folder `out`."""
    ends = [json.loads(p.read_text())["finished_at"] for p in (out / ".batch" / "records").glob("*.json")]
    return min(ends) - since if ends else float("nan")


def _run_cli(spec_path: Path, flags: list[str], out: Path, repo: Path = REPO) -> Run:
    """(wall s, CPU s, variants done, others' CPU s, first variant s) of `python REPO/main.py batch SPEC -o OUT -q FLAGS` in a fresh process."""
    t0, since = time.perf_counter(), time.time()
    with _TreeCPU() as meter:
        r = subprocess.run([sys.executable, "main.py", "batch", str(spec_path), "-o", str(out), "-q", *flags],
                           cwd=repo, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{out.name}: exit {r.returncode}: {r.stderr[-500:]}")
    counts = json.loads((out / "batch.json").read_text())["counts"]
    return wall, meter.cpu, int(counts.get("done", 0)), meter.others, _first_done(out, since)


def _run_here(doc: dict[str, Any], executor: Executor, workers: int, out: Path) -> Run:
    """(wall s, CPU s, variants done, others' CPU s, first variant s) of one batch run in this process into `out`."""
    from engine.batch.runner import BatchOptions, run_batch
    from engine.batch.spec import parse_spec

    spec = parse_spec(doc, REPO)
    t0, since = time.perf_counter(), time.time()
    with _TreeCPU() as meter:
        report = run_batch(spec, out, BatchOptions(executor=executor, workers=workers))
    wall = time.perf_counter() - t0
    if report.failed:
        bad = [r.error for r in report.records.values() if r.status == "failed"]
        raise RuntimeError(f"{out.name}: {report.failed} variants failed: {bad[:2]}")
    return wall, meter.cpu, report.done, meter.others, _first_done(out, since)


def _phases(out: Path) -> dict[str, float]:
    """Mean seconds per variant of each job phase (batch.json's timings)."""
    rows = [v.get("timings") or {} for v in json.loads((out / "batch.json").read_text())["variants"]]
    return {k: statistics.fmean(r.get(k, 0.0) for r in rows) for k in PHASES if rows}


def _median_row(label: str, runs: list[Run], ratios: list[float] | None) -> str:
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] / max(r[2], 1) for r in runs)
    use = statistics.median(r[1] / r[0] for r in runs)
    vpm = statistics.median(60 * r[2] / r[0] for r in runs)
    ratio = f"{statistics.median(ratios):8.2f}x" if ratios else f"{'1.00x':>9s}"
    spread = f"{min(r[0] for r in runs):.1f}-{max(r[0] for r in runs):.1f}"
    others = statistics.median(r[3] / r[0] for r in runs)
    first = statistics.median(r[4] for r in runs)
    return (f"{label:26s} {wall:7.1f} {spread:>11s} {vpm:13.1f} {cpu:14.2f} {use:8.2f} {ratio} {first:8.1f} "
            f"{others:7.2f}")


HEAD = (f"{'executor':26s} {'wall s':>7s} {'(min-max)':>11s} {'variants/min':>13s} {'CPU s/variant':>14s} "
        f"{'CPU use':>8s} {'speed-up':>9s} {'first s':>8s} {'others':>7s}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variants", default="4,8,16", help="batch sizes, comma-separated (each rounded up to a multiple of 4)")
    p.add_argument("--repeat", type=int, default=3, help="rounds per batch size (medians are printed)")
    p.add_argument("--frames", type=int, default=12)
    p.add_argument("--size", default="224x128")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--in-process", action="store_true", help="also run the batches inside this process (warm)")
    p.add_argument("--baseline", type=Path, default=None, help="an earlier checkout whose pool to measure too")
    args = p.parse_args(argv)
    size = (int(args.size.split("x")[0]), int(args.size.split("x")[1]))
    sizes = [int(v) for v in args.variants.split(",")]
    pool_flags = ["--workers", str(args.workers)]
    load0 = os.getloadavg()[0]
    results: dict[int, dict[str, list[Run]]] = {}
    ratios: dict[int, dict[str, list[float]]] = {}
    phases: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench_batch_") as td:
        tmp = Path(td)
        if args.in_process:   # imports, a first GL context, the fork server started
            from engine.batch.runner import start_pool_server

            start_pool_server(args.workers)
            _run_here(_spec_doc(1, 2, size), Executor.INLINE, 1, tmp / "warmup")
            _run_here(_spec_doc(2, 2, size), Executor.LOCAL, args.workers, tmp / "warmup_pool")
        for n in sizes:
            doc = _spec_doc(n, args.frames, size)
            spec_path = tmp / f"spec{n}.json"
            spec_path.write_text(json.dumps(doc))
            runs: dict[str, list[Run]] = {}
            rat: dict[str, list[float]] = {}
            for k in range(args.repeat):
                jobs: list[tuple[str, Callable[[Path], Run]]] = [
                    ("one by one", lambda o: _run_cli(spec_path, ["--inline"], o)),
                    ("pool", lambda o: _run_cli(spec_path, pool_flags, o))]
                if args.baseline is not None:
                    jobs.append(("baseline pool", lambda o: _run_cli(spec_path, pool_flags, o, args.baseline)))
                if args.in_process:
                    jobs += [("in-process one by one", lambda o: _run_here(doc, Executor.INLINE, 1, o)),
                             ("in-process pool", lambda o: _run_here(doc, Executor.LOCAL, args.workers, o))]
                order = jobs if k % 2 == 0 else jobs[::-1]
                got: dict[str, Run] = {}
                for label, fn in order:
                    out = tmp / f"n{n}_{k}_{label.replace(' ', '_')}"
                    got[label] = fn(out)
                    runs.setdefault(label, []).append(got[label])
                    if n == sizes[-1] and k == args.repeat - 1:
                        phases[label] = _phases(out)
                for label in got:
                    if label.endswith("pool"):
                        ref = "in-process one by one" if label.startswith("in-process") else "one by one"
                        rat.setdefault(label, []).append(got[ref][0] / got[label][0])
            results[n], ratios[n] = runs, rat
    print(f"batch throughput: demo x weather x seeds, {args.frames} frames at {args.size}, naive backend, "
          f"nuScenes + OpenSCENARIO; {os.cpu_count()} CPUs, pool of {args.workers}; median of {args.repeat} rounds; "
          f"load average {load0:.2f} before, {os.getloadavg()[0]:.2f} after")
    print("fresh `main.py batch` processes, start-up included (speed-up: one-by-one wall / pool wall in the same round)")
    for n in sizes:
        n_done = results[n]["one by one"][0][2]
        print(f"\n{n_done} variants")
        print(HEAD)
        for label, rows in results[n].items():
            print(_median_row(label, rows, ratios[n].get(label)))
    print(f"\nmean seconds per variant of each job phase ({results[sizes[-1]]['one by one'][0][2]} variants, last round; "
          "the pool's run two at a time, so each takes longer)")
    print(f"{'executor':26s} " + " ".join(f"{k:>13s}" for k in PHASES))
    for label, ph in phases.items():
        print(f"{label:26s} " + " ".join(f"{ph.get(k, 0.0):13.3f}" for k in PHASES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
