"""Post-encroachment time (PET) where the paths of two agents cross.

Definition: the conflict area is where the swept footprints of two crossing agents intersect; PET
is the time from the first agent leaving it to the second entering it. Equivalently, and that is
how it is computed, PET is the least |t_b - t_a| over pairs of times at which the footprint of a
at t_a overlaps the footprint of b at t_b (the common point lies in the conflict area, which the
first leaves no earlier than t_a and the second enters no later than t_b, with equality at the
corner of the area). Only moments where both move and their directions of travel differ by at least
`pet_min_angle` (modulo pi) count, so agents following or meeting on the same path have no PET.

Candidate pairs and frames come from a hash of every moving sample by grid cell and direction of
travel (`CrossingIndex`, a sparse incidence product over all agents). Per candidate pair: a search
over its (Ta, Tb) frames, limited to |ta - tb| <= pet_max and to centre distances below the sum of
the half diagonals, with the separating-axis test on what remains, in bands of growing |kb - ka|
(0-3, 4-11, 12-27, ... frames) so that a pair stops at the first band holding an overlap (on a uniform
frame grid a later band cannot hold a smaller |tb - ta|); then a refinement on sub-frame samples
(`SampledScene.poses_at`) around the best pair of times.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from engine.checks.config import CheckConfig
from engine.checks.findings import Finding, FindingCode, Severity, name_of
from engine.checks.geometry import box_corners, headings_from_velocity, obb_penetration, overlap_centroids
from engine.checks.sampling import BoolArray, FloatArray, IntArray, SampledScene

Arrays = tuple[FloatArray, ...]

REFINE_STEPS = 12   # sub-samples per frame step around the best pair of times
SEARCH_STAGES = (0.1, 0.35, 1.0)   # `_search`: stages of |tb - ta|, as fractions from the least to the limit
_BINS = 12          # direction histogram bins over [0, pi)
DENSE_REACH_LIMIT = 32_000_000   # agents x keys up to which membership is a dense table lookup (bytes)


@dataclass(frozen=True)
class PetEvent:
    """first / second: agent rows in order of passage; times in s; where: (x, y) of the conflict."""

    first: int
    second: int
    pet: float
    t_first_leaves: float
    t_second_enters: float
    where: tuple[float, float]
    angle: float


class CrossingIndex:
    """Where and in which direction every agent moves, hashed to find crossing paths quickly.

    Each moving sample gets a key (grid cell, direction-of-travel bin modulo pi). The cell size is
    at least the largest sum of two half diagonals, so two overlapping footprints lie in the same
    or neighbouring cells. An agent's reach is the set of keys of its neighbouring cells in the
    direction bins that cross its own (by at least `pet_min_angle`, with a bin width of slack):
    another agent's sample can only be part of a crossing with it if its key is in that set.
    Keys are numbered compactly (`kid`, (A, T), -1 where not moving) over the keys that occur.
    """

    def __init__(self, scene: SampledScene, cfg: CheckConfig, heading: FloatArray, moving: BoolArray) -> None:
        self.moving = moving
        A = scene.num_agents
        active = moving.any(axis=1)
        r_max = float(scene.radius[active].max()) if active.any() else 1.0
        self.cell = max(2.0 * r_max, 4.0)
        ix = np.floor(scene.x / self.cell).astype(np.int64) + (1 << 20)
        iy = np.floor(scene.y / self.cell).astype(np.int64) + (1 << 20)
        line = np.mod(heading, np.pi)
        b = np.minimum((line / (np.pi / _BINS)).astype(np.int64), _BINS - 1)
        keys = ((ix << 21) + iy) * _BINS + b
        self.keys = np.unique(keys[moving])                              # (K,) sorted, the keys that occur
        self.K = self.keys.size
        self.kid = np.where(moving, np.searchsorted(self.keys, keys), -1)  # (A, T)
        centres = (np.arange(_BINS) + 0.5) * np.pi / _BINS
        diff = np.abs(centres[:, None] - centres[None, :])
        diff = np.minimum(diff, np.pi - diff)
        compat = [np.flatnonzero(diff[k] >= cfg.pet_min_angle - np.pi / _BINS) for k in range(_BINS)]
        offsets = np.array([(dx << 21) + dy for dx in (-1, 0, 1) for dy in (-1, 0, 1)], dtype=np.int64)
        ncomp = max(1, max(len(c) for c in compat))
        comp = np.full((_BINS, ncomp), -1, dtype=np.int64)
        for k, c in enumerate(compat):
            comp[k, :len(c)] = c
        from scipy.sparse import csr_matrix

        K1 = max(self.K, 1)
        rows = np.nonzero(moving)[0]
        own = np.unique(rows.astype(np.int64) * K1 + self.kid[moving])            # (agent, key) pairs
        self.own = csr_matrix((np.ones(own.size, np.float32), (own // K1, own % K1)), shape=(A, K1))
        # key adjacency: key k reaches the keys of its 9 neighbour cells in the bins that cross k's bin
        cells, bins = self.keys // _BINS, self.keys % _BINS
        cand = (cells[:, None, None] + offsets[None, :, None]) * _BINS + comp[bins][:, None, :]   # (K, 9, C)
        valid = np.broadcast_to((comp[bins] >= 0)[:, None, :], cand.shape)
        src = np.broadcast_to(np.arange(self.K)[:, None, None], cand.shape)[valid]
        cand = cand[valid]
        pos = np.minimum(np.searchsorted(self.keys, cand), max(self.K - 1, 0))
        hit = (self.keys[pos] == cand) if self.K else np.zeros(cand.shape, bool)
        adj = csr_matrix((np.ones(int(hit.sum()), np.float32), (src[hit], pos[hit])), shape=(K1, K1))
        reach = (self.own @ adj).tocoo()                                        # (A, K): agent reaches key
        self.reach = csr_matrix((np.ones(reach.nnz, np.float32), (reach.row, reach.col)), shape=(A, K1))
        self.reach_codes = np.sort(reach.row.astype(np.int64) * K1 + reach.col)
        # a dense (A, K + 1) table when it is small (one gather per lookup instead of a binary search);
        # the last column stands for "not moving" (kid -1) and is always False
        self._reach_dense: BoolArray | None = None
        self._reach_flat: BoolArray | None = None           # the same table, raveled
        self._kid_dense: NDArray[np.int32] | None = None   # kid with -1 as K1 (the last column), (A, T)
        if A * (K1 + 1) <= DENSE_REACH_LIMIT:
            dense = np.zeros((A, K1 + 1), dtype=bool)
            dense[reach.row, reach.col] = True
            self._reach_dense = dense
            self._reach_flat = dense.ravel()
            self._kid_dense = np.where(self.kid < 0, K1, self.kid).astype(np.int32)
        self._kid_stride = K1 + 1
        self.num_agents = A

    def candidate_pairs(self) -> list[tuple[int, int]]:
        """Pairs (a < b) with a sample of b in the crossing reach of a (a symmetric relation)."""
        if self.K == 0:
            return []
        meet = (self.own @ self.reach.T).tocoo()
        keep = meet.row < meet.col
        return sorted(zip(meet.row[keep].tolist(), meet.col[keep].tolist()))

    def member(self, a: IntArray, b: IntArray) -> BoolArray:
        """(P, T) bool: frames at which agent a[p] moves in a place and direction that can cross b[p]'s path."""
        if self.reach_codes.size == 0:
            return np.zeros((len(a), self.kid.shape[1]), dtype=bool)
        if self._reach_flat is not None and self._kid_dense is not None:
            # flat indices b * (K1 + 1) + kid into the dense table (int32: below DENSE_REACH_LIMIT);
            # not moving: the False last column
            q = np.take(self._kid_dense, np.asarray(a, dtype=np.intp), axis=0)
            q += (np.asarray(b, dtype=np.int32) * np.int32(self._kid_stride))[:, None]
            dense: BoolArray = np.take(self._reach_flat, q)
            return dense
        kid = self.kid[a]
        q = np.asarray(b, dtype=np.int64)[:, None] * max(self.K, 1) + kid
        pos = np.minimum(np.searchsorted(self.reach_codes, q), self.reach_codes.size - 1)
        out: BoolArray = (kid >= 0) & (self.reach_codes[pos] == q)
        return out


