"""Visibility from synthetic instance masks, attributes from trajectories, visibility bins."""
from __future__ import annotations

import numpy as np
import pytest

from engine.export.attributes import attribute_name
from engine.export.nuscenes_schema import visibility_token
from engine.export.visibility import silhouette, visibility_counts, visible_fractions
from engine.rig import CameraRig
from engine.rig.pose import pose_matrix
from engine.rig.projection import agent_box, transform_points
from engine.scenario.model import Agent
from engine.scenario.trajectory import Trajectory

RIG = CameraRig.default((160, 90)).subset(["CAM_FRONT"])
EGO = pose_matrix(0.0, 0.0, 0.0)


def _car(aid: str, x: float, y: float = 0.0) -> Agent:
    return Agent(aid, "car", (1.9, 4.6, 1.7), Trajectory.static(x, y, 0.0))


def _silhouette_mask(agent: Agent) -> np.ndarray:
    cam = RIG.cameras[0]
    corners = transform_points(cam.camera_from_world(EGO), agent_box(agent, 0.0).corners())
    sil, (x0, y0) = silhouette(corners, cam.K, cam.width, cam.height)
    out = np.zeros((cam.height, cam.width), bool)
    out[y0:y0 + sil.shape[0], x0:x0 + sil.shape[1]] = sil
    return out


def test_fully_visible_agent():
    car = _car("car_1", 15.0)
    inst = np.zeros((1, 90, 160), np.int32)
    inst[0][_silhouette_mask(car)] = 7
    f = visible_fractions([car], 0.0, RIG, EGO, inst, {"car_1": 7})
    assert f["car_1"] == pytest.approx(1.0)


def test_half_hidden_by_a_nearer_agent_and_not_by_a_farther_one():
    far, near = _car("far", 30.0), _car("near", 12.0, 1.0)
    sil = _silhouette_mask(far)
    inst = np.zeros((1, 90, 160), np.int32)
    cols = np.nonzero(sil.any(axis=0))[0]
    left = sil & (np.arange(160) < cols[len(cols) // 2])[None, :]
    inst[0][sil] = 1
    inst[0][left] = 2  # the near car covers the left half of the far car's silhouette
    f = visible_fractions([far, near], 0.0, RIG, EGO, inst, {"far": 1, "near": 2})
    assert f["far"] == pytest.approx(1 - left.sum() / sil.sum(), abs=1e-9)
    assert 0.3 < f["far"] < 0.7
    # the same pixels labelled as an agent *behind* it are not occlusion: the mesh is just not there
    behind = _car("behind", 60.0)
    inst2 = inst.copy()
    inst2[inst2 == 2] = 3
    f2 = visible_fractions([far, behind], 0.0, RIG, EGO, inst2, {"far": 1, "behind": 3})
    assert f2["far"] == pytest.approx(1.0)


def test_static_scene_occludes_only_when_in_front_per_depth():
    car = _car("car_1", 20.0)
    sil = _silhouette_mask(car)
    inst = np.zeros((1, 90, 160), np.int32)
    rows = np.nonzero(sil.any(axis=1))[0]
    top = sil & (np.arange(90) < rows[len(rows) // 2])[:, None]
    inst[0][sil & ~top] = 5
    depth = np.zeros((1, 90, 160), np.float32)
    depth[0][top] = 8.0   # a wall 8 m away in front of the car's top half
    f = visible_fractions([car], 0.0, RIG, EGO, inst, {"car_1": 5}, depth)
    assert f["car_1"] == pytest.approx((sil & ~top).sum() / sil.sum())
    depth[0][top] = 50.0  # background far behind: not an occluder
    assert visible_fractions([car], 0.0, RIG, EGO, inst, {"car_1": 5}, depth)["car_1"] == pytest.approx(1.0)


def test_agent_behind_the_camera_or_absent_counts_nothing():
    behind, later = _car("behind", -20.0), Agent("later", "car", (1.9, 4.6, 1.7), Trajectory.static(15, 0, 0, t0=2.0))
    counts = visibility_counts([behind, later], 0.0, RIG, EGO, np.zeros((1, 90, 160), np.int32),
                               {"behind": 1, "later": 2})
    assert counts == {"behind": (0, 0)}  # 'later' is not present at t = 0


@pytest.mark.parametrize("f,tok", [(0.0, "1"), (0.39, "1"), (0.4, "2"), (0.59, "2"), (0.6, "3"), (0.8, "4"), (1.0, "4")])
def test_visibility_bins(f, tok):
    assert visibility_token(f) == tok


def _moving(cls: str, speeds: list[float]) -> Agent:
    t = np.arange(len(speeds)) * 0.5
    x = np.concatenate([[0], np.cumsum(np.array(speeds[:-1]) * 0.5)])
    return Agent("a", cls, (1, 1, 1), Trajectory.from_arrays(t, x, np.zeros_like(t), np.zeros_like(t), speeds))


def test_attributes():
    times = np.arange(0, 2.01, 0.5)
    parked = Agent("p", "car", (1.9, 4.6, 1.7), Trajectory.static(0, 0, 0))
    assert attribute_name(parked, 0.0, times) == "vehicle.parked"
    braking = _moving("truck", [4.0, 2.0, 0.0, 0.0, 0.0])
    assert attribute_name(braking, 0.0, times) == "vehicle.moving"
    assert attribute_name(braking, 2.0, times) == "vehicle.stopped"
    assert attribute_name(Agent("b", "bicycle", (0.6, 1.7, 1.3), Trajectory.static(0, 0, 0)), 0.0, times) == "cycle.without_rider"
    assert attribute_name(Agent("b", "bicycle", (0.6, 1.7, 1.3), Trajectory.static(0, 0, 0), behavior_params={"rider": True}),
                          0.0, times) == "cycle.with_rider"
    assert attribute_name(_moving("motorcycle", [0, 0, 3, 3, 3]), 0.0, times) == "cycle.with_rider"
    walker = _moving("pedestrian", [1.2, 1.2, 0, 0, 0])
    assert attribute_name(walker, 0.0, times) == "pedestrian.moving"
    assert attribute_name(walker, 2.0, times) == "pedestrian.standing"
    assert attribute_name(Agent("c", "traffic_cone", (0.4, 0.4, 1), Trajectory.static(0, 0, 0)), 0.0, times) is None
