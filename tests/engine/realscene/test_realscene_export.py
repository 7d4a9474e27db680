"""Edited real scenes: exported over their own frames, rig, ego and labels; recorded agents never re-drawn.

Exports run the whole path (naive world model over the real frames, label renderer, nuScenes tables)
at 160x90 on clips of 7 frames (key frames 0 and 6), then load the result with nuscenes-devkit.
"""
from __future__ import annotations

import json
from dataclasses import replace

import cv2
import numpy as np
import pytest

from engine.realscene.backgrounds import real_backgrounds, real_rig, render_real_frame
from engine.realscene.labels import clip_key_frames, recorded_labels
from engine.render.guidance import Background, GuidanceRenderer
from engine.scenario.model import Agent
from engine.scenario.trajectory import Trajectory
from engine.sources import open_nuscenes_scene
from engine.sources.nuscenes_db import load_nuscenes

VERSION = "v1.0-mini"
SIZE = (160, 90)                 # half the fixture's 320x180: intrinsics scale by exactly 1/2
FRAMES = 7 / 12                  # 7 frames: key frames 0 and 6


def _recorded(scene, nuscenes_dataset, name: str, scene_name: str = "scene-0001") -> Agent:
    token = nuscenes_dataset.scene(scene_name).instance_tokens[name]
    return next(a for a in scene.scenario.agents if a.behavior_params["instance_token"] == token)


def _shifted(agent: Agent, new_id: str, forward: float, left: float = 0.0) -> Agent:
    """An unlocked car following `agent`'s motion, moved `forward` / `left` metres in its frame."""
    pts = []
    for p in agent.trajectory.points:
        c, s = np.cos(p.yaw), np.sin(p.yaw)
        pts.append(type(p)(p.t, p.x + c * forward - s * left, p.y + s * forward + c * left, p.yaw, p.v))
    return Agent(new_id, "car", (1.95, 4.6, 1.72), Trajectory(tuple(pts)))


def _settings(guidance: bool):
    from engine.export.pipeline import ExportSettings

    return ExportSettings(size=SIZE, videos=False, guidance=guidance, openscenario=False)


def _load(root, version):
    from nuscenes.nuscenes import NuScenes

    return NuScenes(version=version, dataroot=str(root), verbose=False)


def _samples(nusc, scene_token: str) -> list[dict]:
    rec = nusc.get("scene", scene_token)
    out, tok = [], rec["first_sample_token"]
    while tok:
        out.append(nusc.get("sample", tok))
        tok = out[-1]["next"]
    return out


# ---- export of scene-0001: labels, categories, tokens, the inserted car on its mask -------------------
@pytest.fixture(scope="module")
def exported(nuscenes_dataset, tmp_path_factory):
    from engine.export.pipeline import export_nuscenes

    scene = open_nuscenes_scene(nuscenes_dataset.dataroot, VERSION, "scene-0001", duration=FRAMES)
    lead = _recorded(scene, nuscenes_dataset, "lead_car")
    edited = replace(scene.scenario.with_agent(_shifted(lead, "car_beside", forward=-6.0, left=3.5)),
                     name="scene-0001-edited")
    out = tmp_path_factory.mktemp("export_0001")
    result = export_nuscenes(edited, out, _settings(guidance=True))
    return scene, edited, result, _load(result.dataroot, result.version)