def _nonzero_2d(m: BoolArray) -> tuple[IntArray, IntArray]:
    """`np.nonzero` of a 2-D bool array (rows, columns of the True entries, row-major), computed faster."""
    flat = np.flatnonzero(m)
    rows, cols = np.divmod(flat, m.shape[1])
    return rows, cols


def _group_starts(pid: IntArray) -> IntArray:
    """Indices where a new group starts in the non-decreasing group labels pid (E,)."""
    return np.flatnonzero(np.r_[True, pid[1:] != pid[:-1]]) if pid.size else np.zeros(0, dtype=np.intp)


def _group_reduce(ufunc: np.ufunc, pid: IntArray, v: FloatArray, size: int, fill: float,
                  starts: IntArray | None = None) -> FloatArray:
    """(size,) `ufunc`-reduction of the values v (E,) per group pid (E,), non-decreasing; `fill` for empty groups."""
    out = np.full(size, fill)
    if pid.size:
        starts = _group_starts(pid) if starts is None else starts
        out[pid[starts]] = ufunc.reduceat(v, starts)
    return out


def _group_box(pid: IntArray, x: FloatArray, y: FloatArray, size: int) -> Arrays:
    """Per group (size,) xmin, xmax, ymin, ymax of the entries (+-inf for empty groups)."""
    st = _group_starts(pid)
    return (_group_reduce(np.minimum, pid, x, size, np.inf, st), _group_reduce(np.maximum, pid, x, size, -np.inf, st),
            _group_reduce(np.minimum, pid, y, size, np.inf, st), _group_reduce(np.maximum, pid, y, size, -np.inf, st))


