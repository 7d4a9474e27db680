"""Speed profiles: the speed at each waypoint, and retiming a trajectory to follow new speeds.

The path stays where it is; the waypoint times change. Between two waypoints the agent changes
speed linearly in time, so a segment of arc length ds between speeds v0 and v1 takes
ds / ((v0 + v1) / 2) seconds. The first waypoint keeps its time.

Trajectories are interpolated with PCHIP through their waypoints, which smooths the speed at a
waypoint towards the mean of its two segments. So that the motion really follows the profile (a
point dragged to 0 m/s makes the agent nearly stop there), segments longer than `max_step`
seconds get intermediate waypoints on the same path, timed by the same linear speed ramp.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from engine.scenario.trajectory import Trajectory, Waypoint

MIN_SPEED = 0.1          # m/s used for a moving segment whose two speeds are both ~0
STANDING_SEGMENT = 1e-3  # metres: shorter segments keep their duration
SAMPLES_PER_SEGMENT = 16
MAX_STEP = 0.25          # seconds: longer segments get intermediate waypoints


def segment_lengths(traj: Trajectory, samples: int = SAMPLES_PER_SEGMENT) -> np.ndarray:
    """(N-1,) arc length in metres of the sampled path between consecutive waypoints."""
    n = len(traj.points)
    if n < 2:
        return np.zeros(0)
    t = traj.times
    u = np.linspace(0.0, 1.0, samples + 1)
    grid = (t[:-1, None] + (t[1:] - t[:-1])[:, None] * u[None, :])  # (N-1, S+1)
    s = traj.sample(grid.ravel())
    xy = s.xy.reshape(n - 1, samples + 1, 2)
    return np.hypot(*np.diff(xy, axis=1).transpose(2, 0, 1)).sum(axis=1)


def waypoint_speeds(traj: Trajectory) -> np.ndarray:
    """(N,) speed in m/s at each waypoint: its stored `v`, else the speed of the interpolated motion."""
    derived = traj.sample(traj.times).speed
    return np.array([p.v if p.v is not None else float(derived[i]) for i, p in enumerate(traj.points)])


def _path_samples(traj: Trajectory, samples: int = SAMPLES_PER_SEGMENT) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dense samples of the path: cumulative arc length (M,), positions (M, 2), unwrapped yaw (M,)."""
    t = traj.times
    u = np.linspace(0.0, 1.0, samples + 1)[:-1]
    grid = np.concatenate([(t[:-1, None] + (t[1:] - t[:-1])[:, None] * u[None, :]).ravel(), t[-1:]])
    s = traj.sample(grid)
    xy = s.xy
    arc = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
    return arc, xy, s.yaw


def retimed(traj: Trajectory, speeds: Sequence[float] | np.ndarray, min_speed: float = MIN_SPEED,
            max_step: float | None = MAX_STEP) -> Trajectory:
    """The trajectory timed so the agent moves at `speeds` (N,) m/s at the waypoints.

    With `max_step`, segments lasting longer get intermediate waypoints (on the same path, at the
    positions the linear speed ramp reaches at evenly spaced times). Raises ValueError when the
    number of speeds is wrong or one is negative or not finite.
    """
    speeds = np.asarray(speeds, dtype=np.float64).reshape(-1)
    n = len(traj.points)
    if speeds.shape[0] != n:
        raise ValueError(f"expected {n} speeds (one per waypoint), got {speeds.shape[0]}")
    bad = [i for i, v in enumerate(speeds) if not (math.isfinite(v) and v >= 0)]
    if bad:
        raise ValueError(f"waypoint {bad[0]}: speed must be a finite number >= 0, got {speeds[bad[0]]}")
    if n == 1:
        p = traj.points[0]
        return Trajectory((Waypoint(p.t, p.x, p.y, p.yaw, float(speeds[0])),))
    ds = segment_lengths(traj)
    old_dt = np.diff(traj.times)
    vbar = np.maximum((speeds[:-1] + speeds[1:]) / 2.0, min_speed)
    standing = ds < STANDING_SEGMENT
    dt = np.where(standing, old_dt, ds / vbar)
    times = traj.times[0] + np.concatenate([[0.0], np.cumsum(dt)])
    if max_step is None or not np.any((dt > max_step * (1 + 1e-9)) & ~standing):
        return Trajectory(tuple(Waypoint(float(times[i]), p.x, p.y, p.yaw, round(float(speeds[i]), 6))
                                for i, p in enumerate(traj.points)))
    arc, xy, yaw = _path_samples(traj)
    key_arc = np.concatenate([[0.0], np.cumsum(segment_lengths(traj))])
    pts: list[Waypoint] = []
    for i, p in enumerate(traj.points):
        pts.append(Waypoint(float(times[i]), p.x, p.y, p.yaw, round(float(speeds[i]), 6)))
        if i == n - 1 or standing[i] or dt[i] <= max_step * (1 + 1e-9):
            continue
        k = int(math.ceil(dt[i] / max_step))
        v0, v1 = speeds[i], speeds[i + 1]
        uniform = (v0 + v1) / 2.0 < min_speed
        for j in range(1, k):
            tau = dt[i] * j / k
            if uniform:
                d, v = ds[i] * j / k, ds[i] / dt[i]
            else:
                acc = (v1 - v0) / dt[i]
                d, v = v0 * tau + 0.5 * acc * tau * tau, v0 + acc * tau
            a = key_arc[i] + min(max(d, 0.0), ds[i])
            x = float(np.interp(a, arc, xy[:, 0]))
            y = float(np.interp(a, arc, xy[:, 1]))
            h = float(np.interp(a, arc, yaw))
            pts.append(Waypoint(float(times[i] + tau), round(x, 6), round(y, 6), round(h, 7), round(float(v), 6)))
    return Trajectory(tuple(pts))


def with_speed_at(traj: Trajectory, index: int, speed: float) -> Trajectory:
    """Retimed so the agent has `speed` m/s at waypoint `index`; the other waypoints keep their speeds."""
    n = len(traj.points)
    if not -n <= index < n:
        raise ValueError(f"waypoint {index} does not exist (the trajectory has {n})")
    v = waypoint_speeds(traj)
    v[index % n] = speed
    return retimed(traj, v)


def scaled_speed(traj: Trajectory, factor: float) -> Trajectory:
    """Every speed multiplied by `factor` (> 0): times stretched by 1 / factor about the first waypoint."""
    if not (math.isfinite(factor) and factor > 0):
        raise ValueError(f"speed factor must be a positive number, got {factor}")
    t0 = traj.start_time
    return Trajectory(tuple(
        Waypoint(t0 + (p.t - t0) / factor, p.x, p.y, p.yaw, None if p.v is None else p.v * factor)
        for p in traj.points))
