"""The checks as they were before the issue-19 speed-ups of this round, kept as a reference.

Verbatim copies (from the commit before: 74ec9fc) of every function the speed-ups replaced; only the
last line of `pair_grid` is adapted to today's `PairGrid` (an overlap flag per entry, `hit`, from
which `PairGrid.overlap` is derived). `use_reference(monkeypatch)` puts them back in place of the
current ones, so a test can run `check_scenario` both ways and compare. Not imported by the engine.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from engine.checks import collisions as collisions_module
from engine.checks import geometry as geometry_module
from engine.checks import kinematics as kinematics_module
from engine.checks import offroad as offroad_module
from engine.checks import pairs as pairs_module
from engine.checks import pet as pet_module
from engine.checks import raster as raster_module
from engine.checks import relations as relations_module
from engine.checks import runner as runner_module
from engine.checks import sampling as sampling_module
from engine.checks.collisions import SWEEP_MARGIN, TUNNEL_STEPS, ContactEvent, _corners_at, _depth_at, first_touch
from engine.checks.config import CheckConfig, OFFROAD_ERROR_CLASSES
from engine.checks.findings import Finding, FindingCode, Severity, name_of, pair_names
from engine.checks.geometry import Num, Trig, _axis_terms, _trig, box_corners, obb_gap, obb_penetration, overlap_centroids
from engine.checks.kinematics import CURVATURE_SPEED_FLOOR, LAT_MIN_SPEED, SLIP_MIN_SPEED
from engine.checks.offroad import CORNER_NAMES, _exit_time
from engine.checks.pairs import PairGrid, _all_block_candidates, _block_candidates, max_steps, pair_rows
from engine.checks.pet import (
    REFINE_STEPS as PET_REFINE_STEPS, SEARCH_STAGES, Arrays, CrossingIndex, PetEvent, _bands, _refine, _group_box, _group_reduce,
    _group_starts, _inside_box, headings_from_velocity,
)
from engine.checks.raster import BOUNDARY, INSIDE, OUTSIDE, RegionRaster
from engine.checks.relations import DEFAULT_TTC_HORIZON, TTC_PRUNE_MARGIN, _per_agent
from engine.checks.sampling import BoolArray, FloatArray, IntArray, Poses, SampledScene, runs_2d


def crossing_member(index: CrossingIndex, a: IntArray, b: IntArray) -> BoolArray:
    """(P, T) bool: frames at which agent a[p] moves in a place and direction that can cross b[p]'s path
    (the previous `CrossingIndex.member`, by its binary search over the reach codes; the dense-table
    lookup it also had gave the same table)."""
    if index.reach_codes.size == 0:
        return np.zeros((len(a), index.kid.shape[1]), dtype=bool)
    kid = index.kid[a]
    q = np.asarray(b, dtype=np.int64)[:, None] * max(index.K, 1) + kid
    pos = np.minimum(np.searchsorted(index.reach_codes, q), index.reach_codes.size - 1)
    out: BoolArray = (kid >= 0) & (index.reach_codes[pos] == q)
    return out


def _nonzero_2d(m: BoolArray) -> tuple[IntArray, IntArray]:
    """`np.nonzero` of a 2-D bool array (rows, columns of the True entries, row-major), computed faster."""
    flat = np.flatnonzero(m)
    rows, cols = np.divmod(flat, m.shape[1])
    return rows, cols


# ---- engine/checks/raster.py: RegionRaster.contains
def contains(self, x: ArrayLike, y: ArrayLike) -> NDArray[np.bool_]:
    """Whether points (any shape) lie inside the region (as `shapely.contains_xy`)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if self.empty:
        return np.zeros(np.broadcast_shapes(x.shape, y.shape), dtype=bool)
    ix = np.floor((x - self.x0) / self.res)
    iy = np.floor((y - self.y0) / self.res)
    on = (ix >= 0) & (ix < self.w) & (iy >= 0) & (iy < self.h)
    cell = np.full(on.shape, OUTSIDE, dtype=np.uint8)
    cell[on] = self.grid[iy[on].astype(np.intp), ix[on].astype(np.intp)]
    out: NDArray[np.bool_] = cell == INSIDE
    amb = cell == BOUNDARY
    if amb.any():
        out[amb] = shapely.contains_xy(self.geom, x[amb], y[amb])
    return out


