"""Opening a nuScenes-format scene: frames, poses, calibration, annotations, map, scenario file."""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from pyquaternion import Quaternion

from engine.rig import CameraRig
from engine.scenario.io import load_scenario, save_scenario
from engine.sources import SceneSourceError, available_versions, list_scenes, open_nuscenes_scene, scene_for_scenario
from tests.fixtures.nuscenes_builder import CAMERAS

VERSION = "v1.0-mini"


@pytest.fixture(scope="module")
def scene1(nuscenes_dataset):
    return open_nuscenes_scene(nuscenes_dataset.dataroot, VERSION, "scene-0001")


@pytest.fixture(scope="module")
def scene3(nuscenes_dataset):
    return open_nuscenes_scene(nuscenes_dataset.dataroot, VERSION, "scene-0003")


def test_list_scenes_reads_names_descriptions_locations(nuscenes_dataset):
    assert available_versions(nuscenes_dataset.dataroot) == [VERSION]
    scenes = list_scenes(nuscenes_dataset.dataroot, VERSION)
    assert [s.name for s in scenes] == ["scene-0001", "scene-0002", "scene-0003"]
    by = {s.name: s for s in scenes}
    assert by["scene-0003"].location == "boston-seaport"
    assert "lead car" in by["scene-0001"].description
    assert by["scene-0001"].num_samples == 7 and by["scene-0001"].duration == pytest.approx(3.0)


def test_frames_map_every_camera_to_the_nearest_image(nuscenes_dataset, scene1):
    built = nuscenes_dataset.scene("scene-0001")
    assert scene1.cameras == CAMERAS            # panorama order, by name
    n = scene1.num_frames
    assert n == 37 and scene1.scenario.num_frames == n and scene1.scenario.fps == 12.0
    for cam in CAMERAS:
        stamps = np.array(built.camera_times_us[cam])
        for k in range(n):
            f = scene1.frame(k, cam)
            t = scene1.frame_time_us(k)
            assert f.path.is_file() and f.camera == cam and f.index == k
            assert f.timestamp_us == stamps[np.argmin(np.abs(stamps - t))]
            assert abs(f.offset_s) <= 1 / 24 + 1e-6
    # key frames and sweeps both used; the image at t = 0.5 s is a key frame
    assert scene1.frame(6, "CAM_FRONT").is_key_frame and not scene1.frame(7, "CAM_FRONT").is_key_frame
    assert "sweeps" in str(scene1.frame(7, "CAM_FRONT").path)
    img = scene1.image(3, "CAM_FRONT")
    assert img.shape == (180, 320, 3) and img.dtype == np.uint8
    r, g, b = img[2, 160].astype(int)
    assert b > r + 40, "images are RGB: the sky at the top is blue"
    assert scene1.image(3, "CAM_FRONT", (160, 90)).shape == (90, 160, 3)


def test_ego_poses_follow_the_recorded_motion(nuscenes_dataset, scene1):
    built = nuscenes_dataset.scene("scene-0001")
    road, ego = built.log.road, built.spec.ego
    for k in range(0, scene1.num_frames, 5):
        t = k / 12.0
        x, y, yaw = scene1.scenario.ego.trajectory.pose_at(t)
        tx, ty, tyaw = ego.pose(road, t)
        assert math.hypot(x - tx, y - ty) < 0.02
        assert abs((yaw - tyaw + math.pi) % (2 * math.pi) - math.pi) < 0.005
    # each image carries the ego pose at its own capture time
    f = scene1.frame(10, "CAM_BACK")
    tx, ty, _ = ego.pose(road, (f.timestamp_us - built.start_us) / 1e6)
    assert f.world_from_ego[:2, 3] == pytest.approx([tx, ty], abs=1e-6)
    assert scene1.scenario.ego.locked is False and scene1.scenario.ego.behavior == "recorded"


@pytest.mark.parametrize("scene_name", ["scene-0001", "scene-0003"])
def test_rig_is_the_logs_own_calibration(nuscenes_dataset, scene_name):
    scene = open_nuscenes_scene(nuscenes_dataset.dataroot, VERSION, scene_name)
    truth = nuscenes_dataset.calibration[nuscenes_dataset.scene(scene_name).log.name]
    assert scene.rig.size == (320, 180)
    for cam in scene.rig:
        rec = truth[cam.name]
        assert cam.translation == pytest.approx(rec["translation"], abs=1e-9)
        assert Quaternion(cam.rotation).absolute_distance(Quaternion(cam.rotation), Quaternion(rec["rotation"])) < 1e-9
        assert cam.K == pytest.approx(np.asarray(rec["camera_intrinsic"]), abs=1e-9)
    default = CameraRig.default((320, 180))["CAM_FRONT"]
    same = np.allclose(scene.rig["CAM_FRONT"].translation, default.translation, atol=1e-6)
    assert same == (scene_name == "scene-0001"), "the boston log is calibrated differently from the default rig"


