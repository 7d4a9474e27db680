"""Speed and lateral profiles: targets reached, jerk and acceleration bounded, distances consistent."""
from __future__ import annotations

import numpy as np
import pytest

from engine.library.profiles import (
    LateralShift, SpeedChange, change_distance, change_duration, lateral_offset, min_shift_duration, speed_profile,
)


def test_speed_profile_reaches_targets_with_bounded_accel_and_jerk():
    p = speed_profile(10.0, [SpeedChange(0.5, 0.0, 6.0), SpeedChange(0.0, 5.0, 2.0, wait=1.0)], jerk=8.0, t_end=8.0)
    t = p.t
    a = np.gradient(p.v, t)
    j = np.gradient(a, t)
    assert p.v[0] == pytest.approx(10.0)
    assert p.v[-1] == pytest.approx(5.0, abs=1e-3)
    assert a.min() >= -6.0 - 0.05 and a.max() <= 2.0 + 0.05
    assert np.abs(j).max() <= 8.0 * 1.05
    (s0, e0), (s1, e1) = p.phases
    assert s0 == pytest.approx(0.5) and s1 == pytest.approx(e0 + 1.0)
    assert p.speed(e0 + 0.5)[0] == pytest.approx(0.0, abs=1e-3)          # stands during the wait


def test_change_distance_matches_the_integrated_profile():
    p = speed_profile(12.0, [SpeedChange(0.0, 2.0, 3.0)], jerk=6.0, t_end=6.0)
    dur = change_duration(10.0, 3.0, 6.0)
    assert p.phases[0][1] == pytest.approx(dur)
    assert p.distance(dur)[0] == pytest.approx(change_distance(12.0, 2.0, 3.0, 6.0), rel=1e-3)
    assert p.time_at_distance(float(p.distance(1.0)[0])) == pytest.approx(1.0, abs=0.01)


def test_lateral_shift_moves_the_full_width_and_peaks_as_documented():
    sh = LateralShift(1.0, 2.0, -3.5)
    t = np.linspace(0, 4, 4001)
    lat, rate = lateral_offset(0.0, [sh], t)
    assert lat[0] == 0.0 and lat[-1] == pytest.approx(-3.5)
    acc = np.gradient(rate, t)
    assert np.abs(acc).max() == pytest.approx(sh.peak_lat_accel, rel=0.01)
    assert np.abs(rate).max() == pytest.approx(sh.peak_lat_speed, rel=0.01)


def test_min_shift_duration_respects_limits_and_refuses_standstill():
    d = min_shift_duration(3.5, 10.0, max_lat_accel=4.0, max_curvature=0.2)
    assert LateralShift(0, d, 3.5).peak_lat_accel <= 4.0 + 1e-9
    assert min_shift_duration(3.5, 0.0, 4.0, 0.2) == float("inf")
    assert min_shift_duration(3.5, 3.0, 4.0, 0.2) > min_shift_duration(3.5, 10.0, 4.0, 0.2)
