"""`python main.py validate`: exit 0 and a summary for a valid file, exit 2 and every problem otherwise."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.paths import DEMO_SCENARIO

REPO = Path(__file__).resolve().parents[2]


def _validate(path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", "validate", str(path)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def test_demo_is_valid():
    r = _validate(DEMO_SCENARIO)
    assert r.returncode == 0, r.stderr
    assert "valid scenario" in r.stdout and len(r.stdout.strip().splitlines()) == 1


@pytest.mark.parametrize("mutation, expected", [
    (lambda d: d["agents"][0]["trajectory"].__setitem__(3, {**d["agents"][0]["trajectory"][3], "t": 0.0}), "agents[0].trajectory[3].t"),
    (lambda d: d["agents"][1].__setitem__("class", "zeppelin"), "agents[1].class"),
    (lambda d: d["agents"][2]["size"].__setitem__(0, -1.0), "agents[2].size[0]"),
])
def test_invalid_files_exit_2_naming_the_path(tmp_path, mutation, expected):
    doc = json.loads(DEMO_SCENARIO.read_text())
    mutation(doc)
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(doc))
    r = _validate(p)
    assert r.returncode == 2
    assert expected in r.stderr
    assert "Traceback" not in r.stderr


def test_invalid_json_and_missing_file_exit_2(tmp_path):
    p = tmp_path / "broken.json"
    p.write_text('{"format_version": 1, "name": ')
    r = _validate(p)
    assert r.returncode == 2 and "invalid JSON" in r.stderr and "Traceback" not in r.stderr
    r = _validate(tmp_path / "missing.json")
    assert r.returncode == 2 and "not found" in r.stderr


def test_help_lists_subcommands():
    r = subprocess.run([sys.executable, "main.py", "--help"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    assert "validate" in r.stdout and "open" in r.stdout
