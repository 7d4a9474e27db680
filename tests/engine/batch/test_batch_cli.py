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


def test_batch_ray_without_ray_installed_exits_2_naming_the_extra(tmp_path, capsys, monkeypatch):
    """Ray is the optional [ray] extra: its absence (simulated: `import ray` raises ImportError) is bad
    input with one line that names the fix, and nothing is run."""
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)   # `import ray` now raises ImportError
    spec, out = _write_spec(tmp_path), tmp_path / "out"
    assert main(["batch", spec, "-o", str(out), "--ray", "local"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'cornercase-studio[ray]'" in err[0] and err[0].startswith("batch --ray needs ray:")
    assert not (out / "dataset").exists() and not (out / "batch.json").exists()


def test_status_strings_in_the_files_are_unchanged(tmp_path, capsys):
    """Statuses are a StrEnum in code; the record files and batch.json keep the plain strings."""
    from engine.batch.records import BatchState, VariantRecord, VariantStatus

    spec, out = _write_spec(tmp_path, seeds=[0], sweep={}), tmp_path / "out"
    assert main(["batch", spec, "-o", str(out), "--inline", "-q"]) == 0
    capsys.readouterr()
    raw = json.loads(next((out / ".batch" / "records").glob("*.json")).read_text())
    assert raw["status"] == "done" and type(raw["status"]) is str
    summary = json.loads((out / "batch.json").read_text())
    assert [v["status"] for v in summary["variants"]] == ["done"] and summary["variants"][0]["source"] == "base"
    rec = BatchState(out).load("v0000")
    assert rec is not None and rec.status is VariantStatus.DONE and rec.status == "done"
    assert VariantRecord.from_dict({**raw, "status": "failed"}).status is VariantStatus.FAILED


def test_train_ray_without_ray_installed_exits_2_naming_the_extra(tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)
    assert main(["train", "prepare", str(tmp_path), "-o", str(tmp_path / "cache"), "--ray", "local"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'cornercase-studio[ray]'" in err[0]
    assert not (tmp_path / "cache").exists()
