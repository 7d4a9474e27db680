"""Property-based tests (hypothesis) of the scenario model and its file format."""
from __future__ import annotations

import json
import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.classes import class_names, default_size
from engine.scenario.errors import ScenarioFormatError
from engine.scenario.io import dumps_scenario, loads_scenario
from engine.scenario.model import Agent, Environment, Scenario
from engine.scenario.trajectory import Trajectory

finite = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False)
yaws = st.floats(min_value=-20.0, max_value=20.0, allow_nan=False)


@st.composite
def trajectories(draw) -> Trajectory:
    n = draw(st.integers(1, 12))
    steps = draw(st.lists(st.floats(min_value=0.01, max_value=3.0), min_size=n, max_size=n))
    t0 = draw(st.floats(min_value=0.0, max_value=5.0))
    t = np.cumsum([t0] + steps[:-1]).tolist()
    xs = draw(st.lists(finite, min_size=n, max_size=n))
    ys = draw(st.lists(finite, min_size=n, max_size=n))
    yw = draw(st.lists(yaws, min_size=n, max_size=n))
    vs = draw(st.one_of(st.none(), st.lists(st.floats(min_value=0, max_value=60), min_size=n, max_size=n)))
    return Trajectory.from_arrays(t, xs, ys, yw, vs)


@st.composite
def scenarios(draw) -> Scenario:
    k = draw(st.integers(0, 5))
    agents = []
    for i in range(k):
        cls = draw(st.sampled_from(class_names()))
        agents.append(Agent(id=f"{cls}_{i}", cls=cls, size=default_size(cls), trajectory=draw(trajectories()),
                            behavior=draw(st.sampled_from(["manual", "forward", "cut_in"]))))
    return Scenario(
        name=draw(st.text(max_size=20)),
        seed=draw(st.integers(0, 2**31)),
        duration=draw(st.floats(min_value=0.1, max_value=30.0)),
        environment=Environment(draw(st.sampled_from(["day", "dusk", "night"])),
                                draw(st.sampled_from(["clear", "rain", "fog", "snow"]))),
        agents=tuple(agents),
        prompt=draw(st.one_of(st.none(), st.text(max_size=40))),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_save_then_load_gives_an_equal_scenario(s: Scenario):
    assert loads_scenario(dumps_scenario(s)) == s


@settings(max_examples=80, deadline=None)
@given(trajectories())
def test_sampling_at_key_times_returns_key_poses(traj: Trajectory):
    s = traj.sample(traj.times)
    for i, p in enumerate(traj.points):
        assert math.isclose(s.x[i], p.x, rel_tol=1e-9, abs_tol=1e-6)
        assert math.isclose(s.y[i], p.y, rel_tol=1e-9, abs_tol=1e-6)
        # yaw is unwrapped: equal modulo 2 pi
        d = (s.yaw[i] - p.yaw + math.pi) % (2 * math.pi) - math.pi
        assert abs(d) < 1e-6


@settings(max_examples=60, deadline=None)
@given(trajectories())
def test_sampled_yaw_is_unwrapped_and_does_not_overshoot(traj: Trajectory):
    """Between two key poses the yaw stays between their (unwrapped) yaws: no 2 pi jumps, no overshoot."""
    key_t, key_yaw = traj.times, traj.key_yaw_unwrapped
    for i in range(len(key_t) - 1):
        t = np.linspace(key_t[i], key_t[i + 1], 9)
        yaw = traj.sample(t).yaw
        lo, hi = sorted((key_yaw[i], key_yaw[i + 1]))
        assert np.all(yaw >= lo - 1e-9) and np.all(yaw <= hi + 1e-9)


def _corrupt(text: str, data) -> str:
    kind = data.draw(st.sampled_from(["delete", "insert", "replace", "truncate", "swap_value"]))
    if not text:
        return text
    i = data.draw(st.integers(0, len(text) - 1))
    if kind == "delete":
        j = data.draw(st.integers(i, min(len(text), i + 40)))
        return text[:i] + text[j:]
    if kind == "insert":
        return text[:i] + data.draw(st.sampled_from(['"', "{", "]", ",", "-1", "null", "1e999", "NaN", "\x00", "é", "[[[[[["])) + text[i:]
    if kind == "replace":
        return text[:i] + data.draw(st.characters()) + text[i + 1:]
    if kind == "truncate":
        return text[:i]
    doc = json.loads(text)
    path_keys = data.draw(st.sampled_from([("fps",), ("name",), ("agents",), ("ego", "trajectory"), ("map", "lanes"), ("environment",)]))
    node = doc
    for k in path_keys[:-1]:
        node = node[k]
    node[path_keys[-1]] = data.draw(st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=3),
                                              st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)))
    return json.dumps(doc)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_corrupted_files_only_raise_the_format_error(data, ):
    from engine.paths import DEMO_SCENARIO

    text = DEMO_SCENARIO.read_text()
    bad = _corrupt(text, data)
    try:
        loads_scenario(bad)
    except ScenarioFormatError as e:
        assert e.problems and all(isinstance(p.message, str) and p.message for p in e.problems)
