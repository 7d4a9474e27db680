"""Undoable manoeuvre retiming and clip-length edits (issue 16), against analytic motion."""
from __future__ import annotations

import numpy as np
import pytest

from editor.document import Document
from editor.maneuver_commands import RetimeManeuver, SetClipDuration
from engine.library.builder import ScenarioBuilder
from engine.library.registry import bind_library


def _braking_car():
    b = ScenarioBuilder(duration=10.0)
    L = bind_library(b)
    L["forward"](b.ego, speed=8.0)
    car = L["forward"]("car", lane="left", ahead=20.0, speed=10.0)
    L["then"](car, "brake", to_speed=4.0, decel=2.0, start=3.0)
    return b.build()


def test_retime_delays_the_manoeuvre_and_undo_restores():
    s = _braking_car()
    doc = Document(s)
    doc.execute(RetimeManeuver("car_1", 1, 5.0))
    car = doc.scenario.agent("car_1")
    m = car.maneuvers[1]
    assert m.start == pytest.approx(5.0) and m.trigger == {"kind": "time"}
    t = doc.scenario.frame_times()
    v = car.trajectory.sample(t).speed
    # the car keeps 10 m/s until 5 s, then brakes to 4 m/s (at 2 m/s^2 it takes about 3 s + jerk ramps)
    assert np.allclose(v[t < 4.95], 10.0, atol=0.05)
    assert v[-1] == pytest.approx(4.0, abs=0.1)
    # continuous position: no jump between frames larger than the top speed allows
    xy = car.trajectory.sample(t).xy
    assert np.max(np.hypot(*np.diff(xy, axis=0).T)) <= 10.0 / s.fps + 1e-3
    doc.undo()
    assert doc.scenario == s


def test_retime_advance_and_bounds():
    s = _braking_car()
    doc = Document(s)
    doc.execute(RetimeManeuver("car_1", 1, 1.0))
    v = doc.scenario.agent("car_1").trajectory.sample(np.array([0.5, 9.0])).speed
    assert v[0] == pytest.approx(10.0, abs=0.05) and v[1] == pytest.approx(4.0, abs=0.1)
    with pytest.raises(ValueError, match="must start between"):
        doc.execute(RetimeManeuver("car_1", 1, 50.0))
    with pytest.raises(ValueError, match="first one starts the motion"):
        doc.execute(RetimeManeuver("car_1", 0, 2.0))


def test_clip_length_extends_at_final_speed_and_undoes():
    s = _braking_car()
    doc = Document(s)
    doc.execute(SetClipDuration(20.0))
    s2 = doc.scenario
    assert s2.duration == 20.0 and s2.num_frames == 240
    car = s2.agent("car_1")
    assert car.trajectory.end_time == pytest.approx(s2.frame_times()[-1])
    v = car.trajectory.sample(np.array([15.0, 19.0])).speed
    assert np.allclose(v, 4.0, atol=0.1)                              # keeps its final speed
    x15, x19 = car.trajectory.sample(np.array([15.0, 19.0])).x
    assert x19 - x15 == pytest.approx(16.0, abs=0.3)                  # 4 m/s for 4 s
    with pytest.raises(ValueError, match="between 1 and 60"):
        doc.execute(SetClipDuration(90.0))
    doc.execute(SetClipDuration(4.0))
    assert doc.scenario.agent("car_1").trajectory.end_time <= 4.0
    doc.undo()
    doc.undo()
    assert doc.scenario == s
