"""Manoeuvre sequences, clip lengths, triggers (with the OpenSCENARIO replay), traffic lights and
parameter bounds (issue 16, and issue 18's library-bounds item)."""
from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest

from engine.export.openscenario import openscenario_bytes
from engine.export.openscenario_reader import read_openscenario
from engine.library.builder import ScenarioBuilder
from engine.library.errors import LibraryError
from engine.library.limits import kinematic_violations
from engine.library.registry import bind_library, library_functions
from engine.roadmap.signals import red_light_violations
from engine.scenario.io import dumps_scenario, loads_scenario


def _lib(duration=2.75, seed=0):
    b = ScenarioBuilder(seed=seed, duration=duration)
    return b, bind_library(b)


# ---------------------------------------------------------------------------------- bounds (issue 18)
def test_tiny_decel_fails_fast_naming_parameter_and_range():
    b, L = _lib()
    t0 = time.perf_counter()
    with pytest.raises(LibraryError) as e:
        L["brake"]("car", decel=0.00001)
    assert time.perf_counter() - t0 < 2.0            # generous: it used to take 74 s
    msg = str(e.value)
    assert "brake" in msg and "decel" in msg and "0.3" in msg and "12" in msg


@pytest.mark.parametrize("fn,kwargs,param", [
    ("accelerate", {"accel": 1e-7}, "accel"), ("stop_and_go", {"stop_for": 1e9}, "stop_for"),
    ("change_lane", {"duration": 1e6}, "duration"), ("parked", {"count": 10**6}, "count"),
    ("forward", {"ahead": 1e12}, "ahead"), ("follow", {"time_gap": 0.0}, "time_gap"),
    ("cone_row", {"length": 1e9}, "length"),
])
def test_every_numeric_parameter_is_bounded(fn, kwargs, param):
    b, L = _lib()
    args = (L["forward"]("car", lane="left"),) if fn == "follow" else ()
    with pytest.raises(LibraryError, match=param):
        L[fn](*args, **kwargs)


def test_bounds_are_stated_in_every_docstring():
    for name, f in library_functions().items():
        numeric = [p for p, hint in f.hints.items() if float in hint or int in hint]
        if numeric:
            assert "Bounds:" in f.doc, name


# ---------------------------------------------------------------------------------- sequences
def test_sequence_is_smooth_within_limits_and_seeded():
    def run(seed):
        b, L = _lib(duration=12.0, seed=seed)
        L["set_road"](lanes=4, ego_lane=2)
        car = L["forward"]("car", lane="right", ahead=15.0)
        L["then"](car, "brake", to_speed=3.0, start=2.0)
        L["then"](car, "accelerate", to_speed=10.0, after=1.0)
        L["then"](car, "change_lane", side="right")
        return b.build()

    s = run(3)
    car = s.agents[0]
    assert [m.function for m in car.maneuvers] == ["forward", "brake", "accelerate", "change_lane"]
    starts = [m.start for m in car.maneuvers]
    assert starts == sorted(starts) and starts[1] == pytest.approx(2.0)
    # each manoeuvre starts when the previous one has ended (+ after)
    assert car.maneuvers[2].start == pytest.approx(car.maneuvers[1].end + 1.0, abs=0.02)
    times = s.frame_times()
    assert kinematic_violations(car.trajectory, "car", times) == []
    v = car.trajectory.sample(times).speed
    assert v[np.searchsorted(times, car.maneuvers[1].end) + 1] == pytest.approx(3.0, abs=0.15)
    assert v[-1] == pytest.approx(10.0, abs=0.15)
    # ends one lane to the right (lanes are 3.5 m)
    y0, y1 = car.trajectory.pose_at(0.0)[1], car.trajectory.pose_at(times[-1])[1]
    assert y0 - y1 == pytest.approx(3.5, abs=0.05)
    assert dumps_scenario(run(3)) == dumps_scenario(s)
    assert dumps_scenario(run(4)) != dumps_scenario(s)


