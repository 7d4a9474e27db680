"""Naive backend speed per environment in wall time and in CPU time (robust on a loaded machine).

    python benchmarks/bench_naive.py [--runs 5] [--frames 12] [--size 448x256]

Same setup as `bench_worldmodel.py --only naive`: the demo's conditions rendered once per time of day,
then the naive backend timed per environment (median of the runs). Columns: wall ms per six-camera
frame and fps; CPU ms per frame of this process (all threads) and the fps that CPU time allows on
one core of its own (1000 / CPU ms: a floor for an unloaded machine, where wall time on an idle core
cannot exceed the CPU time the work needs). The renderer rows give the same for the maps the naive
backend asks for (`frames_with_maps`). "e2e wall fps" is measured: per environment, `generate_clip` on
the scenario's rendered conditions, every demo frame (the backend asks the renderer for its maps frame
by frame, as `generate` runs it); "e2e CPU fps" adds the two CPU figures (a floor for one core).
Goal: >= 24 six-camera fps.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

ENVIRONMENTS = (("day", "clear"), ("dusk", "clear"), ("night", "clear"), ("day", "rain"), ("night", "rain"),
                ("day", "fog"), ("dusk", "fog"), ("night", "fog"), ("day", "snow"))
GOAL_FPS = 24.0


def _timed(fn) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--frames", type=int, default=12)
    ap.add_argument("--size", default="448x256")
    args = ap.parse_args(argv)
    size = tuple(int(v) for v in args.size.split("x"))
    from engine.demo import build_demo_scenario
    from engine.scenario.model import Environment
    from engine.worldmodel import ClipConditions, GenerationSettings, create_backend, generate_clip
    from engine.worldmodel.scenario_conditions import conditions_for_scenario, frames_with_maps

    n = args.frames
    scenario = build_demo_scenario()
    backend = create_backend("naive")
    with contextlib.ExitStack() as stack:
        subsets, cache, render = {}, {}, []
        for tod in sorted({t for t, _ in ENVIRONMENTS}):
            s = dataclasses.replace(scenario, environment=Environment(tod, "clear"))
            c = stack.enter_context(conditions_for_scenario(s, size))
            subset = subsets[tod] = frames_with_maps(c, backend.required_fields)
            cache[tod] = (c.rig, [c.frame(i) for i in range(n)])
            subset(0)
            for _ in range(max(1, args.runs // 2)):
                w, cpu = _timed(lambda: [subset(i) for i in range(n)])
                render.append((w / n, cpu / n))
        r_wall = statistics.median(w for w, _ in render)
        r_cpu = statistics.median(c for _, c in render)
        rows = []
        for tod, weather in ENVIRONMENTS:
            rig, fr = cache[tod]
            env = Environment(tod, weather)
            cond = ClipConditions.from_frames(rig, fr, 12.0, env, lit_for=tod)
            generate_clip(backend, cond, GenerationSettings(seed=0))   # warm-up
            samples = [_timed(lambda: generate_clip(backend, cond, GenerationSettings(seed=r)))
                       for r in range(args.runs)]
            wall = statistics.median(w for w, _ in samples) / n
            cpu = statistics.median(c for _, c in samples) / n
            # end to end as `generate` runs it: the backend asks the renderer for its maps frame by frame
            e2e_scene = dataclasses.replace(scenario, environment=env)
            with conditions_for_scenario(e2e_scene, size) as live:
                frames_total = live.num_frames
                generate_clip(backend, live, GenerationSettings(seed=0))     # warm-up: GL set-up, static scene
                e2e = [_timed(lambda: generate_clip(backend, live, GenerationSettings(seed=r)))
                       for r in range(max(1, args.runs // 2))]
            e2e_wall = statistics.median(w for w, _ in e2e) / frames_total
            rows.append((f"{tod}/{weather}", wall, cpu, e2e_wall))
    print(f"naive backend, six cameras at {args.size}, {n} demo frames, median of {args.runs} runs; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"{'environment':14s} {'wall ms':>8s} {'wall fps':>9s} {'CPU ms':>8s} {'CPU fps':>8s} {'vs 24':>6s} "
          f"{'e2e wall fps':>13s} {'vs 24':>6s} {'e2e CPU fps':>12s} {'vs 24':>6s}")
    print(f"{'renderer maps':14s} {r_wall * 1000:8.1f} {1 / r_wall:9.1f} {r_cpu * 1000:8.1f} {1 / r_cpu:8.1f}")
    for label, wall, cpu, e2e_wall in rows:
        e2e_cpu = 1.0 / (cpu + r_cpu)
        print(f"{label:14s} {wall * 1000:8.1f} {1 / wall:9.1f} {cpu * 1000:8.1f} {1 / cpu:8.1f} "
              f"{1 / cpu / GOAL_FPS:5.2f}x {1 / e2e_wall:13.1f} {1 / e2e_wall / GOAL_FPS:5.2f}x "
              f"{e2e_cpu:12.1f} {e2e_cpu / GOAL_FPS:5.2f}x")
    worst = max(rows, key=lambda r: r[2])
    print(f"slowest environment by CPU: {worst[0]} at {1 / worst[2]:.1f} fps (backend alone, one core's worth of CPU)")
    worst_e2e = max(rows, key=lambda r: r[3])
    print(f"slowest end to end (maps rendered + clip generated, wall): {worst_e2e[0]} at {1 / worst_e2e[3]:.1f} fps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
