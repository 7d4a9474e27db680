"""The trajectory library never generates what the feasibility checks call infeasible."""
from __future__ import annotations

import math

import pytest

from engine.checks.config import DEFAULT_CLASS_LIMITS
from engine.classes import class_names
from engine.library.limits import limits_for


@pytest.mark.parametrize("cls", class_names())
def test_library_limits_lie_inside_the_check_limits(cls):
    lib, chk = limits_for(cls), DEFAULT_CLASS_LIMITS[cls]
    assert lib.max_speed <= chk.speed
    assert lib.max_accel <= chk.accel
    assert lib.max_decel <= chk.decel
    assert lib.max_jerk <= chk.jerk
    assert lib.max_lat_accel <= chk.lat_accel
    if lib.min_turn_radius > 0:
        assert 1.0 / lib.min_turn_radius <= chk.curvature + 1e-9
    else:
        assert math.isinf(lib.max_curvature)
