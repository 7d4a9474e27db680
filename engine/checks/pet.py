"""Post-encroachment time (PET) where the paths of two agents cross.

Definition: the conflict area is where the swept footprints of two crossing agents intersect; PET
is the time from the first agent leaving it to the second entering it. Equivalently, and that is
how it is computed, PET is the least |t_b - t_a| over pairs of times at which the footprint of a
at t_a overlaps the footprint of b at t_b (the common point lies in the conflict area, which the
first leaves no earlier than t_a and the second enters no later than t_b, with equality at the
corner of the area). Only moments where both move and their directions of travel differ by at least
`pet_min_angle` (modulo pi) count, so agents following or meeting on the same path have no PET.

Candidate pairs and frames come from a hash of every moving sample by grid cell and direction of
travel (`CrossingIndex`, a sparse incidence product over all agents; the samples of one agent under
one key form a group with its bounding box and frame range, so whole groups are kept or dropped by
the box and time prefilters before their frames are looked at). Per candidate pair: a search
over its (Ta, Tb) frames, limited to |ta - tb| <= pet_max and to centre distances below the sum of
the half diagonals, with the separating-axis test on what remains, in bands of growing |kb - ka|
(0-3, 4-11, 12-27, ... frames) so that a pair stops at the first band holding an overlap (on a uniform
frame grid a later band cannot hold a smaller |tb - ta|); then a refinement on sub-frame samples
(`SampledScene.poses_at`) around the best pair of times, in stages of growing |tb - ta| likewise.
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
SEARCH_STAGES = (0.05, 0.15, 0.35, 0.6, 1.0)   # `_search`: stages of |tb - ta|, as fractions from the least to the limit
_BINS = 12          # direction histogram bins over [0, pi)
DENSE_REACH_LIMIT = 32_000_000   # agents x keys up to which membership is a dense table lookup (bytes)
RANK_TABLE_SLACK = 1024         # `_FrameRanks` builds its table up to 4 x entries + 2 x pairs + this


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
        self.keys, kid = _cell_keys(ix, iy, b, moving)                  # (K,) sorted, the keys that occur
        self.K = self.keys.size
        self.kid = np.where(moving, kid, -1)                             # (A, T)
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
        ent = np.flatnonzero(moving.ravel())                          # moving samples, flat row * T + frame
        T = moving.shape[1]
        codes = (ent // T).astype(np.int64) * K1 + self.kid.ravel()[ent]
        own, gid = _sorted_unique_inverse(codes, A * K1)              # (agent, key) pairs: the groups
        self.own = csr_matrix((np.ones(own.size, np.float32), (own // K1, own % K1)), shape=(A, K1))
        self._groups(scene, ent, own, gid, K1)
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
        # a dense (A, K + 1) table, raveled, when it is small (one gather per lookup instead of a binary
        # search); the last column stands for "not moving" (kid -1) and is always False
        self._reach_flat: BoolArray | None = None
        if A * (K1 + 1) <= DENSE_REACH_LIMIT:
            dense = np.zeros((A, K1 + 1), dtype=bool)
            dense[reach.row, reach.col] = True
            self._reach_flat = dense.ravel()
        self._kid_stride = K1 + 1
        self.num_agents = A

    def _groups(self, scene: SampledScene, ent: IntArray, own: NDArray[np.int64], gid: NDArray[np.int64],
                K1: int) -> None:
        """The moving samples grouped by (agent, key), G groups in `own` order (agent, then key).

        g_entries (M,): flat sample indices, by group, frames ascending within one; g_start (G + 1,)
        offsets into it; g_agent, g_kid (G,); g_box: xmin, xmax, ymin, ymax (G,) of the centres;
        g_first, g_last (G,) first and last frame; agent_gstart (A + 1,) offsets of each agent's groups.
        """
        G = own.size
        order = np.argsort(gid.astype(np.int16) if G < 32768 else gid, kind="stable")   # radix sort for small G
        self.g_entries: IntArray = ent[order]
        counts = np.bincount(gid, minlength=G)
        self.g_start: IntArray = np.zeros(G + 1, dtype=np.intp)
        np.cumsum(counts, out=self.g_start[1:])
        self.g_agent: IntArray = (own // K1).astype(np.intp)
        self.g_kid: IntArray = (own % K1).astype(np.intp)
        starts = self.g_start[:-1]
        if G:
            xs, ys = scene.x.ravel()[self.g_entries], scene.y.ravel()[self.g_entries]
            self.g_box: Arrays = (np.minimum.reduceat(xs, starts), np.maximum.reduceat(xs, starts),
                                  np.minimum.reduceat(ys, starts), np.maximum.reduceat(ys, starts))
        else:
            self.g_box = tuple(np.zeros(0) for _ in range(4))
        T = scene.num_frames
        self.g_first: IntArray = self.g_entries[starts] % T if G else np.zeros(0, dtype=np.intp)
        self.g_last: IntArray = self.g_entries[self.g_start[1:] - 1] % T if G else np.zeros(0, dtype=np.intp)
        self.agent_gstart: IntArray = np.searchsorted(self.g_agent, np.arange(scene.num_agents + 1))

    def reaches(self, b: IntArray, kid: IntArray) -> BoolArray:
        """(N,) whether agent b[n] reaches key kid[n] (>= 0)."""
        if self.reach_codes.size == 0:
            return np.zeros(len(b), dtype=bool)
        if self._reach_flat is not None:
            out: BoolArray = np.take(self._reach_flat, np.asarray(b, dtype=np.intp) * self._kid_stride + kid)
            return out
        q = np.asarray(b, dtype=np.int64) * max(self.K, 1) + kid
        pos = np.minimum(np.searchsorted(self.reach_codes, q), self.reach_codes.size - 1)
        hit: BoolArray = self.reach_codes[pos] == q
        return hit

    def group_items(self, owner: IntArray, other: IntArray) -> tuple[IntArray, IntArray]:
        """(pair, group) items, pair-major: the groups of agent owner[p] whose key other[p] reaches.

        Their samples are the frames at which `owner` moves in a place and direction that can cross
        `other`'s path.
        """
        lo, hi = self.agent_gstart[owner], self.agent_gstart[np.asarray(owner) + 1]
        cnt = hi - lo
        pid = np.repeat(np.arange(len(owner)), cnt)
        g = np.arange(pid.size) - np.repeat(np.cumsum(cnt) - cnt - lo, cnt)
        keep = np.flatnonzero(self.reaches(np.asarray(other)[pid], self.g_kid[g]))
        return pid[keep], g[keep]

    def expand(self, pid: IntArray, g: IntArray) -> tuple[IntArray, IntArray]:
        """The samples of (pair, group) items: (pair, flat sample index) entries, item by item."""
        lo = self.g_start[g]
        cnt = self.g_start[g + 1] - lo
        eid = np.repeat(np.arange(pid.size), cnt)
        idx = np.arange(eid.size) - np.repeat(np.cumsum(cnt) - cnt - lo, cnt)
        return pid[eid], self.g_entries[idx]

    def candidate_pairs(self) -> list[tuple[int, int]]:
        """Pairs (a < b) with a sample of b in the crossing reach of a (a symmetric relation)."""
        if self.K == 0:
            return []
        meet = (self.own @ self.reach.T).tocoo()
        keep = meet.row < meet.col
        row, col = meet.row[keep], meet.col[keep]
        order = np.lexsort((col, row))                 # sorted as tuples (each pair once)
        return list(zip(row[order].tolist(), col[order].tolist()))


DENSE_CODE_LIMIT = 4_000_000   # code ranges up to which `_sorted_unique_inverse` and `_cell_keys` mark a table


def _sorted_unique_inverse(codes: NDArray[np.int64], size: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """`np.unique(codes, return_inverse=True)` of codes in [0, size): through a mark table when size is
    at most `DENSE_CODE_LIMIT` (linear time), else by sorting."""
    if size > DENSE_CODE_LIMIT or codes.size == 0:
        u, back = np.unique(codes, return_inverse=True)
        return u, back.astype(np.int64).ravel()
    mark = np.zeros(size, dtype=bool)
    mark[codes] = True
    rank = np.cumsum(mark) - 1
    uniq: NDArray[np.int64] = np.flatnonzero(mark).astype(np.int64)
    inv: NDArray[np.int64] = rank[codes]
    return uniq, inv


def _cell_keys(ix: NDArray[np.int64], iy: NDArray[np.int64], b: NDArray[np.int64],
               where: BoolArray) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Keys ((ix << 21) + iy) * _BINS + b of the entries `where` (arrays of one shape): (K,) the sorted
    distinct keys and, for every entry, the rank of its key among them (unspecified where `where` is
    False). The same as `np.unique` then `np.searchsorted`, in linear time through a mark table over
    the cells the entries span (ranks follow the lexicographic order of (ix, iy, b), as the keys do)
    when that table is small (`DENSE_CODE_LIMIT`)."""
    if not where.any():
        return np.zeros(0, dtype=np.int64), np.zeros(ix.shape, dtype=np.int64)
    xs, ys = ix[where], iy[where]
    x0, y0 = int(xs.min()), int(ys.min())
    nx, ny = int(xs.max()) - x0 + 1, int(ys.max()) - y0 + 1
    if nx * ny * _BINS > DENSE_CODE_LIMIT:
        keys_all = ((ix << 21) + iy) * _BINS + b
        sorted_keys = np.unique(keys_all[where])
        return sorted_keys, np.searchsorted(sorted_keys, keys_all)
    code = np.minimum(np.maximum(((ix - x0) * ny + (iy - y0)) * _BINS + b, 0), nx * ny * _BINS - 1)   # compact, same order
    mark = np.zeros(nx * ny * _BINS, dtype=bool)
    mark[code[where]] = True
    rank = np.cumsum(mark) - 1
    used = np.flatnonzero(mark)
    cell, bins = np.divmod(used, _BINS)
    cx, cy = np.divmod(cell, ny)
    keys: NDArray[np.int64] = (((cx + x0).astype(np.int64) << 21) + (cy + y0)) * _BINS + bins
    kid: NDArray[np.int64] = rank[code]
    return keys, kid


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


