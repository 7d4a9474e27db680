"""Batch runs: resumable, failures isolated, local pool and Ray local mode.

Variants export tiny clips (64x36, 1 or 7 frames) so that a variant costs a second or two.
"""
from __future__ import annotations

import json
import os

import pytest

from engine.batch.records import BatchState
from engine.batch.runner import BatchBusyError, BatchOptions, run_batch
from engine.batch.spec import parse_spec
from engine.export.nuscenes_dataset import check_tables, load_tables

TINY = {"formats": ["nuscenes", "openscenario"], "size": [64, 36], "frames": 7, "videos": False, "guidance": False}


def _spec(delays, formats=None, frames=7, **extra):
    export = dict(TINY, frames=frames, **({"formats": formats} if formats else {}))
    return parse_spec({"name": "sweep", "base": "demo", "sweep": {"agent.car_1.delay": delays}, "export": export,
                       **extra})


def _dataset_scenes(out) -> list[dict]:
    return json.loads((out / "dataset" / "manifest.json").read_text())["scenes"]


def test_interrupted_run_resumes_without_redoing(tmp_path):
    spec = _spec([0.0, 0.2, 0.4], frames=1)
    out = tmp_path / "batch"
    seen = []

    def stop_after_two(p):
        seen.append(p.last.id)
        if len(seen) == 2:
            raise KeyboardInterrupt  # the user presses Ctrl-C after the second variant

    with pytest.raises(KeyboardInterrupt):
        run_batch(spec, out, BatchOptions(executor="inline"), stop_after_two)
    state = BatchState(out)
    first = {k: r.finished_at for k, r in state.all().items()}
    assert sorted(first) == ["v0000", "v0001"]
    report = run_batch(spec, out, BatchOptions(executor="inline"))
    assert (report.skipped, report.done, report.failed, report.pending) == (2, 1, 0, 0)
    assert {k: r.finished_at for k, r in state.all().items() if k in first} == first  # not redone
    scenes = _dataset_scenes(out)
    assert sorted(s["variant"] for s in scenes) == ["v0000", "v0001", "v0002"]
    tables = load_tables(out / "dataset")
    assert len(tables["scene"]) == 3 and check_tables(tables, out / "dataset") == []
    # nothing left to do: a third run runs nothing
    again = run_batch(spec, out, BatchOptions(executor="inline"))
    assert (again.skipped, again.done) == (3, 0)
    assert len(load_tables(out / "dataset")["scene"]) == 3
    summary = json.loads((out / "batch.json").read_text())
    assert summary["counts"] == {"done": 3}


def test_a_failing_variant_spoils_nothing_and_is_retried(tmp_path):
    spec = _spec([0.0, "soon", 0.4], formats=["openscenario"])
    out = tmp_path / "batch"
    report = run_batch(spec, out, BatchOptions(executor="inline"))
    assert (report.done, report.failed) == (2, 1)
    rec = report.records["v0001"]
    assert rec.status == "failed" and "agent.car_1.delay: expected a finite number" in rec.error
    assert "Traceback" in (out / ".batch" / "logs" / "v0001.log").read_text()
    assert sorted(p.name for p in (out / "openscenario").iterdir()) == [
        "v0000.xodr", "v0000.xosc", "v0002.xodr", "v0002.xosc"]
    # the next run retries only the failed variant (and it fails the same way)
    again = run_batch(spec, out, BatchOptions(executor="inline"))
    assert (again.skipped, again.failed, again.done) == (2, 1, 0)
    skip = run_batch(spec, out, BatchOptions(executor="inline", retry_failed=False))
    assert (skip.skipped, skip.failed, skip.done) == (3, 0, 0) and skip.pending == 1


def test_stop_after_and_a_scene_committed_before_a_crash(tmp_path):
    spec = _spec([0.0, 0.2], frames=1)
    out = tmp_path / "batch"
    report = run_batch(spec, out, BatchOptions(executor="inline", stop_after=1))
    assert (report.done, report.pending) == (1, 1)
    # the process died after committing v0000's scene but before writing its record
    (out / ".batch" / "records" / "v0000.json").unlink()
    report = run_batch(spec, out, BatchOptions(executor="inline"))
    assert report.done == 1 and report.records.keys() == {"v0001"}
    assert sorted(s["variant"] for s in _dataset_scenes(out)) == ["v0000", "v0001"]
    assert BatchState(out).load("v0000").status == "done"