def test_export_keeps_the_original_annotations_and_adds_the_inserted_car(exported, nuscenes_dataset):
    scene, edited, result, nusc = exported
    built = nuscenes_dataset.scene("scene-0001")
    src = load_nuscenes(nuscenes_dataset.dataroot, VERSION)
    samples = _samples(nusc, result.scene_token)
    assert len(samples) == 2
    assert [s["timestamp"] for s in samples] == built.sample_times_us[:2]     # the recording's time line
    src_samples = _samples(src, built.token)[:2]
    src_instances = {r["token"] for r in src.instance}
    for k, (sample, src_sample) in enumerate(zip(samples, src_samples)):
        exported_anns = {a: nusc.get("sample_annotation", a) for a in sample["anns"]}
        originals = [src.get("sample_annotation", a) for a in src_sample["anns"]]
        assert len(originals) >= 10
        for o in originals:                     # every original box, as annotated, with its tokens
            e = exported_anns.get(o["token"])
            assert e is not None, o["token"]
            assert e["instance_token"] == o["instance_token"]
            assert np.allclose(e["translation"], o["translation"]) and np.allclose(e["size"], o["size"])
            assert np.allclose(e["rotation"], o["rotation"])
            assert e["num_lidar_pts"] == o["num_lidar_pts"]
            assert e["category_name"] == o["category_name"]
        inserted = [e for e in exported_anns.values() if e["instance_token"] not in src_instances]
        assert len(inserted) == 1 and inserted[0]["category_name"] == "vehicle.car"
        x, y, _ = edited.agents[-1].trajectory.pose_at(k * 0.5)
        assert np.allclose(inserted[0]["translation"][:2], [x, y], atol=1e-6)
        assert len(exported_anns) == len(originals) + 1
    by_name = {n: t for n, t in built.instance_tokens.items()}
    police = nusc.get("instance", by_name["police"])                 # same token as in the source
    assert nusc.get("category", police["category_token"])["name"] == "vehicle.emergency.police"
    dog = nusc.get("instance", by_name["dog"])
    assert nusc.get("category", dog["category_token"])["name"] == "animal"
    log = nusc.get("log", nusc.get("scene", result.scene_token)["log_token"])
    assert log["location"] == "singapore-onenorth"
    manifest = json.loads(result.manifest_path.read_text())
    assert manifest["source"]["scene"] == "scene-0001"
    assert manifest["source_tokens"]["instance"][by_name["police"]] == by_name["police"]


def test_inserted_box_lands_on_its_rendered_mask_and_recorded_objects_keep_their_pixels(exported):
    from nuscenes.utils.geometry_utils import view_points

    from engine.export.guidance_files import read_guidance_frame

    scene, edited, result, nusc = exported
    index = json.loads((result.scene_dir / "guidance" / "index.json").read_text())
    iid = index["instance_ids"]["car_beside"]
    arrays = read_guidance_frame(result.scene_dir / "guidance", 0)
    cams = index["cameras"]
    sample = _samples(nusc, result.scene_token)[0]
    src_instances = {r["token"] for r in load_nuscenes(scene.source.dataroot, VERSION).instance}
    ann = next(a for a in sample["anns"] if nusc.get("sample_annotation", a)["instance_token"] not in src_instances)
    seen = 0
    for ci, cam in enumerate(cams):
        mask = arrays["instance"][ci] == iid
        if mask.sum() < 30:
            continue
        seen += 1
        path, boxes, K = nusc.get_sample_data(sample["data"][cam], selected_anntokens=[ann])
        assert len(boxes) == 1, cam
        uv = view_points(boxes[0].corners(), K, normalize=True)[:2].T
        hull = np.zeros(mask.shape, np.uint8)
        cv2.fillConvexPoly(hull, cv2.convexHull(np.round(uv * 16).astype(np.int32)), 1, shift=4)
        hull = hull.astype(bool)
        assert (mask & hull).sum() >= 0.97 * mask.sum(), cam          # the car is inside its box
        assert mask.sum() >= 0.3 * hull.sum(), cam                    # and fills a good part of it
        # the exported image shows the car there, and the real frame away from it (nothing re-drawn)
        img = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB).astype(int)
        real = scene.image(0, cam, SIZE).astype(int)
        near = cv2.dilate(mask.astype(np.uint8), np.ones((25, 25), np.uint8)).astype(bool)
        assert np.abs(img[mask] - real[mask]).mean() > 15, cam
        assert np.abs(img[~near] - real[~near]).mean() < 3, cam
    assert seen >= 1