def _box_meets(gbox: Arrays, g: IntArray, box: Arrays, pid: IntArray, grow: FloatArray) -> BoolArray:
    """(E,) whether the box of group g meets the box of pair pid grown by grow[pid]: False where no point
    of the group can pass `_inside_box` (the same arithmetic on the bounds)."""
    x0, x1, y0, y1 = (v[pid] for v in box)
    gr = grow[pid]
    out: BoolArray = ((gbox[1][g] >= x0 - gr) & (gbox[0][g] <= x1 + gr)
                      & (gbox[3][g] >= y0 - gr) & (gbox[2][g] <= y1 + gr))
    return out


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
    # The hashed frames of a and of b per pair, as (pair, group) items: the groups
    # (agent, key) whose key the other agent reaches. b's frames span a box per pair (the union of
    # its groups' boxes); a's frames outside it, grown by the two half diagonals, cannot overlap b:
    # a group wholly outside goes at once, the frames of the others one by one.
    pga, ga = index.group_items(pa, pb)
    pgb, gb = index.group_items(pb, pa)
    gx0, gx1, gy0, gy1 = index.g_box
    box_b = (_group_reduce(np.minimum, pgb, gx0[gb], pa.size, np.inf), _group_reduce(np.maximum, pgb, gx1[gb], pa.size, -np.inf),
             _group_reduce(np.minimum, pgb, gy0[gb], pa.size, np.inf), _group_reduce(np.maximum, pgb, gy1[gb], pa.size, -np.inf))
    keep = _box_meets(index.g_box, ga, box_b, pga, reach)
    pid_a, ia = index.expand(pga[keep], ga[keep])
    keep = _inside_box(X[ia], Y[ia], box_b, pid_a, reach)
    pid_a, ia = pid_a[keep], ia[keep]
    ka_all = ia % T
    # b's frames within max_dt of a's kept frames and in the box of these, grown likewise
    st = _group_starts(pid_a)
    t_lo = _group_reduce(np.minimum, pid_a, times[ka_all], pa.size, np.inf, st) - max_dt
    t_hi = _group_reduce(np.maximum, pid_a, times[ka_all], pa.size, -np.inf, st) + max_dt
    box_a = _group_box(pid_a, X[ia], Y[ia], pa.size)
    keep = ((times[index.g_last[gb]] >= t_lo[pgb]) & (times[index.g_first[gb]] <= t_hi[pgb])
            & _box_meets(index.g_box, gb, box_a, pgb, reach))
    pid_b, ib = index.expand(pgb[keep], gb[keep])
    kb_all = ib % T
    tb = times[kb_all]
    sel = np.flatnonzero((tb >= t_lo[pid_b]) & (tb <= t_hi[pid_b]))     # the cheap test first
    pid_b, kb_all, ib = pid_b[sel], kb_all[sel], ib[sel]
    keep = _inside_box(X[ib], Y[ib], box_a, pid_b, reach)
    if pid_a.size == 0 or not keep.any():
        return empty, empty, np.zeros(0), empty, empty
    pid_b, kb_all = np.divmod(np.sort(pid_b[keep] * T + kb_all[keep]), T)     # by pair, frames ascending
    # only b's frames within a window of frames around each frame of a (a superset of
    # |tb - ta| <= max_dt, which is tested exactly below), searched in bands of growing |kb - ka|
    w = int(np.ceil(max_dt / s.dt)) + 2 if s.dt > 0 else T
    ranks_b = _FrameRanks(pid_b, kb_all, pa.size, T)
    steps = np.diff(times)
    uniform = steps.size == 0 or bool(np.all(np.abs(steps - steps[0]) <= 1e-9 * abs(steps[0])))
    live = np.ones(pa.size, dtype=bool)           # pairs whose least |delta| is not known yet
    found: list[tuple[IntArray, FloatArray, IntArray, IntArray]] = []
    m0 = 0
    for m1 in (_bands(w) if uniform else (w,)):
        sel_a = np.flatnonzero(live[pid_a])
        if sel_a.size == 0:
            break
        hits = _band_hits(s, pa, pb, reach, pid_a[sel_a], ka_all[sel_a], ranks_b, kb_all, m0, m1, max_dt, heading, cfg)
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


