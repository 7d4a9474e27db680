"""The faster full update (pose cache on the frame grid, post-processing fused over the camera stack)
gives bit-identical maps to the previous per-agent / per-camera path, kept here as the reference."""
from __future__ import annotations

import numpy as np
import pytest

import engine.render.guidance as guidance_module
from engine.render.frame import CameraMaps
from engine.render.guidance import Background, GuidanceRenderer
from engine.render.agent_poses import PoseCache
from engine.render.postprocess import finish_maps

MAPS = ("rgb", "depth", "normal_encoded", "edge", "object", "instance", "inserted", "hdmap", "boxes")


def _per_camera_finish(rgb, depth, normal, edge, obj, instance, inserted, lut, edge_sources, low, high, dilate):
    """The previous post-processing: `finish_maps` camera by camera."""
    at = lambda a, k: None if a is None else a[k]
    for k in range(instance.shape[0]):
        m = CameraMaps("cam", at(rgb, k), at(depth, k), at(normal, k), at(edge, k), at(obj, k), instance[k],
                       inserted[k], None, None)
        finish_maps(m, None, lut, edge_sources.get(k), low, high, dilate)


class _Reference(GuidanceRenderer):
    """Poses from `trajectory.pose_at` / `covers` at every call (an empty pose grid), per-camera finishing."""

    def _poses(self) -> PoseCache:
        return PoseCache(np.zeros(0))


@pytest.fixture()
def reference_finish(monkeypatch):
    def use_reference():
        monkeypatch.setattr(guidance_module, "finish_stack", _per_camera_finish)

    return use_reference


def _scene():
    import math
    from dataclasses import replace

    from engine.classes import default_size
    from engine.demo import build_demo_scenario
    from engine.scenario import Agent, Trajectory

    s = build_demo_scenario()
    t = s.frame_times()
    extra = [Agent(f"extra_{i}", cls, default_size(cls),
                   Trajectory.from_arrays(t, x + v * t * math.cos(yaw), y + v * t * math.sin(yaw), [yaw] * len(t)))
             for i, (cls, x, y, yaw, v) in enumerate([("car", 20.0, 1.75, math.pi, 9.0), ("truck", -25.0, -5.25, 0.0, 7.5),
                                                       ("pedestrian", 8.0, -8.5, 0.0, 1.3), ("bicycle", -4.0, -6.4, 0.0, 4.0)])]
    return replace(s, agents=s.agents + tuple(extra))


def _assert_frames_equal(a, b):
    assert a.instance_ids == b.instance_ids
    np.testing.assert_array_equal(a.world_from_ego, b.world_from_ego)
    np.testing.assert_array_equal(a.bev, b.bev)
    for name in a.camera_names:
        for key in MAPS:
            x, y = getattr(a[name], key), getattr(b[name], key)
            assert (x is None) == (y is None), (name, key)
            if x is not None:
                np.testing.assert_array_equal(x, y, err_msg=f"{name} {key}")


@pytest.mark.parametrize("frame_index", [0, 7, 20])
def test_full_update_equals_the_previous_path(rig, frame_index, monkeypatch):
    s = _scene()
    with GuidanceRenderer(rig) as renderer:   # fresh: instance ids start at 1 in both renderers
        renderer.set_scenario(s)
        fast = renderer.render_frame(frame_index)
    monkeypatch.setattr(guidance_module, "finish_stack", _per_camera_finish)
    with _Reference(rig) as ref:
        ref.set_scenario(s)
        slow = ref.render_frame(frame_index)
    _assert_frames_equal(fast, slow)
    assert fast.visible_pixels(), "some agents should be visible"


def test_full_update_with_a_real_background_equals_the_previous_path(rig, monkeypatch):
    """A camera with a real image takes its edges from the image: the fused path must keep that."""
    s = _scene()
    w, h = rig.size
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    depth = np.full((h, w), 30.0, np.float32)
    bgs = {"CAM_FRONT": Background(img, depth)}
    with GuidanceRenderer(rig) as renderer:
        renderer.set_scenario(s)
        renderer.set_backgrounds(bgs)
        fast = renderer.render_frame(5)
    monkeypatch.setattr(guidance_module, "finish_stack", _per_camera_finish)
    with _Reference(rig) as ref:
        ref.set_scenario(s)
        ref.set_backgrounds(bgs)
        slow = ref.render_frame(5)
    _assert_frames_equal(fast, slow)


def test_pose_cache_gives_what_pose_at_gives():
    s = _scene()
    cache = PoseCache(s.frame_times())
    trajs = [a.trajectory for a in s.all_agents]
    for t in s.frame_times()[::4]:
        poses, present = cache.poses(trajs, float(t))
        for tr, p, c in zip(trajs, poses, present):
            assert tuple(p) == tr.pose_at(float(t))
            assert c == bool(tr.covers(float(t)))
    off_grid = 0.123
    poses, _ = cache.poses(trajs, off_grid)
    assert [tuple(p) for p in poses] == [tr.pose_at(off_grid) for tr in trajs]