# ---- engine/checks/offroad.py: _vehicle_offroad
def _vehicle_offroad(scene: SampledScene, rows: IntArray, geom: Any, raster: RegionRaster,
                     cfg: CheckConfig) -> list[Finding]:
    present = scene.present[rows]                                   # (R, T)
    r_idx, k_idx = np.nonzero(present)
    pts = scene.corners_at(rows[r_idx], k_idx).reshape(-1, 2)      # corners where present
    inside = raster.contains(pts[:, 0], pts[:, 1]).reshape(-1, 4)
    out_dist = np.zeros(inside.shape)
    cand = ~inside
    if cand.any():
        flat = np.flatnonzero(cand.ravel())
        out_dist.ravel()[flat] = shapely.distance(geom, shapely.points(pts[flat]))
    corner_out = np.zeros(present.shape + (4,), dtype=bool)
    corner_out[r_idx, k_idx] = out_dist > cfg.offroad_tolerance
    dist = np.zeros(present.shape + (4,))
    dist[r_idx, k_idx] = out_dist
    any_out = corner_out.any(-1)
    findings: list[Finding] = []
    if not any_out.any():
        return findings
    cx, cy = scene.x[rows], scene.y[rows]
    rr, k0s, k1s = runs_2d(any_out)
    for r, k0, k1 in zip(rr, k0s, k1s):
        row = int(rows[r])
        aid, cls = scene.ids[row], scene.classes[row]
        ks = np.arange(k0, k1 + 1)
        centre_in = raster.contains(cx[r, ks], cy[r, ks])
        centre_out = ~centre_in & (shapely.distance(geom, shapely.points(np.stack([cx[r, ks], cy[r, ks]], -1)))
                                   > cfg.offroad_tolerance)
        worst_k, worst_c = np.unravel_index(int(np.argmax(dist[r, k0:k1 + 1])), (k1 - k0 + 1, 4))
        worst = float(dist[r, k0 + worst_k, worst_c])
        first_c = int(np.argmax(dist[r, k0]))
        t_exit = _exit_time(scene, row, k0, geom, cfg.offroad_tolerance)
        t0, t1 = scene.times[k0], scene.times[k1]
        metrics = {"t_exit": t_exit, "max_outside": worst}
        where = tuple(scene.corners_at(np.array([row]), np.array([k0]))[0, first_c])
        if centre_out.any() and cls in OFFROAD_ERROR_CLASSES:
            tc = float(scene.times[ks[np.argmax(centre_out)]])
            metrics["t_centre_out"] = tc
            msg = (f"{name_of(aid, True)} leaves the drivable area at {t_exit:.2f} s ({CORNER_NAMES[first_c]} corner first) and is "
                   f"off the road with its centre from {tc:.2f} s; up to {worst:.2f} m outside until {t1:.2f} s.")
            sev = Severity.ERROR
        else:
            msg = (f"{name_of(aid, True)} leaves the drivable area with its {CORNER_NAMES[first_c]} corner at {t_exit:.2f} s, "
                   f"up to {worst:.2f} m outside, until {t1:.2f} s.")
            sev = Severity.WARNING
        findings.append(Finding(FindingCode.OFF_ROAD, sev, t0, t1, (aid,), msg, where, metrics))
    return findings


# ---- engine/checks/pet.py: _coarse
def _coarse(scene: SampledScene, pairs: list[tuple[int, int]], cfg: CheckConfig, index: CrossingIndex,
            heading: FloatArray) -> tuple[IntArray, IntArray, FloatArray, IntArray, IntArray]:
    """Best pair of frames per crossing pair on the frame grid: (a, b, delta, ka, kb) arrays (N,).

    All pairs at once: the hashed frames of each agent, cut to the box around the other's frames
    (grown by the two half diagonals) and to |ta - tb| <= pet_max + dt, make the candidate pairs
    of frames; centre distance, crossing angle and separating-axis tests then pick the overlaps,
    and for each pair the one with the least |tb - ta|.
    """
    empty = np.zeros(0, dtype=int)
    if not pairs:
        return empty, empty, np.zeros(0), empty, empty
    s, max_dt = scene, cfg.pet_max + scene.dt
    pa, pb = (np.array(v, dtype=int) for v in zip(*pairs))
    reach = s.radius[pa] + s.radius[pb]
    T = s.num_frames
    X, Y, times = s.x.ravel(), s.y.ravel(), s.times
    ma, mb = crossing_member(index, pa, pb), crossing_member(index, pb, pa)
    # the hashed frames as sparse entries (pair, frame), row-major: grouped by pair, frames ascending
    pid_a, ka_all = _nonzero_2d(ma)
    pid_b, kb_all = _nonzero_2d(mb)
    ia, ib = pa[pid_a] * T + ka_all, pb[pid_b] * T + kb_all
    keep = _inside_box(X[ia], Y[ia], _group_box(pid_b, X[ib], Y[ib], pa.size), pid_a, reach)
    pid_a, ka_all, ia = pid_a[keep], ka_all[keep], ia[keep]
    st = _group_starts(pid_a)
    t_lo = _group_reduce(np.minimum, pid_a, times[ka_all], pa.size, np.inf, st) - max_dt
    t_hi = _group_reduce(np.maximum, pid_a, times[ka_all], pa.size, -np.inf, st) + max_dt
    tb = times[kb_all]
    sel = np.flatnonzero((tb >= t_lo[pid_b]) & (tb <= t_hi[pid_b]))     # the cheap test first
    pid_b, kb_all, ib = pid_b[sel], kb_all[sel], ib[sel]
    keep = _inside_box(X[ib], Y[ib], _group_box(pid_a, X[ia], Y[ia], pa.size), pid_b, reach)
    pid_b, kb_all = pid_b[keep], kb_all[keep]
    if pid_a.size == 0 or pid_b.size == 0:
        return empty, empty, np.zeros(0), empty, empty
    # only b's frames within a window of frames around each frame of a (a superset of
    # |tb - ta| <= max_dt, which is tested exactly below), searched in bands of growing |kb - ka|
    w = int(np.ceil(max_dt / s.dt)) + 2 if s.dt > 0 else T
    codes_b = pid_b * T + kb_all                  # sorted
    steps = np.diff(times)
    uniform = steps.size == 0 or bool(np.all(np.abs(steps - steps[0]) <= 1e-9 * abs(steps[0])))
    live = np.ones(pa.size, dtype=bool)           # pairs whose least |delta| is not known yet
    found: list[tuple[IntArray, FloatArray, IntArray, IntArray]] = []
    m0 = 0
    for m1 in (_bands(w) if uniform else (w,)):
        sel_a = np.flatnonzero(live[pid_a])
        if sel_a.size == 0:
            break
        hits = _band_hits(s, pa, pb, reach, pid_a[sel_a], ka_all[sel_a], codes_b, kb_all, m0, m1, max_dt, heading, cfg)
        m0 = m1 + 1
        if hits is None:
            continue
        found.append(hits)
        live[hits[0]] = False     # a later band has larger |kb - ka|, hence larger |delta| (uniform frames)
    if not found:
        return empty, empty, np.zeros(0), empty, empty
    pid, delta, ka, kb = (np.concatenate(v) for v in zip(*found))
    order = np.argsort(pid, kind="stable")
    pid, delta, ka, kb = pid[order], delta[order], ka[order], kb[order]
    return pa[pid], pb[pid], delta, ka, kb


