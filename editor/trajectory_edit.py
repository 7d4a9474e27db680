"""Pure edits of a trajectory: move / insert / delete / append waypoints, rotate, re-head along the path.

Every function returns a new `Trajectory` (trajectories are immutable) and raises `ValueError`
with a message naming the waypoint when an edit is impossible. Indices are 0-based in code;
messages number waypoints from 1, as the waypoint table does. Frame: the scenario's world frame,
metres, seconds, radians, yaw counter-clockwise from +x.
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np

from engine.geometry import wrap_angle
from engine.scenario.trajectory import Trajectory, Waypoint

MIN_TIME_GAP = 1e-3     # seconds between two waypoints
MIN_HEADING_STEP = 0.05  # metres: shorter displacements keep the stored yaw


def _check_index(traj: Trajectory, index: int) -> int:
    n = len(traj.points)
    if not -n <= index < n:
        raise ValueError(f"waypoint {index + 1 if index >= 0 else index} does not exist (the trajectory has {n}; numbered from 1)")
    return index % n


def _near(yaw_ref: float, yaw: float) -> float:
    """`yaw` shifted by a multiple of 2 pi to lie within pi of `yaw_ref` (keeps yaw continuous)."""
    return yaw_ref + float(wrap_angle(yaw - yaw_ref))


def reheaded(traj: Trajectory, indices: Iterable[int] | None = None, min_step: float = MIN_HEADING_STEP) -> Trajectory:
    """Set the yaw of the given waypoints (all when None) to the direction of travel along the path.

    The direction at waypoint i is the chord from its previous to its next neighbour (one-sided at
    the ends). Waypoints whose neighbours are closer than `min_step` (standing still) keep their yaw.
    """
    pts = list(traj.points)
    n = len(pts)
    if n < 2:
        return traj
    xy = traj.key_xy
    idx = range(n) if indices is None else sorted({i % n for i in indices})
    for i in idx:
        a, b = xy[max(i - 1, 0)], xy[min(i + 1, n - 1)]
        d = b - a
        if math.hypot(d[0], d[1]) < min_step:
            continue
        p = pts[i]
        pts[i] = Waypoint(p.t, p.x, p.y, _near(p.yaw, math.atan2(d[1], d[0])), p.v)
    return Trajectory(tuple(pts))


def is_static(traj: Trajectory, tol: float = 1e-6) -> bool:
    """True when every waypoint is at the same place (a parked object)."""
    xy = traj.key_xy
    return bool(np.all(np.abs(xy - xy[0]) <= tol))


def move_waypoint(traj: Trajectory, index: int, x: float, y: float, reorient: bool = True) -> Trajectory:
    """Waypoint `index` moved to (x, y); with `reorient`, it and its neighbours face along the new path."""
    i = _check_index(traj, index)
    p = traj.points[i]
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError(f"waypoint {i + 1}: position must be finite, got ({x}, {y})")
    out = traj.with_point(i, Waypoint(p.t, float(x), float(y), p.yaw, p.v))
    if reorient and len(out.points) > 1:
        out = reheaded(out, [i - 1, i, i + 1] if 0 < i < len(out.points) - 1 else [i, i + (1 if i == 0 else -1)])
    return out


def insert_waypoint(traj: Trajectory, point: Waypoint) -> tuple[Trajectory, int]:
    """`point` inserted in time order; returns the new trajectory and its index.

    Raises ValueError when another waypoint lies within `MIN_TIME_GAP` of its time.
    """
    times = traj.times
    if np.any(np.abs(times - point.t) < MIN_TIME_GAP):
        raise ValueError(f"a waypoint at t = {point.t:.3f} s exists already")
    i = int(np.searchsorted(times, point.t))
    pts = list(traj.points)
    pts.insert(i, point)
    return Trajectory(tuple(pts)), i


def delete_waypoint(traj: Trajectory, index: int) -> Trajectory:
    """The trajectory without waypoint `index`; the last remaining waypoint cannot be deleted."""
    i = _check_index(traj, index)
    if len(traj.points) == 1:
        raise ValueError("cannot delete the only waypoint of a trajectory (delete the agent instead)")
    pts = list(traj.points)
    del pts[i]
    return Trajectory(tuple(pts))


def split_point(traj: Trajectory, t: float) -> Waypoint:
    """The interpolated waypoint at time t (inside the key time range), with its speed."""
    s = traj.sample(t)
    return Waypoint(float(t), float(s.x[0]), float(s.y[0]), float(s.yaw[0]), round(float(s.speed[0]), 4))


def nearest_time_on_path(traj: Trajectory, x: float, y: float, step: float = 0.02) -> tuple[float, float]:
    """The time whose position on the path is closest to (x, y), and that distance in metres."""
    if len(traj.points) < 2:
        return traj.start_time, float(math.hypot(x - traj.points[0].x, y - traj.points[0].y))
    n = max(2, int(math.ceil((traj.end_time - traj.start_time) / step)) + 1)
    ts = np.linspace(traj.start_time, traj.end_time, n)
    s = traj.sample(ts)
    d = np.hypot(s.x - x, s.y - y)
    i = int(np.argmin(d))
    return float(ts[i]), float(d[i])


def append_waypoint(traj: Trajectory, x: float, y: float, speed: float) -> Trajectory:
    """A waypoint at (x, y) added after the last one, reached at `speed` m/s (> 0).

    Its time is the last time plus distance / speed; the new point and the one before face along
    the new segment.
    """
    if not speed > 0:
        raise ValueError(f"the speed to reach a new waypoint must be positive, got {speed}")
    last = traj.points[-1]
    dist = math.hypot(x - last.x, y - last.y)
    if dist < MIN_HEADING_STEP:
        raise ValueError("the new waypoint is on the last one; click further away")
    dt = max(dist / speed, MIN_TIME_GAP * 10)
    if not math.isfinite(last.t + dt):
        raise ValueError(f"a speed of {speed:g} m/s never reaches the new waypoint {dist:.1f} m away")
    heading = _near(last.yaw, math.atan2(y - last.y, x - last.x))
    pts = list(traj.points)
    if len(pts) == 1 or is_static(traj):
        pts = [Waypoint(p.t, p.x, p.y, heading, speed) for p in pts]
    else:
        pts[-1] = Waypoint(last.t, last.x, last.y, last.yaw, last.v if last.v is not None else speed)
    pts.append(Waypoint(last.t + dt, float(x), float(y), heading, speed))
    out = Trajectory(tuple(pts))
    return reheaded(out, [len(pts) - 2]) if len(pts) > 2 else out


def rotated(traj: Trajectory, angle: float, pivot: Sequence[float]) -> Trajectory:
    """The whole trajectory rotated by `angle` rad (CCW) about `pivot` (x, y); yaws turn with it."""
    c, s = math.cos(angle), math.sin(angle)
    px, py = float(pivot[0]), float(pivot[1])
    out = []
    for p in traj.points:
        dx, dy = p.x - px, p.y - py
        out.append(Waypoint(p.t, px + c * dx - s * dy, py + s * dx + c * dy, p.yaw + angle, p.v))
    return Trajectory(tuple(out))


def set_waypoint_fields(traj: Trajectory, index: int, **fields: float | None) -> Trajectory:
    """Waypoint `index` with some of t, x, y, yaw, v replaced (from the waypoint table).

    Times must stay strictly between the neighbours' times; raises ValueError naming the waypoint.
    """
    i = _check_index(traj, index)
    p = traj.points[i]
    unknown = set(fields) - {"t", "x", "y", "yaw", "v"}
    if unknown:
        raise ValueError(f"unknown waypoint field(s): {', '.join(sorted(unknown))}")
    vals = {"t": p.t, "x": p.x, "y": p.y, "yaw": p.yaw, "v": p.v}
    vals.update(fields)
    num: dict[str, float] = {}
    for k in ("t", "x", "y", "yaw"):
        val = vals[k]
        if val is None or not math.isfinite(float(val)):
            raise ValueError(f"waypoint {i + 1}: {k} must be a finite number")
        num[k] = float(val)
    v = vals["v"]
    if v is not None and not (math.isfinite(v) and v >= 0):
        raise ValueError(f"waypoint {i + 1}: v must be a finite speed >= 0")
    t = num["t"]
    if i > 0 and t <= traj.points[i - 1].t + MIN_TIME_GAP / 2:
        raise ValueError(f"waypoint {i + 1}: t = {t:.3f} s must come after waypoint {i} ({traj.points[i - 1].t:.3f} s)")
    if i < len(traj.points) - 1 and t >= traj.points[i + 1].t - MIN_TIME_GAP / 2:
        raise ValueError(f"waypoint {i + 1}: t = {t:.3f} s must come before waypoint {i + 2} ({traj.points[i + 1].t:.3f} s)")
    return traj.with_point(i, Waypoint(t, num["x"], num["y"], num["yaw"], None if v is None else float(v)))

