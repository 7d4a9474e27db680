"""Turn a speed profile plus a geometry (a lane frame with lateral shifts, or a curved path) into a
timed `Trajectory` with one waypoint per frame."""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from numpy.typing import NDArray

from engine.library.profiles import FINE_DT, LateralShift, SpeedProfile, lateral_offset
from engine.roadmap.connectors import Path
from engine.roadmap.layout import LaneFrame
from engine.scenario.trajectory import Trajectory


def _fine_grid(times: NDArray[np.float64]) -> NDArray[np.float64]:
    t_end = float(np.max(times)) if len(times) else 0.0
    return np.arange(0.0, t_end + 2 * FINE_DT, FINE_DT)


def _round_traj(times: NDArray[np.float64], x: NDArray[np.float64], y: NDArray[np.float64], yaw: NDArray[np.float64], v: NDArray[np.float64]) -> Trajectory:
    return Trajectory.from_arrays(np.round(times, 6), np.round(x, 4), np.round(y, 4), np.round(yaw, 5),
                                  np.round(np.maximum(v, 0.0), 4))


def lane_motion(frame: LaneFrame, s0: float, lat0: float, profile: SpeedProfile,
                shifts: Sequence[LateralShift], times: NDArray[np.float64]) -> Trajectory:
    """Drive along a straight lane frame from (s0, lat0), moving sideways by `shifts`.

    The ground speed equals the profile's speed: the sideways speed is taken out of the speed along
    the lane. `times` (T,) are the frame times; the trajectory has one waypoint per time.
    """
    times = np.asarray(times, dtype=np.float64)
    tf = _fine_grid(times)
    v = profile.speed(tf)
    lat, lat_rate = lateral_offset(lat0, shifts, tf)
    s_rate = np.sqrt(np.maximum(v ** 2 - lat_rate ** 2, 0.0))
    s = s0 + np.concatenate([[0.0], np.cumsum(0.5 * (s_rate[1:] + s_rate[:-1]) * FINE_DT)])
    yaw_rel = np.where(v > 1e-6, np.arctan2(lat_rate, np.maximum(s_rate, 1e-9)), 0.0)
    s_t = np.interp(times, tf, s)
    lat_t = np.interp(times, tf, lat)
    xy = frame.to_world(s_t, lat_t)
    yaw = frame.heading + np.interp(times, tf, yaw_rel)
    return _round_traj(times, xy[:, 0], xy[:, 1], yaw, profile.speed(times))


def path_motion(path: Path, s0: float, profile: SpeedProfile, times: NDArray[np.float64]) -> Trajectory:
    """Drive along `path` starting at arc length s0 (may be negative: before the path begins)."""
    times = np.asarray(times, dtype=np.float64)
    s = s0 + profile.distance(times)
    x, y, h = path.pose(s)
    return _round_traj(times, x, y, h, profile.speed(times))


def static_pose(x: float, y: float, yaw: float, times: NDArray[np.float64]) -> Trajectory:
    """A parked object: the same pose at every frame time (keeps the scenario's frame grid)."""
    times = np.asarray(times, dtype=np.float64)
    n = len(times)
    if n == 1:
        return Trajectory.static(round(float(x), 4), round(float(y), 4), round(float(yaw), 5), float(times[0]))
    return _round_traj(times, np.full(n, x), np.full(n, y), np.full(n, yaw), np.zeros(n))


def extrapolated_pose(traj: Trajectory, t: float) -> tuple[NDArray[np.float64], float, float]:
    """((2,) position, heading, speed) at time t; beyond the last waypoint the agent keeps its final
    speed and heading (the trajectory itself holds still there)."""
    t_end = traj.end_time
    tc = min(max(t, traj.start_time), t_end)
    smp = traj.sample(tc)
    xy = smp.xy[0]
    heading = float(smp.yaw[0])
    v = traj.points[-1].v if (t > t_end and traj.points[-1].v is not None) else float(smp.speed[0])
    if t > t_end:
        xy = xy + (t - t_end) * v * np.array([math.cos(heading), math.sin(heading)])
    return xy, heading, float(v)


def delayed_copy(leader: Trajectory, tau: float, d0: float, times: NDArray[np.float64]) -> Trajectory:
    """The leader's own path driven `tau` seconds later and `d0` metres (arc length) further back.

    Before t = 0 the leader is taken to have driven straight at its initial speed. The copy has the
    leader's speed profile shifted by tau, so it keeps a time gap tau plus a standstill distance.
    """
    times = np.asarray(times, dtype=np.float64)
    x0, y0, h0 = leader.pose_at(0.0)
    v0 = leader.speed_at(0.0)
    t_back = tau + d0 / max(v0, 0.1) + 1.0
    tf = np.arange(-t_back, float(times[-1]) + 0.02, 0.01)
    smp = leader.sample(np.maximum(tf, 0.0))
    xy = smp.xy.copy()
    neg = tf < 0
    xy[neg] = np.array([x0, y0]) + (tf[neg] * v0)[:, None] * np.array([math.cos(h0), math.sin(h0)])
    seg = np.hypot(*np.diff(xy, axis=0).T)
    s_lead = np.concatenate([[0.0], np.cumsum(seg)])
    v_lead = np.where(neg, v0, smp.speed)
    if s_lead[-1] < 0.05:                                   # a leader that never moves: stand behind it
        path = Path(np.array([[x0, y0], [x0 + math.cos(h0), y0 + math.sin(h0)]]))
        s_f = np.full_like(times, -d0)
        x, y, h = path.pose(s_f)
        return _round_traj(times, x, y, np.full_like(times, h0), np.zeros_like(times))
    path = Path(xy)            # drops repeated points; its arc lengths are the distinct values of s_lead
    s_f = np.interp(times - tau, tf, s_lead) - d0
    x, y, h = path.pose(s_f)
    v = np.interp(times - tau, tf, v_lead)
    return _round_traj(times, x, y, h, v)


def unit(heading: float) -> NDArray[np.float64]:
    return np.array([math.cos(heading), math.sin(heading)])
