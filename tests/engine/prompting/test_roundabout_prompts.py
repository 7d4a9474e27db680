"""Roundabout prompts through the offline interpreter, end to end: agents, classes, the roundabout
manoeuvre, the entry arm and the exit number; nothing dropped; the LLM template lists the function."""
from __future__ import annotations

from collections import Counter

import pytest

from engine.prompting import prompt_to_scenario
from engine.prompting.duration import clip_duration
from engine.sandbox.runner import RunOptions

# prompt -> {"agents": {"class": (entry, exit)}, "ego_exit": n}
CASES = [
    ("a car goes around the roundabout and takes the second exit", {"agents": {"car": ("ahead", 2)}, "ego_exit": 2}),
    ("a cyclist enters the roundabout in front of us", {"agents": {"bicycle": ("ahead", 2)}, "ego_exit": 2}),
    ("a truck takes the third exit at the roundabout", {"agents": {"truck": ("ahead", 3)}}),
    ("we drive round the roundabout and take the first exit", {"agents": {}, "ego_exit": 1}),
    ("a bus enters the roundabout from the left and turns left", {"agents": {"bus": ("from_left", 3)}}),
    ("a car comes into the traffic circle from the right at 20 km/h, for 10 seconds",
     {"agents": {"car": ("from_right", 2)}, "duration": 10.0, "speed": {"car": 20 / 3.6}}),
    ("a motorbike enters the roundabout from the opposite direction and takes the first exit",
     {"agents": {"motorcycle": ("oncoming", 1)}}),
]


@pytest.mark.parametrize("prompt,expect", CASES, ids=[c[0][:48] for c in CASES])
def test_roundabout_prompt_means_what_it_says(prompt, expect):
    r = prompt_to_scenario(prompt, options=RunOptions(seed=1, duration=clip_duration(prompt)))
    s = r.scenario
    assert r.not_understood == (), (r.not_understood, r.script)
    assert r.matches_prompt, ([str(f) for f in r.findings], r.script)
    assert Counter(a.cls for a in s.agents) == Counter({c: 1 for c in expect["agents"]}), r.script
    for a in s.agents:
        entry, exit_n = expect["agents"][a.cls]
        assert a.behavior == "roundabout", r.script
        assert (a.behavior_params["entry"], a.behavior_params["exit"]) == (entry, exit_n), r.script
    # the ego drives round the ring as well (never across the island)
    assert s.ego.behavior == "roundabout"
    if "ego_exit" in expect:
        assert s.ego.behavior_params["exit"] == expect["ego_exit"]
    assert any(l.id.startswith("ring_") for l in s.map.lanes)
    if "duration" in expect:
        assert s.duration == pytest.approx(expect["duration"])
    for cls, v in expect.get("speed", {}).items():
        a = next(a for a in s.agents if a.cls == cls)
        assert a.trajectory.speed_at(0.0) == pytest.approx(v, abs=0.05)


def test_exit_words_pick_the_exit():
    from engine.prompting.offline import interpret_offline

    for text, n in [("a car takes the 4th exit at the roundabout", 4),
                    ("a car turns right at the roundabout", 1),
                    ("a car goes straight on at the roundabout", 2)]:
        script = interpret_offline(text).script
        assert f"exit={n}" in script, script


def test_llm_template_lists_roundabout():
    from engine.prompting.template import system_prompt

    text = system_prompt()
    assert "roundabout(" in text and "exit" in text and "counter-clockwise" in text