# ---- engine/checks/pet.py: _band_hits
def _band_hits(s: SampledScene, pa: IntArray, pb: IntArray, reach: FloatArray, pid_a: IntArray, ka_all: IntArray,
               codes_b: IntArray, kb_all: IntArray, m0: int, m1: int, max_dt: float, heading: FloatArray,
               cfg: CheckConfig) -> tuple[IntArray, FloatArray, IntArray, IntArray] | None:
    """Per pair, the overlapping crossing pair of frames (ka, kb) with m0 <= |kb - ka| <= m1 and the least
    |tb - ta|, the first in (ka, kb) order among equals: (pair, delta, ka, kb) arrays, or None without any.

    pid_a, ka_all: the hashed frames of a (pair, frame); codes_b: pair * T + frame of b's, sorted.
    """
    T, times = s.num_frames, s.times
    X, Y = s.x.ravel(), s.y.ravel()
    base = pid_a * T
    parts = []
    for lo_off, hi_off in (((-m1, m1),) if m0 == 0 else ((-m1, -m0), (m0, m1))):
        first, last = ka_all + lo_off, ka_all + hi_off
        ok = (last >= 0) & (first <= T - 1)
        lo = np.searchsorted(codes_b, base + np.clip(first, 0, T - 1), side="left")
        hi = np.searchsorted(codes_b, base + np.clip(last, 0, T - 1), side="right")
        cnt = np.where(ok, np.maximum(hi - lo, 0), 0)
        eid = np.repeat(np.arange(ka_all.size), cnt)
        idx = np.arange(eid.size) - np.repeat(np.cumsum(cnt) - cnt - lo, cnt)
        parts.append((pid_a[eid], ka_all[eid], kb_all[idx]))
    pid, ka, kb = (np.concatenate(v) for v in zip(*parts))
    sel = np.flatnonzero(np.abs(times[kb] - times[ka]) <= max_dt)   # cheapest tests first, compacting
    pid, ka, kb = pid[sel], ka[sel], kb[sel]
    # flat (row * T + frame) indices: one 1-D gather per array instead of 2-D fancy indexing
    ia, ib = pa[pid] * T + ka, pb[pid] * T + kb
    dx, dy = X[ib] - X[ia], Y[ib] - Y[ia]
    sel = np.flatnonzero(dx ** 2 + dy ** 2 <= reach[pid] ** 2)
    pid, ia, ib, dx, dy = pid[sel], ia[sel], ib[sel], dx[sel], dy[sel]
    H = heading.ravel()
    sel = np.flatnonzero(np.abs(np.sin(H[ib] - H[ia])) >= np.sin(cfg.pet_min_angle) - 1e-9)
    pid, ia, ib, dx, dy = pid[sel], ia[sel], ib[sel], dx[sel], dy[sel]
    a, b = pa[pid], pb[pid]
    C, S = s.cos_yaw.ravel(), s.sin_yaw.ravel()
    depth = obb_penetration(dx, dy, None, s.half_length[a], s.half_width[a], None, s.half_length[b],
                            s.half_width[b], trig=(C[ia], S[ia], C[ib], S[ib]))
    hit = np.flatnonzero(depth > 0.0)
    if hit.size == 0:
        return None
    pid, ka, kb = pid[hit], ia[hit] % T, ib[hit] % T
    delta = times[kb] - times[ka]
    # per pair the least |delta|, then the first in (ka, kb) order (as the full product in that order picks)
    order = np.lexsort((ka * T + kb, np.abs(delta), pid))
    first = order[np.r_[True, pid[order][1:] != pid[order][:-1]]]
    return pid[first], delta[first], ka[first], kb[first]


