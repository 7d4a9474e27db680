"""Sandbox overhead per script: checking + evaluating a script vs. making the same library calls
directly from Python (the baseline), measured in the same run. Prints a table of medians.

    python benchmarks/bench_sandbox.py [--repeat 7]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.library import ScenarioBuilder, bind_library  # noqa: E402
from engine.sandbox import run_script  # noqa: E402
from engine.sandbox.checker import check_script  # noqa: E402

CASES = {
    "one cut-in": (
        'cut_in(ego, side="left", cls="truck")\n',
        lambda L, ego: L["cut_in"](ego, side="left", cls="truck"),
    ),
    "five agents": (
        'set_environment(time_of_day="night")\nforward(ego, speed=10.0)\ncut_in(ego, side="left")\n'
        'forward("bus", lane="oncoming")\nparked("car", side="right", count=2)\npedestrian_crossing()\n',
        lambda L, ego: (L["set_environment"](time_of_day="night"), L["forward"](ego, speed=10.0),
                        L["cut_in"](ego, side="left"), L["forward"]("bus", lane="oncoming"),
                        L["parked"]("car", side="right", count=2), L["pedestrian_crossing"]()),
    ),
    "loop of 10 cars": (
        'for i in range(10):\n    forward("car", lane="left", ahead=10 + 12 * i)\n',
        lambda L, ego: [L["forward"]("car", lane="left", ahead=10 + 12 * i) for i in range(10)],
    ),
}


def _direct(fn) -> None:
    b = ScenarioBuilder(seed=0)
    fn(bind_library(b), b.ego)
    b.build()


def _median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _paired(a, b, repeat: int) -> tuple[float, float]:
    """Medians of a() and b(), run alternately so that machine load hits both alike."""
    ta, tb = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        a()
        t1 = time.perf_counter()
        b()
        t2 = time.perf_counter()
        ta.append(t1 - t0)
        tb.append(t2 - t1)
    return statistics.median(ta), statistics.median(tb)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args(argv)
    for script, fn in CASES.values():          # warm up imports and caches
        run_script(script)
        _direct(fn)
    print(f"{'script':<18}{'check ms':>10}{'sandboxed ms':>14}{'direct ms':>11}{'overhead ms':>13}{'ratio':>8}")
    for name, (script, fn) in CASES.items():
        t_check = _median(lambda: check_script(script), args.repeat)
        t_box, t_dir = _paired(lambda: run_script(script), lambda: _direct(fn), args.repeat)
        print(f"{name:<18}{t_check * 1e3:>10.2f}{t_box * 1e3:>14.1f}{t_dir * 1e3:>11.1f}"
              f"{(t_box - t_dir) * 1e3:>13.1f}{t_box / t_dir:>8.2f}")
    print(f"(median of {args.repeat} runs; baseline 'direct' = the same library calls from Python, no sandbox)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
