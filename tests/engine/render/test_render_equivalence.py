"""The faster full update (pose cache on the frame grid, post-processing fused over the camera stack,
HD map and boxes batched over the cameras) gives bit-identical maps to the previous per-agent /
per-camera path, kept here (and in previous_paths.py) as the reference."""
from __future__ import annotations

import numpy as np
import pytest

import engine.render.guidance as guidance_module
from engine.render.frame import CameraMaps
from engine.render.guidance import Background, GuidanceRenderer
from engine.render.agent_poses import PoseCache
from engine.render.postprocess import finish_maps

from previous_paths import (previous_bev_agent_layers, previous_bev_map_layers, previous_render_boxes,
                            previous_render_hdmap)

MAPS = ("rgb", "depth", "normal_encoded", "edge", "object", "instance", "inserted", "hdmap", "boxes")


def _per_camera_finish(rgb, depth, normal, edge, obj, instance, inserted, lut, edge_sources, low, high, dilate):
    """The previous post-processing: `finish_maps` camera by camera."""
    at = lambda a, k: None if a is None else a[k]
    for k in range(instance.shape[0]):
        m = CameraMaps("cam", at(rgb, k), at(depth, k), at(normal, k), at(edge, k), at(obj, k), instance[k],
                       inserted[k], None, None)
        finish_maps(m, None, lut, edge_sources.get(k), low, high, dilate)


def _per_camera_hdmaps(segments, cameras, cams_from_world, out, thickness=None):
    """The previous HD-map drawing: `previous_render_hdmap` camera by camera."""
    for k, cam in enumerate(cameras):
        previous_render_hdmap(segments, cam, cams_from_world[k], out=out[k], thickness=thickness)
    return out


class _Reference(GuidanceRenderer):
    """Poses from `trajectory.pose_at` / `covers` at every call (an empty pose grid); boxes and BEV
    footprints drawn by the previous per-camera / per-agent functions (the rest: `use_previous_drawing`)."""

    def _poses(self) -> PoseCache:
        return PoseCache(np.zeros(0))

    def _boxes_all(self, pl, out):
        from engine.classes import class_index, class_names

        classes = [class_index(a.cls) for a in pl.agents]
        for k, cam in enumerate(self.rig.cameras):
            previous_render_boxes(self._box_items(k, pl, classes), cam, len(class_names()), out=out[k],
                                  out_is_zero=True)

    def _bev_frame(self, pl, bev_map):
        foot = [(a.cls, pl.corners[i, [0, 4, 5, 1], :2]) for i, a in enumerate(pl.agents)]
        return np.concatenate([bev_map, previous_bev_agent_layers(self._bev, foot, pl.ego_from_world)], axis=-1)


def use_previous_drawing(monkeypatch):
    """Post-processing camera by camera, HD map and BEV map layers drawn by the previous functions
    (call after the fast renderer has rendered: the BEV patch applies to every rasteriser)."""
    from engine.render.bev import BevRasterizer

    monkeypatch.setattr(guidance_module, "finish_stack", _per_camera_finish)
    monkeypatch.setattr(guidance_module, "render_hdmaps", _per_camera_hdmaps)
    monkeypatch.setattr(BevRasterizer, "map_layers", previous_bev_map_layers)


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
    use_previous_drawing(monkeypatch)
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
    use_previous_drawing(monkeypatch)
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


def test_batched_hdmap_boxes_and_bev_equal_the_previous_drawing(rig):
    """Every third frame of the scene, the ego also shifted so that map lines and crossings cross the
    near plane: `render_hdmaps` / `render_box_stack` / `BevRasterizer` draw exactly what the previous
    per-camera, per-polyline functions drew."""
    from engine.classes import class_index, class_names
    from engine.render.agent_poses import Placement
    from engine.render.bev import BevRasterizer
    from engine.render.boxes import render_box_stack
    from engine.render.hdmap import MapSegments, render_hdmaps
    from engine.rig.pose import ego_pose

    s = _scene()
    segments = MapSegments.from_map(s.map)
    bev = BevRasterizer(s.map)
    ncls = len(class_names())
    w, h = rig.size
    crossing_near_plane = 0
    for t in s.frame_times()[::3]:
        for dx, dy in ((0.0, 0.0), (13.7, 2.1), (-41.3, -7.9)):
            wfe = ego_pose(s, float(t))
            wfe[0, 3] += dx
            wfe[1, 3] += dy
            agents = [a for a in s.agents if a.trajectory.covers(float(t))]
            pl = Placement.build(agents, float(t), rig, wfe, 0.6)
            new = np.zeros((len(rig), h, w, 3), np.uint8)
            render_hdmaps(segments, rig.cameras, pl.cam_from_world, new)
            for k, cam in enumerate(rig):
                np.testing.assert_array_equal(new[k], previous_render_hdmap(segments, cam, pl.cam_from_world[k]))
            classes = [class_index(a.cls) for a in pl.agents]
            items = []
            for k in range(len(rig)):
                cfw = pl.cam_from_world[k]
                idx = np.flatnonzero(pl.visible[k])
                cc = pl.corners[idx] @ cfw[:3, :3].T + cfw[:3, 3]
                order = np.argsort(-np.linalg.norm(cc.mean(axis=1), axis=1))
                items.append([(classes[idx[j]], cc[j].T) for j in order])
                crossing_near_plane += sum(int((c[2] < 0.1).any()) for _, c in items[-1])
            boxes = np.zeros((len(rig), h, w, ncls), np.uint8)
            render_box_stack(items, rig.cameras, ncls, boxes, out_is_zero=True)
            for k, cam in enumerate(rig):
                np.testing.assert_array_equal(boxes[k], previous_render_boxes(items[k], cam, ncls))
            foot = [(a.cls, pl.corners[i, [0, 4, 5, 1], :2]) for i, a in enumerate(pl.agents)]
            np.testing.assert_array_equal(bev.map_layers(pl.ego_from_world),
                                          previous_bev_map_layers(bev, pl.ego_from_world))
            np.testing.assert_array_equal(bev.agent_layers(foot, pl.ego_from_world),
                                          previous_bev_agent_layers(bev, foot, pl.ego_from_world))
    assert crossing_near_plane > 0, "some boxes should cross a camera's near plane"
