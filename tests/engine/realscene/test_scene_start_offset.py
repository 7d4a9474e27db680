"""A real scene opened at a start offset (`SceneSource.start`, `scene --start`): frame 0, the ego pose,
the recorded tracks and the export's labels all count from that point of the log.

Truth: the dataset read through nuscenes-devkit (the CAM_FRONT sample_data nearest the offset, the
LIDAR_TOP ego pose there, the sample annotations at that key frame), never the engine's own readers.
"""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from engine.scenario.io import load_scenario

VERSION = "v1.0-mini"
SIZE = (160, 90)
CAM = "CAM_FRONT"
START = 1.0          # s into scene-0001 (a 2 Hz key frame of the fixture: sample 2)


def _cli(*argv) -> int:
    from engine.cli import build_parser

    ns = build_parser().parse_args([str(a) for a in argv])
    return ns._module.run(ns)


@pytest.fixture(scope="module")
def devkit(nuscenes_dataset):
    from nuscenes.nuscenes import NuScenes

    return NuScenes(version=VERSION, dataroot=str(nuscenes_dataset.dataroot), verbose=False)


@pytest.fixture(scope="module")
def offset_file(nuscenes_dataset, tmp_path_factory):
    path = tmp_path_factory.mktemp("offset") / "offset.json"
    assert _cli("scene", nuscenes_dataset.dataroot, "--version", VERSION, "--scene", "scene-0001",
                "--start", START, "--duration", 1.0, "-o", path) == 0
    return path


def _scene_record(nusc):
    return next(s for s in nusc.scene if s["name"] == "scene-0001")


def _nearest(nusc, channel: str, t_us: int) -> dict:
    """The sample_data of `channel` nearest t_us, walking the channel's chain from the first sample."""
    first = nusc.get("sample", _scene_record(nusc)["first_sample_token"])
    sd = nusc.get("sample_data", first["data"][channel])
    best = sd
    while sd["next"]:
        sd = nusc.get("sample_data", sd["next"])
        if abs(sd["timestamp"] - t_us) < abs(best["timestamp"] - t_us):
            best = sd
    return best


def _first_us(nusc) -> int:
    return nusc.get("sample", _scene_record(nusc)["first_sample_token"])["timestamp"]


def _image(nusc, sd) -> np.ndarray:
    img = cv2.cvtColor(cv2.imread(nusc.get_sample_data_path(sd["token"])), cv2.COLOR_BGR2RGB)
    return cv2.resize(img, SIZE, interpolation=cv2.INTER_AREA).astype(int)


def test_the_file_records_the_offset_and_old_files_are_unchanged(offset_file, tmp_path):

    from engine.scenario.io import dumps_scenario, loads_scenario

    doc = json.loads(offset_file.read_text())
    assert doc["source"]["start"] == START
    scenario = load_scenario(offset_file)
    assert scenario.source.start == START and scenario.num_frames == 12
    legacy = dict(doc, source={k: v for k, v in doc["source"].items() if k != "start"})
    old = loads_scenario(json.dumps(legacy))
    assert old.source.start == 0.0
    assert "start" not in json.loads(dumps_scenario(old))["source"]          # written as before
    assert loads_scenario(dumps_scenario(scenario)) == scenario