class _FrameRanks:
    """Rank lookups in E entries (pair, frame) sorted by pair then frame (P pairs, T frames).

    `below(pid, f)`: how many entries come before (pid, f), i.e. `np.searchsorted(codes, pid * T + f)`
    of the codes pair * T + frame, for 0 <= f <= T (f = T: past the pair's last frame). From a table
    over each pair's span of frames (a gather instead of a binary search) when that table is small,
    else by the binary search itself.
    """

    def __init__(self, pid: IntArray, frame: IntArray, num_pairs: int, num_frames: int) -> None:
        self.T = num_frames
        self.codes = pid * num_frames + frame
        first = np.zeros(num_pairs, dtype=np.intp)
        last = np.full(num_pairs, -1, dtype=np.intp)
        if pid.size:
            st = _group_starts(pid)
            ends = np.r_[st[1:], pid.size] - 1
            first[pid[st]], last[pid[ends]] = frame[st], frame[ends]
        self.first = first
        self.span = last - first + 2                    # frames first .. last + 1 (1 for a pair without entries)
        size = int(self.span.sum())
        self.table: IntArray | None = None
        if size <= 4 * pid.size + 2 * num_pairs + RANK_TABLE_SLACK:
            self.off = np.r_[0, np.cumsum(self.span)[:-1]]
            # a mark at off[p] + (frame - first[p]) + 1 per entry: the running count at off[p] + j is the
            # number of entries before (p, first[p] + j), as every earlier pair's marks lie before off[p]
            marks = np.bincount(self.off[pid] + (frame - first[pid]) + 1, minlength=size)
            self.table = np.cumsum(marks)

    def below(self, pid: IntArray, f: IntArray) -> IntArray:
        """(N,) the number of entries before (pid, f) for pairs pid (N,) and frames 0 <= f <= T (N,)."""
        if self.table is None:
            out: IntArray = np.searchsorted(self.codes, pid * self.T + f, side="left")
            return out
        j = np.minimum(np.maximum(f - self.first[pid], 0), self.span[pid] - 1)
        got: IntArray = self.table[self.off[pid] + j]
        return got


