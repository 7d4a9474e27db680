"""`script FILE.py -o OUT.json`: run a library script in the sandbox and write the scenario."""
from __future__ import annotations

import argparse
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
    parser.add_argument("--duration", type=float, default=2.75, help="clip length in seconds (default 2.75)")
    parser.add_argument("--fps", type=float, default=12.0, help="frame rate (default 12)")
    parser.add_argument("--prompt", default=None, help="the prompt the script was written for (recorded)")


def run(args: argparse.Namespace) -> int:
    from engine.sandbox.errors import ScriptError
    from engine.sandbox.runner import RunOptions, run_script_isolated
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
    options = RunOptions(seed=args.seed, fps=args.fps, duration=args.duration, name=path.stem, prompt=args.prompt)
    try:
        scenario = run_script_isolated(source, options)
    except ScriptError as e:
        print(f"{path}: {e}", file=sys.stderr)
        return 2
    save_scenario(scenario, args.output)
    print(f"wrote {args.output}: {len(scenario.agents)} agents from {path}")
    return 0
