"""`python main.py prompt ...`: writes a valid scenario and prints the script; exit 2 and nothing
written when the script cannot run."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from engine.scenario.io import load_scenario

REPO = Path(__file__).resolve().parents[3]


def test_prompt_command_writes_scenario_and_prints_script(tmp_path, capsys):
    from main import main

    out = tmp_path / "p.json"
    assert main(["prompt", "a bus cuts in from the right in fog", "-o", str(out), "--seed", "7"]) == 0
    printed = capsys.readouterr().out
    assert 'cut_in(ego, side="right", cls="bus")' in printed
    s = load_scenario(out)
    assert s.seed == 7 and s.prompt == "a bus cuts in from the right in fog" and s.script == printed
    assert s.environment.weather == "fog" and s.agents[0].behavior == "cut_in"
    assert s.map.lanes and s.map.drivable_area


def test_prompt_command_reports_unknown_words_on_stderr(tmp_path, capsys):
    from main import main

    assert main(["prompt", "a car cuts in from the left while a zebroid gallops", "-o", str(tmp_path / "a.json")]) == 0
    assert "zebroid" in capsys.readouterr().err


def test_prompt_that_cannot_be_built_exits_2_and_writes_nothing(tmp_path, capsys):
    from main import main

    out = tmp_path / "x.json"
    assert main(["prompt", "on a narrow road a truck makes a u-turn", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "u_turn" in err and "line" in err
    assert not out.exists()


def test_prompt_command_runs_as_a_process(tmp_path):
    out = tmp_path / "proc.json"
    r = subprocess.run([sys.executable, "main.py", "prompt", "a pedestrian crosses at night", "-o", str(out)],
                       cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "pedestrian_crossing(" in r.stdout
    assert load_scenario(out).environment.time_of_day == "night"