def test_sequence_accepts_the_library_function_itself_and_repeats():
    b, L = _lib(duration=14.0)
    L["set_road"](lanes=3, ego_lane=1)
    car = L["forward"]("car", lane="EB_3", ahead=20.0, speed=10.0)
    L["then"](car, L["change_lane"], side="left", times=2, start=1.0)
    s = b.build()
    m = s.agents[0].maneuvers[-1]
    assert m.function == "change_lane" and m.params["times"] == 2
    y0, y1 = s.agents[0].trajectory.pose_at(0.0)[1], s.agents[0].trajectory.pose_at(13.9)[1]
    assert y1 - y0 == pytest.approx(7.0, abs=0.05)            # two lanes to the left


def test_twenty_second_clip_functions_fill_it():
    b, L = _lib(duration=20.0)
    L["cut_in"](b.ego, side="left")
    L["pedestrian_crossing"](side="right")
    s = b.build()
    assert s.num_frames == 240 and s.duration == 20.0
    for a in s.all_agents:
        assert a.trajectory.end_time == pytest.approx(s.frame_times()[-1])
        assert kinematic_violations(a.trajectory, a.cls, s.frame_times()) == []


def test_sequence_rejects_impossible_requests_clearly():
    b, L = _lib()
    cones = L["cone_row"](lane="right")
    with pytest.raises(LibraryError, match="no further manoeuvres|takes no further"):
        L["then"](cones[0], "brake")
    car = L["forward"]("car", lane="left")
    with pytest.raises(LibraryError, match="after the clip ends|before the previous"):
        L["then"](car, "brake", start=0.5, after=2.0)


# ---------------------------------------------------------------------------------- format v2
def test_v2_round_trip_and_v1_files_load_unchanged():
    b, L = _lib(duration=6.0)
    car = L["forward"]("car", lane="left", speed=9.0)
    L["then"](car, "brake", to_speed=2.0)
    s = b.build()
    doc = json.loads(dumps_scenario(s))
    assert doc["format_version"] == 2 and len(doc["agents"][0]["maneuvers"]) == 2
    back = loads_scenario(dumps_scenario(s))
    assert back.agents[0].maneuvers == s.agents[0].maneuvers
    # a version-1 document (no maneuvers, format 1) loads with the same trajectories
    v1 = dict(doc, format_version=1)
    v1["agents"] = [{k: v for k, v in a.items() if k != "maneuvers"} for a in doc["agents"]]
    v1["ego"] = {k: v for k, v in doc["ego"].items() if k != "maneuvers"}
    old = loads_scenario(json.dumps(v1))
    assert old.agents[0].trajectory == s.agents[0].trajectory
    assert old.agents[0].maneuvers == () and old.agents[0].maneuver_sequence()[0].function == "forward"


# ---------------------------------------------------------------------------------- triggers
def _ttc_cut_in():
    b, L = _lib(duration=20.0)
    L["forward"](b.ego, speed=8.0)
    car = L["forward"]("car", lane="left", ahead=25.0, speed=6.0)
    L["then"](car, "change_lane", side="right", ttc=2.0, contact=True)
    return b.build()


def _gap_and_closing(s, t):
    """Longitudinal freespace gap (m) and closing speed (m/s) from ego to car_1, by finite difference."""
    ego, car = s.ego, s.agent("car_1")

    def gap(tt):
        e, c = ego.trajectory.sample(tt), car.trajectory.sample(tt)
        along = (c.x - e.x) * np.cos(e.yaw) + (c.y - e.y) * np.sin(e.yaw)
        return float(along[0]) - (ego.length + car.length) / 2
    return gap(t), (gap(t) - gap(t + 1e-3)) / 1e-3


def test_cut_in_starts_when_ttc_reaches_two_seconds():
    s = _ttc_cut_in()
    m = s.agent("car_1").maneuvers[1]
    assert m.function == "change_lane" and m.trigger == {"kind": "ttc", "other": "ego", "value": 2.0}
    dt = 1 / s.fps
    g, c = _gap_and_closing(s, m.start)
    assert g / c < 2.0                                       # TTC below 2 s at the start frame ...
    g0, c0 = _gap_and_closing(s, m.start - dt)
    assert g0 / c0 >= 2.0                                    # ... and not one frame earlier
    # analytic: ego 8 m/s, car 6 m/s, gap 25 m -> TTC = (25 - 2 t) / 2 = 2 at t = 10.5 s (the ego
    # starts at its default speed; here it is set to 8 m/s so the closing speed is 2 m/s)
    assert m.start == pytest.approx(10.5, abs=dt + 1e-6)
    # the car holds its lane until then
    y_before = s.agent("car_1").trajectory.sample(np.array([0.0, m.start - dt])).y
    assert abs(y_before[1] - y_before[0]) < 1e-3


