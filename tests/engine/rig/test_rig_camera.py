"""Camera rig: loading, scaling, frames, and projection that agrees with nuscenes-devkit."""
from __future__ import annotations

import json

import numpy as np
import pytest
from nuscenes.utils.data_classes import Box
from nuscenes.utils.geometry_utils import view_points
from pyquaternion import Quaternion

from engine.paths import DEFAULT_RIG
from engine.rig import PANORAMA_ORDER, CameraRig, RigFormatError, ego_pose, project_agent_box, project_boxes
from engine.rig.pose import agent_present
from engine.rig.projection import UNIT_BOX_CORNERS, clip_polygon, clip_segments, frustum_planes
from engine.scenario import Agent, Trajectory


def test_default_rig_is_in_panorama_order_with_scaled_intrinsics():
    native = CameraRig.default(None)
    rig = CameraRig.default((448, 256))
    assert rig.names == PANORAMA_ORDER
    assert rig.size == (448, 256)
    for n in rig.names:
        k0, k1 = native[n].K, rig[n].K
        assert k1[0, 0] == pytest.approx(k0[0, 0] * 448 / 1600)
        assert k1[0, 2] == pytest.approx(k0[0, 2] * 448 / 1600)
        assert k1[1, 1] == pytest.approx(k0[1, 1] * 256 / 900)
        assert k1[1, 2] == pytest.approx(k0[1, 2] * 256 / 900)


def test_rig_order_does_not_depend_on_file_order(tmp_path):
    doc = json.loads(DEFAULT_RIG.read_text())
    doc["cameras"] = doc["cameras"][::-1]
    p = tmp_path / "rig.json"
    p.write_text(json.dumps(doc))
    assert CameraRig.from_json(p).names == PANORAMA_ORDER


def test_camera_frames_match_the_nuscenes_convention():
    rig = CameraRig.default()
    front, back = rig["CAM_FRONT"], rig["CAM_BACK"]
    # optical axis (camera +z) points forward (+x ego) for CAM_FRONT and backwards for CAM_BACK
    assert (front.ego_from_camera[:3, :3] @ [0, 0, 1])[0] > 0.99
    assert (back.ego_from_camera[:3, :3] @ [0, 0, 1])[0] < -0.99
    # image down (camera +y) is ego down (-z)
    assert (front.ego_from_camera[:3, :3] @ [0, 1, 0])[2] < -0.99
    np.testing.assert_allclose(front.ego_from_camera @ front.camera_from_ego, np.eye(4), atol=1e-12)