# ---- engine/checks/pet.py: _search
def _search(scene: SampledScene, a: IntArray, b: IntArray, ta0: FloatArray, tb0: FloatArray, span: float,
            cfg: CheckConfig, limit: FloatArray) -> Arrays:
    """Best overlapping, crossing pair of sub-samples in [t - span, t + span] around (ta0, tb0), per row.

    Only pairs of sub-samples with |tb - ta| <= limit (N,) are tested (the caller keeps the old
    values unless the new score is at most that, so the others cannot matter: the least score and
    the first pair reaching it are the same as over all pairs whenever that score is within the
    limit). Returns (score (N,), d (N,), ta, tb (N,), ha, hb, xa, ya, yawa, xb, yb, yawb (N,)); score
    is |tb - ta| or inf where no pair of sub-samples qualifies.
    """
    s = scene
    u = np.linspace(-span, span, 2 * PET_REFINE_STEPS + 1)
    ta, tb = ta0[:, None] + u[None, :], tb0[:, None] + u[None, :]
    pa, pb = s.poses_at(a, ta), s.poses_at(b, tb)
    ha = headings_from_velocity(pa.vx, pa.vy, pa.yaw, cfg.moving_speed)
    hb = headings_from_velocity(pb.vx, pb.vy, pb.yaw, cfg.moving_speed)
    ok_a = pa.present & (np.hypot(pa.vx, pa.vy) >= cfg.moving_speed)
    ok_b = pb.present & (np.hypot(pb.vx, pb.vy) >= cfg.moving_speed)
    E = (slice(None), slice(None), None)     # (N, S, 1): a's samples
    F = (slice(None), None, slice(None))     # (N, 1, S): b's samples
    d = tb[F] - ta[E]                        # (N, S, S)
    absd = np.abs(d)
    cand = ok_a[E] & ok_b[F] & (absd <= limit[:, None, None])
    ok = np.zeros(d.shape, dtype=bool)
    ca, sa, cb, sb = np.cos(pa.yaw), np.sin(pa.yaw), np.cos(pb.yaw), np.sin(pb.yaw)   # (N, S) each
    # In stages of growing |tb - ta| per row (fractions of the way from the least candidate |d| to the
    # limit); a row with an overlap stops: its best score is at most the stage's upper end, and every
    # pair of sub-samples up to that end has been tested, so the result is that of testing all of them.
    d_min = np.where(cand, absd, np.inf).min(axis=(1, 2))
    span_d = np.where(np.isfinite(d_min), limit - d_min, 0.0)
    flat = np.flatnonzero(cand)                   # the candidates, (n, i, j) row-major
    n_all, ij = np.divmod(flat, u.size * u.size)
    i_all, j_all = np.divmod(ij, u.size)
    ad = absd.ravel()[flat]
    found = np.zeros(len(a), dtype=bool)
    lower = np.full(len(a), -np.inf)
    for frac in SEARCH_STAGES:
        upper = d_min + frac * span_d if frac < 1.0 else np.full(len(a), np.inf)
        pick = np.flatnonzero(~found[n_all] & (ad > lower[n_all]) & (ad <= upper[n_all]))
        n_, i_, j_ = n_all[pick], i_all[pick], j_all[pick]
        fa, fb = n_ * u.size + i_, n_ * u.size + j_          # flat (row, sample) indices of a's and b's
        # cheap necessary conditions first: overlapping boxes have centres within the sum of their half
        # diagonals (with a little slack for rounding), and the crossing angle is tested as before
        dx, dy = pb.x.ravel()[fb] - pa.x.ravel()[fa], pb.y.ravel()[fb] - pa.y.ravel()[fa]
        reach = s.radius[a[n_]] + s.radius[b[n_]]
        sel = np.flatnonzero((dx * dx + dy * dy <= reach * reach * (1.0 + 1e-6) + 1e-6)
                             & (np.abs(np.sin(hb.ravel()[fb] - ha.ravel()[fa])) >= np.sin(cfg.pet_min_angle) - 1e-9))
        n_, i_, j_, fa, fb, dx, dy = n_[sel], i_[sel], j_[sel], fa[sel], fb[sel], dx[sel], dy[sel]
        ra, rb = a[n_], b[n_]
        depth = obb_penetration(dx, dy, None, s.half_length[ra], s.half_width[ra], None, s.half_length[rb],
                                s.half_width[rb], trig=(ca.ravel()[fa], sa.ravel()[fa], cb.ravel()[fb], sb.ravel()[fb]))
        good = depth > 0.0
        ok[n_[good], i_[good], j_[good]] = True
        found[n_[good]] = True
        lower = upper
    d = d.reshape(len(a), -1)
    score = np.where(ok.reshape(len(a), -1), np.abs(d), np.inf)
    n = np.arange(len(a))
    best = np.argmin(score, axis=1)
    i, j = np.divmod(best, u.size)
    return (score[n, best], d[n, best], ta[n, i], tb[n, j], ha[n, i], hb[n, j],
            pa.x[n, i], pa.y[n, i], pa.yaw[n, i], pb.x[n, j], pb.y[n, j], pb.yaw[n, j])


