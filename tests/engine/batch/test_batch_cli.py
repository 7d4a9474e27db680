"""`python main.py batch SPEC -o DIR` (in process, inline executor, OpenSCENARIO only: fast)."""
from __future__ import annotations

import json

from main import main


def _write_spec(tmp_path, **over) -> str:
    doc = {"name": "cli", "base": "demo", "seeds": [0, 1], "sweep": {"environment.weather": ["clear", "snow"]},
           "export": {"formats": ["openscenario"]}, **over}
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(doc))
    return str(path)


def test_batch_cli_runs_lists_and_resumes(tmp_path, capsys):
    spec, out = _write_spec(tmp_path), str(tmp_path / "out")
    assert main(["batch", spec, "-o", out, "--inline", "--stop-after", "3"]) == 1  # one still pending
    text = capsys.readouterr()
    assert "3 exported" in text.out and "1 still pending" in text.out
    assert "[" in text.err and "3/3" in text.err  # the progress bar
    assert main(["batch", spec, "-o", out, "--list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listing] == ["done", "done", "done", "pending"]
    assert main(["batch", spec, "-o", out, "--inline", "-q"]) == 0
    last = capsys.readouterr().out
    assert "1 exported" in last and "3 already done" in last
    summary = json.loads((tmp_path / "out" / "batch.json").read_text())
    assert summary["counts"] == {"done": 4}


def test_batch_cli_rejects_a_bad_spec(tmp_path, capsys):
    spec = _write_spec(tmp_path, sweep={"environment.weather": ["hail"]})
    assert main(["batch", spec, "-o", str(tmp_path / "out")]) == 2
    assert "'hail' is not one of" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