def test_export_uses_the_logs_calibration_and_ego_poses_and_rekeys_a_second_variant(nuscenes_dataset, tmp_path):
    from engine.export.clip_source import GenerationOptions, generate_for_scenario
    from engine.export.nuscenes_dataset import check_tables, load_tables
    from engine.export.pipeline import export_clip

    built = nuscenes_dataset.scene("scene-0003")                      # log with a perturbed rig
    log_cal = nuscenes_dataset.calibration[built.log.name]
    scene = open_nuscenes_scene(nuscenes_dataset.dataroot, VERSION, "scene-0003", duration=FRAMES)
    front = _recorded(scene, nuscenes_dataset, "front_car", "scene-0003")
    edited = scene.scenario.with_agent(_shifted(front, "car_left", forward=-8.0, left=3.5))
    clip, _ = generate_for_scenario(edited, SIZE, None, GenerationOptions())
    assert clip.frames.shape[:2] == (7, 6)
    first = export_clip(edited, clip, tmp_path, _settings(guidance=False))
    second = export_clip(edited, clip, tmp_path, _settings(guidance=False))
    nusc = _load(tmp_path, first.version)
    scene_rec = nusc.get("scene", first.scene_token)
    sample = nusc.get("sample", scene_rec["first_sample_token"])
    sx, sy = SIZE[0] / nuscenes_dataset.image_size[0], SIZE[1] / nuscenes_dataset.image_size[1]
    for cam, sd_token in sample["data"].items():
        sd = nusc.get("sample_data", sd_token)
        cs = nusc.get("calibrated_sensor", sd["calibrated_sensor_token"])
        ref = log_cal[cam]
        assert np.allclose(cs["translation"], ref["translation"]) and np.allclose(cs["rotation"], ref["rotation"]), cam
        scaled = np.diag([sx, sy, 1.0]) @ np.array(ref["camera_intrinsic"])
        assert np.allclose(np.array(cs["camera_intrinsic"]), scaled), cam
        assert (sd["width"], sd["height"]) == SIZE
    # the ego pose of the first sample is the recorded one (the LIDAR_TOP pose at the first sample)
    src = load_nuscenes(nuscenes_dataset.dataroot, VERSION)
    src_sample = src.get("sample", src.get("scene", built.token)["first_sample_token"])
    src_pose = src.get("ego_pose", src.get("sample_data", src_sample["data"]["LIDAR_TOP"])["ego_pose_token"])
    pose = nusc.get("ego_pose", nusc.get("sample_data", sample["data"]["CAM_FRONT"])["ego_pose_token"])
    assert np.allclose(pose["translation"][:2], src_pose["translation"][:2], atol=1e-3)
    assert np.allclose(np.abs(np.dot(pose["rotation"], src_pose["rotation"])), 1.0, atol=1e-6)
    # a second variant of the same scene in the same dataset: fresh tokens, mapped to the source ones
    assert check_tables(load_tables(tmp_path, first.version), tmp_path) == []
    tokens = set(built.instance_tokens.values())
    insts = {s: {nusc.get("sample_annotation", a)["instance_token"]
                 for a in nusc.get("sample", nusc.get("scene", s)["first_sample_token"])["anns"]}
             for s in (first.scene_token, second.scene_token)}
    assert len(insts[first.scene_token] & tokens) == len(insts[first.scene_token]) - 1     # all but car_left
    assert not insts[second.scene_token] & tokens
    mapped = json.loads(second.manifest_path.read_text())["source_tokens"]["instance"]
    assert {mapped[t] for t in insts[second.scene_token] if t in mapped} == insts[first.scene_token] & tokens


def test_recorded_labels_key_frames_follow_the_samples():
    times = np.arange(40) / 12
    keys = clip_key_frames(np.array([0.0, 0.49, 1.02, 1.5]), times, 12.0)
    assert list(keys) == [0, 6, 12, 18, 24, 30, 36] and [keys[k] for k in (0, 6, 12, 18)] == [0, 1, 2, 3]
    assert keys[24] == -1                                         # past the recording: every 6th frame
    assert list(clip_key_frames(np.array([0.3]), times[:5], 12.0)) == [0, 4]   # frame 0 is always a key frame