def test_frame0_poses_and_tracks_come_from_the_offset(offset_file, devkit):
    from engine.conditions import clip_conditions
    from engine.rig.pose import ego_pose

    scenario = load_scenario(offset_file)
    t0 = _first_us(devkit) + int(START * 1e6)
    truth = _image(devkit, _nearest(devkit, CAM, t0))
    at_zero = _image(devkit, _nearest(devkit, CAM, _first_us(devkit)))
    with clip_conditions(scenario, SIZE, frames=1) as c:
        got = c.frame(0).background[c.camera_names.index(CAM)].astype(int)
    assert np.abs(got - truth).mean() < 3.0, np.abs(got - truth).mean()
    assert np.abs(got - at_zero).mean() > 3 * max(np.abs(got - truth).mean(), 1.0), "not the scene's first frame"
    # the editor's preview reads the same frame (its real-frame cache opens the source with its offset)
    from engine.realscene.live import RealFrameCache

    frames = RealFrameCache()
    bgs = frames.inputs(frames.scene(scenario), SIZE).backgrounds_at(0)
    assert np.array_equal(np.asarray(bgs[CAM].image).astype(int), got)

    # the ego at clip time 0 is where the log's LIDAR_TOP pose at the offset puts it
    lidar = _nearest(devkit, "LIDAR_TOP", t0)
    assert abs(lidar["timestamp"] - t0) < 1000
    pose = devkit.get("ego_pose", lidar["ego_pose_token"])
    m = ego_pose(scenario, 0.0)
    assert np.hypot(m[0, 3] - pose["translation"][0], m[1, 3] - pose["translation"][1]) < 0.02

    # recorded tracks: at clip time 0 each annotated agent is at its annotation of the key frame at the offset
    sample = next(s for s in devkit.sample if s["scene_token"] == _scene_record(devkit)["token"]
                  and abs(s["timestamp"] - t0) < 1000)
    anns = {devkit.get("sample_annotation", a)["instance_token"]: devkit.get("sample_annotation", a)
            for a in sample["anns"]}
    checked = 0
    for agent in scenario.agents:
        ann = anns.get(agent.behavior_params.get("instance_token"))
        if ann is None:
            continue
        s = agent.trajectory.sample(0.0)
        assert np.hypot(s.x[0] - ann["translation"][0], s.y[0] - ann["translation"][1]) < 0.05, agent.id
        checked += 1
    assert checked >= 3


def test_export_starts_at_the_offset(offset_file, devkit, tmp_path):
    from nuscenes.nuscenes import NuScenes

    assert _cli("export", offset_file, "-o", tmp_path / "x", "--size", f"{SIZE[0]}x{SIZE[1]}", "--frames", 12,
                "--no-videos", "--no-guidance", "-q", "--jpeg-quality", 100) == 0
    out = NuScenes(version="v1.0-cornercase", dataroot=str(tmp_path / "x"), verbose=False)
    first = out.get("sample", out.scene[0]["first_sample_token"])
    t0 = _first_us(devkit) + int(START * 1e6)
    assert first["timestamp"] == t0
    manifest = json.loads(next((tmp_path / "x" / "cornercase").glob("*/manifest.json")).read_text())
    assert manifest["source"]["start_s"] == START
    sd = out.get("sample_data", first["data"][CAM])
    src = _nearest(devkit, CAM, t0)
    assert sd["timestamp"] == src["timestamp"]                     # the camera's own capture time at the offset
    img = cv2.cvtColor(cv2.imread(out.get_sample_data_path(sd["token"])), cv2.COLOR_BGR2RGB).astype(int)
    assert np.abs(img - _image(devkit, src)).mean() < 3.0
    # its boxes are the source annotations of the key frame at the offset
    sample = next(s for s in devkit.sample if s["scene_token"] == _scene_record(devkit)["token"]
                  and abs(s["timestamp"] - t0) < 1000)
    truth = {devkit.get("sample_annotation", a)["instance_token"]: devkit.get("sample_annotation", a)["translation"]
             for a in sample["anns"]}
    got = [out.get("sample_annotation", a) for a in first["anns"]]
    assert len(got) >= 3
    for ann in got:
        nearest = min(truth.values(), key=lambda p: np.hypot(p[0] - ann["translation"][0], p[1] - ann["translation"][1]))
        assert np.hypot(nearest[0] - ann["translation"][0], nearest[1] - ann["translation"][1]) < 0.1


def test_a_start_past_the_scene_is_bad_input(nuscenes_dataset, tmp_path, capsys):
    assert _cli("scene", nuscenes_dataset.dataroot, "--version", VERSION, "--scene", "scene-0001",
                "--start", 99, "-o", tmp_path / "x.json") == 2
    assert "start 99" in capsys.readouterr().err and not (tmp_path / "x.json").exists()
