"""`python main.py scene`: list a dataset's scenes and write one (with an insertion) as a scenario."""
from __future__ import annotations

import argparse

from engine.cli import scene as scene_cli
from engine.scenario.io import load_scenario


def _run(**kw) -> int:
    defaults = dict(version=None, scene=None, out=None, duration=None, insert=None, speed=None)
    defaults.update(kw)
    return scene_cli.run(argparse.Namespace(**defaults))


def test_lists_scenes(nuscenes_dataset, capsys):
    assert _run(dataroot=str(nuscenes_dataset.dataroot), version=nuscenes_dataset.version) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == len(nuscenes_dataset.scenes)
    assert all(any(name in line for line in out) for name in nuscenes_dataset.scenes)


def test_writes_a_scene_with_an_inserted_agent(nuscenes_dataset, tmp_path, capsys):
    out = tmp_path / "real.json"
    name = sorted(nuscenes_dataset.scenes)[0]
    code = _run(dataroot=str(nuscenes_dataset.dataroot), version=nuscenes_dataset.version, scene=name,
                out=str(out), insert="car", speed=5.0)
    assert code == 0, capsys.readouterr().err
    s = load_scenario(out)
    assert s.source is not None and s.source.scene == name
    inserted = [a for a in s.agents if not a.locked]
    assert len(inserted) == 1 and inserted[0].cls == "car"
    assert any(a.locked for a in s.agents)


def test_bad_dataroot_and_unknown_scene_exit_2(tmp_path, nuscenes_dataset, capsys):
    assert _run(dataroot=str(tmp_path / "nowhere")) == 2
    assert _run(dataroot=str(nuscenes_dataset.dataroot), version=nuscenes_dataset.version,
                scene="scene-does-not-exist", out=str(tmp_path / "x.json")) == 2
    assert not (tmp_path / "x.json").exists()