def test_annotations_become_locked_agents_with_their_tracks(nuscenes_dataset, scene1):
    built = nuscenes_dataset.scene("scene-0001")
    road = built.log.road
    agents = {a.behavior_params["instance_token"]: a for a in scene1.scenario.agents}
    assert all(a.locked and a.behavior == "recorded" for a in scene1.scenario.agents)
    assert len(agents) == len(built.instance_tokens)       # every annotated instance, none twice
    for spec in built.spec.objects:
        a = agents[built.instance_tokens[spec.name]]
        assert a.size == pytest.approx(spec.wlh)
        assert a.behavior_params["category"] == spec.category
        assert len(a.behavior_params["sample_annotation_tokens"]) == len(built.annotated[spec.name])
        for k in built.annotated[spec.name]:
            t = (built.sample_times_us[k] - built.start_us) / 1e6
            x, y, yaw = a.trajectory.pose_at(t)
            tx, ty, tyaw = spec.pose(road, t)
            assert math.hypot(x - tx, y - ty) < 0.01, spec.name
            assert abs((yaw - tyaw + math.pi) % (2 * math.pi) - math.pi) < 1e-3
    by_name = {s.name: agents[built.instance_tokens[s.name]] for s in built.spec.objects}
    assert by_name["police"].cls == "car" and by_name["police"].behavior_params["detection_name"] is None
    assert by_name["dog"].cls == "pedestrian" and by_name["walker"].behavior_params["detection_name"] == "pedestrian"
    assert by_name["cone_1"].cls == "traffic_cone" and by_name["parked_truck"].cls == "truck"
    late = by_name["late_car"].trajectory
    assert late.start_time == pytest.approx(1.0) and not late.covers(0.5)
    truck = by_name["parked_truck"].trajectory
    assert len(truck.points) == 2 and truck.points[0].x == truck.points[1].x      # parked: held still


def test_map_from_the_expansion(scene1):
    assert scene1.map_source == "expansion"
    m = scene1.scenario.map
    assert len(m.lanes) == 4 and len(m.ped_crossings) == 1
    assert {d.style for d in m.lane_dividers} == {"solid", "dashed"}
    area = m.drivable_geometry
    ego_xy = scene1.scenario.ego.trajectory.sample(scene1.scenario.frame_times()).xy
    from shapely.geometry import Point

    assert all(area.contains(Point(p)) for p in ego_xy)
    lanes_fwd = [l for l in m.lanes if np.dot(l.array[-1] - l.array[0], [math.cos(0.55), math.sin(0.55)]) > 0]
    assert len(lanes_fwd) == 2 and all(l.width == pytest.approx(3.5, abs=0.05) for l in m.lanes)
    # the traffic island (a hole in the expansion's drivable area) is not drivable
    cs = 62.0 + 11.0
    island = (120.0 + cs * math.cos(0.55), 100.0 + cs * math.sin(0.55))
    assert not area.contains(Point(island)) and area.contains(Point(island[0] + 5 * math.sin(0.55), island[1] - 5 * math.cos(0.55)))
    assert all(len(p) >= 3 for p in m.drivable_area)


def test_map_inferred_from_traffic_without_expansion(scene3):
    from shapely.geometry import Point

    assert scene3.map_source == "traffic"
    area = scene3.scenario.map.drivable_geometry
    times = scene3.scenario.frame_times()
    for a in (scene3.scenario.ego, *[a for a in scene3.scenario.agents if a.cls in ("car", "truck", "trailer")]):
        for p in a.trajectory.sample(times[a.trajectory.covers(times)] if a.id != "ego" else times).xy:
            assert area.contains(Point(p)), a.id
    ego0 = scene3.scenario.ego.trajectory.sample(0.0).xy[0]
    yaw = scene3.scenario.ego.trajectory.pose_at(0.0)[2]
    building = ego0 + 25.0 * np.array([-math.sin(yaw), math.cos(yaw)])
    assert not area.contains(Point(building))
    assert any(l.id == "inferred_ego" for l in scene3.scenario.map.lanes)


