"""The static scene of a map is built once per process and shared by every renderer of that map."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from engine.render import static_cache
from engine.render.bev import BevSpec
from engine.render.guidance import GuidanceRenderer
from engine.render.scene_geometry import build_scene_geometry

from render_helpers import make_agent, make_scenario


def test_two_renderers_of_one_map_build_it_once(rig):
    static_cache.clear()
    s = make_scenario([make_agent("car_1", "car", 9.0, 0.0)])
    before = dict(static_cache.stats)
    with GuidanceRenderer(rig) as a:
        a.set_scenario(s)
        fa = a.render(0.0)
    with GuidanceRenderer(rig) as b:
        b.set_scenario(replace(s, name="another name, same map"))
        fb = b.render(0.0)
    assert static_cache.stats["builds"] - before["builds"] == 1
    assert static_cache.stats["hits"] - before["hits"] == 1
    for name in fa.camera_names:   # the shared scene renders the same pixels
        np.testing.assert_array_equal(fa[name].rgb, fb[name].rgb)
        np.testing.assert_array_equal(fa[name].hdmap, fb[name].hdmap)


def test_cached_mesh_equals_a_fresh_build():
    static_cache.clear()
    s = make_scenario([])
    bounds = (-1.0, -1.0, 1.0, 1.0)
    rig_bev = BevSpec()
    st = static_cache.static_scene(s.map, bounds, None, rig_bev)
    m = build_scene_geometry(s.map, bounds, None).combined()
    np.testing.assert_array_equal(st.vertices, np.asarray(m.vertices))
    np.testing.assert_array_equal(st.faces, np.asarray(m.faces))
    assert not st.vertices.flags.writeable
    other = make_scenario([], road=False)
    static_cache.static_scene(other.map, bounds, None, rig_bev)
    assert static_cache.stats["builds"] >= 2
