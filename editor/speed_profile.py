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
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from numpy.typing import NDArray

from engine.scenario.trajectory import Trajectory, Waypoint

MIN_SPEED = 0.1          # m/s used for a moving segment whose two speeds are both ~0
STANDING_SEGMENT = 1e-3  # metres: shorter segments keep their duration
SAMPLES_PER_SEGMENT = 16
MAX_STEP = 0.25          # seconds: longer segments get intermediate waypoints


def segment_lengths(traj: Trajectory, samples: int = SAMPLES_PER_SEGMENT) -> NDArray[np.float64]:
    """(N-1,) arc length in metres of the sampled path between consecutive waypoints."""
    n = len(traj.points)
    if n < 2:
        return np.zeros(0)
    t = traj.times
    u = np.linspace(0.0, 1.0, samples + 1)
    grid = (t[:-1, None] + (t[1:] - t[:-1])[:, None] * u[None, :])  # (N-1, S+1)
    s = traj.sample(grid.ravel())
    xy = s.xy.reshape(n - 1, samples + 1, 2)
    lengths: NDArray[np.float64] = np.hypot(*np.diff(xy, axis=1).transpose(2, 0, 1)).sum(axis=1)
    return lengths


def waypoint_speeds(traj: Trajectory) -> NDArray[np.float64]:
    """(N,) speed in m/s at each waypoint: its stored `v`, else the speed of the interpolated motion."""
    derived = traj.sample(traj.times).speed
    return np.array([p.v if p.v is not None else float(derived[i]) for i, p in enumerate(traj.points)])


def _path_samples(traj: Trajectory, samples: int = SAMPLES_PER_SEGMENT) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Dense samples of the path: cumulative arc length (M,), positions (M, 2), unwrapped yaw (M,)."""
    t = traj.times
    u = np.linspace(0.0, 1.0, samples + 1)[:-1]
    grid = np.concatenate([(t[:-1, None] + (t[1:] - t[:-1])[:, None] * u[None, :]).ravel(), t[-1:]])
    s = traj.sample(grid)
    xy = s.xy
    arc = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
    return arc, xy, s.yaw


def retimed(traj: Trajectory, speeds: Sequence[float] | NDArray[np.float64], min_speed: float = MIN_SPEED,
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
        raise ValueError(f"waypoint {bad[0] + 1}: speed must be a finite number >= 0, got {speeds[bad[0]]}")
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


def scaled_speed(traj: Trajectory, factor: float) -> Trajectory:
    """Every speed multiplied by `factor` (> 0): times stretched by 1 / factor about the first waypoint."""
    if not (math.isfinite(factor) and factor > 0):
        raise ValueError(f"speed factor must be a positive number, got {factor}")
    t0 = traj.start_time
    return Trajectory(tuple(
        Waypoint(t0 + (p.t - t0) / factor, p.x, p.y, p.yaw, None if p.v is None else p.v * factor)
        for p in traj.points))


# ---- speed drags within the class's limits and the clip's time range ---------------------------

LIMIT_MARGIN = 0.9   # a drag stops at 90 % of a limit
LIMITED_QUANTITIES = ("speed", "acceleration", "deceleration", "jerk", "lateral acceleration")


def truncated(traj: Trajectory, t_end: float) -> Trajectory:
    """The trajectory cut at time `t_end` (an interpolated last waypoint there); unchanged when it ends
    before. Keeps a retimed (slower) trajectory inside the clip's time range instead of running past it."""
    if traj.end_time <= t_end + 1e-9 or len(traj.points) < 2:
        return traj
    keep = [p for p in traj.points if p.t < t_end - 1e-3]
    if not keep:
        keep = [traj.points[0]]
    s = traj.sample(t_end)
    last = Waypoint(float(t_end), float(s.x[0]), float(s.y[0]), float(s.yaw[0]), round(float(s.speed[0]), 6))
    return Trajectory(tuple(keep) + (last,))


def limit_ratios(traj: Trajectory, cls: str, fps: float) -> dict[str, float]:
    """Each limited quantity's worst value over the class limit (1.0 = at the limit), sampled at `fps`.

    Uses `Trajectory.kinematics` as `engine.library.limits.kinematic_violations` does (slack included).
    """
    from engine.library.limits import NUMERIC_SLACK, limits_for

    lim = limits_for(cls)
    out = {q: 0.0 for q in LIMITED_QUANTITIES}
    if len(traj.points) < 2 or lim.max_speed <= 0:
        return out
    # the scenario's frame times inside the trajectory (what the checks sample), plus its ends
    frames = np.arange(math.ceil(traj.start_time * fps - 1e-9), math.floor(traj.end_time * fps + 1e-9) + 1) / fps
    times = np.unique(np.concatenate([[traj.start_time], frames, [traj.end_time]]))
    if len(times) < 3:
        times = np.linspace(traj.start_time, traj.end_time, 3)
    k = traj.kinematics(times)
    moving = k["speed"] > 1.0
    vals = {
        "speed": (float(np.max(k["speed"])), lim.max_speed + 0.05),
        "acceleration": (float(np.max(k["accel"])), lim.max_accel * NUMERIC_SLACK),
        "deceleration": (float(np.max(-k["accel"])), lim.max_decel * NUMERIC_SLACK),
        "jerk": (float(np.max(np.abs(k["jerk"]))), lim.max_jerk * NUMERIC_SLACK),
        "lateral acceleration": (float(np.max(np.where(moving, np.abs(k["lat_accel"]), 0.0))),
                                 lim.max_lat_accel * NUMERIC_SLACK),
    }
    for q, (v, limit) in vals.items():
        out[q] = v / limit if limit > 0 else 0.0
    return out


