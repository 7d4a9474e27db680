"""The boxes map of one camera, including boxes that pass behind the camera."""
from __future__ import annotations

import cv2
import numpy as np
from nuscenes.utils.data_classes import Box
from pyquaternion import Quaternion

from engine.render.boxes import EDGE_VALUE, FACE_VALUE, FRONT_VALUE, render_boxes
from engine.rig import CameraRig
from engine.rig.projection import clipped_hull_points


def _camera_box(center, wlh, yaw) -> np.ndarray:
    """(3, 8) corners of a box given directly in the camera frame (x right, y down, z forward); yaw about -y."""
    q = Quaternion(axis=[0, -1, 0], angle=yaw) * Quaternion(axis=[1, 0, 0], angle=np.pi / 2)
    return Box(center, wlh, q).corners()


def _hull(camera, corners) -> np.ndarray:
    uv = camera.project(clipped_hull_points(corners)).T
    m = np.zeros((camera.height, camera.width), np.uint8)
    cv2.fillConvexPoly(m, cv2.convexHull(np.rint(uv * 4).astype(np.int32)), 1, cv2.LINE_8, 2)
    return m.astype(bool)


def test_straddling_box_is_clipped_not_wrapped():
    cam = CameraRig.default((448, 256))["CAM_FRONT"]
    # a long box from 3 m behind the camera to 5 m ahead, a little to the right and below
    corners = _camera_box([1.5, 1.0, 1.0], [2.0, 8.0, 1.5], 0.0)
    assert corners[2].min() < 0 < corners[2].max()
    img = render_boxes([(0, corners)], cam, 10)
    own = img[..., 0] > 0
    ref = _hull(cam, corners)
    assert own.sum() > 2000
    assert (own & ref).sum() / (own | ref).sum() > 0.97
    assert img[..., 1:].max() == 0
    assert (img[..., 0] == EDGE_VALUE).any()


def test_front_face_values_and_far_to_near_overwrite():
    cam = CameraRig.default((448, 256))["CAM_FRONT"]
    towards = _camera_box([0.0, 0.5, 12.0], [2.0, 4.5, 1.6], -np.pi / 2)   # front (+x of the box) faces the camera
    away = _camera_box([3.0, 0.5, 20.0], [2.0, 4.5, 1.6], np.pi / 2)     # partly behind the near box
    assert towards[2, :4].mean() < towards[2, 4:].mean() and away[2, :4].mean() > away[2, 4:].mean()
    img = render_boxes([(3, away), (1, towards)], cam, 10)                  # far first
    u, v = cam.project(towards.mean(axis=1, keepdims=True))[:, 0]
    assert img[int(v), int(u), 1] == FRONT_VALUE and img[int(v), int(u), 3] == 0
    far_only = _hull(cam, away) & ~_hull(cam, towards)
    both = _hull(cam, away) & _hull(cam, towards)
    assert far_only.sum() > 100 and both.sum() > 100
    assert (img[..., 3][far_only] > 0).mean() > 0.95
    assert (img[..., 1][both] > 0).mean() > 0.95 and (img[..., 3][both] == 0).mean() > 0.95   # the near box wins
    assert FACE_VALUE in img[..., 3][far_only]
    assert not (img[..., 1:2].astype(bool).any(-1) & img[..., 3].astype(bool)).any()   # one owner per pixel