def _bands(w: int) -> list[int]:
    """Upper ends of the bands of frame offsets |kb - ka| searched in turn: 0-3, 4-11, 12-27, ... up to w."""
    out, m = [], 3
    while m < w:
        out.append(m)
        m = 2 * m + 5
    return out + [w]


def _band_hits(s: SampledScene, pa: IntArray, pb: IntArray, reach: FloatArray, pid_a: IntArray, ka_all: IntArray,
               ranks_b: "_FrameRanks", kb_all: IntArray, m0: int, m1: int, max_dt: float, heading: FloatArray,
               cfg: CheckConfig) -> tuple[IntArray, FloatArray, IntArray, IntArray] | None:
    """Per pair, the overlapping crossing pair of frames (ka, kb) with m0 <= |kb - ka| <= m1 and the least
    |tb - ta|, the first in (ka, kb) order among equals: (pair, delta, ka, kb) arrays, or None without any.

    pid_a, ka_all: the hashed frames of a (pair, frame); b's (pair, frame) entries are sorted by pair
    then frame, kb_all their frames and ranks_b their rank lookups.
    """
    T, times = s.num_frames, s.times
    X, Y = s.x.ravel(), s.y.ravel()
    parts = []
    for lo_off, hi_off in (((-m1, m1),) if m0 == 0 else ((-m1, -m0), (m0, m1))):
        first, last = ka_all + lo_off, ka_all + hi_off
        ok = (last >= 0) & (first <= T - 1)
        lo = ranks_b.below(pid_a, np.minimum(np.maximum(first, 0), T - 1))     # (np.clip, without its overhead)
        hi = ranks_b.below(pid_a, np.minimum(np.maximum(last, 0), T - 1) + 1)
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
    d_min = np.min(absd, axis=(1, 2), where=cand, initial=np.inf)
    span_d = np.where(np.isfinite(d_min), limit - d_min, 0.0)
    flat = np.flatnonzero(cand)                   # the candidates, (n, i, j) row-major
    if cand.size < 2 ** 31:
        flat = flat.astype(np.int32)              # (integer division is much faster on int32)
    n_all, ij = np.divmod(flat, u.size * u.size)
    i_all, j_all = np.divmod(ij, u.size)
    ad = absd.ravel()[flat]
    found = np.zeros(len(a), dtype=bool)
    # the stage of each candidate: stage k holds upper[k-1] < |d| <= upper[k] (upper[-1] = -inf, the
    # last upper = inf); the uppers grow with k (span_d >= 0)
    stage = np.zeros(flat.size, dtype=np.int8)
    for frac in SEARCH_STAGES[:-1]:
        stage += ad > (d_min + frac * span_d)[n_all]
    by_stage = np.argsort(stage, kind="stable")
    bounds = np.searchsorted(stage[by_stage], np.arange(len(SEARCH_STAGES) + 1))
    row_reach = s.radius[a] + s.radius[b]
    for q in range(len(SEARCH_STAGES)):
        pick = by_stage[bounds[q]:bounds[q + 1]]                 # ascending: the candidates' (n, i, j) order
        pick = pick[~found[n_all[pick]]]
        n_, i_, j_ = n_all[pick], i_all[pick], j_all[pick]
        fa, fb = n_ * u.size + i_, n_ * u.size + j_          # flat (row, sample) indices of a's and b's
        # cheap necessary conditions first: overlapping boxes have centres within the sum of their half
        # diagonals (with a little slack for rounding), and the crossing angle is tested as before
        dx, dy = pb.x.ravel()[fb] - pa.x.ravel()[fa], pb.y.ravel()[fb] - pa.y.ravel()[fa]
        reach = row_reach[n_]
        sel = np.flatnonzero((dx * dx + dy * dy <= reach * reach * (1.0 + 1e-6) + 1e-6)
                             & (np.abs(np.sin(hb.ravel()[fb] - ha.ravel()[fa])) >= np.sin(cfg.pet_min_angle) - 1e-9))
        n_, i_, j_, fa, fb, dx, dy = n_[sel], i_[sel], j_[sel], fa[sel], fb[sel], dx[sel], dy[sel]
        ra, rb = a[n_], b[n_]
        depth = obb_penetration(dx, dy, None, s.half_length[ra], s.half_width[ra], None, s.half_length[rb],
                                s.half_width[rb], trig=(ca.ravel()[fa], sa.ravel()[fa], cb.ravel()[fb], sb.ravel()[fb]))
        good = depth > 0.0
        ok[n_[good], i_[good], j_[good]] = True
        found[n_[good]] = True
    d = d.reshape(len(a), -1)
    score = np.where(ok.reshape(len(a), -1), absd.reshape(len(a), -1), np.inf)
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
    n = np.flatnonzero(pet <= cfg.pet_max)
    fwd = out_delta[n] >= 0                        # a passes first
    first, second = np.where(fwd, a[n], b[n]).tolist(), np.where(fwd, b[n], a[n]).tolist()
    t_first, t_second = np.where(fwd, ta[n], tb[n]).tolist(), np.where(fwd, tb[n], ta[n]).tolist()
    return [PetEvent(f, sc, p, t0, t1, (wx, wy), ang) for f, sc, p, t0, t1, wx, wy, ang in
            zip(first, second, pet[n].tolist(), t_first, t_second, where[n, 0].tolist(), where[n, 1].tolist(),
                angle[n].tolist())]


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