def test_openscenario_has_the_ttc_trigger_and_replays_it_at_the_same_time(tmp_path):
    s = _ttc_cut_in()
    data = openscenario_bytes(s)                            # validated against the ASAM XSD
    path = tmp_path / "cut_in.xosc"
    path.write_bytes(data)
    text = data.decode()
    assert "TimeToCollisionCondition" in text and 'value="2.0"' in text and 'rule="lessThan"' in text
    doc = read_openscenario(path, fps_replay=s.fps)
    (trig,) = doc.triggers
    assert trig.entity == "car_1" and trig.kind == "ttc" and trig.value == 2.0 and trig.triggering_entity == "ego"
    m = s.agent("car_1").maneuvers[1]
    assert trig.fired_at == pytest.approx(m.start, abs=1e-6)
    replayed = doc.entity("car_1").trajectory
    times = s.frame_times()
    assert np.abs(replayed.sample(times).xy - s.agent("car_1").trajectory.sample(times).xy).max() < 0.01


def test_distance_and_reach_triggers():
    b, L = _lib(duration=10.0)
    L["forward"](b.ego, speed=8.0)
    car = L["forward"]("car", lane="left", ahead=30.0, speed=4.0)
    L["then"](car, "brake", distance=20.0)
    ped_b, ped_L = _lib(duration=10.0)
    s = b.build()
    m = s.agent("car_1").maneuvers[1]
    d = np.hypot(*(s.agent("car_1").trajectory.sample(m.start).xy - s.ego.trajectory.sample(m.start).xy)[0])
    assert d < 20.0 and m.trigger["kind"] == "distance"
    b2, L2 = _lib(duration=10.0)
    L2["forward"](b2.ego, speed=8.0)
    car2 = L2["forward"]("car", lane="oncoming", ahead=60.0, speed=5.0)
    L2["then"](car2, "stop", at_x=30.0)
    s2 = b2.build()
    m2 = s2.agent("car_1").maneuvers[1]
    assert s2.ego.trajectory.pose_at(m2.start)[0] >= 30.0 > s2.ego.trajectory.pose_at(m2.start - 1 / 12)[0]


# ---------------------------------------------------------------------------------- traffic lights
def test_red_light_runner_violates_and_a_driver_obeys():
    b, L = _lib(duration=12.0)
    L["traffic_light"](main="red", change_at=9.0)
    L["stop_at_light"](b.ego, speed=8.0)
    L["stop_at_light"]("car", lane="left", ahead=0.0, speed=8.0, run_red=True)
    s = b.build()
    v = red_light_violations(s)
    assert [(a, sig) for a, sig, _ in v] == [("car_1", "signal_EB")]
    t_cross = v[0][2]
    assert s.map.signal("signal_EB").state_at(t_cross) == "red"
    # the ego stops before its stop line while red and moves again after the light turns green
    times = s.frame_times()
    speed = s.ego.trajectory.sample(times).speed
    assert speed[(times > 8.4) & (times < 9.0)].max() < 0.05      # standing while red (green at 9 s)
    assert speed[-1] > 1.0
    sg = s.map.signal("signal_EB")
    front_x = s.ego.trajectory.sample(times).x + s.ego.length / 2
    assert front_x[times < 9.0].max() < sg.stop_line[0][0]


def test_signals_are_saved_and_exported_as_controllers(tmp_path):
    b, L = _lib(duration=8.0)
    L["traffic_light"](main="green", change_at=3.0)
    L["forward"]("car", lane="left")
    s = b.build()
    back = loads_scenario(dumps_scenario(s))
    assert back.map.signals == s.map.signals and len(s.map.signals) == 4
    assert s.map.signal("signal_NB").state_at(3.0 + 3.0 + 1.0) == "green"
    assert s.map.signal("signal_EB").state_at(4.0) == "yellow"
    p = tmp_path / "s.xosc"
    p.write_bytes(openscenario_bytes(s))
    doc = read_openscenario(p)
    assert len(doc.signal_controllers) == 4
    assert "TrafficSignalController" in p.read_text()
    assert math.isfinite(s.map.signals[0].yaw)


