"""`python main.py check`: exit 0 without errors, 1 with errors, 2 for an invalid file; JSON output."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from engine.paths import DEMO_SCENARIO
from engine.scenario.io import save_scenario

REPO = Path(__file__).resolve().parents[3]


def _check(*args, capsys=None):
    """Run the `check` subcommand in this process (fast: without importing the other subcommands);
    returns an object like CompletedProcess."""
    import argparse
    from types import SimpleNamespace

    from engine.cli import check

    parser = argparse.ArgumentParser()
    check.add_arguments(parser)
    code = check.run(parser.parse_args([str(a) for a in args]))
    out = capsys.readouterr()
    return SimpleNamespace(returncode=code, stdout=out.out, stderr=out.err)


def test_demo_exits_0_and_writes_json(tmp_path):
    # the real entry point, once, in a subprocess
    out = tmp_path / "sub" / "report.json"
    r = subprocess.run([sys.executable, "main.py", "check", str(DEMO_SCENARIO), "--json", str(out)], cwd=REPO,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "0 error(s)" in r.stdout
    doc = json.loads(out.read_text())
    assert doc["file"] == str(DEMO_SCENARIO) and doc["counts"]["error"] == 0
    assert isinstance(doc["findings"], list) and "summary" in doc


def test_collision_exits_1_and_level_filters_the_listing(tmp_path, head_on, capsys):
    p = tmp_path / "head_on.json"
    save_scenario(head_on, p)
    r = _check(p, capsys=capsys)
    assert r.returncode == 1
    assert "collision" in r.stdout and "wrong_way" in r.stdout and "ERROR" in r.stdout
    r = _check(p, "--level", "error", capsys=capsys)
    assert r.returncode == 1
    assert "collision" in r.stdout and "wrong_way" not in r.stdout and "not shown" in r.stdout


def test_invalid_files_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format_version": 1, "name": ')
    r = _check(bad, capsys=capsys)
    assert r.returncode == 2 and "invalid JSON" in r.stderr and "Traceback" not in r.stderr
    r = _check(tmp_path / "missing.json", capsys=capsys)
    assert r.returncode == 2 and "not found" in r.stderr


def test_bad_config_and_unwritable_output_exit_2(tmp_path, capsys):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"ttc": 2.0}))
    r = _check(DEMO_SCENARIO, "--config", cfg, capsys=capsys)
    assert r.returncode == 2 and "unknown config key(s) ttc" in r.stderr
    cfg.write_text(json.dumps({"ttc_warning": 1.0}))
    r = _check(DEMO_SCENARIO, "--config", cfg, capsys=capsys)
    assert r.returncode == 0 and "near_miss" not in r.stdout          # the demo's 1.44 s TTC is above 1 s
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = _check(DEMO_SCENARIO, "--json", blocker / "out.json", capsys=capsys)
    assert r.returncode == 2 and "cannot write" in r.stderr
