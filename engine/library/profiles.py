"""Longitudinal speed profiles (jerk-limited) and lateral offset profiles (minimum-jerk quintics).

A speed profile starts at v0 and applies speed changes one after the other; each change ramps the
acceleration up and down at a bounded jerk (a trapezoid in acceleration), so speed is C1 and
position C2. Profiles are integrated on a fine grid and sampled at any times.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from numpy.typing import NDArray

FINE_DT = 0.005   # seconds


@dataclass(frozen=True)
class SpeedChange:
    """Change speed to `target` (m/s) at `rate` (|m/s^2|), starting no earlier than `start` (s) and
    no earlier than `wait` seconds after the previous change has ended."""

    start: float
    target: float
    rate: float
    wait: float = 0.0


def change_duration(dv: float, rate: float, jerk: float) -> float:
    """Seconds a jerk-limited change of |dv| m/s takes at peak `rate` and `jerk`."""
    dv = abs(dv)
    if dv <= 1e-12:
        return 0.0
    a = min(rate, math.sqrt(dv * jerk))
    return dv / a + a / jerk


def change_distance(v0: float, v1: float, rate: float, jerk: float) -> float:
    """Metres covered while changing speed from v0 to v1 (symmetric ramps: the mean speed times the time)."""
    return 0.5 * (v0 + v1) * change_duration(v1 - v0, rate, jerk)


def _accel_shape(tau: NDArray[np.float64], dv: float, rate: float, jerk: float) -> NDArray[np.float64]:
    """Acceleration (signed) at times tau since the change began."""
    sign = 1.0 if dv > 0 else -1.0
    dv = abs(dv)
    a = min(rate, math.sqrt(dv * jerk))
    tr = a / jerk
    th = max(dv / a - tr, 0.0)
    out = np.zeros_like(tau)
    m1 = (tau >= 0) & (tau < tr)
    m2 = (tau >= tr) & (tau < tr + th)
    m3 = (tau >= tr + th) & (tau < 2 * tr + th)
    out[m1] = jerk * tau[m1]
    out[m2] = a
    out[m3] = a - jerk * (tau[m3] - tr - th)
    return sign * out


@dataclass(frozen=True)
class SpeedProfile:
    """Speed and distance on a fine grid: t, v, s are (M,) arrays; `phases` the (start, end) of each change."""

    t: NDArray[np.float64]
    v: NDArray[np.float64]
    s: NDArray[np.float64]
    phases: tuple[tuple[float, float], ...]

    def speed(self, times: NDArray[np.float64] | float) -> NDArray[np.float64]:
        """(N,) speed in m/s; held constant after the grid ends."""
        return np.interp(np.atleast_1d(times), self.t, self.v)

    def distance(self, times: NDArray[np.float64] | float) -> NDArray[np.float64]:
        """(N,) distance travelled since t = 0, extrapolated at the final speed."""
        ts = np.atleast_1d(np.asarray(times, dtype=np.float64))
        d = np.interp(ts, self.t, self.s)
        over = ts > self.t[-1]
        return np.where(over, self.s[-1] + (ts - self.t[-1]) * self.v[-1], d)

    def time_at_distance(self, dist: float) -> float:
        """First time the distance reaches `dist` (inf if never)."""
        if dist <= 0:
            return 0.0
        if dist > self.s[-1]:
            return float("inf") if self.v[-1] <= 1e-9 else float(self.t[-1] + (dist - self.s[-1]) / self.v[-1])
        i = int(np.searchsorted(self.s, dist))
        return float(self.t[min(i, len(self.t) - 1)])


def speed_profile(v0: float, changes: Sequence[SpeedChange], jerk: float, t_end: float) -> SpeedProfile:
    """Integrate the changes from speed v0 over [0, max(t_end, last change end)]."""
    phases: list[tuple[float, float, float, float, float]] = []
    v = float(v0)
    t_free = 0.0
    for ch in changes:
        start = max(float(ch.start), t_free + (float(ch.wait) if phases else 0.0))
        dur = change_duration(ch.target - v, ch.rate, jerk)
        phases.append((start, start + dur, v, float(ch.target), float(ch.rate)))
        t_free = start + dur
        v = float(ch.target)
    horizon = max(float(t_end), t_free) + FINE_DT
    t = np.arange(0.0, horizon + FINE_DT, FINE_DT)
    acc = np.zeros_like(t)
    for start, _end, va, vb, rate in phases:
        if abs(vb - va) > 1e-12:
            acc += _accel_shape(t - start, vb - va, rate, jerk)
    vel = v0 + np.concatenate([[0.0], np.cumsum(0.5 * (acc[1:] + acc[:-1]) * FINE_DT)])
    # snap each phase's end exactly to its target (removes integration drift)
    for _start, end, _va, vb, _r in phases:
        vel[t >= end] += vb - np.interp(end, t, vel)
    vel = np.maximum(vel, 0.0)
    dist = np.concatenate([[0.0], np.cumsum(0.5 * (vel[1:] + vel[:-1]) * FINE_DT)])
    return SpeedProfile(t, vel, dist, tuple((p[0], p[1]) for p in phases))


def smootherstep(u: NDArray[np.float64]) -> NDArray[np.float64]:
    """Minimum-jerk blend 10u^3 - 15u^4 + 6u^5 on [0, 1] (clamped outside)."""
    uc: NDArray[np.float64] = np.clip(u, 0.0, 1.0)
    return uc ** 3 * (10 + uc * (-15 + 6 * uc))


def smootherstep_rate(u: NDArray[np.float64]) -> NDArray[np.float64]:
    """d/du of `smootherstep` (zero outside [0, 1])."""
    inside = (u > 0) & (u < 1)
    uc = np.clip(u, 0.0, 1.0)
    return np.where(inside, 30 * uc ** 2 * (1 - uc) ** 2, 0.0)


@dataclass(frozen=True)
class LateralShift:
    """Move sideways by `delta` metres (left positive) over [start, start + duration] seconds."""

    start: float
    duration: float
    delta: float

    @property
    def peak_lat_accel(self) -> float:
        """Largest lateral acceleration (m/s^2) of the quintic: 5.774 * |delta| / duration^2."""
        return 10.0 / math.sqrt(3.0) * abs(self.delta) / self.duration ** 2

    @property
    def peak_lat_speed(self) -> float:
        return 1.875 * abs(self.delta) / self.duration


def lateral_offset(lat0: float, shifts: Sequence[LateralShift],
                   t: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(lat, dlat/dt), each (M,), at times t."""
    t = np.asarray(t, dtype=np.float64)
    lat = np.full_like(t, float(lat0))
    rate = np.zeros_like(t)
    for sh in shifts:
        u = (t - sh.start) / sh.duration
        lat += sh.delta * smootherstep(u)
        rate += sh.delta * smootherstep_rate(u) / sh.duration
    return lat, rate


def min_shift_duration(delta: float, speed: float, max_lat_accel: float, max_curvature: float) -> float:
    """Shortest duration (s) of a lateral shift of |delta| m at `speed` within the lateral-acceleration
    and curvature limits (curvature ~ lat_accel / speed^2), and with the sideways speed below 60 %
    of the speed. inf when the speed is too low to move sideways at all."""
    delta = abs(delta)
    if delta < 1e-9:
        return 0.0
    if speed < 0.5:
        return float("inf")
    c = 10.0 / math.sqrt(3.0) * delta
    a_allowed = min(max_lat_accel, max_curvature * speed ** 2)
    t_acc = math.sqrt(c / a_allowed)
    t_rate = 1.875 * delta / (0.6 * speed)
    return max(t_acc, t_rate)
