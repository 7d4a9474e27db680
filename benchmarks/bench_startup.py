"""Start-up time of each subcommand: `python main.py SUB --help` and a real small run, lazy vs. eager CLI.

    python benchmarks/bench_startup.py [--runs 7] [--baseline DIR] [--only check,batch]

Rows (median wall and CPU seconds of fresh processes, interleaved so that machine load hits both alike):
    eager   the previous start-up: every subcommand module imported to build the parser
            (`engine.cli.subcommand_modules()` before `main.main(...)`)
    lazy    `python main.py ...` now: subcommand metadata read from the sources, only the chosen
            subcommand's module imported
Real small runs: `validate` and `check` on the bundled demo scenario, `prompt` with the offline
interpreter (one sentence, written to a temporary file). Python's own start-up (`python -c pass`)
is printed for reference. `--baseline DIR` (a checkout of an earlier commit, e.g. from `git archive`)
adds its `python DIR/main.py ...` as a third row set, interleaved with the others: before / after.
`--only` keeps the cases whose label starts with one of the given words.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

EAGER = ("import sys; sys.path.insert(0, {repo!r}); from engine.cli import subcommand_modules; "
         "subcommand_modules(); import main; sys.exit(main.main({argv!r}))")


def _time(cmd: list[str], env: dict[str, str], cwd: Path = REPO) -> tuple[float, float]:
    """(wall s, CPU s user + system) of one fresh process (CPU time from wait4: robust on a loaded machine)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode not in (0, 1):   # check exits 1 when it has findings
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}")
    return dt, usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--baseline", type=Path, default=None, help="an earlier checkout to compare `lazy` against")
    p.add_argument("--only", default="", help="comma-separated label prefixes (default: every case)")
    args = p.parse_args(argv)
    from engine.cli import subcommands
    from engine.paths import DEMO_SCENARIO

    env = dict(os.environ, MPLBACKEND="Agg", PYOPENGL_PLATFORM="egl")
    py = sys.executable
    tmp = Path(tempfile.mkdtemp(prefix="bench_startup_"))
    cases: list[tuple[str, list[str]]] = [(f"{s.command} --help", [s.command, "--help"]) for s in subcommands()]
    cases += [
        ("validate demo", ["validate", str(DEMO_SCENARIO)]),
        ("check demo", ["check", str(DEMO_SCENARIO)]),
        ("prompt (offline)", ["prompt", "a truck cuts in from the left at night", "-o", str(tmp / "p.json")]),
    ]
    if args.only:
        cases = [c for c in cases if c[0].startswith(tuple(w.strip() for w in args.only.split(",") if w.strip()))]
    bare = [_time([py, "-c", "pass"], env) for _ in range(args.runs)]
    rows = []
    base_rows = []
    for label, argv_ in cases:
        eager: list[tuple[float, float]] = []
        lazy: list[tuple[float, float]] = []
        base: list[tuple[float, float]] = []
        for _ in range(args.runs):
            eager.append(_time([py, "-c", EAGER.format(repo=str(REPO), argv=argv_)], env))
            lazy.append(_time([py, "main.py", *argv_], env))
            if args.baseline is not None:
                base.append(_time([py, str(args.baseline / "main.py"), *argv_], env, cwd=args.baseline))
        rows.append((label, *(statistics.median(x[i] for x in runs) for runs in (eager, lazy) for i in (0, 1))))
        if base:
            base_rows.append((label, *(statistics.median(x[i] for x in runs) for runs in (base, lazy) for i in (0, 1))))
    print(f"start-up, median of {args.runs} fresh processes (python -c pass: {statistics.median(w for w, _ in bare):.3f} s "
          f"wall, {statistics.median(c for _, c in bare):.3f} s CPU; load average {os.getloadavg()[0]:.2f})")
    print("wall time grows with the machine's load; CPU time (user + system of the process) does much less")
    print(f"{'command':24s} {'eager wall':>10s} {'lazy wall':>10s} {'eager CPU':>10s} {'lazy CPU':>9s} {'CPU speed-up':>13s} "
          f"{'lazy CPU < 0.5 s':>17s}")
    for label, ew, ec, lw, lc in rows:
        print(f"{label:24s} {ew:10.3f} {lw:10.3f} {ec:10.3f} {lc:9.3f} {ec / lc:12.1f}x {'yes' if lc < 0.5 else 'no':>17s}")
    if base_rows:
        print(f"\nbefore = {args.baseline}/main.py, after = this checkout's main.py (same runs, interleaved)")
        print(f"{'command':24s} {'before wall':>11s} {'after wall':>10s} {'before CPU':>10s} {'after CPU':>9s} {'after/before CPU':>17s}")
        for label, bw, bc, aw, ac in base_rows:
            print(f"{label:24s} {bw:11.3f} {aw:10.3f} {bc:10.3f} {ac:9.3f} {ac / bc:16.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
