"""`GuidanceRenderer.render(t, maps=...)`: only the requested maps, pixel-equal to the full render."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from engine.render.frame import resolve_maps


def test_subset_equals_the_full_render_and_leaves_the_rest_out(renderer, demo_scenario):
    renderer.set_scenario(demo_scenario)
    full = renderer.render(1.25)
    sub = renderer.render(1.5, maps={"rgb", "depth"})          # a new time: rendered afresh
    again_full = renderer.render(1.5)                            # subset cached: must render every map
    assert sub.rendered == {"rgb", "depth", "instance", "inserted"}
    assert sub.bev is None and again_full.bev is not None
    for name, m in sub.cameras():
        f = again_full[name]
        np.testing.assert_array_equal(m.rgb, f.rgb)
        np.testing.assert_array_equal(m.depth, f.depth)
        np.testing.assert_array_equal(m.inserted, f.inserted)
        np.testing.assert_array_equal(m.instance, f.instance)
        for missing in ("edge", "normal", "object", "hdmap", "boxes"):
            with pytest.raises(KeyError, match=missing):
                m.get(missing)
        assert m.normal_encoded is None and m.boxes is None
    assert full["CAM_FRONT"].edge is not None


def test_a_cached_full_frame_serves_a_subset_request(renderer, demo_scenario):
    renderer.set_scenario(demo_scenario)
    full = renderer.render(0.5)
    assert renderer.render(0.5, maps={"depth"}) is full


def test_object_and_edges_come_with_the_shaded_pass(renderer, demo_scenario):
    renderer.set_scenario(demo_scenario)
    f = renderer.render(0.75, maps={"edge", "object"})
    m = f["CAM_FRONT"]
    assert "rgb" in f.rendered and m.rgb is not None
    np.testing.assert_array_equal(m.object, m.rgb * m.inserted[..., None])
    assert m.depth is None


def test_drag_with_a_subset_equals_a_fresh_subset_render(renderer, rig, demo_scenario):
    from engine.render.guidance import GuidanceRenderer

    renderer.set_scenario(demo_scenario)
    before = renderer.render(1.0, maps={"rgb", "depth", "inserted"})
    car = demo_scenario.agent("car_1")
    moved = replace(car, trajectory=car.trajectory.translated(1.5, 0.8))
    renderer.update_agent(moved)
    after = renderer.render(1.0, maps={"rgb", "depth"})
    assert after.rendered == before.rendered
    with GuidanceRenderer(rig) as fresh:
        fresh.set_scenario(demo_scenario.with_agent(moved))
        full = fresh.render(1.0, maps={"rgb", "depth"})
    changed = False
    for name, m in after.cameras():
        np.testing.assert_array_equal(m.depth, full[name].depth)
        np.testing.assert_array_equal(m.rgb, full[name].rgb)
        np.testing.assert_array_equal(m.inserted, full[name].inserted)
        changed |= not np.array_equal(m.rgb, before[name].rgb)
    assert changed
    renderer.set_scenario(demo_scenario)


def test_unknown_maps_are_named():
    with pytest.raises(ValueError, match="'depht'"):
        resolve_maps({"depth", "depht"})
    assert resolve_maps(["normal", "mask"]) == {"normal_encoded", "instance", "inserted"}
