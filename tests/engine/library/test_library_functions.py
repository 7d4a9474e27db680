"""Every library function: behaviour recorded, determinism per seed, kinematic limits, timing at the
scenario rate (for several durations and rates), and the safe-distance rule between all agents."""
from __future__ import annotations

import inspect
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from library_recipes import RECIPES  # noqa: E402

from engine.library import library_functions
from engine.library.clearance import footprint_distances, required_clearance
from engine.library.limits import kinematic_violations
from engine.sandbox import run_script
from engine.sandbox.runner import RunOptions
from engine.scenario.io import to_document

CLIPS = [(2.75, 12.0), (6.0, 10.0)]


def _run(name: str, seed: int = 0, duration: float = 2.75, fps: float = 12.0):
    return run_script(RECIPES[name], RunOptions(seed=seed, duration=duration, fps=fps))


def test_at_least_18_documented_functions_and_a_recipe_for_each():
    fns = library_functions()
    assert len(fns) >= 18
    assert set(RECIPES) == set(fns)
    for name, f in fns.items():
        doc = f.doc
        assert doc and len(f.summary) > 10, name
        params = list(f.signature.parameters)
        # every parameter is named in the docstring (directly or via 'as for ...')
        missing = [p for p in params if p not in doc]
        assert not missing or "as for" in doc, (name, missing)
        assert "ctx" not in params


@pytest.mark.parametrize("duration,fps", CLIPS)
@pytest.mark.parametrize("name", sorted(RECIPES))
def test_function_limits_timing_and_safe_distance(name, duration, fps):
    s = _run(name, duration=duration, fps=fps)
    times = s.frame_times()
    assert len(times) == s.num_frames
    if name == "then":                       # a sequence: some agent has more than one manoeuvre
        assert any(len(a.maneuvers) > 1 for a in s.all_agents)
    elif name == "ego_reacts":
        assert s.ego.maneuvers[-1].function == "ego_reacts"
    elif name == "traffic_light":
        assert len(s.map.signals) == 4
    elif name not in ("set_environment", "set_road"):
        assert any(a.behavior == name for a in s.all_agents), [a.behavior for a in s.all_agents]
    for a in s.all_agents:
        # one waypoint per frame, at the frame times
        assert np.allclose(a.trajectory.times, times), a.id
        assert kinematic_violations(a.trajectory, a.cls, times) == [], a.id
    contacts = {frozenset(i.agents) for i in s.intents if i.kind == "contact"}
    agents = s.all_agents
    fps_ = {a.id: a.box_corners_2d(times) for a in agents}
    for i, a in enumerate(agents):
        for b in agents[i + 1:]:
            if frozenset((a.id, b.id)) in contacts:
                continue
            d = footprint_distances(fps_[a.id], fps_[b.id]).min()
            assert d >= required_clearance(a.cls, b.cls) - 1e-6, (a.id, b.id, d)


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_function_is_deterministic_per_seed_and_varies_across_seeds(name):
    a = to_document(_run(name, seed=5))
    b = to_document(_run(name, seed=5))
    assert a == b
    if name == "set_environment":
        assert a["environment"] == {"time_of_day": "night", "weather": "rain"}
        return
    others = [to_document(_run(name, seed=s)) for s in (6, 7)]
    assert any(o["agents"] != a["agents"] or o["ego"] != a["ego"] for o in others)


def test_behavior_params_record_the_arguments():
    s = run_script('t = cut_in(ego, side="right", cls="truck", gap=6.0)\n')
    truck = s.agent("truck_1")
    assert truck.behavior == "cut_in"
    p = truck.behavior_params
    assert p["side"] == "right" and p["cls"] == "truck" and p["gap"] == 6.0 and p["target"] == "ego"
    assert "speed" in p and "start" in p and "duration" in p       # resolved defaults are recorded too


def test_signature_of_library_functions_has_units_in_docs():
    for name in ("forward", "brake", "cut_in", "pedestrian_crossing"):
        doc = library_functions()[name].doc
        assert "m/s" in doc or "metres" in doc
    assert "m/s^2" in library_functions()["brake"].doc
    sig = library_functions()["cut_in"].signature
    assert sig.parameters["side"].default == "left"
    assert sig.parameters["contact"].default is False
    assert sig.parameters["gap"].default is None
    assert inspect.Parameter.POSITIONAL_OR_KEYWORD == sig.parameters["target"].kind
