"""Time `check_scenario` on a 20 s scenario with 50 agents (plus the ego) at 12 Hz.

    python benchmarks/bench_checks.py [--runs 15] [--agents 50] [--duration 20]

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
import math
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.checks import CHECK_NAMES, CheckConfig, check_scenario  # noqa: E402
from engine.classes import default_size  # noqa: E402
from engine.roadmap.procedural import IntersectionLayout, intersection_map  # noqa: E402
from engine.scenario.io import from_document, to_document  # noqa: E402
from engine.scenario.model import EGO_ID, Agent, Scenario  # noqa: E402
from engine.scenario.trajectory import Trajectory  # noqa: E402

BUDGET_MS = 100.0
KEY_STEP = 0.5


def _along(poly: np.ndarray, s0: float, speed: float, times: np.ndarray) -> Trajectory:
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


def _crossing(p0, p1, period: float, times: np.ndarray, phase: float) -> Trajectory:
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


def _timed(fn, runs: int) -> tuple[float, float, float]:
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
                    help="time check_scenario (warm) at 10/50/100/200 agents x 3/10/20 s and fit the growth exponent")
    args = ap.parse_args(argv)
    if args.grid:
        return grid(args.runs)
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


def grid(runs: int, agents=(10, 50, 100, 200), durations=(3.0, 10.0, 20.0)) -> int:
    """Warm check_scenario over agents x durations; exponent b of time ~ (agents x frames)^b (least squares)."""
    cells = {}
    for d in durations:
        for n in agents:
            s = build_bench_scenario(n, d)
            check_scenario(s)   # warm-up
            med, lo, cpu = _timed(lambda: check_scenario(s), runs)
            cells[n, d] = (med, cpu, (len(s.agents) + 1) * s.num_frames)
    print(f"check_scenario (warm), median wall ms (median CPU ms) of {runs} runs; load average {os.getloadavg()[0]:.1f}")
    print(f"{'agents':>7s} " + " ".join(f"{f'{d:g} s':>18s}" for d in durations))
    for n in agents:
        print(f"{n:7d} " + " ".join(f"{cells[n, d][0]:9.1f} ({cells[n, d][1]:6.1f})" for d in durations))
    size = np.log([cells[k][2] for k in cells])
    for col, label in ((0, "wall"), (1, "CPU")):
        t = np.log([cells[k][col] for k in cells])
        b = np.polyfit(size, t, 1)[0]
        big = [k for k in cells if k[0] >= 50]   # the asymptotic part
        b_big = np.polyfit(np.log([cells[k][2] for k in big]), np.log([cells[k][col] for k in big]), 1)[0]
        print(f"growth exponent ({label}): time ~ (agents x frames)^{b:.2f} over all cells, ^{b_big:.2f} over >= 50 agents")
    m200 = cells.get((200, 20.0))
    if m200:
        print(f"200 agents x 20 s: {m200[0]:.1f} ms wall, {m200[1]:.1f} ms CPU; budget {BUDGET_MS:g} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
