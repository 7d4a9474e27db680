"""`open FILE`: open a scenario in the editor (handled by main.py, which starts the Qt app)."""
from __future__ import annotations

import argparse

COMMAND = "open"
HELP = "open a scenario file in the editor window"
ORDER = 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", help="scenario JSON file (default: the bundled demo)")


def run(args: argparse.Namespace) -> int:  # pragma: no cover - main.py intercepts `open`
    raise SystemExit("`open` needs the app; run it through main.py")