def retimed_in_clip(traj: Trajectory, speeds: Sequence[float] | NDArray[np.float64], t_end: float | None) -> Trajectory:
    """`retimed`, then cut at `t_end` (None: not cut)."""
    out = retimed(traj, speeds)
    return out if t_end is None else truncated(out, t_end)


@dataclass(frozen=True)
class SpeedBounds:
    """The speeds (m/s) waypoint `index` may take while the others keep theirs.

    lo / hi: the range; lo_reason / hi_reason: what stops it there (``deceleration``, ``jerk``,
    ``clip end`` ...; empty when nothing but 0 m/s or `v_cap` does).
    """

    index: int
    lo: float
    hi: float
    lo_reason: str = ""
    hi_reason: str = ""

    def clamp(self, v: float) -> tuple[float, str]:
        """(the speed within bounds, the reason when it was limited else '')."""
        if v > self.hi:
            return self.hi, self.hi_reason
        if v < self.lo:
            return self.lo, self.lo_reason
        return v, ""


def speed_bounds(traj: Trajectory, cls: str, index: int, fps: float, t_end: float | None = None,
                 v_cap: float | None = None, iterations: int = 12) -> SpeedBounds:
    """How far the speed at waypoint `index` can be dragged within the class's kinematic limits.

    A speed is allowed when no limited quantity of the retimed (and, with `t_end`, cut) trajectory
    goes above max(`LIMIT_MARGIN` x its limit, its value now) — a trajectory already over a limit may
    be edited but not made worse — and, with `t_end`, waypoint `index` is still reached by `t_end`.
    Found by bisection between the current speed and 0 / `v_cap` (default: the class's top speed);
    the reasons name what is violated just beyond each bound.
    """
    from engine.library.limits import limits_for

    n = len(traj.points)
    if not 0 <= index < n:
        raise ValueError(f"waypoint {index + 1} does not exist (the trajectory has {n})")
    speeds = waypoint_speeds(traj)
    v0 = float(speeds[index])
    lim = limits_for(cls)
    cap = float(v_cap if v_cap is not None else max(lim.max_speed, v0))
    # the motion as retiming gives it now (retiming smooths a little differently from the stored timing)
    try:
        now = retimed_in_clip(traj, speeds, t_end)
    except ValueError:
        now = traj
    base = limit_ratios(now, cls, fps)
    # a margin below each limit: finite differences on another time grid read a little higher
    allowed = {q: max(LIMIT_MARGIN, r + 1e-6) for q, r in base.items()}

    def problem(v: float) -> str:
        s = speeds.copy()
        s[index] = v
        try:
            out = retimed(traj, s)
        except ValueError:
            return "invalid"
        if t_end is not None:
            # where waypoint `index` went (intermediate waypoints may have been inserted before it)
            t_i = _time_of_original(traj, out, index)
            if t_i > t_end + 1e-6:
                return "clip end"
            out = truncated(out, t_end)
        r = limit_ratios(out, cls, fps)
        for q in LIMITED_QUANTITIES:
            if r[q] > allowed[q]:
                return q
        return ""

    def search(target: float) -> tuple[float, str]:
        reason = problem(target)
        if not reason:
            return target, ""
        good, bad = v0, target
        for _ in range(iterations):
            mid = 0.5 * (good + bad)
            why = problem(mid)
            if why:
                bad, reason = mid, why
            else:
                good = mid
        return good, reason

    if problem(v0):  # the current state itself is out of the clip: do not block the edit
        return SpeedBounds(index, 0.0, cap)
    hi, hi_reason = search(cap)
    lo, lo_reason = search(0.0)
    return SpeedBounds(index, lo, hi, lo_reason, hi_reason)


def _time_of_original(before: Trajectory, after: Trajectory, index: int) -> float:
    """The time in `after` (a `retimed` `before`) of the waypoint that was `before.points[index]`."""
    p = before.points[index]
    for q in after.points:
        if q.x == p.x and q.y == p.y and q.yaw == p.yaw:
            return float(q.t)
    return float(after.end_time)