def test_asking_for_the_expansion_where_there_is_none_says_so(nuscenes_dataset):
    with pytest.raises(SceneSourceError, match="boston-seaport"):
        open_nuscenes_scene(nuscenes_dataset.dataroot, VERSION, "scene-0003", map_source="expansion")


def test_scenario_file_refers_to_the_scene_and_reopens_it(nuscenes_dataset, scene1, tmp_path):
    path = save_scenario(scene1.scenario, tmp_path / "s.json")
    text = path.read_text()
    doc = json.loads(text)
    assert doc["source"] == {"kind": "nuscenes", "dataroot": str(Path(nuscenes_dataset.dataroot).resolve()),
                             "version": VERSION, "scene": "scene-0001"}
    assert ".jpg" not in text and "pcd.bin" not in text
    loaded = load_scenario(path)
    assert len(loaded.agents) == len(scene1.scenario.agents) and all(a.locked for a in loaded.agents)
    again = scene_for_scenario(loaded)
    assert again.frame(20, "CAM_FRONT").path == scene1.frame(20, "CAM_FRONT").path


def test_duration_is_clipped_to_what_the_cameras_cover(nuscenes_dataset):
    short = open_nuscenes_scene(nuscenes_dataset.dataroot, VERSION, "scene-0002", duration=2.75)
    assert short.num_frames == 33 and not short.warnings
    assert all(a.trajectory.start_time <= 2.75 for a in short.scenario.agents)
    long = open_nuscenes_scene(nuscenes_dataset.dataroot, VERSION, "scene-0002", duration=60.0)
    assert long.num_frames == 37 and any("shortened" in w for w in long.warnings)


def test_bad_inputs_name_the_problem(nuscenes_dataset, tmp_path):
    root = nuscenes_dataset.dataroot
    with pytest.raises(SceneSourceError, match="does not exist"):
        open_nuscenes_scene(tmp_path / "nowhere", VERSION, "scene-0001")
    with pytest.raises(SceneSourceError, match=r"v1\.0-trainval.*v1\.0-mini"):
        open_nuscenes_scene(root, "v1.0-trainval", "scene-0001")
    with pytest.raises(SceneSourceError, match="did you mean scene-0001"):
        open_nuscenes_scene(root, VERSION, "scene-001")
    with pytest.raises(SceneSourceError, match="fps"):
        open_nuscenes_scene(root, VERSION, "scene-0001", fps=0)
    broken = tmp_path / "broken"
    shutil.copytree(Path(root) / VERSION, broken / VERSION)
    (broken / VERSION / "ego_pose.json").unlink()
    with pytest.raises(SceneSourceError, match="ego_pose.json"):
        list_scenes(broken, VERSION)
    (broken / VERSION / "ego_pose.json").write_text("[{")
    (broken / VERSION / "scene.json").write_text('[{"name": 1,')
    with pytest.raises(SceneSourceError, match=r"scene\.json: invalid JSON at line 1"):
        list_scenes(broken, VERSION)


def test_a_dataset_without_sweeps_opens_on_its_key_frames(nuscenes_dataset, tmp_path):
    root = Path(nuscenes_dataset.dataroot)
    lite = tmp_path / "keyframes_only"
    lite.mkdir()
    for name in (VERSION, "maps", "samples"):
        (lite / name).symlink_to(root / name)
    scene = open_nuscenes_scene(lite, VERSION, "scene-0001")
    assert any("CAM_FRONT" in w and "missing" in w for w in scene.warnings)
    assert all(scene.frame(k, "CAM_FRONT").is_key_frame for k in range(scene.num_frames))
    assert scene.frame(8, "CAM_FRONT").path == scene.frame(6, "CAM_FRONT").path     # nearest key frame held
    assert all(s.is_key_frame for s in scene.lidar)


def test_pose_matrices_agree_with_the_devkit():
    from nuscenes.utils.geometry_utils import transform_matrix

    from engine.sources.streams import pose_record_matrix

    rng = np.random.default_rng(3)
    for _ in range(20):
        q = Quaternion(rng.normal(size=4)).normalised
        t = rng.normal(size=3) * 100
        ours = pose_record_matrix({"rotation": [q.w, q.x, q.y, q.z], "translation": t.tolist()})
        assert np.allclose(ours, transform_matrix(t, q), atol=1e-12)
