"""`check FILE`: run the scenario checks and print the findings (optionally write them as JSON)."""
from __future__ import annotations

import argparse
import sys
TYPE_CHECKING = False       # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from engine.checks import CheckConfig

COMMAND = "check"
HELP = ("check a scenario for collisions, near misses, off-road, wrong-way and infeasible motion; "
        "exit 0 without errors, 1 with errors, 2 for an invalid file")
ORDER = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="scenario JSON file")
    parser.add_argument("--json", metavar="OUT", help="also write the report as JSON to OUT (atomically)")
    parser.add_argument("--level", choices=("info", "warning", "error"), default="info",
                        help="print findings at this severity or above (default: info); the exit code "
                             "depends on errors only")
    parser.add_argument("--config", metavar="JSON",
                        help="JSON file with check thresholds to override (keys of CheckConfig.to_dict)")


def _load_config(path: str | None) -> CheckConfig:
    from engine.checks import CheckConfig

    if path is None:
        return CheckConfig()
    import json
    from pathlib import Path

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"cannot read config {path}: {e}") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"config {path}: invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
    if not isinstance(data, dict):
        raise ValueError(f"config {path}: must be a JSON object")
    try:
        return CheckConfig.from_dict(data)
    except (TypeError, ValueError) as e:
        raise ValueError(f"config {path}: {e}") from None


def run(args: argparse.Namespace) -> int:
    from engine.checks import Severity, check_scenario
    from engine.fileio import atomic_write_json
    from engine.scenario.errors import ScenarioFormatError
    from engine.scenario.io import load_scenario

    try:
        scenario = load_scenario(args.file)
    except ScenarioFormatError as e:
        print(str(e), file=sys.stderr)
        return 2
    try:
        config = _load_config(args.config)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    report = check_scenario(scenario, config)
    shown = report.at_least(args.level)
    for f in shown:
        where = "" if f.where is None else f"  at ({f.where[0]:.1f}, {f.where[1]:.1f})"
        print(f"{f}{where}")
    counts = report.counts()
    hidden = len(report.findings) - len(shown)
    print(f"{args.file}: {counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} info"
          + (f" ({hidden} below --level {args.level} not shown)" if hidden else "")
          + f"; {report.num_frames} frames at {report.fps:g} Hz checked")
    if args.json:
        doc = {"file": str(args.file), **report.to_dict()}
        try:
            atomic_write_json(args.json, doc)
        except OSError as e:
            print(f"error: cannot write {args.json}: {e.strerror or e}", file=sys.stderr)
            return 2
    return 1 if report.max_severity == Severity.ERROR else 0
