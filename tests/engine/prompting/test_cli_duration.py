"""`prompt --duration`, "for N seconds" in the prompt, `script --duration`: any clip length 1-60 s;
out-of-range lengths exit 2 with a message and write nothing."""
from __future__ import annotations

from engine.scenario.io import load_scenario


def test_prompt_duration_flag_and_text(tmp_path, capsys):
    from main import main

    out = tmp_path / "a.json"
    assert main(["prompt", "a car cuts in from the left", "-o", str(out), "--duration", "20"]) == 0
    s = load_scenario(out)
    assert s.duration == 20.0 and s.num_frames == 240
    out2 = tmp_path / "b.json"
    assert main(["prompt", "a car cuts in from the left for 10 seconds", "-o", str(out2)]) == 0
    s2 = load_scenario(out2)
    assert s2.duration == 10.0 and abs(s2.agents[0].trajectory.end_time - s2.frame_times()[-1]) < 1e-5
    err = capsys.readouterr().err
    assert "matches the prompt" in err


def test_prompt_and_script_refuse_out_of_range_durations(tmp_path, capsys):
    from main import main

    out = tmp_path / "c.json"
    assert main(["prompt", "a car cuts in", "-o", str(out), "--duration", "0.2"]) == 2
    assert "--duration must be between 1 and 60" in capsys.readouterr().err and not out.exists()
    script = tmp_path / "s.py"
    script.write_text('a = forward("car", lane="left")\nthen(a, "brake", start=12.0)\n')
    assert main(["script", str(script), "-o", str(out), "--duration", "75"]) == 2
    assert "between 1 and 60" in capsys.readouterr().err and not out.exists()
    assert main(["script", str(script), "-o", str(out), "--duration", "15"]) == 0
    s = load_scenario(out)
    assert s.duration == 15.0 and [m.function for m in s.agents[0].maneuvers] == ["forward", "brake"]
    assert s.agents[0].maneuvers[1].start == 12.0


def test_unused_words_mean_no_match(tmp_path, capsys):
    from main import main

    out = tmp_path / "d.json"
    assert main(["prompt", "a car cuts in from the left while a zebroid gallops", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "not understood" in err and "zebroid" in err and "matches the prompt" not in err
