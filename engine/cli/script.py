"""`script FILE.py -o OUT.json`: run a library script in the sandbox and write the scenario."""
from __future__ import annotations

import argparse
from dataclasses import replace
import sys
from pathlib import Path

COMMAND = "script"
HELP = "run a scenario script in the sandbox and write the scenario (exit 2, nothing written, if refused)"
ORDER = 21
MAX_BYTES = 1_000_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="the script (a small Python subset calling the trajectory library)")
    parser.add_argument("-o", "--output", required=True, help="scenario JSON file to write")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--duration", type=float, default=2.75, help="clip length in seconds, 1 to 60 (default 2.75)")
    parser.add_argument("--fps", type=float, default=12.0, help="frame rate (default 12)")
    parser.add_argument("--prompt", default=None, help="the prompt the script was written for (recorded)")
    parser.add_argument("--time-limit", type=float, default=None,
                        help="seconds the script may run (default 10; its process is killed 1 s later)")


def run(args: argparse.Namespace) -> int:
    from engine.sandbox.errors import ScriptError
    from engine.sandbox.executor import run_bounded
    from engine.sandbox.policy import SandboxLimits
    from engine.sandbox.runner import RunOptions
    from engine.fileio import write_error_message
    from engine.scenario.io import save_scenario

    path = Path(args.file)
    try:
        if path.stat().st_size > MAX_BYTES:
            print(f"error: {path} is larger than {MAX_BYTES} bytes; not a scenario script", file=sys.stderr)
            return 2
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        print(f"error: cannot read {path}: {getattr(e, 'strerror', None) or e}", file=sys.stderr)
        return 2
    if args.seed < 0:
        print("error: --seed must be 0 or more", file=sys.stderr)
        return 2
    if not 1.0 <= args.duration <= 60.0:
        print(f"error: --duration must be between 1 and 60 seconds (got {args.duration:g})", file=sys.stderr)
        return 2
    limits = SandboxLimits()
    if args.time_limit is not None:
        if not (0 < args.time_limit <= 600):
            print("error: --time-limit must be in (0, 600] seconds", file=sys.stderr)
            return 2
        limits = replace(limits, max_seconds=args.time_limit)
    options = RunOptions(seed=args.seed, fps=args.fps, duration=args.duration, name=path.stem, prompt=args.prompt)
    try:
        scenario = run_bounded(source, options, limits)
    except ScriptError as e:
        print(f"{path}: {e}", file=sys.stderr)
        return 2
    try:
        save_scenario(scenario, args.output)
    except OSError as e:
        print(f"error: {write_error_message(args.output, e)}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}: {len(scenario.agents)} agents from {path}")
    return 0