def test_recorded_labels_follow_the_agent_not_its_id(nuscenes_dataset):
    scene = open_nuscenes_scene(nuscenes_dataset.dataroot, VERSION, "scene-0001", duration=FRAMES)
    police = _recorded(scene, nuscenes_dataset, "police")
    truck = _recorded(scene, nuscenes_dataset, "parked_truck")
    edited = scene.scenario.with_agent(replace(police, locked=False))            # edited: category kept,
    edited = edited.with_agent(replace(truck, cls="bus"))                        # re-classed: not recorded
    labels = recorded_labels(edited)
    assert labels.key_frames == (0, 6)
    p = next(a for a in edited.agents if a.id == police.id)
    assert labels.category_of(p) == "vehicle.emergency.police" and labels.annotation(p, 0) is None
    assert labels.annotation(police, 6).instance_token == police.behavior_params["instance_token"]
    assert labels.category_of(next(a for a in edited.agents if a.id == truck.id)) is None


# ---- the renderer rule: recorded agents are part of the footage -------------------------------------
@pytest.fixture(scope="module")
def scene_1s(nuscenes_dataset):
    return open_nuscenes_scene(nuscenes_dataset.dataroot, VERSION, "scene-0001", duration=1.0)


def test_locked_agents_are_not_drawn_over_real_frames_but_stay_in_the_boxes_map(scene_1s, nuscenes_dataset):
    from engine.classes import class_index

    scene = scene_1s
    rig = real_rig(scene, SIZE)
    bgs = real_backgrounds(scene, 0, rig)
    lead = _recorded(scene, nuscenes_dataset, "lead_car")
    with GuidanceRenderer(rig) as r:
        r.set_scenario(scene.scenario)                     # recorded agents only, all locked
        g = render_real_frame(r, scene, 0)
        for name in rig.names:                             # the real frame, untouched: no mesh, no shadow
            assert (g[name].rgb == bgs[name].image).all(), name
            assert not g[name].instance.any(), name
        box = g["CAM_FRONT"].boxes[..., class_index("car")]
        assert box.any(), "the recorded lead car is in the boxes map"
        assert g.bev[..., g.bev_channels.index("car")].any(), "and in the BEV layout"
        assert lead.id in g.instance_ids
        # an unlocked copy of the same car is an insertion: drawn over the real image (a lane to the left: at
        # the very same place it would be inside the real car, which its annotated box now hides)
        r.set_scenario(scene.scenario.with_agent(_shifted(lead, "lead_copy", forward=0.0, left=3.5)))
        g2 = r.render_frame(0)
        assert g2.instance_mask("lead_copy", "CAM_FRONT").sum() > 20
        # synthetic cameras keep drawing every agent: CAM_FRONT without a background shows the locked car
        r.set_scenario(scene.scenario)
        r.set_backgrounds({k: v for k, v in bgs.items() if k != "CAM_FRONT"})
        g3 = r.render_frame(0)
        assert g3.instance_mask(lead.id, "CAM_FRONT").sum() > 20
        for name in rig.names:
            if name != "CAM_FRONT":
                assert (g3[name].rgb == bgs[name].image).all(), name


def test_locked_agents_still_hide_insertions_behind_them_through_the_real_depth(scene_1s, nuscenes_dataset):
    scene = scene_1s
    rig = real_rig(scene, SIZE)
    lead = _recorded(scene, nuscenes_dataset, "lead_car")
    edited = scene.scenario.with_agent(_shifted(lead, "car_behind", forward=9.0))    # the full scenario
    bgs = real_backgrounds(scene, 0, rig)
    with GuidanceRenderer(rig) as r:
        r.set_scenario(edited)
        r.set_backgrounds({k: Background(b.image, np.zeros_like(b.depth)) for k, b in bgs.items()})
        free = int(r.render_frame(0).instance_mask("car_behind", "CAM_FRONT").sum())
        hidden = int(render_real_frame(r, scene, 0).instance_mask("car_behind", "CAM_FRONT").sum())
    assert free > 30 and hidden <= 0.1 * free, (hidden, free)
