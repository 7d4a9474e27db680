"""The demo exported as nuScenes scenes and read back with nuscenes-devkit.

One module-scoped dataset: the demo exported twice (13 frames at 320x180 with guidance maps, then
7 frames with videos), through the naive world model, into one folder.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import replace

import cv2
import numpy as np
import pytest
from pyquaternion import Quaternion

from engine.export.clip_source import GenerationOptions
from engine.export.guidance_files import read_guidance_frame
from engine.export.nuscenes_dataset import check_tables, load_tables
from engine.export.nuscenes_schema import DEFAULT_VERSION, TABLES
from engine.export.pipeline import ExportSettings, export_clip, export_nuscenes
from engine.rig import CameraRig, PANORAMA_ORDER

W, H = 320, 180
FRAMES = 13          # key frames 0, 6, 12 at 2 Hz
FRAMES_2 = 7


@pytest.fixture(scope="module")
def exported(tmp_path_factory, demo_scenario):
    root = tmp_path_factory.mktemp("nuscenes")
    first = export_nuscenes(demo_scenario, root, ExportSettings(size=(W, H), frames=FRAMES, videos=False))
    tables_after_first = load_tables(root, DEFAULT_VERSION)
    second_scenario = replace(demo_scenario, seed=3)
    second = export_nuscenes(second_scenario, root, ExportSettings(size=(W, H), frames=FRAMES_2, guidance=False,
                                                                   generation=GenerationOptions(seed=3)))
    from nuscenes.nuscenes import NuScenes

    nusc = NuScenes(version=DEFAULT_VERSION, dataroot=str(root), verbose=False)
    return {"root": root, "first": first, "second": second, "nusc": nusc, "tables_first": tables_after_first,
            "scenario": demo_scenario}


def _manifest(result) -> dict:
    return json.loads(result.manifest_path.read_text())


def _bbox_iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _scene_samples(nusc, scene_token: str) -> list[dict]:
    scene = nusc.get("scene", scene_token)
    out, tok = [], scene["first_sample_token"]
    while tok:
        out.append(nusc.get("sample", tok))
        tok = out[-1]["next"]
    return out


def test_devkit_loads_both_scenes_with_six_cameras(exported):
    nusc = exported["nusc"]
    assert len(nusc.scene) == 2
    names = {s["name"] for s in nusc.scene}
    assert names == {"demo_intersection", "demo_intersection-2"}
    first = _scene_samples(nusc, exported["first"].scene_token)
    second = _scene_samples(nusc, exported["second"].scene_token)
    assert len(first) == 3 and len(second) == 2  # 2 Hz key frames of 13 and 7 frames at 12 Hz
    for s in first + second:
        assert set(s["data"]) == set(PANORAMA_ORDER)
    assert {s["channel"] for s in nusc.sensor} == set(PANORAMA_ORDER)
    # every log has a map record whose file exists (the devkit's own loader opened them)
    assert all(len(m["log_tokens"]) == 1 for m in nusc.map) and len(nusc.map) == 2


def test_tables_are_consistent_and_files_exist(exported):
    tables = load_tables(exported["root"], DEFAULT_VERSION)
    assert check_tables(tables, exported["root"]) == []
    assert len(tables["sample_data"]) == 6 * (FRAMES + FRAMES_2)
    for sd in tables["sample_data"]:
        folder = "samples" if sd["is_key_frame"] else "sweeps"
        assert sd["filename"].startswith(f"{folder}/")
        img = cv2.imread(str(exported["root"] / sd["filename"]))
        assert img is not None and img.shape == (H, W, 3)


def test_chains_and_timestamps(exported):
    nusc = exported["nusc"]
    for result, n_frames in ((exported["first"], FRAMES), (exported["second"], FRAMES_2)):
        samples = _scene_samples(nusc, result.scene_token)
        ts = [s["timestamp"] for s in samples]
        assert np.allclose(np.diff(ts), 500_000, atol=1)  # 2 Hz, microseconds
        assert samples[0]["prev"] == "" and samples[-1]["next"] == ""
        for cam in PANORAMA_ORDER:
            sd = nusc.get("sample_data", samples[0]["data"][cam])
            assert sd["prev"] == ""
            chain = [sd]
            while chain[-1]["next"]:
                nxt = nusc.get("sample_data", chain[-1]["next"])
                assert nxt["prev"] == chain[-1]["token"] and nxt["channel"] == cam
                chain.append(nxt)
            assert len(chain) == n_frames
            assert np.allclose(np.diff([c["timestamp"] for c in chain]), 1e6 / 12, atol=1)
            assert [c["is_key_frame"] for c in chain] == [i % 6 == 0 for i in range(n_frames)]
            # a sweep belongs to the NEXT key frame's sample (as in nuScenes), the last ones to the last sample
            for c in chain:
                later = [s for s in samples if s["timestamp"] >= c["timestamp"]]
                assert c["sample_token"] == (later[0] if later else samples[-1])["token"]
            # the ego pose of each frame is the ego trajectory at that time
            for i, c in enumerate(chain):
                pose = nusc.get("ego_pose", c["ego_pose_token"])
                x, y, yaw = exported["scenario"].ego.trajectory.pose_at(i / 12)
                assert np.allclose(pose["translation"], [x, y, 0.0], atol=1e-6)
                assert abs(Quaternion(pose["rotation"]).yaw_pitch_roll[0] - yaw) < 1e-6


def test_annotations_follow_the_trajectories(exported):
    nusc, scenario = exported["nusc"], exported["scenario"]
    inst2agent = _manifest(exported["first"])["instances"]
    samples = _scene_samples(nusc, exported["first"].scene_token)
    t0 = samples[0]["timestamp"]
    seen = set()
    for s in samples:
        t = (s["timestamp"] - t0) / 1e6
        for tok in s["anns"]:
            ann = nusc.get("sample_annotation", tok)
            agent = scenario.agent(inst2agent[ann["instance_token"]])
            seen.add(agent.id)
            x, y, yaw = agent.trajectory.pose_at(t)
            assert np.allclose(ann["translation"], [x, y, agent.height / 2], atol=1e-6)
            assert np.allclose(ann["size"], agent.size)
            assert abs(Quaternion(ann["rotation"]).yaw_pitch_roll[0] - yaw) < 1e-6
            assert ann["num_lidar_pts"] == 0 and ann["num_radar_pts"] == 0
            assert nusc.get("category", nusc.get("instance", ann["instance_token"])["category_token"])["name"] \
                == {"car": "vehicle.car", "truck": "vehicle.truck", "bus": "vehicle.bus.rigid",
                    "motorcycle": "vehicle.motorcycle", "bicycle": "vehicle.bicycle",
                    "pedestrian": "human.pedestrian.adult", "traffic_cone": "movable_object.trafficcone",
                    "barrier": "movable_object.barrier"}[agent.cls]
    assert seen == set(scenario.agent_ids())
    # instance chains: one annotation per key frame, linked in time order
    for inst in nusc.instance:
        if inst["token"] not in inst2agent:
            continue
        anns, tok = [], inst["first_annotation_token"]
        while tok:
            anns.append(nusc.get("sample_annotation", tok))
            tok = anns[-1]["next"]
        assert len(anns) == inst["nbr_annotations"] == 3
        assert anns[-1]["token"] == inst["last_annotation_token"]


def test_attributes(exported):
    nusc = exported["nusc"]
    inst2agent = _manifest(exported["first"])["instances"]
    attrs: dict[str, set[str]] = {}
    for ann in nusc.sample_annotation:
        aid = inst2agent.get(ann["instance_token"])
        if aid is not None:
            attrs.setdefault(aid, set()).update(nusc.get("attribute", a)["name"] for a in ann["attribute_tokens"])
    assert attrs["car_1"] == {"vehicle.moving"}
    assert attrs["bus_1"] == {"vehicle.moving"}  # still rolling at 2 m/s braking at 0.7 m/s^2 in the first second
    assert attrs["pedestrian_1"] == {"pedestrian.moving"}
    assert attrs["bicycle_1"] == {"cycle.with_rider"}
    assert attrs["motorcycle_1"] == {"cycle.with_rider"}
    assert attrs["traffic_cone_1"] == set() and attrs["barrier_1"] == set()


def test_velocities_agree_with_trajectories(exported):
    nusc, scenario = exported["nusc"], exported["scenario"]
    inst2agent = _manifest(exported["first"])["instances"]
    samples = _scene_samples(nusc, exported["first"].scene_token)
    t0 = samples[0]["timestamp"]
    time_of = {s["token"]: (s["timestamp"] - t0) / 1e6 for s in samples}
    checked = 0
    for ann in nusc.sample_annotation:
        aid = inst2agent.get(ann["instance_token"])
        if aid is None:
            continue
        agent = scenario.agent(aid)
        v = nusc.box_velocity(ann["token"])[:2]
        # the devkit differences the neighbouring annotations: it must equal the same difference of the trajectory
        a = nusc.get("sample_annotation", ann["prev"]) if ann["prev"] else ann
        b = nusc.get("sample_annotation", ann["next"]) if ann["next"] else ann
        ta, tb = time_of[a["sample_token"]], time_of[b["sample_token"]]
        pa, pb = agent.trajectory.sample([ta, tb]).xy
        assert np.allclose(v, (pb - pa) / (tb - ta), atol=1e-4)
        # for agents at constant velocity it is the trajectory's velocity
        if ann["prev"] and ann["next"] and aid in ("truck_1", "motorcycle_1", "pedestrian_1", "bicycle_1"):
            s = agent.trajectory.sample(time_of[ann["sample_token"]])
            assert np.allclose(v, [s.vx[0], s.vy[0]], atol=1e-3)
            checked += 1
    assert checked == 4


def test_boxes_projected_by_the_devkit_land_on_the_instance_masks(exported):
    """Every box that get_sample_data returns lands on that agent's rendered mask in that camera.

    Two measures per (key frame, camera, annotation), with the devkit's own projection (view_points):
    * containment: the mesh lies inside its box, so >= 95 % of the agent's mask pixels fall inside
      the projected box's silhouette (allowing a pixel of rasterisation at small sizes);
    * IoU of the 2-D boxes (mask bbox vs projected box bbox) >= 0.5 for unoccluded agents
      (visibility bin 4) of at least 40 pixels whose box is wholly in the image: the assets fill their boxes to well over 80 % per
      axis, and a 1-pixel quantisation at ~6 pixels per side costs at most ~30 %; 0.5 is also the
      usual 2-D detection match threshold. A box moved sideways by its own size fails it (checked below).
    """
    from nuscenes.utils.geometry_utils import BoxVisibility, box_in_image, view_points

    nusc, first = exported["nusc"], exported["first"]
    man = _manifest(first)
    inst2agent = man["instances"]
    gdir = first.scene_dir / "guidance"
    index = json.loads((gdir / "index.json").read_text())
    samples = _scene_samples(nusc, first.scene_token)
    n_iou = n_contain = n_shift_fail = 0
    for k, sample in enumerate(samples):
        maps = read_guidance_frame(gdir, 6 * k)
        for ci, cam in enumerate(index["cameras"]):
            _, boxes, K = nusc.get_sample_data(sample["data"][cam], box_vis_level=BoxVisibility.ANY)
            for box in boxes:
                ann = nusc.get("sample_annotation", box.token)
                aid = inst2agent[ann["instance_token"]]
                mask = maps["instance"][ci] == index["instance_ids"][aid]
                n = int(mask.sum())
                corners = box.corners()
                if n == 0 or corners[2].min() < 0.2:
                    continue
                uv = view_points(corners, K, normalize=True)[:2]
                hull = np.zeros((H, W), np.uint8)
                cv2.fillConvexPoly(hull, cv2.convexHull(np.round(uv.T * 16).astype(np.int32)), 1, shift=4)
                hull = cv2.dilate(hull, np.ones((3, 3), np.uint8)).astype(bool)
                assert (mask & hull).sum() >= 0.95 * n, f"{aid} in {cam} at key frame {k}: mask outside its box"
                n_contain += 1
                whole = box_in_image(box, K, (W, H), vis_level=BoxVisibility.ALL)
                if ann["visibility_token"] != "4" or n < 40 or not whole:
                    continue
                ys, xs = np.nonzero(mask)
                mask_box = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
                proj_box = (max(uv[0].min(), 0), max(uv[1].min(), 0), min(uv[0].max() + 1, W), min(uv[1].max() + 1, H))
                iou = _bbox_iou(proj_box, mask_box)
                assert iou >= 0.5, f"{aid} in {cam} at key frame {k}: IoU {iou:.2f}"
                n_iou += 1
                # negative control: the same box moved sideways (camera x) by its own size misses its mask
                box.translate([float(max(box.wlh[0], box.wlh[1])), 0.0, 0.0])
                uv2 = view_points(box.corners(), K, normalize=True)[:2]
                shifted = (max(uv2[0].min(), 0), max(uv2[1].min(), 0), min(uv2[0].max() + 1, W), min(uv2[1].max() + 1, H))
                n_shift_fail += _bbox_iou(shifted, mask_box) < 0.5
    assert n_contain >= 15 and n_iou >= 6
    assert n_shift_fail == n_iou


def test_visibility_bins_come_from_the_masks(exported):
    nusc, first = exported["nusc"], exported["first"]
    man = _manifest(first)
    inst2agent = man["instances"]
    vis = man["visibility"]  # "frame:agent" -> measured fraction
    samples = _scene_samples(nusc, first.scene_token)
    bins = {"1": (0, 0.4), "2": (0.4, 0.6), "3": (0.6, 0.8), "4": (0.8, 1.0)}
    levels = set()
    for k, s in enumerate(samples):
        for tok in s["anns"]:
            ann = nusc.get("sample_annotation", tok)
            f = vis[f"{6 * k}:{inst2agent[ann['instance_token']]}"]
            lo, hi = bins[ann["visibility_token"]]
            assert lo <= f <= hi
            levels.add(ann["visibility_token"])
    assert "4" in levels and "1" in levels  # the demo has both unoccluded and hidden agents


def test_calibration_is_the_rig_at_export_size(exported):
    nusc = exported["nusc"]
    rig = CameraRig.default((W, H))
    for cs in nusc.calibrated_sensor:
        cam = rig[nusc.get("sensor", cs["sensor_token"])["channel"]]
        assert np.allclose(cs["camera_intrinsic"], cam.K)
        assert np.allclose(cs["translation"], cam.translation) and np.allclose(cs["rotation"], cam.rotation)


def test_second_export_adds_a_scene_and_keeps_the_first(exported):
    before = exported["tables_first"]
    after = load_tables(exported["root"], DEFAULT_VERSION)
    for name in TABLES:
        if name in ("category", "attribute", "visibility", "sensor"):
            assert after[name] == before[name]  # vocabulary shared, not duplicated
        else:
            assert after[name][:len(before[name])] == before[name]
            assert len(after[name]) > len(before[name])
    second = exported["second"]
    for cam in PANORAMA_ORDER:
        assert (second.scene_dir / f"{cam}.mp4").stat().st_size > 0
    assert (second.scene_dir / "panorama.mp4").is_file()
    assert (second.scene_dir / "scenario.xosc").is_file()


def test_manifests(exported):
    man = _manifest(exported["second"])
    assert man["seed"] == 3 and man["backend"] == "naive"
    assert man["scenario"]["name"] == "demo_intersection" and "agents" in man["scenario"]
    assert {"numpy", "nuscenes-devkit", "python"} <= set(man["versions"])
    assert man["timings_s"]["generate"] > 0 and man["num_frames"] == FRAMES_2
    assert "num_lidar_pts" in man["notes"] and "0" in man["notes"]["num_lidar_pts"]
    ds = json.loads((exported["root"] / "manifest.json").read_text())
    assert [s["scene_token"] for s in ds["scenes"]] == [exported["first"].scene_token, exported["second"].scene_token]


def test_a_failing_export_leaves_the_dataset_intact(exported, tmp_path, monkeypatch):
    root = tmp_path / "copy"
    shutil.copytree(exported["root"], root)
    before = {p.relative_to(root): p.read_bytes() for p in root.rglob("*.json")}
    files_before = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    from engine.export import nuscenes_dataset
    from engine.worldmodel.events import GeneratedClip

    def broken_commit(*a, **k):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(nuscenes_dataset, "commit_files", broken_commit)
    times = np.arange(FRAMES_2) / 12.0
    clip = GeneratedClip(np.zeros((FRAMES_2, 6, H, W, 3), np.uint8), PANORAMA_ORDER, 12.0, "test", 0, times)
    with pytest.raises(OSError, match="disk full"):
        export_clip(exported["scenario"], clip, root, ExportSettings(size=(W, H), videos=False, guidance=False))
    after = {p.relative_to(root): p.read_bytes() for p in root.rglob("*.json")}
    assert after == before
    assert sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file()) == files_before
    from nuscenes.nuscenes import NuScenes

    assert len(NuScenes(DEFAULT_VERSION, str(root), verbose=False).scene) == 2


def test_bad_clip_is_refused_before_anything_is_written(exported, tmp_path):
    from engine.worldmodel.events import GeneratedClip

    clip = GeneratedClip(np.zeros((3, 6, H, W, 3), np.uint8), PANORAMA_ORDER, 12.0, "test", 0, np.arange(2) / 12)
    with pytest.raises(ValueError, match="3 frames but 2 frame times"):
        export_clip(exported["scenario"], clip, tmp_path / "ds")
    assert not any(p.is_file() for p in (tmp_path / "ds").rglob("*") if p.name != ".lock")


def test_every_sweep_box_from_the_devkit_is_where_the_scenario_puts_it(exported):
    """nuscenes-devkit's get_boxes interpolates a sweep's boxes between its sample's prev and the sample:
    every box it returns is within 0.1 m of the scenario's agent at that sweep's timestamp."""
    nusc, scenario = exported["nusc"], exported["scenario"]
    result = exported["first"]
    manifest = _manifest(result)
    agent_of = {tok: aid for tok, aid in manifest["instances"].items()}
    samples = _scene_samples(nusc, result.scene_token)
    t0 = samples[0]["timestamp"]
    key_t = np.array([(s["timestamp"] - t0) / 1e6 for s in samples])
    errors = []
    for cam in ("CAM_FRONT", "CAM_BACK_LEFT"):
        sd = nusc.get("sample_data", samples[0]["data"][cam])
        while True:
            if samples[0]["timestamp"] < sd["timestamp"] < samples[-1]["timestamp"] and not sd["is_key_frame"]:
                t = (sd["timestamp"] - t0) / 1e6
                j = int(np.searchsorted(key_t, t))           # the key frames around the sweep: j - 1, j
                u = (t - key_t[j - 1]) / (key_t[j] - key_t[j - 1])
                for box in nusc.get_boxes(sd["token"]):
                    ann = nusc.get("sample_annotation", box.token)
                    agent = next(a for a in scenario.agents if a.id == agent_of[ann["instance_token"]])
                    # exactly the straight line between the agent's key-frame positions (correct linking) ...
                    (xa, ya, _), (xb, yb, _) = agent.trajectory.pose_at(key_t[j - 1]), agent.trajectory.pose_at(key_t[j])
                    lerp = (xa + u * (xb - xa), ya + u * (yb - ya))
                    assert np.hypot(box.center[0] - lerp[0], box.center[1] - lerp[1]) < 0.01, (cam, t, agent.id)
                    # ... and so close to where the scenario has the agent at the sweep's own time
                    x, y, _ = agent.trajectory.pose_at(t)
                    errors.append(np.hypot(box.center[0] - x, box.center[1] - y))
            if not sd["next"]:
                break
            sd = nusc.get("sample_data", sd["next"])
    errors = np.array(errors)
    assert errors.size > 20
    # the rest is the devkit's linear interpolation over 0.5 s of a curving, accelerating path
    assert np.percentile(errors, 90) < 0.1 and errors.max() < 0.25, (np.percentile(errors, 90), errors.max())
