"""The preview pane on a real scene: the recorded frames, their LiDAR depth and image edges, opened once."""
from __future__ import annotations

import threading
from dataclasses import replace

import cv2
import numpy as np
import pytest

from tests.fixtures.nuscenes_fixture import nuscenes_dataset  # noqa: F401 (fixture)

VERSION = "v1.0-mini"


@pytest.fixture(scope="module")
def real_scenario(nuscenes_dataset):  # noqa: F811 (fixture)
    """scene-0001 with one inserted car in the lane left of the real lead car (seen by CAM_FRONT)."""
    from engine.scenario.model import Agent
    from engine.scenario.trajectory import Trajectory
    from engine.sources import open_nuscenes_scene

    scene = open_nuscenes_scene(nuscenes_dataset.dataroot, VERSION, "scene-0001", duration=1.0)
    token = nuscenes_dataset.scene("scene-0001").instance_tokens["lead_car"]
    lead = next(a for a in scene.scenario.agents if a.behavior_params["instance_token"] == token)
    pts = [type(p)(p.t, p.x - np.cos(p.yaw) * 6 - np.sin(p.yaw) * 3.5, p.y - np.sin(p.yaw) * 6 + np.cos(p.yaw) * 3.5,
                   p.yaw, p.v) for p in lead.trajectory.points]
    car = Agent("car_beside", "car", (1.95, 4.6, 1.72), Trajectory(tuple(pts)))
    return scene, scene.scenario.with_agent(car)


@pytest.fixture()
def counted_opens(monkeypatch):
    """Counts (and records the threads of) the scene opens of the preview's real-frame cache."""
    import engine.realscene.live as live

    calls = []
    real_open = live.open_scene_source

    def counting(*args, **kwargs):
        calls.append(threading.get_ident())
        return real_open(*args, **kwargs)

    monkeypatch.setattr(live, "open_scene_source", counting)
    return calls


def _pane(qtbot, scenario):
    from app.preview_pane import PreviewPane
    from editor.document import Document

    doc = Document(scenario)
    pane = PreviewPane(doc, backend="thread")
    qtbot.addWidget(pane)
    pane.resize(1200, 200)
    pane.show()
    return doc, pane


def _wait(qtbot, pane, map_name: str, t: float) -> None:
    qtbot.waitUntil(lambda: pane.shown is not None and pane.shown.request.map_name == map_name
                    and abs(pane.shown.request.t - t) < 1e-9 and pane.worker.idle, timeout=60000)


def test_preview_shows_the_real_frames_depth_and_edges_and_opens_the_scene_once(qtbot, real_scenario, counted_opens):
    from app.preview_pane import PANORAMA, PREVIEW_SIZE
    from engine.realscene.backgrounds import real_depth, real_rig
    from engine.render.guidance import RenderSettings
    from engine.render.visualize import colorize_depth

    scene, scenario = real_scenario
    doc, pane = _pane(qtbot, scenario)
    try:
        k = 6
        doc.set_frame(k)
        _wait(qtbot, pane, "rgb", doc.current_time)
        assert pane.shown.names == PANORAMA and not pane.shown.warnings
        rgb = pane.shown.images
        reals = {cam: scene.image(k, cam, PREVIEW_SIZE) for cam in PANORAMA}
        for i, cam in enumerate(PANORAMA):
            same = (rgb[i] == reals[cam]).all(axis=-1)
            if cam in ("CAM_FRONT_LEFT", "CAM_FRONT"):     # the real image with the inserted car in it
                assert 0.8 < same.mean() < 0.99, (cam, same.mean())
            else:                                  # the car is not seen: the real image, pixel for pixel
                assert same.all(), cam
        # pixels the inserted car changed in CAM_FRONT form one blob where the car is, not the recorded cars
        diff = ~(rgb[1] == reals["CAM_FRONT"]).all(axis=-1)
        n, _, stats, _ = cv2.connectedComponentsWithStats(diff.astype(np.uint8))
        assert stats[1:, cv2.CC_STAT_AREA].max() >= 0.8 * diff.sum()

        rig = real_rig(scene, PREVIEW_SIZE)
        back = rig["CAM_BACK"]
        pane.set_map("Depth")
        _wait(qtbot, pane, "depth", doc.current_time)
        depth = real_depth(scene, k, back, reals["CAM_BACK"]).depth          # LiDAR, densified
        assert (pane.shown.images[PANORAMA.index("CAM_BACK")] == colorize_depth(depth)).all()
        pane.set_map("Edge")
        _wait(qtbot, pane, "edge", doc.current_time)
        rs = RenderSettings()
        edges = cv2.Canny(cv2.cvtColor(reals["CAM_BACK"], cv2.COLOR_RGB2GRAY), rs.canny_low, rs.canny_high)
        assert (pane.shown.images[PANORAMA.index("CAM_BACK")][..., 0] == edges).all()
        # boxes still show the recorded agents (not drawn in the RGB preview)
        pane.set_map("Boxes")
        _wait(qtbot, pane, "boxes", doc.current_time)
        assert pane.shown.images[PANORAMA.index("CAM_BACK")].any()

        for j in (0, 3, 9, 6):                     # scrubbing reuses the opened scene
            doc.set_frame(j)
            _wait(qtbot, pane, "boxes", doc.current_time)
        assert len(counted_opens) == 1
        assert counted_opens[0] != threading.get_ident(), "opened on the render worker, not the UI thread"
    finally:
        pane.shutdown()


def test_preview_of_a_real_scene_whose_dataset_is_gone_is_synthetic_with_a_warning(qtbot, real_scenario, tmp_path):
    from app.preview_pane import PANORAMA

    _, scenario = real_scenario
    gone = replace(scenario, source=replace(scenario.source, dataroot=str(tmp_path / "moved")))
    doc, pane = _pane(qtbot, gone)
    try:
        _wait(qtbot, pane, "rgb", doc.current_time)
        assert pane.shown.names == PANORAMA
        assert any("real frames unavailable" in w and "moved" in w for w in pane.shown.warnings)
        assert all(pane.shown.images[i].std() > 5 for i in range(6))      # the synthetic scene instead
    finally:
        pane.shutdown()
