"""One path from an edited real scene to what every consumer shows: `guidance`, `generate` and `export`
of the same scenario give the recorded frame as background in CAM_FRONT, frame 0, with the same rig.

The truth is the dataset's own image (the fixture's JPEG, resized to the output size), read
independently through the dataset folder; the inserted car's pixels (and a margin around them)
are left out of the comparison.
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


def _cli(*argv) -> int:
    from engine.cli import build_parser

    ns = build_parser().parse_args([str(a) for a in argv])
    return ns._module.run(ns)


@pytest.fixture(scope="module")
def real_scenario(nuscenes_dataset, tmp_path_factory):
    """scene-0001, 7 frames, with one inserted car (the `scene --insert` command), saved to a file."""
    path = tmp_path_factory.mktemp("one_path") / "real.json"
    assert _cli("scene", nuscenes_dataset.dataroot, "--version", VERSION, "--scene", "scene-0001",
                "--duration", 7 / 12, "--insert", "car", "-o", path) == 0
    scenario = load_scenario(path)
    assert scenario.source is not None and any(not a.locked for a in scenario.agents)
    return path


def _recorded_front(nuscenes_dataset) -> np.ndarray:
    """Frame 0 of CAM_FRONT from the dataset folder (the first key frame's JPEG), RGB at SIZE."""
    from nuscenes.nuscenes import NuScenes

    nusc = NuScenes(version=VERSION, dataroot=str(nuscenes_dataset.dataroot), verbose=False)
    scene = next(s for s in nusc.scene if s["name"] == "scene-0001")
    sample = nusc.get("sample", scene["first_sample_token"])
    path = nusc.get_sample_data_path(sample["data"][CAM])
    img = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
    return cv2.resize(img, SIZE, interpolation=cv2.INTER_AREA)


def test_guidance_generate_and_export_show_the_same_recorded_background(real_scenario, nuscenes_dataset, tmp_path):
    from nuscenes.nuscenes import NuScenes

    truth = _recorded_front(nuscenes_dataset).astype(int)
    size = f"{SIZE[0]}x{SIZE[1]}"

    # guidance: the shaded (rgb) map and the inserted mask of frame 0
    assert _cli("guidance", real_scenario, "-o", tmp_path / "g", "--size", size, "--frames", "0:1") == 0
    manifest = json.loads((tmp_path / "g" / "manifest.json").read_text())
    cams = manifest.get("cameras") or manifest.get("rig", {}).get("cameras") or manifest["camera_names"]
    cams = [c if isinstance(c, str) else c["name"] for c in cams]
    k = cams.index(CAM)
    maps = np.load(tmp_path / "g" / "frame_0000" / "maps.npz")
    guided = maps["rgb"][k].astype(int)
    inserted = maps["inserted"][k].astype(bool)

    # generate: the naive world model over the real frames
    assert _cli("generate", real_scenario, "-o", tmp_path / "v", "--size", size, "--frames", 1, "--quiet") == 0
    gen = cv2.cvtColor(cv2.imread(str(tmp_path / "v" / "frames" / CAM / "0000.jpg")), cv2.COLOR_BGR2RGB)

    # export: the nuScenes dataset it writes, read back with nuscenes-devkit
    assert _cli("export", real_scenario, "-o", tmp_path / "x", "--size", size, "--frames", 7, "--no-videos",
                "--no-guidance", "-q", "--jpeg-quality", 100) == 0
    nusc = NuScenes(version="v1.0-cornercase", dataroot=str(tmp_path / "x"), verbose=False)
    sample = nusc.get("sample", nusc.scene[0]["first_sample_token"])
    exp = cv2.cvtColor(cv2.imread(nusc.get_sample_data_path(sample["data"][CAM])), cv2.COLOR_BGR2RGB)
    cs = nusc.get("calibrated_sensor", nusc.get("sample_data", sample["data"][CAM])["calibrated_sensor_token"])
    ref = nuscenes_dataset.calibration[nuscenes_dataset.scene("scene-0001").log.name][CAM]
    assert np.allclose(cs["translation"], ref["translation"])          # the log's rig, not the default one

    assert guided.shape == gen.shape == exp.shape == (SIZE[1], SIZE[0], 3)
    assert inserted.any(), "the inserted car should be in view of CAM_FRONT at frame 0"
    away = ~cv2.dilate(inserted.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)
    assert away.mean() > 0.5
    # every consumer shows the recorded image away from the inserted car (JPEG round trips: a few levels)
    for name, img in (("guidance", guided), ("generate", gen.astype(int)), ("export", exp.astype(int))):
        diff = np.abs(img[away] - truth[away])
        assert diff.mean() < 3.0, (name, diff.mean())
        assert np.percentile(diff, 99) < 25, (name, np.percentile(diff, 99))
    # and the car is drawn by all three where the guidance mask says
    for name, img in (("guidance", guided), ("generate", gen.astype(int)), ("export", exp.astype(int))):
        assert np.abs(img[inserted] - truth[inserted]).mean() > 10, name


@pytest.mark.parametrize("command", ["guidance", "generate", "export"])
def test_a_real_scene_whose_dataset_is_gone_is_bad_input_everywhere(real_scenario, tmp_path, capsys, command):
    """Never silently rendered as a synthetic scene: exit 2 naming the dataset, nothing written."""
    text = real_scenario.read_text()
    doc = json.loads(text)
    doc["source"]["dataroot"] = str(tmp_path / "moved_away")
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(doc))
    capsys.readouterr()
    out = tmp_path / "out"
    assert _cli(command, broken, "-o", out, "--size", "64x32") == 2
    assert "moved_away" in capsys.readouterr().err
    assert not out.exists() or not any(p.is_file() for p in out.rglob("*"))


def test_scene_inputs_use_the_logs_rig_for_real_scenes_and_the_given_one_for_synthetic(real_scenario, nuscenes_dataset):
    from dataclasses import replace

    from engine.conditions import scene_inputs
    from engine.rig import CameraRig

    real = load_scenario(real_scenario)
    inputs = scene_inputs(real, "160x90")
    ref = nuscenes_dataset.calibration[nuscenes_dataset.scene("scene-0001").log.name][CAM]
    assert inputs.real and inputs.rig.size == (160, 90)
    assert np.allclose(inputs.rig[CAM].translation, ref["translation"])
    assert set(inputs.backgrounds_at(0)) == set(inputs.rig.names) and inputs.backgrounds_at(10_000) is None
    with pytest.raises(ValueError, match="log's own camera calibration"):
        scene_inputs(real, "160x90", rig=CameraRig.default(None))
    synthetic = scene_inputs(replace(real, source=None), "160x90")
    assert not synthetic.real and synthetic.rig == CameraRig.default((160, 90))
    assert synthetic.backgrounds_at(0) is None


def test_render_config_depth_settings_reach_the_conditions(real_scenario):
    from engine.conditions import clip_conditions
    from engine.config import RenderConfig

    real = load_scenario(real_scenario)
    with clip_conditions(real, RenderConfig(size="160x90", frames=1, max_depth=20.0)) as c:
        assert c.num_frames == 1
        f = c.frame(0)
    k = c.camera_names.index(CAM)
    assert f.background is not None and f.depth_valid is not None
    known = f.background_depth[k][f.background_depth[k] > 0]
    assert known.size and known.max() <= 20.0 + 1e-3      # the config's max_depth was used for the real depth
