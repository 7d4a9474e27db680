"""A person riding a vehicle is one agent, the vehicle (nuScenes boxes the rider with the bicycle or
motorcycle): "a kid on a bike crosses" must not become a bicycle plus a separate pedestrian."""
from __future__ import annotations

from collections import Counter

import pytest

from engine.prompting import prompt_to_scenario
from engine.sandbox.runner import RunOptions

CASES = [
    ("a kid on a bike crosses at the crosswalk", {"bicycle": 1}),
    ("a man on a bicycle crosses the road", {"bicycle": 1}),
    ("a woman riding a bicycle overtakes us on the right", {"bicycle": 1}),
    ("a person on a scooter crosses in front of us", {"motorcycle": 1}),
    ("a courier on a moped cuts in from the left", {"motorcycle": 1}),
    ("a man on a bike and a pedestrian cross", {"bicycle": 1, "pedestrian": 1}),
]


@pytest.mark.parametrize("prompt, classes", CASES)
def test_a_rider_is_one_agent_of_the_vehicle_class(prompt, classes):
    r = prompt_to_scenario(prompt, options=RunOptions(seed=2))
    got = Counter(a.cls for a in r.scenario.agents)
    assert got == Counter(classes), (dict(got), r.script)


def test_a_man_on_a_bus_is_not_rewritten():
    from engine.prompting.parse import _norm

    assert _norm("a man on a bus waves") == "a man on a bus waves"