# ---------------------------------------------------------------------------------- reacting ego
def _cut_in_and_brake(react: bool):
    b, L = _lib(duration=8.0)
    car = L["cut_in"](b.ego, side="left")
    L["then"](car, "emergency_stop", contact=True)
    if react:
        L["ego_reacts"]()
    return b.build()


def _min_gap(s):
    from engine.library.clearance import footprint_distances

    t = s.frame_times()
    return float(footprint_distances(s.ego.box_corners_2d(t), s.agent("car_1").box_corners_2d(t)).min())


def test_reacting_ego_brakes_and_avoids_the_collision_the_passive_ego_has():
    from engine.checks import check_scenario
    from engine.checks.ego_response import ego_response

    passive, reacting = _cut_in_and_brake(False), _cut_in_and_brake(True)
    assert _min_gap(passive) == 0.0                                    # the passive ego hits the car
    assert _min_gap(reacting) > 0.0                                    # the reacting one does not
    assert reacting.agent("car_1").trajectory == passive.agent("car_1").trajectory   # the threat is unchanged
    times = reacting.frame_times()
    v_p, v_r = passive.ego.trajectory.sample(times).speed, reacting.ego.trajectory.sample(times).speed
    assert v_r[-1] < v_p[-1] - 3.0                                     # it braked
    assert kinematic_violations(reacting.ego.trajectory, "car", times) == []
    # same path (lane keeping): lateral position unchanged
    assert np.allclose(reacting.ego.trajectory.sample(times).y, passive.ego.trajectory.sample(times).y, atol=1e-3)
    r = ego_response(reacting)
    assert r.reacts and r.avoided and r.unreacted_contact[0] == "car_1"
    report = check_scenario(reacting)
    assert any(f.code == "ego_avoided" for f in report.findings)
    assert report.summary["collisions"] == 0
    assert check_scenario(passive).summary["contacts"] >= 1


def test_red_light_finding_in_the_checks():
    from engine.checks import check_scenario

    b, L = _lib(duration=12.0)
    L["traffic_light"](main="red", change_at=9.0)
    L["stop_at_light"]("car", lane="left", ahead=0.0, speed=8.0, run_red=True)
    report = check_scenario(b.build())
    assert [f.agents for f in report.findings if f.code == "red_light"] == [("car_1",)]


# ---------------------------------------------------------------------------------- phrase registry
def test_every_library_function_declares_its_phrases_and_slots():
    from engine.library.phrases import PHRASES
    from engine.prompting import lexicon

    fns = library_functions()
    assert set(PHRASES) == set(fns)
    for name, spec in PHRASES.items():
        params = set(fns[name].signature.parameters)
        assert set(spec.slots) <= params, (name, set(spec.slots) - params)
        for verb in spec.verbs:
            if spec.maneuver is not None:
                assert verb in lexicon.MANEUVERS, verb        # the interpreter reads every declared phrase


def test_plain_drivers_obey_the_light():
    b, L = _lib(duration=12.0)
    L["traffic_light"](main="red", change_at=9.0)
    L["forward"]("car", lane="left", ahead=5.0, speed=8.0)
    L["forward"]("truck", lane="oncoming", ahead=60.0, speed=7.0)
    s = b.build()
    assert red_light_violations(s) == []
    t = s.frame_times()
    v = s.agent("car_1").trajectory.sample(t).speed
    assert v[(t > 8.0) & (t < 9.0)].max() < 0.1 and v[-1] > 1.0       # waits for green, then goes


def test_signal_trigger_exports_and_replays(tmp_path):
    b, L = _lib(duration=12.0)
    L["traffic_light"](main="red", change_at=6.0)
    car = L["stop_at_light"]("car", lane="left", ahead=0.0, speed=0.0)
    L["then"](car, "accelerate", to_speed=6.0, signal="signal_EB", state="green")
    s = b.build()
    m = s.agent("car_1").maneuvers[-1]
    assert m.start == pytest.approx(6.0, abs=1 / 12) and m.trigger["kind"] == "signal"
    p = tmp_path / "sig.xosc"
    p.write_bytes(openscenario_bytes(s))
    assert "TrafficSignalCondition" in p.read_text()
    (trig,) = read_openscenario(p, fps_replay=s.fps).triggers
    assert trig.kind == "signal" and trig.fired_at == pytest.approx(m.start, abs=1e-6)
