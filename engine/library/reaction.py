"""A reacting ego: car following (IDM), emergency braking below a TTC threshold, lane keeping.

The ego keeps the path it was authored on (lane keeping: same geometry, only the speed along it
changes) and its authored speed as the desired speed. At each step (1/(4 fps) s) it looks for the
nearest agent ahead whose footprint overlaps its corridor, accelerates by the Intelligent Driver
Model (Treiber, Hennecke & Helbing 2000)

    a = a_max [1 - (v / v_des)^4 - (s*(v, dv) / gap)^2],  s* = s0 + v T + v dv / (2 sqrt(a_max b))

and brakes at `aeb_decel` as soon as the time to collision with that agent falls below
`aeb_ttc`. Acceleration changes at most at the class's jerk limit; the result stays within the
car limits. Other agents are not changed (their motion was authored as the threat).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from engine.library.limits import limits_for
from engine.roadmap.connectors import Path
from engine.scenario.trajectory import Trajectory


@dataclass(frozen=True)
class ReactionParams:
    """IDM and AEB parameters (SI units)."""

    time_headway: float = 1.5        # T, s
    min_gap: float = 2.0             # s0, m
    max_accel: float = 1.5           # a_max, m/s^2
    comfort_decel: float = 2.5       # b, m/s^2
    aeb_ttc: float = 1.5             # s
    aeb_decel: float = 8.0           # m/s^2
    corridor_margin: float = 0.3     # m added to half the widths when deciding who is "ahead in the lane"


@dataclass(frozen=True)
class Reaction:
    """The reacting ego's trajectory and what it did: when AEB first fired (None if never), the
    agent it reacted to most strongly."""

    trajectory: Trajectory
    aeb_at: float | None
    reacted_to: str | None
    min_accel: float


def _path_of(traj: Trajectory, times: NDArray[np.float64], extend: float = 400.0) -> tuple[Path, NDArray[np.float64]]:
    """The authored path (extended straight at both ends) and the arc length at each frame time."""
    smp = traj.sample(times)
    xy = smp.xy
    h0, h1 = float(smp.yaw[0]), float(smp.yaw[-1])
    pre = xy[0] - extend * np.array([math.cos(h0), math.sin(h0)])
    post = xy[-1] + extend * np.array([math.cos(h1), math.sin(h1)])
    pts = np.vstack([pre, xy, post])
    keep = np.concatenate([[True], np.hypot(*np.diff(pts, axis=0).T) > 1e-6])
    pts = pts[keep]
    path = Path(pts)
    seg = np.hypot(*np.diff(pts, axis=0).T)
    s_pts = np.concatenate([[0.0], np.cumsum(seg)])
    # arc length of each authored frame position: those are among the kept points after `pre`
    d = np.hypot(*(pts[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    s_frames = s_pts[np.argmin(d, axis=0)]
    return path, s_frames


def simulate_reaction(ego: Trajectory, ego_size: tuple[float, float, float],
                      others: list[tuple[str, Trajectory, tuple[float, float, float]]],
                      times: NDArray[np.float64], params: ReactionParams = ReactionParams(), cls: str = "car") -> Reaction:
    """The ego driving its authored path with IDM + AEB against `others` [(id, trajectory, size)]."""
    lim = limits_for(cls)
    times = np.asarray(times, dtype=np.float64)
    path, s_auth = _path_of(ego, times)
    v_auth = ego.sample(times).speed
    dt_frame = float(times[1] - times[0]) if len(times) > 1 else 0.1
    sub = 4
    dt = dt_frame / sub
    s, v, a = float(s_auth[0]), float(v_auth[0]), 0.0
    out_s = [s]
    aeb_at: float | None = None
    reacted: str | None = None
    worst, min_a = 0.0, 0.0
    half_len = ego_size[1] / 2
    samples = {oid: tr.sample(times) for oid, tr, _ in others}
    for k in range(1, len(times)):
        t_prev = times[k - 1]
        for j in range(sub):
            t = t_prev + j * dt
            fi = min(k - 1 + (1 if j >= sub // 2 else 0), len(times) - 1)
            px, py, ph = path.pose(np.array([s]))
            x, y, h = float(px[0]), float(py[0]), float(ph[0])
            hx, hy = math.cos(h), math.sin(h)
            gap, dv = math.inf, 0.0
            lead: str | None = None
            for oid, _tr, size in others:
                smp = samples[oid]
                ox, oy = float(np.interp(t, times, smp.x)), float(np.interp(t, times, smp.y))
                ovx, ovy = float(np.interp(t, times, smp.vx)), float(np.interp(t, times, smp.vy))
                along = (ox - x) * hx + (oy - y) * hy
                across = -(ox - x) * hy + (oy - y) * hx
                oyaw = float(np.interp(t, times, smp.yaw))
                o_half_w = 0.5 * (abs(size[0] * math.cos(oyaw - h)) + abs(size[1] * math.sin(oyaw - h)))
                o_half_l = 0.5 * (abs(size[1] * math.cos(oyaw - h)) + abs(size[0] * math.sin(oyaw - h)))
                if along <= 0 or abs(across) > ego_size[0] / 2 + o_half_w + params.corridor_margin:
                    continue
                g = along - half_len - o_half_l
                if g < gap:
                    gap, dv, lead = g, v - (ovx * hx + ovy * hy), oid
            v_des = max(float(v_auth[fi]), 0.1)
            acc = params.max_accel * (1 - (v / v_des) ** 4)
            if lead is not None:
                s_star = params.min_gap + max(v * params.time_headway + v * dv / (2 * math.sqrt(
                    params.max_accel * params.comfort_decel)), 0.0)
                acc -= params.max_accel * (s_star / max(gap, 0.05)) ** 2
                ttc = gap / dv if dv > 1e-6 else math.inf
                if ttc < params.aeb_ttc or gap <= 0.05:
                    acc = -params.aeb_decel
                    if aeb_at is None:
                        aeb_at = float(t)
                if acc < worst:
                    worst, reacted = acc, lead
            acc = float(np.clip(acc, -min(params.aeb_decel, lim.max_decel * 0.95), lim.max_accel * 0.95))
            if acc < 0:                      # ease off the brake when coming to a standstill (no jerk spike at v=0)
                acc = max(acc, -math.sqrt(2.0 * lim.max_jerk * 0.8 * max(v, 0.0)))
            jmax = lim.max_jerk * 0.9 * dt
            a = float(np.clip(acc, a - jmax, a + jmax))
            if v <= 0.0 and a < 0:
                a = 0.0
            v_new = max(v + a * dt, 0.0)
            s += 0.5 * (v + v_new) * dt
            v = v_new
            min_a = min(min_a, a)
        out_s.append(s)
    s_arr = np.asarray(out_s)
    xs, ys, hs = path.pose(s_arr)
    speed = np.concatenate([[v_auth[0]], np.diff(s_arr) / np.diff(times)]) if len(times) > 1 else v_auth
    traj = Trajectory.from_arrays(np.round(times, 6), np.round(xs, 4), np.round(ys, 4), np.round(hs, 5),
                                  np.round(np.maximum(speed, 0.0), 4))
    return Reaction(traj, aeb_at, reacted, float(min_a))
