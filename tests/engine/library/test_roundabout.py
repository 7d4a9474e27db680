"""roundabout(): within class limits, on the ring lane, counter-clockwise, seeded; clear errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine.library.builder import ScenarioBuilder
from engine.library.errors import LibraryError
from engine.library.limits import kinematic_violations
from engine.library.registry import bind_library
from engine.roadmap.roundabout import ring_lane_radius


def _lib(seed=0, duration=10.0):
    b = ScenarioBuilder(seed=seed, duration=duration)
    L = bind_library(b)
    L["ego"] = b.ego
    return b, L


def _ring_samples(agent, layout, times):
    s = agent.trajectory.sample(times)
    cx = layout.intersection_x
    return np.hypot(s.x - cx, s.y), np.arctan2(s.y, s.x - cx)


@pytest.mark.parametrize("cls", ["car", "truck", "bus", "motorcycle", "bicycle"])
@pytest.mark.parametrize("entry,exit_n", [("ahead", 1), ("from_left", 2), ("oncoming", 3), ("from_right", 4)])
def test_new_vehicles_within_limits_on_the_ring(cls, entry, exit_n):
    b, L = _lib()
    L["roundabout"](cls, entry=entry, exit=exit_n)
    s = b.build()
    a = s.agents[0]
    assert a.behavior == "roundabout" and a.behavior_params["exit"] == exit_n
    assert kinematic_violations(a.trajectory, a.cls, s.frame_times()) == []
    fine = np.linspace(-30.0, 60.0, 4000)                    # the whole path, beyond the clip too
    r, ang = _ring_samples(a, b.layout, fine)
    k = int(a.behavior_params["from_lane"].split("_")[1])
    on = np.abs(r - ring_lane_radius(b.layout, k)) < 0.05
    assert on.sum() > 20                                    # it drives on ring lane k
    assert np.all(np.diff(np.unwrap(ang[on])) > -1e-9)      # counter-clockwise
    assert r.min() > 12.0                                   # never over the island


def test_ego_goes_round_and_leaves_by_the_exit_it_was_given():
    b, L = _lib(duration=14.0)
    L["roundabout"](b.ego, exit=3)
    s = b.build()
    e = s.ego
    assert kinematic_violations(e.trajectory, "car", s.frame_times()) == []
    x, y, yaw = e.trajectory.pose_at(14.0)
    # exit 3 from the west arm is the north arm: heading north, right of the centre line (x > cx)
    assert math.cos(yaw - math.pi / 2) > 0.99 and x > b.layout.intersection_x and y > 0


def test_default_ego_goes_round_instead_of_across_the_island():
    b, L = _lib(duration=12.0)
    L["roundabout"]("bicycle", entry="ahead", exit=2)
    s = b.build()
    r, _ = _ring_samples(s.ego, b.layout, np.linspace(0, 30.0, 2000))
    assert r.min() > 12.0
    assert s.ego.behavior_params["exit"] == 2


def test_seeded_and_deterministic():
    def run(seed):
        b, L = _lib(seed=seed)
        L["roundabout"]("car", entry="from_left", exit=2)
        L["roundabout"]("bicycle", entry="oncoming", exit=1)
        s = b.build()
        return [a.trajectory.sample(s.frame_times()).x for a in s.agents]

    a, b = run(3), run(3)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    c = run(4)
    assert any(not np.array_equal(p, q) for p, q in zip(a, c))


def test_set_road_roundabout_and_clear_errors():
    b, L = _lib()
    L["set_road"](roundabout=True)
    assert b.layout.roundabout
    with pytest.raises(LibraryError, match="roundabout"):
        L["turn_left"](b.ego)
    with pytest.raises(LibraryError, match="exit"):
        L["roundabout"]("car", exit=5)
    with pytest.raises(LibraryError, match="entry"):
        L["roundabout"]("car", entry="sideways")
    b2, L2 = _lib()
    L2["set_road"](intersection=True)
    with pytest.raises(LibraryError, match="intersection"):
        L2["roundabout"]("car")
    b3, L3 = _lib()
    with pytest.raises(LibraryError, match="not both"):
        L3["set_road"](intersection=True, roundabout=True)


def test_trailer_too_long_for_a_three_lane_outer_ring_is_refused_clearly():
    b, L = _lib()
    L["set_road"](lanes=3, ego_lane=3, roundabout=True)
    with pytest.raises(LibraryError, match="cannot turn as tightly"):
        L["roundabout"]("trailer", entry="from_left", exit=2)