def _inside_box(x: FloatArray, y: FloatArray, box: Arrays, pid: IntArray, grow: FloatArray) -> BoolArray:
    """(E,) entries (x, y) inside the box of their group pid, grown by grow[pid]."""
    x0, x1, y0, y1 = (v[pid] for v in box)
    g = grow[pid]
    out: BoolArray = (x >= x0 - g) & (x <= x1 + g) & (y >= y0 - g) & (y <= y1 + g)
    return out


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
    ma, mb = index.member(pa, pb), index.member(pb, pa)
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


def _bands(w: int) -> list[int]:
    """Upper ends of the bands of frame offsets |kb - ka| searched in turn: 0-3, 4-11, 12-27, ... up to w."""
    out, m = [], 3
    while m < w:
        out.append(m)
        m = 2 * m + 5
    return out + [w]


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
    u = np.linspace(-span, span, 2 * REFINE_STEPS + 1)
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


def _refine(scene: SampledScene, a: IntArray, b: IntArray, delta: FloatArray, ka: IntArray, kb: IntArray,
            cfg: CheckConfig, heading: FloatArray) -> Arrays:
    """Search sub-frame samples around each best pair of frames, within a frame step (12 sub-steps),
    then within one sub-step of the best of those (12 more): a resolution of a 144th of a step.

    Arrays (N,) in, (delta, ta, tb, ha, hb, xa, ya, yawa, xb, yb, yawb) arrays (N,) out, where the
    searches find nothing better the frame-grid values.
    """
    s = scene
    cur = [delta.astype(float), s.times[ka].astype(float), s.times[kb].astype(float), heading[a, ka], heading[b, kb],
           s.x[a, ka], s.y[a, ka], s.yaw[a, ka], s.x[b, kb], s.y[b, kb], s.yaw[b, kb]]
    span = s.dt
    for _ in range(2):
        limit = np.abs(cur[0])
        found = _search(s, a, b, cur[1], cur[2], span, cfg, limit)
        better = found[0] <= limit
        cur = [np.where(better, new, old) for new, old in zip(found[1:], cur)]
        span = span / REFINE_STEPS
    return tuple(cur)


def _index(scene: SampledScene, cfg: CheckConfig) -> tuple[CrossingIndex, FloatArray]:
    heading = headings_from_velocity(scene.vx, scene.vy, scene.yaw, cfg.moving_speed)
    return CrossingIndex(scene, cfg, heading, scene.present & (scene.speed >= cfg.moving_speed)), heading


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


def pair_pet(scene: SampledScene, a: int, b: int, cfg: CheckConfig) -> PetEvent | None:
    """Refined PET of rows a and b, or None when their paths do not cross within `pet_max`."""
    ev = _events(scene, [(min(a, b), max(a, b))], cfg, True, *_index(scene, cfg))
    return ev[0] if ev else None


def pet_events(scene: SampledScene, cfg: CheckConfig, skip_pairs: set[tuple[int, int]]) -> list[PetEvent]:
    """PET of every crossing pair (not in `skip_pairs`) up to `pet_max`.

    PETs that may fall below `pet_warning` (within two frame steps), and the least one, are refined
    below the frame step; the others keep their frame-grid value (within a step of the truth).
    """
    index, heading = _index(scene, cfg)
    pairs = [p for p in index.candidate_pairs() if p not in skip_pairs]
    return _events(scene, pairs, cfg, False, index, heading)


def pet_findings(scene: SampledScene, events: list[PetEvent], cfg: CheckConfig) -> list[Finding]:
    """A finding per crossing with PET below `pet_warning` (warning with the ego, else background severity)."""
    bg = Severity.parse(cfg.background_severity)
    out = []
    for e in events:
        if e.pet >= cfg.pet_warning:
            continue
        f, s = scene.ids[e.first], scene.ids[e.second]
        sev = Severity.WARNING if 0 in (e.first, e.second) else bg
        out.append(Finding(
            FindingCode.PET, sev, e.t_first_leaves, e.t_second_enters, (f, s),
            f"{name_of(s, start=True)} crosses the path of {name_of(f)} {e.pet:.2f} s after {name_of(f)} "
            f"left the conflict area (post-encroachment time, {e.t_first_leaves:.2f}-{e.t_second_enters:.2f} s, "
            f"crossing at {np.degrees(e.angle):.0f} deg).",
            e.where, {"pet": e.pet, "crossing_angle": e.angle}))
    return out