# ---- engine/checks/pet.py: _events
def _events(scene: SampledScene, pairs: list[tuple[int, int]], cfg: CheckConfig, refine_all: bool,
            index: CrossingIndex, heading: FloatArray) -> list[PetEvent]:
    a, b, delta, ka, kb = _coarse(scene, pairs, cfg, index, heading)
    if a.size == 0:
        return []
    s = scene
    # refine those that may be reported (within two steps of pet_warning) and the least one
    sel = np.ones(a.size, bool) if refine_all else \
        (np.abs(delta) <= cfg.pet_warning + 2 * s.dt) | (np.abs(delta) == np.abs(delta).min())
    out_delta = delta.astype(float).copy()
    ta, tb = s.times[ka].astype(float), s.times[kb].astype(float)
    ha, hb = heading[a, ka], heading[b, kb]
    xa, ya, yawa, xb, yb, yawb = s.x[a, ka], s.y[a, ka], s.yaw[a, ka], s.x[b, kb], s.y[b, kb], s.yaw[b, kb]
    if sel.any():
        refined = _refine(s, a[sel], b[sel], delta[sel], ka[sel], kb[sel], cfg, heading)
        for arr, val in zip((out_delta, ta, tb, ha, hb, xa, ya, yawa, xb, yb, yawb), refined):
            arr[sel] = val
    pet = np.abs(out_delta)
    report = pet < cfg.pet_warning      # reported: worth the centre of the overlap
    where = np.stack([(xa + xb) / 2, (ya + yb) / 2], -1)
    if report.any():
        r = np.flatnonzero(report)
        where[r] = overlap_centroids(
            box_corners(xa[r], ya[r], yawa[r], s.half_length[a[r]], s.half_width[a[r]]),
            box_corners(xb[r], yb[r], yawb[r], s.half_length[b[r]], s.half_width[b[r]]))
    angle = np.arccos(np.minimum(1.0, np.abs(np.cos(ha - hb))))
    events = []
    for n in np.flatnonzero(pet <= cfg.pet_max):
        w = (float(where[n, 0]), float(where[n, 1]))
        if out_delta[n] >= 0:
            events.append(PetEvent(int(a[n]), int(b[n]), float(pet[n]), float(ta[n]), float(tb[n]), w, float(angle[n])))
        else:
            events.append(PetEvent(int(b[n]), int(a[n]), float(pet[n]), float(tb[n]), float(ta[n]), w, float(angle[n])))
    return events


# ---- engine/checks/pet.py: CrossingIndex.candidate_pairs
def candidate_pairs(self) -> list[tuple[int, int]]:
    """Pairs (a < b) with a sample of b in the crossing reach of a (a symmetric relation)."""
    if self.K == 0:
        return []
    meet = (self.own @ self.reach.T).tocoo()
    keep = meet.row < meet.col
    return sorted(zip(meet.row[keep].tolist(), meet.col[keep].tolist()))


# ---- engine/checks/geometry.py: time_to_overlap
def time_to_overlap(dx: Num, dy: Num, rvx: Num, rvy: Num, yaw_a: Num | None, hl_a: Num, hw_a: Num,
                    yaw_b: Num | None, hl_b: Num, hw_b: Num, trig: Trig | None = None) -> FloatArray:
    """Time until two rectangles first touch if both keep their current velocity and heading, shape (...).

    dx, dy: centre of b minus centre of a; rvx, rvy: velocity of b minus velocity of a.
    Continuous SAT: on each axis the projections overlap during one time interval (or always or
    never when the relative motion has no component there); the boxes overlap in the intersection
    of the four intervals. Returns its start (0 when they overlap now) or +inf when that
    intersection is empty or lies in the past. For motion along the line joining the boxes this is
    the classic gap / closing speed. trig: as for `obb_penetration`.
    """
    ca, sa, cb, sb = _trig(yaw_a, yaw_b, trig)
    d4, r4 = _axis_terms(dx, dy, hl_a, hw_a, hl_b, hw_b, ca, sa, cb, sb)
    d, r = np.stack(np.broadcast_arrays(*d4)), np.stack(np.broadcast_arrays(*r4))
    v = np.stack(np.broadcast_arrays(rvx * ca + rvy * sa, rvy * ca - rvx * sa, rvx * cb + rvy * sb, rvy * cb - rvx * sb))
    v, d, r = np.broadcast_arrays(v, d, r)
    moving = np.abs(v) > 1e-9
    safe_v = np.where(moving, v, 1.0)
    t1 = (-r - d) / safe_v
    t2 = (r - d) / safe_v
    inside_now = np.abs(d) < r
    lo = np.where(moving, np.minimum(t1, t2), np.where(inside_now, -np.inf, np.inf))
    hi = np.where(moving, np.maximum(t1, t2), np.where(inside_now, np.inf, -np.inf))
    t_enter = lo.max(axis=0)
    t_exit = hi.min(axis=0)
    hit = (t_enter <= t_exit) & (t_exit > 0.0)
    out: FloatArray = np.where(hit, np.maximum(t_enter, 0.0), np.inf)
    return out


# ---- engine/checks/kinematics.py: masked_gradient
def masked_gradient(f: FloatArray, present: BoolArray, dt: float) -> FloatArray:
    """d f / dt of (A, T) samples: central inside an agent's existence, one-sided at its ends, 0 alone."""
    if f.shape[1] < 2:
        return np.zeros_like(f)
    valid = present[:, :-1] & present[:, 1:]
    fd = np.diff(f, axis=1) / dt
    left, right = np.zeros_like(f), np.zeros_like(f)
    lv, rv = np.zeros(f.shape, bool), np.zeros(f.shape, bool)
    left[:, 1:], lv[:, 1:] = fd, valid
    right[:, :-1], rv[:, :-1] = fd, valid
    out: FloatArray = np.where(lv & rv, (left + right) / 2, np.where(lv, left, np.where(rv, right, 0.0)))
    return out


