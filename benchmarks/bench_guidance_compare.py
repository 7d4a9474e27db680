"""Full and drag guidance updates: this tree against a previous implementation's tree, interleaved.

    git archive <commit> engine | tar -x -C /tmp/prev && ln -s $PWD/resources /tmp/prev/resources
    python benchmarks/bench_guidance_compare.py --previous /tmp/prev [--rounds 3] [--runs 7]

Each round runs `bench_guidance.py --json` once with the previous tree first on sys.path and once
with this tree (fresh processes, alternating, so that machine load hits both alike); the pyrender
baseline is measured in the same processes. Prints medians over every run of every round and ratios.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _run(root: Path, runs: int, agents: int, size: str) -> dict:
    code = (f"import sys; sys.path.insert(0, {str(root)!r}); sys.argv = ['bench_guidance', '--json', '--runs', "
            f"'{runs}', '--agents', '{agents}', '--size', {size!r}]; "
            f"import runpy; runpy.run_path({str(root / 'benchmarks' / 'bench_guidance.py')!r}, run_name='__main__')")
    env = dict(os.environ, PYTHONPATH=str(root), PYOPENGL_PLATFORM="egl", MPLBACKEND="Agg")
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--previous", required=True, help="root of the previous implementation's tree")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--agents", type=int, default=20)
    p.add_argument("--size", default="448x256")
    args = p.parse_args(argv)
    prev, cur = Path(args.previous).resolve(), REPO
    acc = {(lab, kind): {} for lab in ("previous", "current") for kind in ("wall", "cpu")}
    for _ in range(args.rounds):
        for label, root in (("previous", prev), ("current", cur)):
            res = _run(root, args.runs, args.agents, args.size)
            for kind in ("wall", "cpu"):
                for k, v in res[kind].items():
                    acc[label, kind].setdefault(k, []).extend(v)
    print(f"guidance updates, {args.agents} agents, 6 cameras at {args.size}: median ms over {args.rounds} rounds x "
          f"{args.runs} runs, wall and CPU (this process, all threads) (load average {os.getloadavg()[0]:.2f})")
    print(f"{'measurement':34s} {'kind':>4s} {'previous':>9s} {'current':>9s} {'speed-up':>9s} {'vs pyrender':>12s}")
    for kind in ("wall", "cpu"):
        base = statistics.median(acc["previous", kind].get("baseline", []) + acc["current", kind].get("baseline", []))
        print(f"{'pyrender baseline (both trees)':34s} {kind:>4s} {base:9.1f} {base:9.1f} {'':>9s} {'1.0x':>12s}")
        for key, label in (("full", "full update (all maps)"), ("drag", "one-agent drag update"),
                           ("colorize", "colourise one map, 6 cameras")):
            a, b = statistics.median(acc["previous", kind][key]), statistics.median(acc["current", kind][key])
            print(f"{label:34s} {kind:>4s} {a:9.1f} {b:9.1f} {a / b:8.2f}x {base / b:11.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
