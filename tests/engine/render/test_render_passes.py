"""The cheaper GL and post-processing passes give bit-identical maps to the ones they replaced.

- Contact shadows are blended into the main framebuffer with the other targets write-masked, from
  one vertex buffer kept between frames; the previous pass switched to a framebuffer holding the rgb
  target alone and built new buffers every frame (kept below as `_PreviousShadowTiles`).
- Post-processing blanks with masked copies of cached zero arrays instead of boolean indexing.
- The BEV frame interleaves its map and agent layers in one pass instead of a concatenation.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import engine.render.guidance as guidance_module
from engine.render.frame import CameraMaps
from engine.render.gl_tiles import SHADOW_Z, TileRenderer, TileView
from engine.render.guidance import Background, GuidanceRenderer
from engine.render.postprocess import finish_maps, finish_stack

MAPS = ("rgb", "depth", "normal_encoded", "edge", "object", "instance", "inserted", "hdmap", "boxes")


class _PreviousShadowTiles(TileRenderer):
    """The previous contact-shadow pass: new GL buffers per frame, drawn through a framebuffer holding
    only the rgb target (same depth buffer), then back to the main framebuffer."""

    def __init__(self, width: int, height: int, tiles: int) -> None:
        super().__init__(width, height, tiles)
        with self.ctx:
            self.shadow_fbo = self.ctx.framebuffer(color_attachments=[self.targets[0]],
                                                   depth_attachment=self.depth_buffer)

    def set_shadow_casters(self, poses, sizes) -> None:
        self._release(self._shadow)
        self._shadow = None
        n = self._shadow_count = len(poses)
        if n == 0:
            return
        half = np.asarray(sizes, float) / 2
        grown = half + self._reach
        signs = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], float)
        local = signs[None] * grown[:, None, :]
        c, s = np.cos(poses[:, 2]), np.sin(poses[:, 2])
        rot = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)
        world = np.einsum("nij,nkj->nki", rot, local) + poses[:, None, :2]
        data = np.empty((n, 4), dtype=[("p", "f4", 3), ("l", "f4", 2), ("h", "f4", 2)])
        data["p"][..., :2] = world
        data["p"][..., 2] = SHADOW_Z
        data["l"] = local
        data["h"] = half[:, None, :]
        faces = (np.arange(n)[:, None] * 4 + np.array([0, 1, 2, 0, 2, 3])).astype("i4")
        vbo = self.ctx.buffer(data.tobytes())
        ibo = self.ctx.buffer(faces.tobytes())
        vao = self.ctx.vertex_array(self.shadow_prog, [(vbo, "3f 2f 2f", "in_pos", "in_local", "in_half")], ibo)
        self._shadow = (vao, (vbo, ibo))

    def _draw_shadows(self, view: TileView) -> None:
        from engine.render.gl_tiles import _mat

        ctx, mgl = self.ctx, self.mgl
        tile, scissor = ctx.viewport, ctx.scissor
        self.shadow_fbo.use()
        ctx.viewport = tile
        ctx.scissor = scissor
        self.shadow_fbo.depth_mask = False
        ctx.enable(mgl.BLEND)
        ctx.blend_func = mgl.ZERO, mgl.SRC_COLOR
        ctx.depth_func = "<"
        self._shadow_proj.write(_mat(view.proj))
        self._shadow_view.write(_mat(view.view))
        if self._shadow is not None:
            self._shadow[0].render()
        ctx.disable(mgl.BLEND)
        self.shadow_fbo.depth_mask = True
        self.fbo.use()
        ctx.viewport = tile
        ctx.scissor = scissor


def _assert_frames_equal(a, b):
    assert a.instance_ids == b.instance_ids
    np.testing.assert_array_equal(a.bev, b.bev)
    for name in a.camera_names:
        for key in MAPS:
            x, y = getattr(a[name], key), getattr(b[name], key)
            assert (x is None) == (y is None), (name, key)
            if x is not None:
                np.testing.assert_array_equal(x, y, err_msg=f"{name} {key}")


def _session(rig, scenario, monkeypatch, previous: bool, backgrounds=None):
    """Full renders at three times, then drags of one agent at the last time (partial updates)."""
    if previous:
        monkeypatch.setattr(guidance_module, "TileRenderer", _PreviousShadowTiles)
    frames = []
    with GuidanceRenderer(rig) as r:
        r.set_scenario(scenario)
        if backgrounds:
            r.set_backgrounds(backgrounds)
        times = scenario.frame_times()
        for i in (0, len(times) // 2, len(times) - 1):
            frames.append(r.render(float(times[i])))
        agent = scenario.agents[0]
        for step in range(3):
            tr = agent.trajectory
            moved = type(tr).from_arrays(tr.times, tr.key_xy[:, 0] + 0.8 * (step + 1), tr.key_xy[:, 1] - 0.4 * step,
                                         tr.key_yaw_unwrapped)
            r.update_agent(replace(agent, trajectory=moved))
            frames.append(r.render(float(times[-1])))
    monkeypatch.undo()
    return frames


@pytest.mark.parametrize("with_background", [False, True])
def test_shadows_in_the_main_framebuffer_equal_the_previous_pass(rig, demo_scenario, monkeypatch, with_background):
    """Shadow-casting agents close to the cameras, full and partial updates, synthetic tiles alone or
    next to a real background (two shadow sets per frame)."""
    backgrounds = None
    if with_background:
        w, h = rig.size
        rng = np.random.default_rng(3)
        backgrounds = {rig.cameras[0].name: Background(rng.integers(0, 255, (h, w, 3), dtype=np.uint8),
                                                       np.full((h, w), 20.0, np.float32))}
    new = _session(rig, demo_scenario, monkeypatch, False, backgrounds)
    old = _session(rig, demo_scenario, monkeypatch, True, backgrounds)
    assert len(new) == len(old) == 6
    for a, b in zip(new, old):
        _assert_frames_equal(a, b)
    assert any(m.inserted.any() for m in new[0].maps.values()), "agents (shadow casters) should be in view"


def test_shadow_buffer_grows_and_shrinks_with_the_casters(rig):
    """More casters than the kept buffer holds, then fewer: each frame draws exactly its own quads."""
    tiles = TileRenderer(*rig.size, 1)
    try:
        with tiles.ctx:
            for n in (3, 40, 5, 0, 17):
                poses = np.column_stack([np.arange(n, dtype=float), np.zeros(n), np.zeros(n)])
                tiles.set_shadow_casters(poses, np.ones((n, 2)))
                assert tiles._shadow_count == n
                assert n == 0 or tiles._shadow_capacity >= n
    finally:
        tiles.release()


def _random_stack(n=3, h=40, w=56, seed=0):
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 255, (n, h, w, 3), dtype=np.uint8)
    rgb[:, 10:30, 10:40] = 200          # a bright block: Canny finds edges
    instance = np.zeros((n, h, w), np.int32)
    instance[0, 12:25, 14:30] = 1
    instance[1, 0:8, 0:12] = 2          # touches the image border
    instance[2, 20:35, 30:50] = 3       # not inserted (lut)
    depth = rng.random((n, h, w), dtype=np.float32) * 50 + 1
    normal = rng.integers(0, 255, (n, h, w, 3), dtype=np.uint8)
    return rgb, depth, normal, instance


@pytest.mark.parametrize("dilate", [None, 0, 1, 2])
@pytest.mark.parametrize("contiguous", [True, False])
def test_stacked_blanking_equals_finish_maps_per_camera(dilate, contiguous):
    """finish_stack (masked copies of cached zeros) = finish_maps camera by camera (boolean indexing),
    for every edge-blanking reach, with and without a precomputed edge source, and on depth / normal
    arrays that are views into wider ones (not C-contiguous: blanked by boolean indexing)."""
    rgb, depth, normal, instance = _random_stack()
    n, h, w = instance.shape
    lut = np.array([False, True, True, False])
    sources = {1: (np.arange(h * w).reshape(h, w) % 7 == 0).astype(np.uint8) * 255}
    if contiguous:
        d1, n1 = depth.copy(), normal.copy()
    else:
        d1 = np.concatenate([depth, depth], axis=2)[:, :, :w]
        n1 = np.concatenate([normal, normal], axis=2)[:, :, :w]
        assert not d1.flags.c_contiguous and not n1.flags.c_contiguous
    e1, o1, i1 = np.empty((n, h, w), np.uint8), np.empty((n, h, w, 3), np.uint8), np.empty((n, h, w), bool)
    finish_stack(rgb, d1, n1, e1, o1, instance, i1, lut, sources, 50, 140, dilate)
    for k in range(n):
        m = CameraMaps("cam", rgb[k], depth[k].copy(), normal[k].copy(), np.empty((h, w), np.uint8),
                       np.empty((h, w, 3), np.uint8), instance[k], np.empty((h, w), bool), None, None)
        finish_maps(m, None, lut, sources.get(k), 50, 140, dilate)
        for key, stacked in (("depth", d1), ("normal_encoded", n1), ("edge", e1), ("object", o1), ("inserted", i1)):
            np.testing.assert_array_equal(getattr(m, key), stacked[k], err_msg=f"camera {k} {key}")
    if dilate is not None:
        assert (d1[0][instance[0] == 1] == 0).all() and (d1[2][instance[2] == 3] > 0).all()


def test_bev_layers_interleaved_in_one_pass_equal_a_concatenation(rig, demo_scenario):
    """`with_agent_layers` = map layers ++ agent layers, also from a non-contiguous map slice (the
    partial update passes the previous frame's first four channels)."""
    from engine.render.agent_poses import Placement
    from engine.render.bev import BevRasterizer
    from engine.rig.pose import ego_pose

    bev = BevRasterizer(demo_scenario.map)
    t = float(demo_scenario.frame_times()[4])
    agents = [a for a in demo_scenario.agents if a.trajectory.covers(t)]
    pl = Placement.build(agents, t, rig, ego_pose(demo_scenario, t), 0.6)
    corners, classes = pl.corners[:, [0, 4, 5, 1], :2], [a.cls for a in agents]
    layers = bev.map_layers(pl.ego_from_world)
    expected = np.concatenate([layers, bev.agent_layers_array(classes, corners, pl.ego_from_world)], axis=-1)
    np.testing.assert_array_equal(bev.with_agent_layers(layers, classes, corners, pl.ego_from_world), expected)
    wide = np.concatenate([layers, expected[..., 4:]], axis=-1)
    assert not wide[..., :4].flags.c_contiguous
    np.testing.assert_array_equal(bev.with_agent_layers(wide[..., :4], classes, corners, pl.ego_from_world), expected)
    assert expected[..., 4:].any() and expected[..., :4].any()