# ---- engine/checks/kinematics.py: kinematic_arrays
def kinematic_arrays(scene: SampledScene) -> dict[str, FloatArray]:
    """speed, accel, decel, jerk, yaw_rate, curvature, lat_accel, reverse_speed, slip: (A, T) arrays, >= 0
    except accel (signed d|v|/dt). Zero where the agent is absent."""
    p, dt = scene.present, scene.dt
    speed = np.hypot(scene.vx, scene.vy)
    # velocity and acceleration from the sampled positions (central differences on the frame grid):
    # robust to the ripple an interpolant's own second derivative has between its key points
    vx, vy = masked_gradient(scene.x, p, dt), masked_gradient(scene.y, p, dt)
    ax, ay = masked_gradient(vx, p, dt), masked_gradient(vy, p, dt)
    v_fd = np.hypot(vx, vy)
    accel = masked_gradient(v_fd, p, dt)
    jerk = masked_gradient(accel, p, dt)
    yaw_rate = masked_gradient(scene.yaw, p, dt)
    fast = v_fd > LAT_MIN_SPEED
    lat = np.where(fast, np.abs(vx * ay - vy * ax) / np.where(fast, v_fd, 1.0), 0.0)
    c, s = scene.cos_yaw, scene.sin_yaw            # np.cos / np.sin of the yaw, cached on the scene
    v_lon = scene.vx * c + scene.vy * s
    v_lat = -scene.vx * s + scene.vy * c
    slip = np.where(speed > SLIP_MIN_SPEED, np.arctan2(np.abs(v_lat), np.abs(v_lon)), 0.0)
    out = {
        "speed": speed,
        "accel": accel,
        "decel": np.maximum(-accel, 0.0),
        "jerk": np.abs(jerk),
        "yaw_rate": np.abs(yaw_rate),
        "curvature": np.abs(yaw_rate) / np.maximum(speed, CURVATURE_SPEED_FLOOR),
        "lat_accel": lat,
        "reverse_speed": np.maximum(-v_lon, 0.0),
        "slip": slip,
    }
    return {k: np.where(p, v, 0.0) for k, v in out.items()}


# ---- engine/checks/relations.py: ttc_between
def ttc_between(scene: SampledScene, a: int | IntArray, b: int | IntArray,
                horizon: float = DEFAULT_TTC_HORIZON) -> FloatArray:
    """TTC (s) between rows a and b on every frame: (T,) for two ints, (R, T) when one is an (R,) array.

    inf beyond `horizon` and where not on a collision course; 0 while overlapping (see module docstring).
    The continuous SAT runs only where the boxes can meet within the horizon: their bounding circles,
    closing at most at the relative speed, must be able to touch by then (elsewhere the TTC exceeds the
    horizon, and is inf, anyway).
    """
    s = scene
    dx, dy = s.x[b] - s.x[a], s.y[b] - s.y[a]
    rvx, rvy = s.vx[b] - s.vx[a], s.vy[b] - s.vy[a]
    hl_a, hw_a = _per_agent(s.half_length, a), _per_agent(s.half_width, a)
    hl_b, hw_b = _per_agent(s.half_length, b), _per_agent(s.half_width, b)
    ya, yb = s.yaw[a], s.yaw[b]
    trig = (s.cos_yaw[a], s.sin_yaw[a], s.cos_yaw[b], s.sin_yaw[b])
    args = np.broadcast_arrays(dx, dy, rvx, rvy, ya, hl_a, hw_a, yb, hl_b, hw_b, *trig)
    rsum = np.hypot(args[5], args[6]) + np.hypot(args[8], args[9])             # circumradii
    reach = np.hypot(args[2], args[3]) * horizon + TTC_PRUNE_MARGIN
    near = np.hypot(args[0], args[1]) - rsum <= reach
    out: FloatArray = np.full(near.shape, np.inf)
    if near.any():
        ndx, ndy, nvx, nvy, nya, nhla, nhwa, nyb, nhlb, nhwb, ca, sa, cb, sb = (x[near] for x in args)
        ttc = time_to_overlap(ndx, ndy, nvx, nvy, nya, nhla, nhwa, nyb, nhlb, nhwb, trig=(ca, sa, cb, sb))
        out[near] = np.where(ttc > horizon, np.inf, ttc)
    return out


