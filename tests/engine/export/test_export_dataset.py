"""The growing dataset: merging scenes, the commit journal, the consistency checker, the map mask."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from engine.export.map_mask import MAP_RESOLUTION, map_mask_image
from engine.export.nuscenes_dataset import (
    JOURNAL, NuScenesDatasetError, check_tables, commit_files, load_tables, merge_scene, recover,
)
from engine.export.nuscenes_writer import NuScenesOptions, SceneWriter
from engine.rig import CameraRig
from engine.roadmap.procedural import straight_road_map

W, H = 64, 36


def _stage(tmp_path, scenario, name: str, frames: int = 7):
    """A one-scene staging dataset with black frames and an empty instance map."""
    rig = CameraRig.default((W, H))
    times = np.arange(frames) / 12.0
    w = SceneWriter(tmp_path / name, scenario, rig, times, NuScenesOptions(start_time_us=1_000_000))
    for i in range(frames):
        inst = np.zeros((6, H, W), np.int32) if i % 6 == 0 else None
        w.add_frame(i, np.zeros((6, H, W, 3), np.uint8), inst, {} if inst is not None else None)
    w.finish()
    return tmp_path / name, w


def test_merge_shares_vocabulary_and_renames_scenes(tmp_path, demo_scenario):
    root = tmp_path / "ds"
    a, wa = _stage(tmp_path, demo_scenario, "a")
    b, wb = _stage(tmp_path, demo_scenario, "b")
    ra = merge_scene(a, root)
    rb = merge_scene(b, root)
    assert (ra.scene_name, rb.scene_name) == ("demo_intersection", "demo_intersection-2")
    assert not a.exists() and not b.exists()
    t = load_tables(root)
    assert len(t["category"]) == 10 and len(t["sensor"]) == 6 and len(t["visibility"]) == 4
    assert len(t["scene"]) == 2 and len(t["log"]) == 2 and len(t["map"]) == 2
    assert check_tables(t, root) == []
    # the second scene's records point at the first scene's vocabulary tokens
    sensors = {s["token"] for s in t["sensor"]}
    assert all(cs["sensor_token"] in sensors for cs in t["calibrated_sensor"])
    man = json.loads((root / "manifest.json").read_text())
    assert [s["scene_token"] for s in man["scenes"]] == [wa.scene_token, wb.scene_token]


def test_writer_refuses_bad_input(tmp_path, demo_scenario):
    rig = CameraRig.default((W, H))
    w = SceneWriter(tmp_path / "s", demo_scenario, rig, np.arange(7) / 12.0)
    with pytest.raises(ValueError, match="key frame: instance masks"):
        w.add_frame(0, np.zeros((6, H, W, 3), np.uint8))
    with pytest.raises(ValueError, match=r"images must be \(6, 36, 64, 3\) uint8"):
        w.add_frame(0, np.zeros((6, H, W), np.uint8), np.zeros((6, H, W), np.int32), {})
    with pytest.raises(ValueError, match="expected frame 0, got 1"):
        w.add_frame(1, np.zeros((6, H, W, 3), np.uint8))
    with pytest.raises(ValueError, match="only 0 of 7 frames"):
        w.finish()
    with pytest.raises(ValueError, match="version must be a plain folder name"):
        NuScenesOptions(version="../x")


def test_commit_journal_rolls_forward_after_a_crash(tmp_path):
    root = tmp_path / "ds"
    (root / "v").mkdir(parents=True)
    (root / "v" / "a.json").write_text("[1]")
    pending = root / ".pending-test"
    pending.mkdir()
    (pending / "a.json").write_text("[2]")
    (pending / "b.json").write_text("[3]")
    # the process died after writing the journal and moving one of the two files
    (root / JOURNAL).write_text(json.dumps({"moves": [[".pending-test/a.json", "v/a.json"], [".pending-test/b.json", "v/b.json"]]}))
    os.replace(pending / "a.json", root / "v" / "a.json")
    assert recover(root) is True
    assert (root / "v" / "a.json").read_text() == "[2]" and (root / "v" / "b.json").read_text() == "[3]"
    assert not (root / JOURNAL).exists() and not pending.exists()


def test_half_written_pending_folder_is_dropped(tmp_path):
    root = tmp_path / "ds"
    (root / ".pending-x").mkdir(parents=True)
    (root / ".pending-x" / "sample.json").write_text("[")
    assert recover(root) is False
    assert not (root / ".pending-x").exists()


def test_commit_files_replaces_all(tmp_path):
    commit_files(tmp_path, {"v/a.json": [1], "manifest.json": {"k": 1}})
    assert json.loads((tmp_path / "v" / "a.json").read_text()) == [1]
    assert json.loads((tmp_path / "manifest.json").read_text()) == {"k": 1}
    assert not list(tmp_path.glob(".pending-*")) and not (tmp_path / JOURNAL).exists()


def test_checker_finds_broken_links(tmp_path, demo_scenario):
    a, _ = _stage(tmp_path, demo_scenario, "a")
    t = load_tables(a)
    assert check_tables(t, a) == []
    t["sample_data"][3]["next"] = t["sample_data"][7]["token"]
    t["sample_annotation"][0]["instance_token"] = "missing"
    t["map"][0]["log_tokens"] = []
    problems = check_tables(t, a)
    assert any("next link is not returned" in p for p in problems)
    assert any("missing instance 'missing'" in p for p in problems)
    assert any("no map record lists it" in p for p in problems)


def test_incomplete_or_unreadable_tables_are_reported(tmp_path):
    (tmp_path / "v1.0-cornercase").mkdir()
    (tmp_path / "v1.0-cornercase" / "scene.json").write_text("[]")
    with pytest.raises(NuScenesDatasetError, match="missing category"):
        load_tables(tmp_path)


def test_map_mask_follows_the_devkit_convention():
    from nuscenes.utils.map_mask import MapMask

    m = straight_road_map(x0=0.0, x1=40.0, lanes_per_direction=1)  # drivable y in [-3.5, 3.5]
    img = map_mask_image(m)
    assert img.shape[1] == int(np.ceil((40 + 5) / MAP_RESOLUTION))
    import cv2
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.png")
        cv2.imwrite(path, img)
        mask = MapMask(path, resolution=MAP_RESOLUTION)
        on = mask.is_on_mask(np.array([10.0, 10.0, 30.0]), np.array([1.0, 6.0, 3.0]))
    assert list(on) == [True, False, True]