def test_prompt_batch_interprets_once_and_a_failing_script_is_isolated(tmp_path):
    spec = parse_spec({"name": "p", "prompts": ["a truck cuts in from the left", "a pedestrian crosses"],
                       "seeds": [0, 1], "sweep": {"environment.weather": ["fog"]},
                       "export": {"formats": ["openscenario"]}})
    report = run_batch(spec, tmp_path / "b", BatchOptions(executor="inline"))
    assert report.done == 4 and report.ok
    assert len(list((tmp_path / "b" / ".batch" / "prompts").glob("*.json"))) == 2
    assert len(list((tmp_path / "b" / "openscenario").glob("*.xosc"))) == 4
    bad = parse_spec({"name": "s", "script": 'truck_1 = cut_in(ego, side="left", cls="truck")\n',
                      "sweep": {"cut_in.speed": [9.0, -5.0]}, "export": {"formats": ["openscenario"]}})
    report = run_batch(bad, tmp_path / "s", BatchOptions(executor="inline"))
    assert (report.done, report.failed) == (1, 1)
    err = report.records["v0001"].error   # the wording is the scenario limits' (engine/scenario/limits.py)
    assert "speed" in err and "-5.0" in err


def test_filtered_variants_are_recorded_not_exported(tmp_path):
    spec = _spec([0.0], formats=["openscenario"], filter={"contact": True})
    report = run_batch(spec, tmp_path / "b", BatchOptions(executor="inline"))
    assert report.filtered == 1 and report.done == 0
    assert not (tmp_path / "b" / "openscenario").exists()


def test_one_driver_per_folder(tmp_path):
    from filelock import FileLock

    (tmp_path / "b" / ".batch").mkdir(parents=True)
    with FileLock(str(tmp_path / "b" / ".batch" / ".lock")):
        with pytest.raises(BatchBusyError, match="another batch run"):
            run_batch(_spec([0.0]), tmp_path / "b", BatchOptions(executor="inline"))


def test_local_process_pool(tmp_path):
    spec = _spec([0.0, 0.3], formats=["openscenario"])
    report = run_batch(spec, tmp_path / "b", BatchOptions(executor="local", workers=2))
    assert report.done == 2 and report.ok
    assert str(os.getpid()) not in {r.worker.split(":")[1] for r in report.records.values()}  # ran in workers


def test_pool_of_forked_workers_exports_what_the_inline_run_exports(tmp_path, monkeypatch):
    """The pool's workers come from a fork server that imported the job's modules (`_pool_context`);
    starting it leaves this process's environment as it was, and the variants they export are the
    ones the inline run exports (same scenes, same OpenSCENARIO files)."""
    import multiprocessing

    from engine.batch import runner

    for var in runner.THREAD_VARS:
        monkeypatch.delenv(var, raising=False)
    ctx = runner._pool_context(3)
    assert ctx.get_start_method() in ("forkserver", "spawn")
    if "forkserver" in multiprocessing.get_all_start_methods():
        assert ctx.get_start_method() == "forkserver"
    assert not any(var in os.environ for var in runner.THREAD_VARS)

    spec = _spec([0.0, 0.3, 0.6], frames=1)
    pool = run_batch(spec, tmp_path / "pool", BatchOptions(executor="local", workers=2))
    inline = run_batch(spec, tmp_path / "inline", BatchOptions(executor="inline"))
    assert pool.done == inline.done == 3 and pool.ok and inline.ok
    for out in ("pool", "inline"):
        tables = load_tables(tmp_path / out / "dataset", spec.export.version)
        assert check_tables(tables, tmp_path / out / "dataset") == []
    names = lambda out: sorted(s["variant"] for s in _dataset_scenes(tmp_path / out))  # noqa: E731
    assert names("pool") == names("inline") == ["v0000", "v0001", "v0002"]
    for v in ("v0000", "v0001", "v0002"):
        assert (tmp_path / "pool" / "openscenario" / f"{v}.xosc").read_bytes().split(b"<FileHeader")[1].split(b">", 1)[1] \
            == (tmp_path / "inline" / "openscenario" / f"{v}.xosc").read_bytes().split(b"<FileHeader")[1].split(b">", 1)[1]