# ---- engine/checks/pairs.py: pair_grid
def pair_grid(scene: SampledScene, contact_tolerance: float, gap_reach: float,
              pairs: tuple[IntArray, IntArray] | None = None) -> PairGrid:
    """Evaluate pairs (default: all) over the frame grid (see module docstring)."""
    i, j = pair_rows(scene.num_agents) if pairs is None else (np.asarray(pairs[0]), np.asarray(pairs[1]))
    T = scene.num_frames
    step = max_steps(scene)
    rsum = scene.radius[i] + scene.radius[j]
    reach = np.maximum(gap_reach, step[i] + step[j])                   # (P,)
    if np.isfinite(gap_reach) and pairs is None:
        p, k = _all_block_candidates(scene, step, gap_reach)
    elif np.isfinite(gap_reach):
        p, k = _block_candidates(scene, i, j, rsum + reach)
    else:
        p, k = (a.ravel() for a in np.meshgrid(np.arange(i.size), np.arange(T), indexing="ij"))
    ii, jj = i[p], j[p]
    keep = scene.present[ii, k] & scene.present[jj, k]
    p, k, ii, jj = p[keep], k[keep], ii[keep], jj[keep]
    dx, dy = scene.x[jj, k] - scene.x[ii, k], scene.y[jj, k] - scene.y[ii, k]
    dist = np.hypot(dx, dy)
    keep = dist <= rsum[p] + reach[p]
    p, k, ii, jj, dx, dy, dist = p[keep], k[keep], ii[keep], jj[keep], dx[keep], dy[keep], dist[keep]
    depth = np.full(p.size, np.nan)
    gap = np.full(p.size, np.nan)
    m = np.flatnonzero(dist <= rsum[p] + gap_reach)
    if m.size:
        ia, ja, km = ii[m], jj[m], k[m]
        args = (dx[m], dy[m], scene.yaw[ia, km], scene.half_length[ia], scene.half_width[ia],
                scene.yaw[ja, km], scene.half_length[ja], scene.half_width[ja])
        trig = (scene.cos_yaw[ia, km], scene.sin_yaw[ia, km], scene.cos_yaw[ja, km], scene.sin_yaw[ja, km])
        d = obb_penetration(*args, trig=trig)
        depth[m] = d
        need = -d < gap_reach          # minus the depth is a lower bound on the gap
        if need.any():
            dxn, dyn, ya, hla, hwa, yb, hlb, hwb = (v[need] for v in args)
            ca, sa, cb, sb = (v[need] for v in trig)
            gap[m[need]] = obb_gap(dxn, dyn, ya, hla, hwa, yb, hlb, hwb, depth=d[need], trig=(ca, sa, cb, sb))
    hit = np.nan_to_num(depth, nan=-np.inf) > contact_tolerance
    return PairGrid(i=i, j=j, num_frames=T, p=p, k=k, dist=dist, depth=depth, gap=gap, hit=hit)


# ---- engine/checks/collisions.py: contact_events
def contact_events(scene: SampledScene, grid: PairGrid, cfg: CheckConfig) -> list[ContactEvent]:
    """Every contact between two agents, in pair then time order."""
    tol = cfg.contact_tolerance
    times, speed = scene.times, scene.speed
    events: list[ContactEvent] = []
    rows = np.flatnonzero(grid.overlap.any(axis=1))
    if rows.size:
        rr, k0s, k1s = runs_2d(grid.overlap[rows])
        r = rows[rr]
        a, b = grid.i[r], grid.j[r]
        prev = np.maximum(k0s - 1, 0)
        first = (k0s == 0) | ~(scene.present[a, prev] & scene.present[b, prev])
        t_c = times[k0s].astype(float)
        rel = np.hypot(scene.vx[b, k0s] - scene.vx[a, k0s], scene.vy[b, k0s] - scene.vy[a, k0s])
        ref = np.flatnonzero(~first)
        if ref.size:
            t_r, rel_r, _ = first_touch(scene, a[ref], b[ref], times[k0s[ref] - 1], times[k0s[ref]], tol)
            t_c[ref], rel[ref] = t_r, rel_r
        dmat = np.full((rows.size, scene.num_frames), -np.inf)      # depth of the overlapping pairs
        pos = np.minimum(np.searchsorted(rows, grid.p), rows.size - 1)
        has = rows[pos] == grid.p
        dmat[pos[has], grid.k[has]] = np.nan_to_num(grid.depth[has], nan=-np.inf)
        depth = [dmat[q, k0:k1 + 1].max() for q, k0, k1 in zip(rr, k0s, k1s)]
        where = overlap_centroids(_corners_at(scene, a, k0s), _corners_at(scene, b, k0s))
        for n in range(r.size):
            k0, k1, aa, bb = int(k0s[n]), int(k1s[n]), int(a[n]), int(b[n])
            static = bool((speed[[aa, bb], k0:k1 + 1] < cfg.moving_speed).all())
            events.append(ContactEvent(aa, bb, float(t_c[n]), float(times[k1]),
                                       float(depth[n]), float(rel[n]),
                                       (float(where[n, 0]), float(where[n, 1])),
                                       bool(first[n]), static))
    events += _between_frames(scene, grid, cfg)
    return sorted(events, key=lambda e: (e.a, e.b, e.t_contact))


# ---- engine/checks/collisions.py: _between_frames
def _between_frames(scene: SampledScene, grid: PairGrid, cfg: CheckConfig) -> list[ContactEvent]:
    """Contacts that start and end between two frames (no frame shows the overlap)."""
    if scene.num_frames < 2:
        return []
    step = max_steps(scene)
    i, j = grid.i[grid.p], grid.j[grid.p]
    k = grid.k
    ok = (k < scene.num_frames - 1)
    kn = np.minimum(k + 1, scene.num_frames - 1)
    ok &= scene.present[i, kn] & scene.present[j, kn] & ~grid.overlap[grid.p, k] & ~grid.overlap[grid.p, kn]
    ok &= grid.dist < scene.radius[i] + scene.radius[j] + step[i] + step[j]
    sel = np.flatnonzero(ok)
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
    # the grown boxes can only meet during the step if their circumcircles can: the centres close at
    # most |w| dt (the steps where they cannot have a TTC beyond dt and are left out unchanged)
    near = np.flatnonzero(np.hypot(rx, ry) - np.hypot(hl_a, hw_a) - np.hypot(hl_b, hw_b)
                          <= np.hypot(wx, wy) * dt + 1e-6)
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


