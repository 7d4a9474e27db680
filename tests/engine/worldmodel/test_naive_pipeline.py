"""The naive backend's pipeline (frame i's environment pass on a thread while frame i + 1 is rendered):
the same frames as applying the pass frame by frame, on a rendered scenario; errors and early stops
leave no pass running."""
from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest

from engine.demo import build_demo_scenario
from engine.scenario.model import Environment
from engine.worldmodel import GenerationSettings, create_backend, generate_clip
from engine.worldmodel.conditions import ClipConditions
from engine.worldmodel.naive.effects import EnvironmentPass
from engine.worldmodel.naive.geometry import RigGeometry
from engine.worldmodel.naive.look import look_for
from engine.worldmodel.scenario_conditions import conditions_for_scenario, frames_with_maps
from wm_helpers import SMALL, plane_conditions


def _pipeline_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("naive-pipeline")]


@pytest.mark.parametrize("environment", [Environment("night", "rain"), Environment("dusk", "fog")])
def test_pipelined_frames_equal_the_pass_applied_frame_by_frame(environment):
    scenario = dataclasses.replace(build_demo_scenario(), environment=environment)
    backend = create_backend("naive")
    with conditions_for_scenario(scenario, (96, 64)) as conditions:
        n = min(4, conditions.num_frames)
        frame = frames_with_maps(conditions, backend.required_fields)
        frames = [frame(i) for i in range(n)]
        cond = ClipConditions.from_frames(conditions.rig, frames, conditions.fps, environment,
                                          lit_for=conditions.lit_for)
        clip = generate_clip(backend, cond, GenerationSettings(seed=3))
    env_pass = EnvironmentPass(RigGeometry.of(cond.rig), look_for(environment, cond.lit_for), 3)
    expected = np.stack([env_pass.apply(f) for f in frames])
    assert clip.frames.shape == expected.shape
    assert np.array_equal(clip.frames, expected)
    assert not _pipeline_threads()


def test_an_error_in_a_middle_frame_surfaces_and_no_pass_is_left_running(monkeypatch):
    """The pass fails on frame 2 (in the pipeline thread): the error reaches the caller unchanged,
    after frames 0 and 1."""
    real_apply = EnvironmentPass.apply

    def failing(self, frame, *args, **kw):
        if frame.index == 2:
            raise ValueError("frame 2: broken on purpose")
        return real_apply(self, frame, *args, **kw)

    monkeypatch.setattr(EnvironmentPass, "apply", failing)
    seen = []
    with pytest.raises(ValueError, match="frame 2: broken on purpose"):
        for ev in create_backend("naive").generate(plane_conditions(SMALL, 5, Environment("night", "clear")),
                                                   GenerationSettings()):
            seen.append(getattr(ev, "frame", None))
    assert [f for f in seen if f is not None][-1] == 1
    assert not _pipeline_threads()


def test_closing_the_generator_early_waits_for_the_pass_in_flight():
    gen = create_backend("naive").generate(plane_conditions(SMALL, 6, Environment("night", "fog")),
                                           GenerationSettings())
    next(gen)     # frame 0's events: frame 1 is in flight
    gen.close()
    assert not _pipeline_threads()
