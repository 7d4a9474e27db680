"""Batch runs through Ray's local mode: 8 variants, stopped midway and resumed without redoing."""
from __future__ import annotations

import json

import pytest

from engine.batch.records import BatchState
from engine.batch.runner import BatchOptions, run_batch
from engine.batch.spec import parse_spec
from engine.batch.variants import expand_variants

TINY = {"formats": ["nuscenes", "openscenario"], "size": [64, 36], "frames": 7, "videos": False, "guidance": False}


def _spec(delays):
    return parse_spec({"name": "sweep", "base": "demo", "sweep": {"agent.car_1.delay": delays}, "export": TINY})


def _dataset_scenes(out) -> list[dict]:
    return json.loads((out / "dataset" / "manifest.json").read_text())["scenes"]


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray")
    from engine.batch.ray_backend import init_ray

    started = init_ray("local", num_cpus=2)
    yield ray
    if started:
        ray.shutdown()


def test_ray_local_batch_of_eight_resumes(tmp_path, local_ray):
    delays = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, "soon"]
    spec = _spec(delays)
    out = tmp_path / "ray"
    first = run_batch(spec, out, BatchOptions(executor="ray", stop_after=4))  # stopped midway
    assert first.done == 4 and first.pending == 4
    done_first = {k: r.finished_at for k, r in BatchState(out).all().items()}
    second = run_batch(spec, out, BatchOptions(executor="ray"))
    assert (second.skipped, second.done, second.failed) == (4, 3, 1)
    assert "expected a finite number" in second.records["v0007"].error
    records = BatchState(out).all()
    assert {k: records[k].finished_at for k in done_first} == done_first
    workers = {r.worker for r in records.values() if r.status == "done"}
    assert all(":" in w for w in workers) and len(workers) >= 2  # ran in Ray worker processes
    scenes = _dataset_scenes(out)
    assert sorted(s["variant"] for s in scenes) == [f"v{i:04d}" for i in range(7)]
    keys = {v.id: v.key for v in expand_variants(spec)}
    assert all(s["variant_key"] == keys[s["variant"]] for s in scenes)
    from nuscenes.nuscenes import NuScenes

    nusc = NuScenes("v1.0-cornercase", str(out / "dataset"), verbose=False)
    assert len(nusc.scene) == 7 and len(nusc.sample) == 7 * 2
    assert len(list((out / "openscenario").glob("*.xosc"))) == 7
