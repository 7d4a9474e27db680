"""Median time from prompt to saved scenario with the offline interpreter, split into interpret /
sandboxed run (library + map) / save, against the baseline of running the same script straight
from a file (the `script` command's in-process path), measured in the same run.

    python benchmarks/bench_prompt.py [--repeat 5]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.prompting import OfflineInterpreter  # noqa: E402
from engine.sandbox.runner import RunOptions, run_script  # noqa: E402
from engine.scenario.io import save_scenario  # noqa: E402

PROMPTS = [
    "a truck cuts in from the left at night while a pedestrian crosses",
    "we turn left at the intersection while an oncoming car goes straight",
    "a kid runs out between parked cars in the rain",
    "roadworks in the right lane and a van merges in front of us",
    "two cars ahead, a bus coming the other way and three parked cars on the right",
    "a motorbike overtakes us on the left at 80 km/h",
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    out = Path(tempfile.mkdtemp()) / "bench.json"
    interp = OfflineInterpreter()
    for p in PROMPTS:                                     # warm up
        save_scenario(run_script(interp.interpret(p).script), out)
    print(f"{'prompt':<46}{'interp ms':>10}{'run ms':>9}{'save ms':>9}{'total ms':>10}{'script-only ms':>16}{'ratio':>7}")
    totals = []
    for p in PROMPTS:
        rows = []
        base = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            it = interp.interpret(p)
            t1 = time.perf_counter()
            s = run_script(it.script, RunOptions(prompt=p))
            t2 = time.perf_counter()
            save_scenario(s, out)
            t3 = time.perf_counter()
            rows.append((t1 - t0, t2 - t1, t3 - t2, t3 - t0))
            b0 = time.perf_counter()
            save_scenario(run_script(it.script, RunOptions(prompt=p)), out)
            base.append(time.perf_counter() - b0)
        med = [statistics.median(r[i] for r in rows) * 1e3 for i in range(4)]
        b = statistics.median(base) * 1e3
        totals.append(med[3])
        print(f"{p[:45]:<46}{med[0]:>10.2f}{med[1]:>9.1f}{med[2]:>9.1f}{med[3]:>10.1f}{b:>16.1f}{med[3] / b:>7.2f}")
    print(f"median over prompts: {statistics.median(totals):.1f} ms from prompt to saved scenario "
          f"(median of {args.repeat} runs each; baseline: the same script run and saved without interpretation)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
