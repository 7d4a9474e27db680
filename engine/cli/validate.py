"""`validate FILE`: check a scenario file against the format and print a summary or every problem."""
from __future__ import annotations

import argparse
import sys

COMMAND = "validate"
HELP = "check a scenario file; exit 0 when valid, 2 with every problem listed otherwise"
ORDER = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="scenario JSON file")


def run(args: argparse.Namespace) -> int:
    from engine.scenario.errors import ScenarioFormatError
    from engine.scenario.io import load_scenario

    try:
        s = load_scenario(args.file)
    except ScenarioFormatError as e:
        print(str(e), file=sys.stderr)
        return 2
    classes = sorted({a.cls for a in s.agents})
    print(f"{args.file}: valid scenario '{s.name}': {len(s.agents)} agents ({', '.join(classes) or 'none'}), "
          f"{s.duration:g} s at {s.fps:g} Hz ({s.num_frames} frames), {s.environment.time_of_day}/{s.environment.weather}, "
          f"{len(s.map.lanes)} lanes, {len(s.map.ped_crossings)} crossings")
    return 0
