"""Studio frame -> MagicDrive conditions, checked against nuscenes-devkit geometry and analytic values."""
from __future__ import annotations

import numpy as np
import pytest
from pyquaternion import Quaternion
from nuscenes.utils.data_classes import Box

from engine.rig import CameraRig
from engine.scenario.map_elements import Crossing, Polyline, RoadMap
from engine.worldmodel.magicdrive import conditions as mc


def test_lidar_frame_axes():
    # ego forward is LiDAR +y, ego left is LiDAR -x
    fwd = mc._transform(mc.LIDAR_FROM_EGO, np.array([[10.0 + 0.943713, 0, 1.84023]]))[0]
    left = mc._transform(mc.LIDAR_FROM_EGO, np.array([[0.943713, 5.0, 1.84023]]))[0]
    np.testing.assert_allclose(fwd, [0, 10, 0], atol=1e-9)
    np.testing.assert_allclose(left, [-5, 0, 0], atol=1e-9)


@pytest.mark.parametrize("yaw", [0.0, 0.7, -2.0, np.pi])
def test_box_corners_match_nuscenes_box_with_bevfusion_z(yaw):
    center, wlh = np.array([12.0, -3.0, 0.8]), (1.9, 4.6, 1.6)
    corners = mc.box_corners_lidar(center, wlh, yaw)
    # independent truth: nuscenes-devkit's Box in the ego frame, moved to the LiDAR frame
    box = Box(center, wlh, Quaternion(axis=[0, 0, 1], angle=yaw))
    truth = mc._transform(mc.LIDAR_FROM_EGO, box.corners().T)
    truth[:, 2] += wlh[2] / 2  # BEVFusion treats the centre z as the bottom
    key = lambda a: sorted(map(tuple, np.round(a, 6)))
    assert key(corners) == key(truth)
    # mmdet3d order: corners 0-3 have local x0 (one side), 0,4 bottom, 1,5 top
    assert corners[1, 2] - corners[0, 2] == pytest.approx(wlh[2])
    assert np.linalg.norm(corners[4] - corners[0]) == pytest.approx(wlh[0])   # x: width
    assert np.linalg.norm(corners[3] - corners[0]) == pytest.approx(wlh[1])   # y: length


def test_boxes_filtered_per_view_and_padded():
    rig = CameraRig.default(None)
    _, lidar2cam = mc.camera_params(rig)

    class A:
        def __init__(self, cls, x, y):
            self.cls, self.center, self.size, self.yaw = cls, (x, y, 0.8), (1.9, 4.5, 1.6), 0.0

    boxes = mc.box_conditions([A("car", 20, 0), A("pedestrian", -20, 0), A("unknown_thing", 5, 5)], lidar2cam)
    views = list(mc.VIEW_ORDER)
    front, back = views.index("CAM_FRONT"), views.index("CAM_BACK")
    assert boxes.masks[front].sum() == 1 and boxes.classes[front][boxes.masks[front]][0] == 0  # car
    assert boxes.masks[back].sum() == 1 and boxes.classes[back][boxes.masks[back]][0] == 8  # pedestrian
    assert boxes.bboxes.shape == (6, boxes.masks.sum(1).max(), 8, 3)
    assert np.all(boxes.classes[~boxes.masks] == -1)


def test_camera_params_are_intrinsics_and_camera_to_lidar():
    rig = CameraRig.default((400, 224))
    params, lidar2cam = mc.camera_params(rig)
    assert params.shape == (6, 3, 7)
    front = rig["CAM_FRONT"]
    # K refers to the 1600x900 image whatever the rig's size
    np.testing.assert_allclose(params[1, :, :3], front.scaled(1600, 900).K, rtol=1e-6)
    # the front camera looks along LiDAR +y: its optical axis (camera z) in the LiDAR frame
    axis = params[1, :, 5]
    assert axis[1] > 0.99
    # camera2lidar's translation: the camera sits ahead of the LiDAR (LiDAR y > 0)
    assert params[1, 1, 6] > 0


def test_bev_map_layers_and_orientation():
    # a drivable strip ahead of the ego (ego x in [0, 30], |y| < 4), a crossing to the ego's left,
    # a double divider along the ego's x axis; ego at the world origin, yawed 90 deg
    yaw = np.pi / 2
    world_from_ego = np.eye(4)
    world_from_ego[:2, :2] = [[np.cos(yaw), -np.sin(yaw)], [np.sin(yaw), np.cos(yaw)]]

    def w(pts):  # ego -> world
        p = np.c_[np.asarray(pts, float), np.zeros(len(pts))]
        return [tuple(q[:2]) for q in p @ world_from_ego[:3, :3].T]

    rm = RoadMap(drivable_area=(tuple(w([(0, -4), (30, -4), (30, 4), (0, 4)])),),
                 ped_crossings=(Crossing("c", tuple(w([(-2, 10), (2, 10), (2, 14), (-2, 14)]))),),
                 lane_dividers=(Polyline("d", tuple(w([(-40, 0), (40, 0)])), "double"),))
    m = mc.bev_map(rm, world_from_ego)
    assert m.shape == (8, 200, 200) and m.dtype == np.float32

    def cell(x_ego, y_ego):  # ego -> LiDAR -> (i, j)
        xl, yl, _ = mc._transform(mc.LIDAR_FROM_EGO, np.array([[x_ego, y_ego, 0.0]]))[0]
        return int((xl + 50) / 0.5), int((yl + 50) / 0.5)

    assert m[0][cell(15, 0)] == 1 and m[0][cell(-10, 0)] == 0 and m[0][cell(15, 8)] == 0
    assert m[1][cell(0, 12)] == 1 and m[1][cell(0, -12)] == 0
    assert m[5][cell(20, 0)] == 1 and m[5][cell(20, 3)] == 0 and m[6].sum() == 0
    assert m[[2, 4, 7]].sum() == 0


def test_prompt_has_time_of_day_and_weather_first():
    p = mc.prompt_for("night", "rain", "a cyclist cuts in")
    assert p.startswith("A driving scene image at boston-seaport. Night, rain")
    assert p.endswith("a cyclist cuts in.")
