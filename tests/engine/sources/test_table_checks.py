"""nuScenes tables are validated before use: a NaN or wrong-length ego_pose, a dangling sample.next,
a missing image file give exit 2 from `scene` with the table, the record's token and the field,
never a traceback. Each case copies the fixture dataset and corrupts one thing."""
from __future__ import annotations

import json
import shutil
import time

import pytest

from engine.sources.nuscenes_db import clear_cache
from engine.sources.table_checks import table_problems
from tests.fixtures.nuscenes_builder import cached_dataset

BOUND_S = 60.0          # building the tables' indexes on a loaded machine; a hang would exceed it


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return cached_dataset(tmp_path_factory.getbasetemp())


@pytest.fixture
def copy(built, tmp_path):
    root = tmp_path / "ds"
    shutil.copytree(built.dataroot, root, ignore=shutil.ignore_patterns("*.pcd.bin"))
    clear_cache()
    yield root, built.version, next(iter(built.scenes))
    clear_cache()


def _edit(root, version, table, fn):
    path = root / version / f"{table}.json"
    rows = json.loads(path.read_text())
    token = fn(rows)
    path.write_text(json.dumps(rows))
    return token


def _scene_fails(root, version, scene, tmp_path, capsys, *needles):
    from main import main

    t0 = time.monotonic()
    code = main(["scene", str(root), "--version", version, "--scene", scene, "-o", str(tmp_path / "s.json")])
    assert time.monotonic() - t0 < BOUND_S
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    for n in needles:
        assert n in err, err
    return err


def test_the_intact_dataset_opens(copy, tmp_path, capsys):
    from main import main

    root, version, scene = copy
    assert main(["scene", str(root), "--version", version, "--scene", scene, "-o", str(tmp_path / "s.json")]) == 0


def test_nan_in_ego_pose(copy, tmp_path, capsys):
    root, version, scene = copy

    def corrupt(rows):
        rows[3]["translation"][1] = float("nan")
        return rows[3]["token"]

    token = _edit(root, version, "ego_pose", corrupt)
    _scene_fails(root, version, scene, tmp_path, capsys, "ego_pose.json", token, "field translation", "finite")


def test_wrong_length_ego_pose(copy, tmp_path, capsys):
    root, version, scene = copy

    def corrupt(rows):
        rows[0]["rotation"] = [1.0, 0.0]
        return rows[0]["token"]

    token = _edit(root, version, "ego_pose", corrupt)
    _scene_fails(root, version, scene, tmp_path, capsys, "ego_pose.json", token, "field rotation",
                 "2 numbers, expected 4")


def test_dangling_sample_next(copy, tmp_path, capsys):
    root, version, scene = copy

    def corrupt(rows):
        rows[1]["next"] = "deadbeef" * 4
        return rows[1]["token"]

    token = _edit(root, version, "sample", corrupt)
    _scene_fails(root, version, scene, tmp_path, capsys, "sample.json", token, "field next",
                 "no sample with token 'deadbeefdeadbeefdeadbeefdeadbeef'")


def test_dangling_sample_token_that_the_devkit_trips_on(copy, tmp_path, capsys):
    root, version, scene = copy

    def corrupt(rows):
        rows[0]["sample_token"] = "nope"
        return rows[0]["token"]

    token = _edit(root, version, "sample_data", corrupt)
    _scene_fails(root, version, scene, tmp_path, capsys, "sample_data.json", token, "field sample_token")


def test_missing_camera_files(copy, tmp_path, capsys):
    root, version, scene = copy
    shutil.rmtree(root / "samples" / "CAM_BACK")
    shutil.rmtree(root / "sweeps" / "CAM_BACK")
    _scene_fails(root, version, scene, tmp_path, capsys, "CAM_BACK", "image files exist", str(root / "samples"))


def test_filename_outside_the_dataset(copy, tmp_path, capsys):
    root, version, scene = copy

    def corrupt(rows):
        rows[2]["filename"] = "../../../etc/passwd"
        return rows[2]["token"]

    token = _edit(root, version, "sample_data", corrupt)
    _scene_fails(root, version, scene, tmp_path, capsys, "sample_data.json", token, "field filename",
                 "points outside the dataset folder")


def test_problems_are_counted_and_capped():
    rows = [{"token": f"t{i}", "translation": [0, 0], "rotation": [1, 0, 0, 0], "timestamp": 1}
            for i in range(100)]
    problems, more = table_problems({"ego_pose": rows})
    assert len(problems) == 20 and more == 80
    assert problems[0] == "ego_pose.json record 't0' field translation: 2 numbers, expected 3"


def test_zero_quaternion_and_bad_size():
    ann = {"token": "a", "translation": [0, 0, 0], "size": [1, -2, 1], "rotation": [0, 0, 0, 0],
           "sample_token": "s", "instance_token": "i", "attribute_tokens": [], "visibility_token": "",
           "prev": "", "next": ""}
    problems, _ = table_problems({"sample_annotation": [ann], "sample": [{"token": "s", "timestamp": 1,
                                                                        "scene_token": "", "prev": "", "next": ""}]})
    text = "\n".join(problems)
    assert "field size: sizes must be positive" in text and "field rotation: a zero quaternion" in text
    assert "field instance_token: no instance" not in text          # no instance table given: not checked