# ---- engine/checks/collisions.py: close_pass_findings
def close_pass_findings(scene: SampledScene, grid: PairGrid, cfg: CheckConfig,
                        skip_pairs: set[tuple[int, int]]) -> list[Finding]:
    """Runs where two agents pass within `min_gap_warning` without touching, at a relative speed."""
    e = np.flatnonzero(np.nan_to_num(grid.gap, nan=np.inf) < cfg.min_gap_warning)
    p, k = grid.p[e], grid.k[e]
    a, b = grid.i[p], grid.j[p]
    rel = np.hypot(scene.vx[b, k] - scene.vx[a, k], scene.vy[b, k] - scene.vy[a, k])
    keep = ~grid.overlap[p, k] & (rel >= cfg.moving_speed)
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
    for rr, k0, k1 in zip(*runs_2d(close)):
        r = int(rows[rr])
        a, b = int(grid.i[r]), int(grid.j[r])
        if (a, b) in skip_pairs:
            continue
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


# ---- engine/checks/sampling.py: SampledScene.poses_at
def poses_at(self, rows: int | ArrayLike, times: ArrayLike) -> Poses:
    """Poses of `rows` at arbitrary times inside the grid, from the frame samples alone.

    rows: (N,) ints (or one int); times: (N, S) or (S,) s. Positions and velocities are cubic
    Hermite interpolants of the sampled positions and velocities of the two frames around each
    time (exact for motion at constant velocity or constant acceleration), the yaw is linear
    between them. An agent counts as present between two frames when it is at both.
    Returns arrays of shape (N, S) (or (S,) for one int row).
    """
    r = np.asarray(rows)
    t = np.asarray(times, dtype=np.float64)
    if r.ndim:
        r = r[:, None]
    T = self.num_frames
    if T < 2:
        k = np.zeros(np.broadcast_shapes(r.shape, t.shape), dtype=int)
        z = np.zeros(k.shape)
        return Poses(self.x[r, k], self.y[r, k], self.yaw[r, k], z, z.copy(), self.present[r, k])
    dt = self.dt
    f = (t - self.times[0]) / dt
    k = np.clip(np.floor(f).astype(int), 0, T - 2)
    u = np.clip(f - k, 0.0, 1.0)
    u2, u3 = u * u, u * u * u
    h00, h10, h01, h11 = 2 * u3 - 3 * u2 + 1, u3 - 2 * u2 + u, -2 * u3 + 3 * u2, u3 - u2
    d00, d10, d01, d11 = 6 * u2 - 6 * u, 3 * u2 - 4 * u + 1, -6 * u2 + 6 * u, 3 * u2 - 2 * u

    def herm(p: FloatArray, v: FloatArray) -> tuple[FloatArray, FloatArray]:
        p0, p1, v0, v1 = p[r, k], p[r, k + 1], v[r, k] * dt, v[r, k + 1] * dt
        return h00 * p0 + h10 * v0 + h01 * p1 + h11 * v1, (d00 * p0 + d10 * v0 + d01 * p1 + d11 * v1) / dt

    x, vx = herm(self.x, self.vx)
    y, vy = herm(self.y, self.vy)
    yaw = (1 - u) * self.yaw[r, k] + u * self.yaw[r, k + 1]
    p0, p1 = self.present[r, k], self.present[r, k + 1]
    inside = (t >= self.times[0] - 1e-9) & (t <= self.times[-1] + 1e-9)
    present = np.where(u <= 1e-9, p0, np.where(u >= 1 - 1e-9, p1, p0 & p1)) & inside
    return Poses(x, y, yaw, vx, vy, present)


def use_reference(monkeypatch: Any) -> None:
    """Put the reference functions in place of the current ones (in every module that imported them)."""
    mp = monkeypatch.setattr
    mp(raster_module.RegionRaster, "contains", contains)
    mp(offroad_module, "_vehicle_offroad", _vehicle_offroad)
    mp(pet_module, "_coarse", _coarse)
    mp(pet_module, "_search", _search)
    mp(pet_module, "_band_hits", _band_hits)
    mp(pet_module, "_events", _events)
    mp(pet_module.CrossingIndex, "candidate_pairs", candidate_pairs)
    for mod in (geometry_module, collisions_module, relations_module):
        mp(mod, "time_to_overlap", time_to_overlap)
    mp(kinematics_module, "masked_gradient", masked_gradient)
    mp(kinematics_module, "kinematic_arrays", kinematic_arrays)
    mp(relations_module, "ttc_between", ttc_between)
    for mod in (pairs_module, runner_module):
        mp(mod, "pair_grid", pair_grid)
    from engine.checks import intents as intents_module
    mp(intents_module, "pair_grid", pair_grid)
    mp(intents_module, "contact_events", contact_events)
    mp(intents_module, "ttc_between", ttc_between)
    mp(collisions_module, "contact_events", contact_events)
    mp(collisions_module, "_between_frames", _between_frames)
    mp(collisions_module, "close_pass_findings", close_pass_findings)
    mp(runner_module, "contact_events", contact_events)
    mp(runner_module, "close_pass_findings", close_pass_findings)
    mp(sampling_module.SampledScene, "poses_at", poses_at)
