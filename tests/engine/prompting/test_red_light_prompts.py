"""A red-light runner asked for in a prompt must actually pass its stop line while its light is red,
inside the clip (the truth is `red_light_violations`, computed from the signal timelines and the stop
lines, independently of the interpreter); a driver asked to wait must not."""
from __future__ import annotations

import pytest

from engine.prompting import prompt_to_scenario
from engine.prompting.duration import clip_duration
from engine.roadmap.signals import red_light_violations
from engine.sandbox.runner import RunOptions

RUNNERS = [
    "a car runs a red light at the intersection",
    "a truck runs the red light from the right",
    "a red-light runner crosses in front of us at night",
    "a cyclist jumps the red light from the left at dusk",
    "a motorbike blows the light",
]


@pytest.mark.parametrize("prompt", RUNNERS)
def test_a_red_light_runner_violates_its_signal_inside_the_clip(prompt):
    r = prompt_to_scenario(prompt, options=RunOptions(seed=3, duration=clip_duration(prompt)))
    s = r.scenario
    assert s.map.signals, r.script
    violations = red_light_violations(s)
    assert violations, (r.script, s.duration)
    agent_ids = {a.id for a in s.agents}
    for who, _signal, t in violations:
        assert who in agent_ids
        assert 0.0 <= t <= s.duration


def test_a_driver_that_waits_does_not_violate():
    prompt = "we stop at the red light"
    r = prompt_to_scenario(prompt, options=RunOptions(seed=3, duration=clip_duration(prompt)))
    assert r.scenario.map.signals
    assert all(who != r.scenario.ego.id for who, _s, _t in red_light_violations(r.scenario))
