"""Box contacts between any two agents (when, who, where, how fast) and close passes.

A contact is a run of frames where the footprints overlap by more than the contact tolerance. Its
start is refined below the frame step: the pair is sub-sampled between the last clear frame and the
first overlapping one (`SampledScene.poses_at`, Hermite interpolation of the frame samples), and the
constant-velocity TTC from the last clear sub-sample gives the instant of first touch (exact at
constant velocities). Contacts that fall entirely between two frames (a fast agent passing through
a thin one) are found too: every frame step of every close pair is screened with a continuous SAT
on the linear relative motion (boxes grown by what their rotation during the step can move a
corner), and the steps that pass are sub-sampled.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from engine.checks.config import CheckConfig
from engine.checks.findings import Finding, FindingCode, Severity, pair_names
from engine.checks.geometry import box_corners, obb_penetration, overlap_centroids, time_to_overlap
from engine.checks.pairs import PairGrid, max_steps
from engine.checks.sampling import FloatArray, IntArray, Poses, SampledScene, runs_2d

REFINE_STEPS = 16      # sub-samples per frame step when refining a contact start
TUNNEL_STEPS = 8       # sub-samples per frame step when looking for contacts between frames
SWEEP_MARGIN = 0.1     # m added to the boxes when screening frame steps for contacts between frames


@dataclass(frozen=True)
class ContactEvent:
    """One contact between rows a < b: times in s, `where` the centre of the overlap (x, y)."""

    a: int
    b: int
    t_contact: float
    t_end: float
    max_depth: float
    rel_speed: float
    where: tuple[float, float]
    from_start: bool      # already overlapping when the pair first exists
    static: bool          # neither agent moves during the overlap


def _depth_at(scene: SampledScene, a: IntArray, b: IntArray, times: FloatArray) -> tuple[FloatArray, Poses, Poses]:
    """SAT depth of rows a, b (E,) at times (E, S), with both sets of poses; NaN where one is absent."""
    pa, pb = scene.poses_at(a, times), scene.poses_at(b, times)
    d = obb_penetration(pb.x - pa.x, pb.y - pa.y, pa.yaw, scene.half_length[a][:, None],
                        scene.half_width[a][:, None], pb.yaw, scene.half_length[b][:, None],
                        scene.half_width[b][:, None])
    return np.where(pa.present & pb.present, d, np.nan), pa, pb


def _corners_at(scene: SampledScene, rows: IntArray, frames: IntArray) -> FloatArray:
    """(E, 4, 2) footprint corners of rows at frames (E,) (the values of `scene.corners[rows, frames]`)."""
    return scene.corners_at(rows, frames)


def first_touch(scene: SampledScene, a: IntArray, b: IntArray, t0: FloatArray, t1: FloatArray,
                tol: float, steps: int = REFINE_STEPS) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """First touch of rows a, b (E,) in (t0, t1] (E,): (time, relative speed, found) arrays (E,).

    Sub-samples the step, takes the first sample overlapping by more than `tol`, and adds to the
    sample before it its constant-velocity TTC (exact at constant velocities). Where no sample
    overlaps, found is False and the time is t1.
    """
    u = np.linspace(0.0, 1.0, steps + 1)
    times = t0[:, None] + (t1 - t0)[:, None] * u[None, :]
    d, pa, pb = _depth_at(scene, a, b, times)
    over = np.nan_to_num(d, nan=-np.inf) > tol
    found = over.any(1)
    f = np.where(found, np.argmax(over, axis=1), steps)
    g = np.maximum(f - 1, 0)
    e = np.arange(len(a))
    ttc = time_to_overlap(pb.x[e, g] - pa.x[e, g], pb.y[e, g] - pa.y[e, g], pb.vx[e, g] - pa.vx[e, g],
                          pb.vy[e, g] - pa.vy[e, g], pa.yaw[e, g], scene.half_length[a], scene.half_width[a],
                          pb.yaw[e, g], scene.half_length[b], scene.half_width[b])
    t = np.where(f > 0, times[e, g] + np.minimum(ttc, times[e, f] - times[e, g]), times[e, f])
    rel = np.hypot(pb.vx[e, f] - pa.vx[e, f], pb.vy[e, f] - pa.vy[e, f])
    return t, rel, found


def contact_events(scene: SampledScene, grid: PairGrid, cfg: CheckConfig) -> list[ContactEvent]:
    """Every contact between two agents, in pair then time order."""
    tol = cfg.contact_tolerance
    times, speed = scene.times, scene.speed
    events: list[ContactEvent] = []
    h = np.flatnonzero(grid.hit)                     # the overlapping entries, sorted by (pair, frame)
    if h.size:
        hp, hk = grid.p[h], grid.k[h]
        # runs of consecutive frames of one pair (the runs of `grid.overlap` rows, in row-major order)
        new_run = np.r_[True, (hp[1:] != hp[:-1]) | (hk[1:] != hk[:-1] + 1)]
        starts = np.flatnonzero(new_run)
        ends = np.r_[starts[1:], h.size] - 1
        r = hp[starts]
        k0s, k1s = hk[starts], hk[ends]
        a, b = grid.i[r], grid.j[r]
        prev = np.maximum(k0s - 1, 0)
        first = (k0s == 0) | ~(scene.present[a, prev] & scene.present[b, prev])
        t_c = times[k0s].astype(float)
        rel = np.hypot(scene.vx[b, k0s] - scene.vx[a, k0s], scene.vy[b, k0s] - scene.vy[a, k0s])
        ref = np.flatnonzero(~first)
        if ref.size:
            t_r, rel_r, _ = first_touch(scene, a[ref], b[ref], times[k0s[ref] - 1], times[k0s[ref]], tol)
            t_c[ref], rel[ref] = t_r, rel_r
        depth = np.maximum.reduceat(grid.depth[h], starts)          # every entry of a run overlaps: no NaN
        where = overlap_centroids(_corners_at(scene, a, k0s), _corners_at(scene, b, k0s))
        # standing: neither moves at any frame of the run (counts of moving frames from cumulative sums)
        moving = np.zeros((scene.num_agents, scene.num_frames + 1), dtype=np.int64)
        np.cumsum(~(speed < cfg.moving_speed), axis=1, out=moving[:, 1:])
        static = ((moving[a, k1s + 1] - moving[a, k0s]) == 0) & ((moving[b, k1s + 1] - moving[b, k0s]) == 0)
        events += [ContactEvent(aa, bb, tc, te, dep, rv, (wx, wy), fs, st) for aa, bb, tc, te, dep, rv, wx, wy, fs, st
                   in zip(a.tolist(), b.tolist(), t_c.tolist(), times[k1s].tolist(), depth.tolist(), rel.tolist(),
                          where[:, 0].tolist(), where[:, 1].tolist(), first.tolist(), static.tolist())]
    events += _between_frames(scene, grid, cfg)
    return sorted(events, key=lambda e: (e.a, e.b, e.t_contact))


def _between_frames(scene: SampledScene, grid: PairGrid, cfg: CheckConfig) -> list[ContactEvent]:
    """Contacts that start and end between two frames (no frame shows the overlap)."""
    if scene.num_frames < 2:
        return []
    step = max_steps(scene)
    T = scene.num_frames
    i, j = grid.i[grid.p], grid.j[grid.p]
    k = grid.k
    ok = (k < T - 1) & ~grid.hit & ~grid.hit_next()
    ok &= grid.dist < scene.radius[i] + scene.radius[j] + step[i] + step[j]
    sel = np.flatnonzero(ok)
    kn = k[sel] + 1                                 # below T: k < T - 1
    present = scene.present.ravel()
    sel = sel[present[i[sel] * T + kn] & present[j[sel] * T + kn]]
    if sel.size == 0:
        return []
    a, b, k = i[sel], j[sel], k[sel]
    dt = scene.dt
    # Linear relative motion between the two samples, orientations frozen at the first one, boxes
    # grown by what the rotation during the step can move a corner (plus a margin for the curvature
    # of the path): a continuous SAT on that motion finds every step in which they could touch.
    rx, ry = scene.x[b, k] - scene.x[a, k], scene.y[b, k] - scene.y[a, k]
    wx = (scene.x[b, k + 1] - scene.x[a, k + 1] - rx) / dt
    wy = (scene.y[b, k + 1] - scene.y[a, k + 1] - ry) / dt
    grow_a = scene.radius[a] * np.abs(scene.yaw[a, k + 1] - scene.yaw[a, k]) + SWEEP_MARGIN
    grow_b = scene.radius[b] * np.abs(scene.yaw[b, k + 1] - scene.yaw[b, k]) + SWEEP_MARGIN
    hl_a, hw_a = scene.half_length[a] + grow_a, scene.half_width[a] + grow_a
    hl_b, hw_b = scene.half_length[b] + grow_b, scene.half_width[b] + grow_b
    # the grown boxes can only meet during the step if their circumcircles do: at the closest approach
    # of the centres within the step (the steps where they cannot have a TTC beyond dt and are left
    # out unchanged; 1e-6 m covers rounding)
    w2 = wx * wx + wy * wy
    t_close = np.minimum(np.maximum(-(rx * wx + ry * wy) / np.where(w2 > 0.0, w2, 1.0), 0.0), dt)
    near = np.flatnonzero(np.hypot(rx + wx * t_close, ry + wy * t_close) - np.hypot(hl_a, hw_a) - np.hypot(hl_b, hw_b)
                          <= 1e-6)
    a, b, k, rx, ry, wx, wy = a[near], b[near], k[near], rx[near], ry[near], wx[near], wy[near]
    ia, ib = a * scene.num_frames + k, b * scene.num_frames + k     # flat (row, frame) indices
    C, S = scene.cos_yaw.ravel(), scene.sin_yaw.ravel()
    ttc = time_to_overlap(rx, ry, wx, wy, None, hl_a[near], hw_a[near], None, hl_b[near], hw_b[near],
                          trig=(C[ia], S[ia], C[ib], S[ib]))
    c = np.flatnonzero(ttc <= dt)
    if c.size == 0:
        return []
    a, b, k = a[c], b[c], k[c]
    u = np.linspace(0.0, 1.0, TUNNEL_STEPS + 1)
    times = scene.times[k][:, None] + dt * u[None, :]
    dep, _, _ = _depth_at(scene, a, b, times)
    over = np.nan_to_num(dep, nan=-np.inf) > cfg.contact_tolerance
    hit = np.flatnonzero(over.any(1))
    if hit.size == 0:
        return []
    a, b, times, over, dep = a[hit], b[hit], times[hit], over[hit], dep[hit]
    h0 = np.argmax(over, axis=1)
    h1 = over.shape[1] - 1 - np.argmax(over[:, ::-1], axis=1)
    e = np.arange(hit.size)
    t_c, rel, _ = first_touch(scene, a, b, times[e, h0 - 1], times[e, h0], cfg.contact_tolerance)
    pa, pb = scene.poses_at(a, times[e, h0][:, None]), scene.poses_at(b, times[e, h0][:, None])
    ca = box_corners(pa.x[:, 0], pa.y[:, 0], pa.yaw[:, 0], scene.half_length[a], scene.half_width[a])
    cb = box_corners(pb.x[:, 0], pb.y[:, 0], pb.yaw[:, 0], scene.half_length[b], scene.half_width[b])
    where = overlap_centroids(ca, cb)
    return [ContactEvent(int(a[n]), int(b[n]), float(t_c[n]), float(times[n, h1[n]]), float(np.nanmax(dep[n])),
                         float(rel[n]), (float(where[n, 0]), float(where[n, 1])), False, False)
            for n in range(hit.size)]


def collision_findings(scene: SampledScene, events: list[ContactEvent]) -> list[Finding]:
    """One finding per contact: error for a collision, warning for two standing objects placed overlapping."""
    out = []
    for e in events:
        ida, idb = scene.ids[e.a], scene.ids[e.b]
        names = pair_names(ida, idb)
        boxes = f"The boxes of {names[0].lower()}{names[1:]}" if names.startswith("The ego") else f"The boxes of {names}"
        until = "" if e.t_end - e.t_contact < 1e-9 else f" until {e.t_end:.2f} s"
        metrics = {"contact_time": e.t_contact, "max_depth": e.max_depth, "relative_speed": e.rel_speed}
        if e.static:
            out.append(Finding(FindingCode.OVERLAP, Severity.WARNING, e.t_contact, e.t_end, (ida, idb),
                               f"{boxes} overlap by up to {e.max_depth:.2f} m while both stand still, from "
                               f"{e.t_contact:.2f} s{until}.", e.where, metrics))
            continue
        if e.from_start:
            msg = (f"{boxes} already overlap (by up to {e.max_depth:.2f} m) when both exist at {e.t_contact:.2f} s"
                   f"{until}.")
        else:
            msg = (f"{names} collide at {e.t_contact:.2f} s at {e.rel_speed:.1f} m/s relative speed; "
                   f"the boxes overlap by up to {e.max_depth:.2f} m{until}.")
        out.append(Finding(FindingCode.COLLISION, Severity.ERROR, e.t_contact, e.t_end, (ida, idb), msg, e.where, metrics))
    return out


def close_pass_findings(scene: SampledScene, grid: PairGrid, cfg: CheckConfig,
                        skip_pairs: set[tuple[int, int]]) -> list[Finding]:
    """Runs where two agents pass within `min_gap_warning` without touching, at a relative speed."""
    e = np.flatnonzero(np.nan_to_num(grid.gap, nan=np.inf) < cfg.min_gap_warning)
    p, k = grid.p[e], grid.k[e]
    a, b = grid.i[p], grid.j[p]
    rel = np.hypot(scene.vx[b, k] - scene.vx[a, k], scene.vy[b, k] - scene.vy[a, k])
    keep = ~grid.hit[e] & (rel >= cfg.moving_speed)
    e, p, k, rel = e[keep], p[keep], k[keep], rel[keep]
    out: list[Finding] = []
    if e.size == 0:
        return out
    rows, inv = np.unique(p, return_inverse=True)
    close = np.zeros((rows.size, scene.num_frames), dtype=bool)
    close[inv, k] = True
    gap = np.full(close.shape, np.inf)
    gap[inv, k] = grid.gap[e]
    speed = np.zeros(close.shape)
    speed[inv, k] = rel
    bg = Severity.parse(cfg.background_severity)
    rrs, k0s, k1s = runs_2d(close)
    if skip_pairs:                                   # the runs of pairs in contact go, before the loop
        A = scene.num_agents
        skip = np.array([a * A + b for a, b in skip_pairs], dtype=np.int64)
        r_all = rows[rrs]
        keep = ~np.isin(grid.i[r_all].astype(np.int64) * A + grid.j[r_all], skip)
        rrs, k0s, k1s = rrs[keep], k0s[keep], k1s[keep]
    for rr, k0, k1 in zip(rrs, k0s, k1s):
        r = int(rows[rr])
        a, b = int(grid.i[r]), int(grid.j[r])
        km = k0 + int(np.argmin(gap[rr, k0:k1 + 1]))
        g = float(gap[rr, km])
        ida, idb = scene.ids[a], scene.ids[b]
        sev = Severity.WARNING if a == 0 else bg
        where = ((scene.x[a, km] + scene.x[b, km]) / 2, (scene.y[a, km] + scene.y[b, km]) / 2)
        out.append(Finding(
            FindingCode.CLOSE_PASS, sev, scene.times[k0], scene.times[k1], (ida, idb),
            f"{pair_names(ida, idb)} pass {g:.2f} m apart at {scene.times[km]:.2f} s "
            f"at {speed[rr, km]:.1f} m/s relative speed.",
            where, {"min_gap": g, "t_min_gap": float(scene.times[km]), "relative_speed": float(speed[rr, km])}))
    return out
