"""The editor's preview of a real scene goes through the one path: its CAM_FRONT frame 0 is, pixel for
pixel, the shaded pass of `engine.conditions.clip_conditions` (what `guidance` writes and `generate`
composites into), inserted car included, on both preview workers' code (`render_request` is what the
thread worker and the render process run).

Independent checks: the recorded pixels away from the inserted car are the dataset's own JPEG read
through nuscenes-devkit, and the car does change pixels (so the comparison is not of two backgrounds).
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.fixtures.nuscenes_fixture import nuscenes_dataset  # noqa: F401 (fixture)

VERSION = "v1.0-mini"
CAM = "CAM_FRONT"


@pytest.fixture(scope="module")
def real_scenario(nuscenes_dataset):  # noqa: F811 (fixture)
    """scene-0001 (1 s) with one inserted car 8 m ahead of the ego's start, in CAM_FRONT."""
    from engine.scenario.model import Agent
    from engine.scenario.trajectory import Trajectory
    from engine.sources import open_nuscenes_scene

    scene = open_nuscenes_scene(nuscenes_dataset.dataroot, VERSION, "scene-0001", duration=1.0)
    ego = scene.scenario.ego.trajectory.points
    p0 = ego[0]
    pts = tuple(type(p)(p.t, p.x + np.cos(p.yaw) * 9.0, p.y + np.sin(p.yaw) * 9.0, p.yaw, 0.0) for p in ego)
    car = Agent("car_ahead", "car", (1.95, 4.6, 1.72), Trajectory(pts))
    assert p0.t == 0.0
    return scene.scenario.with_agent(car)


def _devkit_front(dataroot, size) -> np.ndarray:
    from nuscenes.nuscenes import NuScenes

    nusc = NuScenes(version=VERSION, dataroot=str(dataroot), verbose=False)
    scene = next(s for s in nusc.scene if s["name"] == "scene-0001")
    sample = nusc.get("sample", scene["first_sample_token"])
    img = cv2.cvtColor(cv2.imread(nusc.get_sample_data_path(sample["data"][CAM])), cv2.COLOR_BGR2RGB)
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


def test_preview_frame0_equals_clip_conditions(real_scenario, nuscenes_dataset):
    from app.preview_pane import PREVIEW_SIZE, PreviewRequest, make_renderer, render_request
    from engine.conditions import clip_conditions

    renderer = make_renderer(PREVIEW_SIZE)
    try:
        result = render_request(renderer, PreviewRequest(real_scenario, 0.0, "rgb", 0.0))
    finally:
        renderer.release()
    assert not result.warnings, result.warnings
    preview = result.images[result.names.index(CAM)]

    with clip_conditions(real_scenario, PREVIEW_SIZE, frames=1) as c:
        f0 = c.frame(0)
        k = c.camera_names.index(CAM)
        shaded, inserted, background = f0.shaded[k], f0.inserted[k], f0.background[k]
        assert c.rig == renderer_rig(real_scenario, PREVIEW_SIZE)

    assert inserted.sum() > 200, "the inserted car is seen by CAM_FRONT"
    assert (preview != background).any(axis=-1)[inserted].mean() > 0.5, "the car changed the recorded pixels"
    assert np.array_equal(preview, shaded), \
        f"{(preview != shaded).any(axis=-1).sum()} CAM_FRONT pixels differ between the preview and clip_conditions"

    # away from the car the picture is the recorded frame (the dataset's JPEG, read through the devkit)
    truth = _devkit_front(nuscenes_dataset.dataroot, PREVIEW_SIZE).astype(int)
    away = ~cv2.dilate(inserted.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)
    assert away.mean() > 0.5
    bd = np.abs(background.astype(int)[away] - truth[away])   # JPEG decode / resize filters: a few levels
    assert bd.mean() < 3.0 and np.percentile(bd, 99) < 25, (bd.mean(), np.percentile(bd, 99))
    changed = (preview != background).any(axis=-1) & away
    assert changed.mean() < 0.1 * away.mean()
    # what else the car changed is its contact shadow on the ground: below the car's middle, none above
    rows = np.nonzero(inserted)[0]
    assert not changed[: (rows.min() + rows.max()) // 2].any()

def renderer_rig(scenario, size):
    """The rig the preview renders a real scene with (its real-frame cache's SceneInputs)."""
    from engine.realscene.live import RealFrameCache

    frames = RealFrameCache()
    return frames.inputs(frames.scene(scenario), size).rig


def test_the_render_process_loop_shows_the_same_frame(real_scenario):
    """`app.render_child.child_main` (the render process's loop, here on a thread over a Pipe) sends what
    it renders from a lean pickled scenario: the same CAM_FRONT frame 0 as clip_conditions."""
    import multiprocessing as mp
    import threading

    from app.preview_pane import PREVIEW_SIZE
    from app.render_child import child_main, lean_scenario
    from app.render_process import _lean_map
    from engine.conditions import clip_conditions

    ours, theirs = mp.Pipe()
    loop = threading.Thread(target=child_main, args=(theirs, PREVIEW_SIZE), daemon=True)
    loop.start()
    try:
        assert ours.poll(120) and ours.recv()[0] == "ready"
        ours.send(("render", 1, lean_scenario(real_scenario), _lean_map(real_scenario.map), 0.0, "rgb", {}))
        assert ours.poll(120)
        msg = ours.recv()
        assert msg[0] == "ok", msg
    finally:
        ours.send(("stop",))
        loop.join(30)
    _, _, images, names, warnings = msg[:5]
    assert not warnings
    with clip_conditions(real_scenario, PREVIEW_SIZE, frames=1) as c:
        shaded = c.frame(0).shaded[c.camera_names.index(CAM)]
    assert np.array_equal(images[names.index(CAM)], shaded)
