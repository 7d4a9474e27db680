"""The naive backend asks the renderer only for the maps it reads, with the same frames as a full render."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.demo import build_demo_scenario
from engine.scenario.model import Environment
from engine.worldmodel import ClipConditions, GenerationSettings, create_backend, generate_clip
from engine.worldmodel.scenario_conditions import conditions_for_scenario, frames_with_maps


def test_naive_frames_match_those_from_fully_rendered_conditions():
    s = dataclasses.replace(build_demo_scenario(), environment=Environment("night", "rain"))
    s = dataclasses.replace(s, duration=2 / s.fps)   # two frames keep the test fast
    with conditions_for_scenario(s, (160, 96)) as c:
        full = [c.frame(i) for i in range(c.num_frames)]
        subset = frames_with_maps(c, {"shaded", "depth", "inserted"})
        part = subset(0)     # the renderer last made frame 1: frame 0 is rendered afresh, maps subset
        np.testing.assert_array_equal(part.shaded, full[0].shaded)
        np.testing.assert_array_equal(part.depth, full[0].depth)
        np.testing.assert_array_equal(part.inserted, full[0].inserted)
        assert not part.edge.any() and not part.edge.flags.writeable   # left out: zeros, read-only
        assert full[0].edge.any()
        fast = generate_clip(create_backend("naive"), c, GenerationSettings(seed=3))
    held = ClipConditions.from_frames(c.rig, full, s.fps, s.environment, lit_for="night")
    slow = generate_clip(create_backend("naive"), held, GenerationSettings(seed=3))
    np.testing.assert_array_equal(fast.frames, slow.frames)


def test_unknown_fields_are_named():
    with conditions_for_scenario(build_demo_scenario(), (160, 96)) as c:
        with pytest.raises(ValueError, match="shadded"):
            frames_with_maps(c, {"shadded"})
