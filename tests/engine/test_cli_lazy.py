"""The command line imports only the subcommand it runs: every subcommand still parses and runs."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import build_parser, subcommand_modules, subcommands

REPO = Path(__file__).resolve().parents[2]


def test_metadata_read_from_the_sources_matches_the_modules():
    """COMMAND / HELP / ORDER found without importing equal the modules' own values, in the same order."""
    infos = subcommands()
    mods = subcommand_modules()
    assert [i.command for i in infos] == [m.COMMAND for m in mods]
    assert [i.help for i in infos] == [m.HELP for m in mods]
    assert {"check", "validate", "prompt", "guidance", "generate", "export", "batch"} <= {i.command for i in infos}


def test_every_subcommand_parses_with_its_own_arguments():
    ns = build_parser().parse_args(["guidance", "x.json", "-o", "out", "--frames", "1:3", "--png"])
    assert ns.command == "guidance" and ns.frames == "1:3" and ns.png and ns._module.COMMAND == "guidance"
    ns = build_parser().parse_args(["check", "x.json"])
    assert ns._module.COMMAND == "check"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["guidance", "x.json"])     # -o is required: argparse still knows it


@pytest.mark.parametrize("command", ["check", "validate", "prompt"])
def test_help_imports_no_other_subcommand_and_no_heavy_library(command):
    code = (f"import sys, json; sys.argv = ['main.py', {command!r}, '--help']\n"
            "import main\n"
            "try:\n    main.main()\nexcept SystemExit:\n    pass\n"
            "print(json.dumps(sorted(m for m in sys.modules)))")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    loaded = set(json.loads(r.stdout.strip().splitlines()[-1]))
    others = {f"engine.cli.{c.module.rsplit('.', 1)[1]}" for c in subcommands() if c.command != command}
    assert not (loaded & others), sorted(loaded & others)
    for heavy in ("scipy", "torch", "cv2", "moderngl", "trimesh", "shapely", "pydantic", "PySide6"):
        assert heavy not in loaded, heavy
