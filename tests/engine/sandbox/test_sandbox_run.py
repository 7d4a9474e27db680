"""Allowed scripts run and record themselves; errors carry lines; the isolated runner gives the same
scenario and has a hard stop; the `script` command exits 2 and writes nothing when refused."""
from __future__ import annotations

import time

import pytest

from engine.sandbox import SandboxLimits, ScriptFailed, ScriptRefused, run_script, run_script_isolated
from engine.sandbox.runner import RunOptions
from engine.scenario.io import load_scenario, to_document

GOOD = '''# a work zone, a cut-in and parked cars
set_environment(time_of_day="dusk", weather="fog")
forward(ego, speed=kmh(36))
zone = work_zone(lane="right", ahead=30)
truck = cut_in(ego, side="left", cls="truck", gap=6.0)
n = 2
for i in range(n):
    parked("car", side="left", ahead=5 + 12 * i)
if truck.speed > ego.speed and len(zone) > 3:
    fast = forward("motorcycle", lane="oncoming", speed=max(8.0, abs(-12)))
else:
    slow = forward("bicycle", lane="oncoming")
x = [1, 2, 3][-1] * 2 // 3 % 5 - round(2.5)
'''


def test_good_script_builds_the_scenario_and_records_itself():
    s = run_script(GOOD, RunOptions(seed=4, prompt="dusk cut-in"))
    assert s.script == GOOD and s.prompt == "dusk cut-in" and s.seed == 4
    assert (s.environment.time_of_day, s.environment.weather) == ("dusk", "fog")
    assert s.ego.behavior == "forward" and s.ego.trajectory.speed_at(0.0) == pytest.approx(10.0, abs=0.01)
    behaviors = [a.behavior for a in s.agents]
    assert behaviors.count("parked") == 2 and "cut_in" in behaviors and "work_zone" in behaviors
    assert "motorcycle_1" in [a.id for a in s.agents]            # the if-branch ran


def test_runtime_errors_give_the_line():
    with pytest.raises(ScriptFailed) as info:
        run_script("a = forward('car')\nb = 1\nc = cut_in(ego, side='sideways')\n")
    (p,) = info.value.problems
    assert p.line == 3 and "side must be one of" in p.reason
    with pytest.raises(ScriptFailed) as info:
        run_script("x = 1\n\ny = [1, 2][5]\n")
    assert info.value.problems[0].line == 3 and "out of range" in info.value.problems[0].reason


def test_every_refusal_is_reported_not_just_the_first():
    with pytest.raises(ScriptRefused) as info:
        run_script("import os\nx = ego.__class__\nwhile True:\n    pass\n")
    assert [p.line for p in info.value.problems] == [1, 2, 3]


def test_syntax_errors_are_refusals_with_a_line():
    with pytest.raises(ScriptRefused) as info:
        run_script("forward('car'\nx = 1\n")
    assert info.value.problems[0].line >= 1 and "syntax error" in info.value.problems[0].reason


def test_isolated_run_matches_in_process_run():
    a = run_script(GOOD, RunOptions(seed=2))
    b = run_script_isolated(GOOD, RunOptions(seed=2))
    assert to_document(a) == to_document(b)


def test_isolated_run_is_killed_at_the_time_bound():
    # one C-level comparison of two 2**40-leaf nested lists never returns: only the kill stops it
    hang = "a = []\nb = []\nfor i in range(40):\n    a = [a, a]\n    b = [b, b]\nc = a == b\n"
    t0 = time.monotonic()
    with pytest.raises(ScriptFailed, match="stopped"):
        run_script_isolated(hang, RunOptions(), SandboxLimits(max_seconds=0.5))
    assert time.monotonic() - t0 < 6.0


def test_isolated_run_refuses_before_forking():
    with pytest.raises(ScriptRefused):
        run_script_isolated("import os\n")


def test_script_command(tmp_path, capsys):
    from main import main

    good = tmp_path / "good.py"
    good.write_text("cut_in(ego, side='left', cls='bus')\n")
    out = tmp_path / "out.json"
    assert main(["script", str(good), "-o", str(out), "--seed", "3"]) == 0
    s = load_scenario(out)
    assert s.seed == 3 and s.agents[0].behavior == "cut_in" and s.script.startswith("cut_in")

    bad = tmp_path / "bad.py"
    bad.write_text("x = 1\n__import__('os').remove('x')\n")
    out2 = tmp_path / "out2.json"
    assert main(["script", str(bad), "-o", str(out2)]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and "refused" in err
    assert not out2.exists()

    failing = tmp_path / "failing.py"
    failing.write_text("forward('car', ahead=5)\nforward('car', ahead=5)\n")
    assert main(["script", str(failing), "-o", str(out2)]) == 2
    assert "line 2" in capsys.readouterr().err and not out2.exists()
    assert main(["script", str(tmp_path / "missing.py"), "-o", str(out2)]) == 2