def test_calibrated_sensor_records_give_the_same_rig():
    doc = json.loads(DEFAULT_RIG.read_text())
    records = {c["name"]: {"translation": c["translation"], "rotation": c["rotation"], "camera_intrinsic": c["K"]}
               for c in doc["cameras"]}
    a = CameraRig.from_calibrated_sensors(records, size=(800, 450))
    b = CameraRig.default((800, 450))
    for n in b.names:
        np.testing.assert_allclose(a[n].K, b[n].K)
        np.testing.assert_allclose(a[n].ego_from_camera, b[n].ego_from_camera)
    rec = b["CAM_FRONT"].to_calibrated_sensor()
    again = CameraRig.from_calibrated_sensors({"CAM_FRONT": rec}, image_size=(800, 450))
    np.testing.assert_allclose(again["CAM_FRONT"].K, b["CAM_FRONT"].K)


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d["cameras"][2].pop("K"), "cameras[2]: missing K"),
    (lambda d: d["cameras"][1].__setitem__("rotation", [1, 2, 3, 4]), "cameras[1]: camera CAM_FRONT: rotation must be a unit"),
    (lambda d: d["cameras"][0].__setitem__("translation", [1, 2]), "cameras[0]: translation: expected 3 numbers"),
    (lambda d: d["cameras"][3].__setitem__("name", "CAM_FRONT"), "repeated: CAM_FRONT"),
    (lambda d: d.__setitem__("image_size", [0, 5]), "image_size"),
])
def test_bad_rig_files_name_the_problem(tmp_path, mutate, expected):
    doc = json.loads(DEFAULT_RIG.read_text())
    mutate(doc)
    p = tmp_path / "rig.json"
    p.write_text(json.dumps(doc))
    with pytest.raises(RigFormatError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        CameraRig.from_json(p)


def test_unknown_camera_name_is_a_clear_error():
    with pytest.raises(KeyError, match="CAM_TOP.*CAM_FRONT_LEFT"):
        CameraRig.default()["CAM_TOP"]


def _devkit_projection(agent: Agent, t: float, world_from_ego: np.ndarray, cam) -> np.ndarray:
    """The nuScenes tutorial chain: global box -> ego -> sensor with Box.translate/rotate, then view_points."""
    x, y, yaw = agent.trajectory.pose_at(t)
    box = Box([x, y, agent.height / 2], list(agent.size), Quaternion(axis=[0, 0, 1], angle=yaw))
    ego_q = Quaternion(matrix=world_from_ego[:3, :3])
    box.translate(-world_from_ego[:3, 3])
    box.rotate(ego_q.inverse)
    box.translate(-np.array(cam.translation))
    box.rotate(Quaternion(list(cam.rotation)).inverse)
    return view_points(box.corners(), cam.K, normalize=True)[:2]


def test_projected_box_corners_agree_with_nuscenes_devkit(demo_scenario):
    rig = CameraRig.default((448, 256))
    checked = 0
    for t in (0.0, 1.25, 2.5):
        wfe = ego_pose(demo_scenario, t)
        for agent in demo_scenario.agents:
            for cam in rig:
                pb = project_agent_box(agent, t, cam, cam.camera_from_world(wfe))
                if np.all(pb.corners_camera[2] > 0.5):
                    np.testing.assert_allclose(pb.corners_px, _devkit_projection(agent, t, wfe, cam), atol=1e-6)
                    checked += 1
    assert checked >= 20


def test_unit_box_corners_follow_box_corners_order():
    box = Box([0.0, 0.0, 0.5], [1.0, 1.0, 1.0], Quaternion())
    np.testing.assert_allclose(UNIT_BOX_CORNERS, box.corners().T, atol=1e-12)


def test_box_in_front_is_in_view_and_box_behind_is_not(demo_scenario):
    rig = CameraRig.default((448, 256))
    wfe = ego_pose(demo_scenario, 0.0)
    ahead = Agent("a", "car", (2, 4.5, 1.6), Trajectory.static(20.0, -1.75, 0.0))
    behind = Agent("b", "car", (2, 4.5, 1.6), Trajectory.static(-20.0, -1.75, 0.0))
    front = rig["CAM_FRONT"]
    assert project_agent_box(ahead, 0.0, front, front.camera_from_world(wfe)).visible
    assert not project_agent_box(behind, 0.0, front, front.camera_from_world(wfe)).visible
    back = rig["CAM_BACK"]
    assert project_agent_box(behind, 0.0, back, back.camera_from_world(wfe)).visible


def test_project_boxes_lists_visible_boxes_far_to_near(demo_scenario):
    cam = CameraRig.default((448, 256))["CAM_FRONT"]
    t = 2.5
    boxes = project_boxes(demo_scenario.agents, t, cam, cam.camera_from_world(ego_pose(demo_scenario, t)))
    ids = [b.agent_id for b in boxes]
    assert {"car_1", "traffic_cone_3", "barrier_1"} <= set(ids) and "bicycle_1" not in ids
    d = [b.distance for b in boxes]
    assert d == sorted(d, reverse=True)
    for b in boxes:
        u0, v0, u1, v1 = b.bbox
        assert -0.5 <= u0 < u1 <= 447.5 and -0.5 <= v0 < v1 <= 255.5


def test_clipping_keeps_segments_in_front_and_inside_the_image():
    cam = CameraRig.default((448, 256))["CAM_FRONT"]
    p0 = np.array([[0.0, 1.5, -10.0], [-50.0, 1.5, 5.0], [0.0, 1.5, -5.0]])
    p1 = np.array([[0.0, 1.5, 30.0], [50.0, 1.5, 5.0], [0.0, 1.5, -1.0]])
    q0, q1 = clip_segments(p0, p1)           # near plane only: the last segment is wholly behind
    assert len(q0) == 2
    assert q0[0, 2] == pytest.approx(0.1)
    q0, q1 = clip_segments(p0, p1, frustum_planes(cam, margin=2.0))
    uv = cam.project(np.concatenate([q0, q1]).T)
    assert np.all(uv[0] >= -2.6) and np.all(uv[0] <= 448 + 1.6)
    poly = clip_polygon(np.array([[-1.0, 0, -1.0], [1.0, 0, -1.0], [1.0, 0, 3.0], [-1.0, 0, 3.0]]))
    assert len(poly) == 4 and poly[:, 2].min() == pytest.approx(0.1)


def test_parked_single_waypoint_agents_stay_and_timed_ones_come_and_go():
    parked = Agent("p", "traffic_cone", (0.4, 0.4, 1.0), Trajectory.static(1, 2, 0))
    timed = Agent("m", "car", (2, 4, 1.5), Trajectory.from_arrays([1.0, 2.0], [0, 5], [0, 0], [0, 0]))
    assert agent_present(parked, 0.0) and agent_present(parked, 2.7)
    assert not agent_present(timed, 0.5) and agent_present(timed, 1.5) and not agent_present(timed, 2.5)
