"""Time `check_scenario` on a 20 s scenario with 50 agents (plus the ego) at 12 Hz.

    python benchmarks/bench_checks.py [--runs 15] [--agents 50] [--duration 20]
    python benchmarks/bench_checks.py --grid [--runs 7] [--baseline 9a98b7d] [--grid-agents 10,50,100,200]
                                      [--grid-durations 3,10,20]

`--grid` times the warm check at 10/50/100/200 agents x 3/10/20 s, for this tree and for the baseline
implementation (the `engine/` and `resources/` of git revision `--baseline`, exported with `git archive`
into a temporary folder; default: the commit before the issue-19 speed-ups), in two worker processes
whose runs alternate (one baseline run, one current run, ...), so both see the same machine load. It
prints the median wall and CPU times, the ratio current / baseline per cell, and the growth exponent b
of time ~ (agents x frames)^b for both (`--baseline HEAD`: against the last commit). `--grid-agents`
and `--grid-durations` pick the cells (one cell: no exponents).

The scenario is a busy, unsignalised 4-way intersection (long arms): through traffic both ways on
the main road and the cross road, vehicles turning left through the oncoming traffic, pedestrians
walking back and forth on the crosswalks, cyclists, and cones and barriers. Nobody yields, so the
scene has collisions and near misses on purpose: the contact, PET and refinement paths are timed too. Prints the median (and min / max) of several
runs for the whole check and for each check alone, and the ratio against the 100 ms budget of the
issue (which names no baseline). "warm": the same Scenario object each run (its trajectories'
interpolants are cached, as for every agent but the edited one in the editor); "cold": a fresh copy
of the scenario each run (interpolants rebuilt inside the timing).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from typing import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

REPO = Path(__file__).resolve().parents[1]
# a grid worker imports the engine of the tree named by CHECKS_BENCH_ROOT (the baseline's export)
sys.path.insert(0, os.environ.get("CHECKS_BENCH_ROOT", str(REPO)))

from engine.checks import CHECK_NAMES, CheckConfig, check_scenario  # noqa: E402
from engine.classes import default_size  # noqa: E402
from engine.roadmap.procedural import IntersectionLayout, intersection_map  # noqa: E402
from engine.scenario.io import from_document, to_document  # noqa: E402
from engine.scenario.model import EGO_ID, Agent, Scenario  # noqa: E402
from engine.scenario.trajectory import Trajectory  # noqa: E402

BUDGET_MS = 100.0
KEY_STEP = 0.5
BASELINE_REV = "9a98b7d"   # the checks before the issue-19 speed-ups


def _along(poly: NDArray[np.float64], s0: float, speed: float, times: NDArray[np.float64]) -> Trajectory:
    """Constant speed along a polyline (N, 2) from arc length s0; heading from the smoothed path."""
    seg = np.diff(poly, axis=0)
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(seg[:, 0], seg[:, 1]))])
    s = s0 + speed * times
    if s[-1] > cum[-1]:
        raise ValueError(f"path of {cum[-1]:.0f} m too short for {s[-1]:.0f} m")
    fine = np.arange(0.0, cum[-1], 0.25)
    fx, fy = np.interp(fine, cum, poly[:, 0]), np.interp(fine, cum, poly[:, 1])
    k = np.ones(9) / 9
    sx, sy = np.convolve(fx, k, "same"), np.convolve(fy, k, "same")
    sx[:4], sy[:4], sx[-4:], sy[-4:] = fx[:4], fy[:4], fx[-4:], fy[-4:]
    heading = np.unwrap(np.arctan2(np.gradient(sy), np.gradient(sx)))
    x, y = np.interp(s, fine, sx), np.interp(s, fine, sy)
    return Trajectory.from_arrays(times, x, y, np.interp(s, fine, heading), np.full_like(times, speed))


def _crossing(p0: ArrayLike, p1: ArrayLike, period: float, times: NDArray[np.float64], phase: float) -> Trajectory:
    """Walk from p0 to p1 and back, easing in and out at each end (speed peaks mid-way)."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    arg = np.pi * (times / period + phase)
    u = 0.5 * (1.0 - np.cos(arg))
    xy = p0 + u[:, None] * (p1 - p0)
    forward = np.sin(arg) >= 0.0
    heading = math.atan2(p1[1] - p0[1], p1[0] - p0[0])
    yaw = np.where(forward, heading, heading + math.pi)
    return Trajectory.from_arrays(times, xy[:, 0], xy[:, 1], yaw)


