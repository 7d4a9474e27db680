"""Kinematic feasibility per class and teleports."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine.checks import CheckConfig, Severity, check_scenario
from engine.checks.kinematics import kinematic_arrays
from engine.checks.sampling import SampledScene
from engine.scenario.trajectory import Trajectory

ONLY_KIN = CheckConfig().with_checks("kinematics", "teleport")


def _braking(build, decel: float, cls: str = "car"):
    # 20 m/s, braking from t = 1.0 s at `decel` to a stop
    st, ag = build["straight"], build["agent"]
    ego = st(-100.0, -1.75, 0.0, 0.0, 4.0)
    car = ag(f"{cls}_1", cls, st(0.0, -5.25, 0.0, 20.0, 4.0, accel=-decel, t_brake=1.0))
    return build["scenario"](ego, [car], duration=4.0)


def test_braking_at_15_is_infeasible_for_a_car(build):
    report = check_scenario(_braking(build, 15.0), ONLY_KIN)
    dec = report.with_code("infeasible_decel")
    assert len(dec) == 1
    f = dec[0]
    assert f.severity == Severity.ERROR and f.agents == ("car_1",)
    t_stop = 1.0 + 20.0 / 15.0
    assert f.t_start == pytest.approx(1.0, abs=1 / 12 + 1e-9)            # from the start of braking...
    assert f.t_end == pytest.approx(t_stop, abs=1 / 12 + 1e-9)           # ...to the stop
    assert f.metrics["value"] == pytest.approx(15.0, rel=0.05) and f.metrics["limit"] == 10.0
    assert "brakes at 15" in f.message
    assert report.has_errors


def test_braking_at_8_is_feasible_for_a_car_but_not_for_a_bus(build):
    assert not check_scenario(_braking(build, 8.0), ONLY_KIN).findings
    bus = check_scenario(_braking(build, 9.0, cls="bus"), ONLY_KIN)
    assert [f.code for f in bus.findings if f.severity == Severity.ERROR] == ["infeasible_decel"]


def test_speed_and_static_objects(build):
    st, ag = build["straight"], build["agent"]
    ego = st(0.0, -1.75, 0.0, 10.0, 2.0)
    fast_ped = ag("pedestrian_1", "pedestrian", st(0.0, 10.0, 0.0, 12.0, 2.0))
    moving_cone = ag("traffic_cone_1", "traffic_cone", st(0.0, 20.0, 0.0, 1.0, 2.0))
    report = check_scenario(build["scenario"](ego, [fast_ped, moving_cone], duration=2.0), ONLY_KIN)
    codes = {(f.code, f.agents[0]) for f in report.findings}
    assert codes == {("infeasible_speed", "pedestrian_1"), ("infeasible_speed", "traffic_cone_1")}


def test_sideways_motion_and_turning_on_the_spot(build):
    st, ag = build["straight"], build["agent"]
    ego = st(0.0, -1.75, 0.0, 10.0, 2.0)
    t = np.linspace(0.0, 2.0, 25)
    crab = ag("car_1", "car", Trajectory.from_arrays(t, np.zeros_like(t), 5.0 * t, np.zeros_like(t)))  # yaw 0, moving +y
    spin = ag("car_2", "car", Trajectory.from_arrays(t, np.full_like(t, 30.0), np.full_like(t, 8.0), 1.0 * t))
    ped = ag("pedestrian_1", "pedestrian", Trajectory.from_arrays(t, np.zeros_like(t) + 50, 1.2 * t, 3.0 * t))
    report = check_scenario(build["scenario"](ego, [crab, spin, ped], duration=2.0), ONLY_KIN)
    codes = {(f.code, f.agents[0]) for f in report.findings}
    assert ("infeasible_slip", "car_1") in codes
    assert ("infeasible_curvature", "car_2") in codes          # turning on the spot: radius 0
    assert not any(a == "pedestrian_1" for _, a in codes)       # pedestrians may walk sideways and turn


def test_cornering_too_fast(build):
    ag = build["agent"]
    # a circle of radius 30 m at 20 m/s: lateral acceleration 13.3 m/s^2 (beyond a car's grip)
    t = np.linspace(0.0, 3.0, 73)
    w = 20.0 / 30.0
    circle = Trajectory.from_arrays(t, 30.0 * np.sin(w * t), 30.0 - 30.0 * np.cos(w * t), w * t)
    report = check_scenario(build["scenario"](build["straight"](-50, -20, 0, 0, 3), [ag("car_1", "car", circle)]),
                            ONLY_KIN)
    lat = report.with_code("infeasible_lat_accel")
    assert len(lat) == 1 and lat[0].metrics["value"] == pytest.approx(20.0 ** 2 / 30.0, rel=0.02)
    assert not report.with_code("infeasible_curvature")        # radius 30 m is fine for a car


def test_teleport(build):
    ag = build["agent"]
    t = np.array([0.0, 1.0, 1.01, 2.0])
    x = np.array([0.0, 5.0, 25.0, 30.0])
    jumpy = ag("car_1", "car", Trajectory.from_arrays(t, x, np.full(4, -5.25), np.zeros(4)))
    report = check_scenario(build["scenario"](build["straight"](-50, -1.75, 0, 0, 2), [jumpy], duration=2.0), ONLY_KIN)
    tp = report.with_code("teleport")
    assert len(tp) == 1 and tp[0].agents == ("car_1",)
    assert tp[0].t_start <= 1.0 <= tp[0].t_end and tp[0].metrics["jump"] > 15.0


def test_vectorised_kinematics_agree_with_the_trajectory(build):
    # constant deceleration of 6 m/s^2 over the whole clip, from 20 m/s
    ag = build["agent"]
    t = np.linspace(0.0, 3.0, 73)
    car = ag("car_1", "car", Trajectory.from_arrays(t, 20.0 * t - 3.0 * t ** 2, np.full_like(t, -5.25), np.zeros_like(t)))
    sc = build["scenario"](build["straight"](-50, -1.75, 0, 0, 3), [car], duration=3.0)
    scene = SampledScene.from_scenario(sc)
    kin = kinematic_arrays(scene)
    ref = car.trajectory.kinematics(scene.times)
    assert np.allclose(kin["speed"][1], ref["speed"])
    inner = slice(2, -2)
    assert np.allclose(kin["accel"][1][inner], ref["accel"][inner], atol=0.05)
    assert np.allclose(kin["decel"][1][inner], 6.0, atol=0.05)
    assert np.allclose(kin["lat_accel"][1], 0.0, atol=1e-6) and np.allclose(kin["yaw_rate"][1], 0.0)


def test_ends_of_existence_are_not_stops(build):
    # an agent driving at 15 m/s that exists only from 0.5 to 1.5 s: no braking or acceleration is implied
    ag = build["agent"]
    t = np.linspace(0.5, 1.5, 13)
    brief = ag("car_1", "car", Trajectory.from_arrays(t, 15.0 * t, np.full_like(t, -5.25), np.zeros_like(t)))
    report = check_scenario(build["scenario"](build["straight"](-50, -1.75, 0, 0, 2), [brief], duration=2.0), ONLY_KIN)
    assert report.findings == []


def test_unknown_class_limits_are_reported_as_info(build):
    from dataclasses import replace

    cfg = replace(ONLY_KIN, class_limits={k: v for k, v in ONLY_KIN.class_limits.items() if k != "bicycle"})
    bike = build["agent"]("bicycle_1", "bicycle", build["straight"](0, -5.25, 0, 5, 2))
    report = check_scenario(build["scenario"](build["straight"](-50, -1.75, 0, 0, 2), [bike], duration=2.0), cfg)
    assert [(f.code, f.severity) for f in report.findings] == [("no_limits", Severity.INFO)]
    assert math.isinf(CheckConfig().limits_for("pedestrian").yaw_rate)
