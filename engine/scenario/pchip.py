"""PCHIP (piecewise cubic Hermite, shape-preserving) coefficients in numpy, equal to scipy's.

`Trajectory` interpolates its waypoints with PCHIP. scipy's `PchipInterpolator` gives the reference
result, but importing `scipy.interpolate` costs about 0.25 s (it pulls in scipy.optimize, linalg and
special), which was a third of the start-up of `check`, `validate` and `prompt`. The two functions
below compute the same derivatives and polynomial pieces with the same floating-point operations in
the same order (scipy 1.17: `PchipInterpolator._find_derivatives`, `_edge_case` and
`CubicHermiteSpline.__init__`), so the pieces are bit-identical; tests/engine/scenario/test_pchip.py
checks that against scipy on random and degenerate inputs.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def _edge_derivative(h0: float, h1: float, m0: float, m1: float) -> float:
    """One-sided three-point derivative at an end knot, limited to keep the shape (Moler, pchiptx)."""
    d = ((2 * h0 + h1) * m0 - h0 * m1) / (h0 + h1)
    if np.sign(d) != np.sign(m0):
        return 0.0
    if np.sign(m0) != np.sign(m1) and abs(d) > 3.0 * abs(m0):
        return 3.0 * m0
    return float(d)


def pchip_derivatives(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    """PCHIP slopes dy/dx at the knots.

    x: (N,) strictly increasing knots, N >= 2; y: (N,) values. Returns (N,).
    Raises ValueError for fewer than two knots, non-finite input or knots that do not increase.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or y.shape != x.shape:
        raise ValueError(f"knots and values must be two 1-D arrays of one length, got {x.shape} and {y.shape}")
    if x.shape[0] < 2:
        raise ValueError("PCHIP needs at least 2 knots")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("PCHIP knots and values must be finite")
    hk = np.diff(x)
    if np.any(hk <= 0):
        raise ValueError("PCHIP knots must be strictly increasing")
    mk = (y[1:] - y[:-1]) / hk
    if x.shape[0] == 2:      # two knots: a straight line
        return np.array([mk[0], mk[0]])
    smk = np.sign(mk)
    flat_or_turning = (smk[1:] != smk[:-1]) | (mk[1:] == 0) | (mk[:-1] == 0)
    w1 = 2 * hk[1:] + hk[:-1]
    w2 = hk[1:] + 2 * hk[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        whmean = (w1 / mk[:-1] + w2 / mk[1:]) / (w1 + w2)     # weighted harmonic mean of the slopes
    dk = np.zeros_like(y)
    inner = dk[1:-1]
    inner[~flat_or_turning] = 1.0 / whmean[~flat_or_turning]
    dk[0] = _edge_derivative(hk[0], hk[1], mk[0], mk[1])
    dk[-1] = _edge_derivative(hk[-1], hk[-2], mk[-1], mk[-2])
    return dk


def pchip_coefficients(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    """The (4, N - 1) polynomial pieces of the PCHIP through (x, y), as scipy's `PPoly.c`.

    Row 0 is the cubic coefficient, row 3 the constant: piece i is
    c[0, i] s^3 + c[1, i] s^2 + c[2, i] s + c[3, i] with s = t - x[i], for x[i] <= t <= x[i + 1].
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    dydx = pchip_derivatives(x, y)
    dx = np.diff(x)
    slope = np.diff(y) / dx
    t = (dydx[:-1] + dydx[1:] - 2 * slope) / dx
    return np.stack((t / dx, (slope - dydx[:-1]) / dx - t, dydx[:-1], y[:-1]))
