"""Timed 2-D poses on the ground plane and their smooth interpolation.

Frame: the scenario's world frame (nuScenes-style global frame: x, y on the ground, z up),
metres, seconds, radians, yaw counter-clockwise from +x.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple, Sequence

import numpy as np
from numpy.typing import NDArray

from engine.geometry import wrap_angle  # also imported from here by editor/ and engine/render/
from engine.scenario.pchip import pchip_coefficients


COVERS_EPS = 1e-6   # s of slack at the ends of a trajectory's existence (`Trajectory.covers`)


@dataclass(frozen=True)
class Waypoint:
    """One timed pose. `v` (m/s) is optional and informative: speeds are derived from positions."""

    t: float
    x: float
    y: float
    yaw: float
    v: float | None = None


class TrajectorySample(NamedTuple):
    """Poses sampled at N times; every field is a (N,) float64 array."""

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    yaw: NDArray[np.float64]
    vx: NDArray[np.float64]
    vy: NDArray[np.float64]

    @property
    def speed(self) -> NDArray[np.float64]:
        """(N,) ground speed in m/s."""
        return np.hypot(self.vx, self.vy)

    @property
    def xy(self) -> NDArray[np.float64]:
        """(N, 2) positions."""
        return np.stack([self.x, self.y], axis=-1)


def unwrap_yaw(yaw: Sequence[float] | NDArray[Any]) -> NDArray[np.float64]:
    """(N,) yaw made continuous (no jumps of more than pi between neighbours)."""
    return np.unwrap(np.asarray(yaw, dtype=np.float64))


@dataclass(frozen=True)
class Trajectory:
    """A sequence of waypoints with strictly increasing times.

    Sampling is shape-preserving cubic (PCHIP) in x, y and unwrapped yaw: it passes through
    every key pose, does not overshoot between them, and holds the first / last pose outside
    the key time range (use `covers` to ask whether the agent exists at a time).
    """

    points: tuple[Waypoint, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.points:
            raise ValueError("a trajectory needs at least one waypoint")
        object.__setattr__(self, "points", tuple(self.points))

    # ---- construction -------------------------------------------------------------
    @classmethod
    def from_arrays(
        cls,
        t: Sequence[float] | NDArray[Any],
        x: Sequence[float] | NDArray[Any],
        y: Sequence[float] | NDArray[Any],
        yaw: Sequence[float] | NDArray[Any],
        v: Sequence[float] | NDArray[Any] | None = None,
    ) -> "Trajectory":
        """Build from (N,) arrays; `v` optional."""
        n = len(t)
        vs = [None] * n if v is None else [float(s) for s in v]
        return cls(tuple(
            Waypoint(float(t[i]), float(x[i]), float(y[i]), float(yaw[i]), vs[i]) for i in range(n)
        ))

    @classmethod
    def static(cls, x: float, y: float, yaw: float, t0: float = 0.0, t1: float | None = None) -> "Trajectory":
        """A parked object: one pose held from t0 (to t1 if given)."""
        pts = [Waypoint(t0, x, y, yaw, 0.0)]
        if t1 is not None and t1 > t0:
            pts.append(Waypoint(t1, x, y, yaw, 0.0))
        return cls(tuple(pts))

    # ---- raw arrays ---------------------------------------------------------------
    @cached_property
    def times(self) -> NDArray[np.float64]:
        """(N,) key times in seconds."""
        return np.array([p.t for p in self.points], dtype=np.float64)

    @cached_property
    def key_xy(self) -> NDArray[np.float64]:
        """(N, 2) key positions."""
        return np.array([[p.x, p.y] for p in self.points], dtype=np.float64)

    @cached_property
    def key_yaw_unwrapped(self) -> NDArray[np.float64]:
        """(N,) key yaws, unwrapped."""
        return unwrap_yaw([p.yaw for p in self.points])

    @property
    def start_time(self) -> float:
        return self.points[0].t

    @property
    def end_time(self) -> float:
        return self.points[-1].t

    def covers(self, t: float | NDArray[Any], eps: float = COVERS_EPS) -> NDArray[np.bool_] | bool:
        """Whether the agent exists at time(s) t.

        Several waypoints: inside the key time range. A single waypoint (a parked object,
        `Trajectory.static`): from its time onwards.
        """
        t_arr = np.asarray(t, dtype=np.float64)
        out = t_arr >= self.start_time - eps
        if len(self.points) > 1:
            out = out & (t_arr <= self.end_time + eps)
        return bool(out) if out.ndim == 0 else out

    # ---- sampling -----------------------------------------------------------------
    @cached_property
    def _pieces(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]] | None:
        """The PCHIP polynomial pieces: knots (N,) and the (4, N - 1) coefficients of x, y and yaw (as
        scipy's `PchipInterpolator(...).c`, highest power first, in powers of t - knot); None for a single
        waypoint. Computed by `engine.scenario.pchip` (bit-identical to scipy, without its 0.25 s import)."""
        if len(self.points) < 2:
            return None
        t = self.times
        return (t, pchip_coefficients(t, self.key_xy[:, 0]), pchip_coefficients(t, self.key_xy[:, 1]),
                pchip_coefficients(t, self.key_yaw_unwrapped))

    def sample(self, t: float | Sequence[float] | NDArray[Any]) -> TrajectorySample:
        """Poses and velocities at times t; returns (N,) arrays (N=1 for a scalar t).

        Outside the key time range the first / last pose is held with zero velocity.
        """
        t_arr = np.atleast_1d(np.asarray(t, dtype=np.float64))
        pieces = self._pieces
        if pieces is None:
            p = self.points[0]
            n = t_arr.shape[0]
            zeros = np.zeros(n)
            return TrajectorySample(np.full(n, p.x), np.full(n, p.y), np.full(n, p.yaw), zeros, zeros.copy())
        knots = pieces[0]
        tc = np.clip(t_arr, knots[0], knots[-1])
        # interval i with knot[i] <= t < knot[i + 1]; the last one closed on the right (as scipy's PPoly)
        idx = np.clip(np.searchsorted(knots, tc, side="right") - 1, 0, knots.shape[0] - 2)
        s: NDArray[np.float64] = tc - knots[idx]
        s2: NDArray[np.float64] = s * s
        s3: NDArray[np.float64] = s2 * s
        inside = (t_arr >= knots[0]) & (t_arr <= knots[-1])
        x, y, yaw = (_piece_value(pieces[1 + ch][:, idx], s, s2, s3) for ch in range(3))
        vx, vy = (np.where(inside, _piece_slope(pieces[1 + ch][:, idx], s, s2), 0.0) for ch in range(2))
        return TrajectorySample(x, y, yaw, vx, vy)

    def pose_at(self, t: float) -> tuple[float, float, float]:
        """(x, y, yaw) at one time, yaw wrapped to [-pi, pi)."""
        s = self.sample(t)
        return float(s.x[0]), float(s.y[0]), float(wrap_angle(s.yaw[0]))

    def speed_at(self, t: float) -> float:
        """Ground speed (m/s) at one time."""
        return float(self.sample(t).speed[0])

    def kinematics(self, times: NDArray[Any]) -> dict[str, NDArray[np.float64]]:
        """Derived quantities on a time grid (N,) by finite differences of the sampled motion.

        Returns (N,) arrays: speed (m/s), accel (m/s^2, along the path), jerk (m/s^3),
        yaw_rate (rad/s), curvature (1/m, zero below 0.5 m/s) and lat_accel (m/s^2).
        """
        times = np.asarray(times, dtype=np.float64)
        s = self.sample(times)
        speed = s.speed
        if times.shape[0] < 2:
            z = np.zeros_like(times)
            return {"speed": speed, "accel": z, "jerk": z, "yaw_rate": z, "curvature": z, "lat_accel": z}
        accel = np.gradient(speed, times)
        jerk = np.gradient(accel, times)
        yaw_rate = np.gradient(s.yaw, times)
        with np.errstate(divide="ignore", invalid="ignore"):
            curvature = np.where(speed > 0.5, yaw_rate / np.maximum(speed, 1e-9), 0.0)
        return {
            "speed": speed,
            "accel": accel,
            "jerk": jerk,
            "yaw_rate": yaw_rate,
            "curvature": curvature,
            "lat_accel": speed * yaw_rate,
        }

    # ---- editing helpers (return new trajectories) --------------------------------
    def with_point(self, index: int, point: Waypoint) -> "Trajectory":
        pts = list(self.points)
        pts[index] = point
        return Trajectory(tuple(pts))

    def translated(self, dx: float, dy: float) -> "Trajectory":
        return Trajectory(tuple(Waypoint(p.t, p.x + dx, p.y + dy, p.yaw, p.v) for p in self.points))


def sample_many(trajectories: Sequence[Trajectory], times: NDArray[Any]) -> TrajectorySample:
    """Every trajectory sampled at the same times: a TrajectorySample of (A, T) arrays.

    Equal, bit for bit, to stacking `Trajectory.sample(times)` row by row: the rows share one gather of
    the cached PCHIP polynomial pieces and one evaluation, in the order scipy's `PPoly` evaluates a
    piece (the power sum c3 + c2 s + c1 s^2 + c0 s^3 with s = t - knot, and its derivative), instead
    of six interpolant calls per trajectory.
    """
    t = np.atleast_1d(np.asarray(times, dtype=np.float64))
    A, T = len(trajectories), t.shape[0]
    x, y, yaw, vx, vy = (np.zeros((A, T)) for _ in range(5))
    rows: list[int] = []
    knots: list[NDArray[np.float64]] = []
    coefs: list[list[NDArray[np.float64]]] = [[], [], []]
    for i, tr in enumerate(trajectories):
        pieces = tr._pieces
        if pieces is None:
            p = tr.points[0]
            x[i], y[i], yaw[i] = p.x, p.y, p.yaw
            continue
        rows.append(i)
        knots.append(pieces[0])
        for ch in range(3):
            coefs[ch].append(pieces[1 + ch])
    if not rows:
        return TrajectorySample(x, y, yaw, vx, vy)
    r = np.asarray(rows, dtype=np.intp)
    n_int = np.array([k.shape[0] - 1 for k in knots], dtype=np.intp)       # intervals per row
    first = np.concatenate([[0], np.cumsum(n_int)[:-1]])                    # first interval of each row
    start = np.array([k[0] for k in knots])
    end = np.array([k[-1] for k in knots])
    tc = np.clip(t[None, :], start[:, None], end[:, None])                 # (R, T)
    # interval i with knot[i] <= t < knot[i + 1]; the last one closed on the right (as scipy's search)
    idx = np.empty(tc.shape, dtype=np.intp)
    for q, k in enumerate(knots):
        idx[q] = np.searchsorted(k, tc[q], side="right") - 1
    np.clip(idx, 0, (n_int - 1)[:, None], out=idx)
    flat = first[:, None] + idx                                             # (R, T) interval in the stacks
    left = np.concatenate([k[:-1] for k in knots])[flat]
    s = tc - left
    s2 = s * s
    s3 = s2 * s
    inside = (t[None, :] >= start[:, None]) & (t[None, :] <= end[:, None])
    values = []
    for ch in range(3):
        c = np.concatenate(coefs[ch], axis=1)[:, flat]                      # (4, R, T)
        if ch < 2:
            (vx if ch == 0 else vy)[r] = np.where(inside, _piece_slope(c, s, s2), 0.0)
        values.append(_piece_value(c, s, s2, s3))
    x[r], y[r], yaw[r] = values
    return TrajectorySample(x, y, yaw, vx, vy)


def _piece_value(c: NDArray[np.float64], s: NDArray[np.float64], s2: NDArray[np.float64],
                 s3: NDArray[np.float64]) -> NDArray[np.float64]:
    """Cubic pieces c (4, ...) (highest power first) at offsets s = t - knot, s2 = s * s, s3 = s2 * s, in the
    order scipy's `PPoly` sums them (c3 + c2 s + c1 s^2 + c0 s^3), so the values are bit-identical."""
    out: NDArray[np.float64] = (((0.0 + c[3]) + c[2] * s) + c[1] * s2) + c[0] * s3
    return out


def _piece_slope(c: NDArray[np.float64], s: NDArray[np.float64], s2: NDArray[np.float64]) -> NDArray[np.float64]:
    """The derivative of `_piece_value` in t, in scipy's order (c2 + 2 c1 s + 3 c0 s^2)."""
    out: NDArray[np.float64] = ((0.0 + c[2]) + (c[1] * s) * 2.0) + (c[0] * s2) * 3.0
    return out
