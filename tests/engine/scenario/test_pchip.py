"""The numpy PCHIP behind `Trajectory` against scipy's `PchipInterpolator` (the independent reference):
the same polynomial pieces and samples bit for bit, and the same refusals; and sampling a trajectory no
longer imports scipy.interpolate (the start-up cost it removes)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.interpolate import PchipInterpolator

from engine.scenario import Trajectory
from engine.scenario.pchip import pchip_coefficients, pchip_derivatives

REPO = Path(__file__).resolve().parents[3]


def _random_series(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Knots with uneven spacing and values mixing smooth runs, plateaus, sign changes and spikes."""
    x = np.cumsum(rng.uniform(0.01, 3.0, n)) + rng.uniform(-5, 5)
    kind = rng.integers(0, 4)
    if kind == 0:
        y = rng.normal(0, 10, n)
    elif kind == 1:                                   # monotone with plateaus
        y = np.cumsum(rng.choice([0.0, 0.0, 1.0, 2.5], n))
    elif kind == 2:                                   # integers: many equal neighbours, exact zero slopes
        y = rng.integers(-2, 3, n).astype(float)
    else:                                             # large offsets, small wiggles (rounding-sensitive)
        y = 1e5 + rng.normal(0, 1e-3, n)
    return x, y


@pytest.mark.parametrize("seed", range(40))
def test_pieces_are_bit_identical_to_scipy(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 30))
    x, y = _random_series(rng, n)
    ref = PchipInterpolator(x, y)
    ours = pchip_coefficients(x, y)
    assert ours.shape == ref.c.shape == (4, n - 1)
    assert np.array_equal(ours, ref.c)
    slopes = pchip_derivatives(x, y)
    assert np.array_equal(slopes[:-1], ref.c[2])                          # the slope at each piece's start
    assert slopes[-1] == pytest.approx(float(ref.derivative()(x[-1])), rel=1e-9, abs=1e-9)   # and at the end


@pytest.mark.parametrize("y", [
    [0.0, 1.0], [3.0, 3.0, 3.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0, 1.0], [1.0, 2.0, 10.0, 10.5],
    [0.0, 10.0, 9.0, 20.0], [5.0, -5.0, 5.0, -5.0, 5.0],
])
def test_degenerate_series_match_scipy(y):
    """Two knots (a line), constants, peaks, plateaus and the end-slope limiter's branches."""
    x = np.arange(len(y), dtype=float) * 0.7
    assert np.array_equal(pchip_coefficients(x, np.array(y)), PchipInterpolator(x, y).c)


@pytest.mark.parametrize("seed", range(12))
def test_trajectory_samples_equal_scipy_evaluation(seed):
    """Values and velocities at random times, at every knot and outside the key range (held pose,
    zero velocity), against scipy evaluating its own interpolants."""
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(2, 12))
    t = np.cumsum(rng.uniform(0.1, 2.0, n))
    xs, ys = rng.normal(0, 20, n), rng.normal(0, 20, n)
    yaw = np.cumsum(rng.normal(0, 1.2, n))
    tr = Trajectory.from_arrays(t, xs, ys, np.angle(np.exp(1j * yaw)))
    q = np.concatenate([rng.uniform(t[0] - 1, t[-1] + 1, 50), t])
    s = tr.sample(q)
    fx, fy, fyaw = (PchipInterpolator(t, v) for v in (xs, ys, tr.key_yaw_unwrapped))
    qc = np.clip(q, t[0], t[-1])
    inside = (q >= t[0]) & (q <= t[-1])
    assert np.array_equal(s.x, fx(qc)) and np.array_equal(s.y, fy(qc)) and np.array_equal(s.yaw, fyaw(qc))
    assert np.array_equal(s.vx, np.where(inside, fx(qc, 1), 0.0))
    assert np.array_equal(s.vy, np.where(inside, fy(qc, 1), 0.0))


@pytest.mark.parametrize("x, y, words", [
    ([0.0], [1.0], "at least 2"),
    ([0.0, 1.0, 1.0], [0.0, 1.0, 2.0], "strictly increasing"),
    ([0.0, 2.0, 1.0], [0.0, 1.0, 2.0], "strictly increasing"),
    ([0.0, 1.0], [0.0, np.nan], "finite"),
    ([0.0, 1.0, 2.0], [0.0, 1.0], "1-D arrays of one length"),
])
def test_bad_knots_are_refused_like_scipy(x, y, words):
    with pytest.raises(ValueError, match=words):
        pchip_coefficients(np.array(x), np.array(y))
    with pytest.raises(ValueError):
        PchipInterpolator(x, y)


def test_sampling_a_trajectory_does_not_import_scipy_interpolate():
    code = ("import sys; from engine.scenario import Trajectory; "
            "Trajectory.from_arrays([0, 1, 2], [0, 1, 3], [0, 0, 1], [0, 0.1, 0.2]).sample([0.5, 1.5]); "
            "print('scipy.interpolate' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
