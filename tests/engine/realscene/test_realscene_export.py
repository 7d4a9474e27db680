"""An edited real scene exported in nuScenes format carries the original annotations plus the insertions."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from engine.realscene.backgrounds import real_conditions
from engine.realscene.proposals import propose_insertions
from engine.rig.pose import agent_present
from engine.sources import open_nuscenes_scene

VERSION = "v1.0-mini"


def test_exported_labels_hold_original_and_inserted_boxes(nuscenes_dataset, tmp_path):
    export = pytest.importorskip("engine.export.pipeline")
    from nuscenes.nuscenes import NuScenes

    from engine.worldmodel import GenerationSettings, create_backend, generate_clip

    scene = open_nuscenes_scene(nuscenes_dataset.dataroot, VERSION, "scene-0001", duration=7 / 12)
    inserted = [p.agent for p in propose_insertions(scene.scenario, "car", count=2)]
    assert len(inserted) == 2
    edited = scene.scenario
    for a in inserted:
        edited = edited.with_agent(a)
    edited = replace(edited, name="scene-0001-edited")
    with real_conditions(edited, size=(160, 96)) as cond:
        clip = generate_clip(create_backend("naive"), cond, GenerationSettings(seed=0))
    settings = export.ExportSettings(size=(160, 96), videos=False, guidance=False, openscenario=False)
    result = export.export_clip(edited, clip, tmp_path / "out", settings)

    nusc = NuScenes(version=result.version, dataroot=str(result.dataroot), verbose=False)
    rec = next(s for s in nusc.scene if s["token"] == result.scene_token)
    samples = []
    tok = rec["first_sample_token"]
    while tok:
        samples.append(nusc.get("sample", tok))
        tok = samples[-1]["next"]
    assert len(samples) == 2                                      # key frames at t = 0 and 0.5 s
    for k, sample in zip((0, 6), samples):
        t = k / 12
        boxes = [nusc.get("sample_annotation", a) for a in sample["anns"]]
        expect = [a for a in edited.agents if agent_present(a, t)]
        assert len(boxes) == len(expect)
        centres = np.array([b["translation"][:2] for b in boxes])
        for a in expect:                                          # each original and inserted box is there
            x, y, _ = a.trajectory.pose_at(t)
            d = np.hypot(centres[:, 0] - x, centres[:, 1] - y).min()
            assert d < 0.01, (a.id, d)
        n_inserted = sum(not a.locked for a in expect)
        n_original = sum(a.locked for a in expect)
        assert n_inserted == 2 and n_original >= 8
    assert math.isclose(len(nusc.sample_annotation), sum(len(s["anns"]) for s in samples))
