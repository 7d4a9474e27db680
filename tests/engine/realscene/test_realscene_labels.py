"""Labels of an exported edited real scene load right: every camera keeps its own capture time and the
log's ego pose at that time, and the devkit's sweep boxes are where the scenario has the objects."""
from __future__ import annotations

import numpy as np
import pytest
from pyquaternion import Quaternion

from engine.sources import open_nuscenes_scene

VERSION = "v1.0-mini"
SIZE = (160, 90)
FRAMES = 7


@pytest.fixture(scope="module")
def exported(nuscenes_dataset, tmp_path_factory):
    from nuscenes.nuscenes import NuScenes

    from engine.export.pipeline import ExportSettings, export_nuscenes

    scene = open_nuscenes_scene(nuscenes_dataset.dataroot, VERSION, "scene-0001", duration=FRAMES / 12)
    root = tmp_path_factory.mktemp("real_labels")
    res = export_nuscenes(scene.scenario, root, ExportSettings(size=SIZE, videos=False, guidance=False,
                                                              openscenario=False))
    return {"nusc": NuScenes(version=res.version, dataroot=str(root), verbose=False), "result": res,
            "scene": scene, "source": NuScenes(version=VERSION, dataroot=str(nuscenes_dataset.dataroot), verbose=False)}


def _chain(nusc, token):
    out = [nusc.get("sample_data", token)]
    while out[-1]["next"]:
        out.append(nusc.get("sample_data", out[-1]["next"]))
    return out


def test_every_camera_keeps_its_capture_time_and_the_logs_ego_pose(exported, nuscenes_dataset):
    nusc, src = exported["nusc"], exported["source"]
    built = nuscenes_dataset.scene("scene-0001")
    first = nusc.get("sample", nusc.get("scene", exported["result"].scene_token)["first_sample_token"])
    src_sd = {(sd["channel"], sd["timestamp"]): sd for sd in src.sample_data}
    offsets = set()
    for cam, token in first["data"].items():
        chain = _chain(nusc, token)
        assert len(chain) == FRAMES
        for k, sd in enumerate(chain):
            frame_us = built.start_us + k * 1e6 / 12
            truth = min(built.camera_times_us[cam], key=lambda ts: abs(ts - frame_us))   # the builder's image
            assert sd["timestamp"] == truth, (cam, k)
            offsets.add(truth - round(frame_us))
            pose = nusc.get("ego_pose", sd["ego_pose_token"])
            ref = src.get("ego_pose", src_sd[(cam, truth)]["ego_pose_token"])
            assert np.allclose(pose["translation"], ref["translation"], atol=1e-6), (cam, k)
            assert abs((Quaternion(pose["rotation"]).inverse * Quaternion(ref["rotation"])).degrees) < 1e-4
    assert len(offsets) > 1        # the cameras really fire at different times in this log


def test_sweep_boxes_from_the_devkit_are_where_the_scenario_has_the_objects(exported):
    nusc, scene = exported["nusc"], exported["scene"]
    manifest_agents = {tok: aid for tok, aid in
                       __import__("json").loads(exported["result"].manifest_path.read_text())["instances"].items()}
    agents = {a.id: a for a in scene.scenario.agents}
    first = nusc.get("sample", nusc.get("scene", exported["result"].scene_token)["first_sample_token"])
    t0 = first["timestamp"]
    errors = []
    for cam in ("CAM_FRONT", "CAM_BACK_RIGHT"):
        for sd in _chain(nusc, first["data"][cam]):
            if sd["is_key_frame"]:
                continue
            t = (sd["timestamp"] - t0) / 1e6
            for box in nusc.get_boxes(sd["token"]):
                ann = nusc.get("sample_annotation", box.token)
                agent = agents[manifest_agents[ann["instance_token"]]]
                if not agent.trajectory.covers(t):
                    continue
                x, y, _ = agent.trajectory.pose_at(t)
                errors.append(np.hypot(box.center[0] - x, box.center[1] - y))
    assert len(errors) > 20
    assert max(errors) < 0.1, max(errors)