def build_bench_scenario(n_agents: int = 50, duration: float = 20.0, seed: int = 0) -> Scenario:
    """A busy intersection: n_agents agents plus the ego over `duration` seconds."""
    rng = np.random.default_rng(seed)
    # the main road is long enough for the through traffic to keep its spacing (constant density)
    through = n_agents - sum(int(round(f * n_agents)) for f in (0.12, 0.08, 0.16, 0.08, 0.16))
    needed = 40.0 + 28.0 * math.ceil(through / 4) + 4.0 + 12.5 * duration + 40.0
    L = IntersectionLayout(west_extent=-250.0, east_extent=max(350.0, needed - 250.0), cross_extent=250.0)
    road = intersection_map(L)
    lanes = {ln.id: ln.array for ln in road.lanes}
    times = np.round(np.arange(0.0, duration + 1e-9, KEY_STEP), 6)
    agents: list[Agent] = []

    def add(cls: str, traj: Trajectory) -> None:
        agents.append(Agent(id=f"{cls}_{len(agents) + 1}", cls=cls, size=default_size(cls), trajectory=traj))

    kinds = ["car"] * 6 + ["truck", "bus", "motorcycle"]
    plan = [("through", 0.40), ("cross", 0.12), ("turn", 0.08), ("ped", 0.16), ("bike", 0.08), ("static", 0.16)]
    counts = {k: int(round(f * n_agents)) for k, f in plan}
    counts["through"] += n_agents - sum(counts.values())
    lane_speed = {"EB_1": 12.0, "EB_2": 10.0, "WB_1": 12.5, "WB_2": 9.5, "NB_1": 8.0, "NB_2": 7.0,
                  "SB_1": 8.5, "SB_2": 7.5}
    for n in range(counts["through"]):
        lid = ("EB_1", "EB_2", "WB_1", "WB_2")[n % 4]
        add(str(rng.choice(kinds)), _along(lanes[lid], 40.0 + 28.0 * (n // 4) + rng.uniform(0, 4),
                                           lane_speed[lid], times))
    for n in range(counts["cross"]):           # on the cross road, short of the intersection
        lid = ("NB_1", "SB_1", "NB_2", "SB_2")[n % 4]
        add("car", _along(lanes[lid], 5.0 + 20.0 * (n // 4), lane_speed[lid], times))
    for n in range(counts["turn"]):            # left turns, through the oncoming traffic
        lid = ("EB_left", "WB_left", "NB_left", "SB_left")[n % 4]
        c = lanes[lid]
        d0, d1 = c[1] - c[0], c[-1] - c[-2]
        path = np.vstack([c[0] - 120.0 * d0 / np.hypot(*d0), c, c[-1] + 200.0 * d1 / np.hypot(*d1)])
        add("car", _along(path, 30.0 + 10.0 * n, 6.0, times))
    crosswalks = [c.array for c in road.ped_crossings]
    on_crosswalk = [0] * len(crosswalks)
    for n in range(counts["ped"]):
        ci = (2, 3, 2, 3, 0, 1)[n % 6]
        c = crosswalks[ci]
        e01, e03 = np.hypot(*(c[1] - c[0])), np.hypot(*(c[3] - c[0]))
        a, b = ((c[0] + c[1]) / 2, (c[3] + c[2]) / 2) if e01 < e03 else ((c[0] + c[3]) / 2, (c[1] + c[2]) / 2)
        a, b = a - (b - a) * 0.25, b + (b - a) * 0.25
        side = np.array([-(b - a)[1], (b - a)[0]]) / np.hypot(*(b - a))
        lane_offset = (-0.9, 0.9, 0.0, -0.45, 0.45)[on_crosswalk[ci] % 5] * side   # walkers on one crosswalk keep apart
        on_crosswalk[ci] += 1
        a, b = a + lane_offset, b + lane_offset
        add("pedestrian", _crossing(a, b, 14.0 + 4.0 * rng.uniform(), times, phase=rng.uniform(0, 2)))
    for n in range(counts["bike"]):
        lid = ("EB_2", "WB_2")[n % 2]
        add("bicycle", _along(lanes[lid], 2.0 + 9.0 * n, 5.0, times))
    for n in range(counts["static"]):
        kind = ("traffic_cone", "barrier")[n % 2]
        x = -220.0 + 25.0 * n
        y = -(L.half_width + 1.5) if n % 2 else L.half_width + 1.5
        add(kind, Trajectory.static(x, y, 0.0))
    ego = Agent(id=EGO_ID, cls="car", size=default_size("car"), trajectory=_along(lanes["EB_1"], 10.0, 11.0, times))
    return Scenario(name=f"bench_{n_agents}_agents_{duration:g}s", fps=12.0, duration=duration, ego=ego,
                    agents=tuple(agents[:n_agents]), map=road)


def _timed(fn: Callable[[], object], runs: int) -> tuple[float, float, float]:
    """(median wall ms, min wall ms, median CPU ms of this process) over `runs` calls."""
    wall, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - c) * 1e3)
        wall.append((time.perf_counter() - t) * 1e3)
    return statistics.median(wall), min(wall), statistics.median(cpu)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--agents", type=int, default=50)
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--grid", action="store_true",
                    help="time check_scenario (warm) at 10/50/100/200 agents x 3/10/20 s, against the baseline")
    ap.add_argument("--baseline", default=BASELINE_REV, help="git revision of the baseline implementation (--grid)")
    ap.add_argument("--grid-agents", default="10,50,100,200", help="agent counts of the grid, comma-separated (--grid)")
    ap.add_argument("--grid-durations", default="3,10,20", help="clip lengths (s) of the grid, comma-separated (--grid)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker()
    if args.grid:
        return grid(args.runs, args.baseline, tuple(int(v) for v in args.grid_agents.split(",")),
                    tuple(float(v) for v in args.grid_durations.split(",")))
    scenario = build_bench_scenario(args.agents, args.duration)
    doc = to_document(scenario)
    report = check_scenario(scenario)  # warm-up (imports, map caches)
    print(f"scenario: {scenario.name}: {len(scenario.agents)} agents + ego, {scenario.num_frames} frames "
          f"at {scenario.fps:g} Hz; findings: {report.counts()}")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (wall times grow with the load; "
          f"CPU time is this process's own work)")
    rows = [("check_scenario (warm)", *_timed(lambda: check_scenario(scenario), args.runs))]
    it = iter([from_document(doc) for _ in range(args.runs)])
    rows.append(("check_scenario (cold)", *_timed(lambda: check_scenario(next(it)), args.runs)))
    for name in CHECK_NAMES:
        cfg = CheckConfig().with_checks(name)
        rows.append((f"  only {name}", *_timed(lambda: check_scenario(scenario, cfg), args.runs)))
    cfg = CheckConfig().with_checks()
    rows.append(("  sampling + intents only", *_timed(lambda: check_scenario(scenario, cfg), args.runs)))
    print(f"\n{'case':28s} {'median ms':>10s} {'min ms':>8s} {'median CPU ms':>14s} {'median / 100 ms':>16s}")
    for name, med, lo, cpu in rows:
        print(f"{name:28s} {med:10.1f} {lo:8.1f} {cpu:14.1f} {med / BUDGET_MS:16.2f}")
    print(f"\nmedian of {args.runs} runs; ratio = median wall time / {BUDGET_MS:g} ms budget (the issue names no "
          "baseline); 'only X' rows include the sampling")
    return 0


def worker() -> int:
    """Grid worker: per stdin line "agents duration", one warm `check_scenario` run; prints wall and CPU ms as JSON."""
    cache: dict[tuple[int, float], Scenario] = {}
    for line in sys.stdin:
        n, d = int(line.split()[0]), float(line.split()[1])
        if (n, d) not in cache:
            cache.clear()
            cache[n, d] = build_bench_scenario(n, d)
            check_scenario(cache[n, d])   # warm-up: imports, interpolants, map caches
        s = cache[n, d]
        t, c = time.perf_counter(), time.process_time()
        check_scenario(s)
        cpu, wall = (time.process_time() - c) * 1e3, (time.perf_counter() - t) * 1e3
        print(json.dumps({"wall": wall, "cpu": cpu, "cells": (len(s.agents) + 1) * s.num_frames}), flush=True)
    return 0


def _export(rev: str, into: Path) -> None:
    """engine/ and resources/ of git revision `rev` into the folder `into` (read-only on the repository)."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "engine", "resources"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)


def _exponent(cells: dict[tuple[int, float], dict[str, float]], key: str, min_agents: int = 0) -> float:
    ks = [k for k in cells if k[0] >= min_agents]
    return float(np.polyfit(np.log([cells[k]["cells"] for k in ks]), np.log([cells[k][key] for k in ks]), 1)[0])


def grid(runs: int, baseline: str, agents: tuple[int, ...] = (10, 50, 100, 200),
         durations: tuple[float, ...] = (3.0, 10.0, 20.0)) -> int:
    """Warm check_scenario over agents x durations, this tree against `baseline`, runs alternating."""
    with tempfile.TemporaryDirectory(prefix="bench_checks_baseline_") as tmp:
        _export(baseline, Path(tmp))
        procs = {}
        for name, root in (("baseline", tmp), ("current", str(REPO))):
            env = dict(os.environ, CHECKS_BENCH_ROOT=root)
            procs[name] = subprocess.Popen([sys.executable, __file__, "--worker"], stdin=subprocess.PIPE,
                                           stdout=subprocess.PIPE, text=True, env=env, cwd=root)
        cells: dict[str, dict[tuple[int, float], dict[str, float]]] = {"baseline": {}, "current": {}}
        try:
            for d in durations:
                for n in agents:
                    got: dict[str, dict[str, list[float]]] = {k: {"wall": [], "cpu": []} for k in procs}
                    size = 0.0
                    for _ in range(runs):
                        for name, proc in procs.items():
                            assert proc.stdin is not None and proc.stdout is not None
                            proc.stdin.write(f"{n} {d}\n")
                            proc.stdin.flush()
                            r = json.loads(proc.stdout.readline())
                            got[name]["wall"].append(r["wall"])
                            got[name]["cpu"].append(r["cpu"])
                            size = r["cells"]
                    for name in procs:
                        cells[name][n, d] = {"wall": statistics.median(got[name]["wall"]),
                                             "cpu": statistics.median(got[name]["cpu"]), "cells": size}
        finally:
            for proc in procs.values():
                if proc.stdin is not None:
                    proc.stdin.close()
                proc.wait()
    cur, base = cells["current"], cells["baseline"]
    print(f"check_scenario (warm), median of {runs} runs per cell, current vs baseline {baseline} alternating "
          f"in the same run; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    for key in ("wall", "cpu"):
        print(f"\n{key} ms: current (baseline) ratio")
        print(f"{'agents':>7s} " + " ".join(f"{f'{d:g} s':>24s}" for d in durations))
        for n in agents:
            print(f"{n:7d} " + " ".join(f"{cur[n, d][key]:7.1f} ({base[n, d][key]:7.1f}) {cur[n, d][key] / base[n, d][key]:5.2f}"
                                        for d in durations))
    if len(cur) < 2 or len(agents) < 2:       # a single cell or a single agent count: no exponents
        m1 = (max(agents), max(durations))
        print(f"{m1[0]} agents x {m1[1]:g} s: {cur[m1]['wall']:.1f} ms wall ({cur[m1]['cpu']:.1f} ms CPU), baseline "
              f"{base[m1]['wall']:.1f} ms ({base[m1]['cpu']:.1f} ms CPU), ratio {cur[m1]['wall'] / base[m1]['wall']:.2f}")
        return 0
    for key in ("wall", "cpu"):
        print(f"growth exponent ({key}), time ~ (agents x frames)^b: current b = {_exponent(cur, key):.2f} over all "
              f"cells, {_exponent(cur, key, 50):.2f} over >= 50 agents; baseline {_exponent(base, key):.2f}, "
              f"{_exponent(base, key, 50):.2f}")
    n0, n1, dmax = agents[-2], agents[-1], max(durations)
    for key in ("wall", "cpu"):
        def slope(c: dict[tuple[int, float], dict[str, float]]) -> float:
            return math.log(c[n1, dmax][key] / c[n0, dmax][key]) / math.log(n1 / n0)
        print(f"exponent in agents alone ({key}, {dmax:g} s, {n0} -> {n1} agents): current {slope(cur):.2f}, "
              f"baseline {slope(base):.2f}")
    m = (max(agents), max(durations))
    print(f"{m[0]} agents x {m[1]:g} s: {cur[m]['wall']:.1f} ms wall ({cur[m]['cpu']:.1f} ms CPU), baseline "
          f"{base[m]['wall']:.1f} ms ({base[m]['cpu']:.1f} ms CPU), ratio {cur[m]['wall'] / base[m]['wall']:.2f}; "
          f"budget {BUDGET_MS:g} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
