"""Every pair of agents over the clip: centre distance, box overlap and footprint gap where they are close.

Pairs are the upper triangle of the agent rows (i < j), so pairs with the ego (row 0) come first.
Three prefilters keep the work proportional to the pairs that actually come close:

1. blocks of `BLOCK` frames: the bounding box of each agent's centres over a block, grown by the
   two half diagonals and the reach of interest, must meet the other's for the block's frames to
   be looked at (for all pairs, found by a sweep over the boxes sorted along x in each block, so
   the work grows with the agents and the pairs that come close, not with all pairs);
2. bounding circles: the centre distance must be within the two half diagonals plus the reach;
3. the separating-axis test gives the overlap depth, and minus the depth is a lower bound on the
   gap, so the exact gap (`obb_gap`) is only computed where that bound is below `gap_reach`.

The result is a list of evaluated entries (pair, frame) plus dense (P, T) masks for the run logic.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable

import numpy as np
from numpy.typing import NDArray

from engine.checks.geometry import obb_gap, obb_penetration
from engine.checks.sampling import BoolArray, FloatArray, IntArray, SampledScene

BLOCK = 12   # frames per block of the first prefilter (1 s at 12 Hz)


@dataclass(frozen=True, eq=False)
class PairGrid:
    """Pairs (i, j) of agent rows and what is known about them frame by frame.

    i, j: (P,) rows, i < j. Evaluated entries: p, k (E,) pair index and frame of every entry whose
    centre distance is within the two half diagonals plus `reach` (the larger of `gap_reach` and the
    two agents' largest frame steps); dist, depth (E,) there (depth NaN beyond `gap_reach`); gap
    (E,) exact footprint gap where it may be below `gap_reach` (NaN where it is known to be at
    least that); hit (E,) depth above the contact tolerance. The entries are sorted by (p, k), each
    (pair, frame) at most once. overlap (built on first use): (P, T) bool, `hit` spread over the
    pairs and frames (False where not evaluated).
    """

    i: IntArray
    j: IntArray
    num_frames: int
    p: IntArray
    k: IntArray
    dist: FloatArray
    depth: FloatArray
    gap: FloatArray
    hit: BoolArray

    @cached_property
    def overlap(self) -> BoolArray:
        """(P, T) bool: the boxes overlap by more than the contact tolerance (False where not evaluated)."""
        out = np.zeros((self.i.size, self.num_frames), dtype=bool)
        out[self.p[self.hit], self.k[self.hit]] = True
        return out

    def hit_next(self) -> BoolArray:
        """(E,) whether each entry's pair also overlaps at the next frame (False where not evaluated there)."""
        out = np.zeros(self.p.size, dtype=bool)
        if self.p.size > 1:
            out[:-1] = self.hit[1:] & (self.p[1:] == self.p[:-1]) & (self.k[1:] == self.k[:-1] + 1)
        return out

    def dense(self, values: NDArray[np.float64], fill: float) -> FloatArray:
        """(P, T) array of per-entry `values` (E,), `fill` where not evaluated."""
        out = np.full((self.i.size, self.num_frames), fill, dtype=np.result_type(values, type(fill)))
        out[self.p, self.k] = values
        return out


def pair_rows(num_agents: int) -> tuple[IntArray, IntArray]:
    """(P,) i and j rows of every unordered pair, i < j, ego pairs first."""
    i, j = np.triu_indices(num_agents, 1)
    return i, j


def max_steps(scene: SampledScene) -> FloatArray:
    """(A,) the longest distance each agent moves between two consecutive frames (both present); computed
    once per scene (`SampledScene.max_steps`)."""
    return scene.max_steps


def _block_candidates(scene: SampledScene, i: IntArray, j: IntArray, grow: FloatArray) -> tuple[IntArray, IntArray]:
    """(pair, frame) entries whose blocks pass the bounding-box test with pair margins `grow` (P,)."""
    T = scene.num_frames
    x0, x1, y0, y1 = _blocked_boxes(scene)
    g = grow[:, None]
    ok = (x0[i] - g <= x1[j]) & (x0[j] - g <= x1[i]) & (y0[i] - g <= y1[j]) & (y0[j] - g <= y1[i])
    pb, bb = np.nonzero(ok)
    k = (bb[:, None] * BLOCK + np.arange(BLOCK)[None, :]).ravel()
    p = np.repeat(pb, BLOCK)
    keep = k < T
    return p[keep], k[keep]


def _blocked_boxes(scene: SampledScene) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """(A, nb) x0, x1, y0, y1: bounding box of each agent's centres over each block of frames (+-inf when absent)."""
    A, T = scene.num_agents, scene.num_frames
    nb = -(-T // BLOCK)
    pad = nb * BLOCK - T

    def blocked(v: FloatArray, fill: float, fn: Callable[..., FloatArray]) -> FloatArray:
        w = np.where(scene.present, v, fill)
        if pad:
            w = np.concatenate([w, np.full((A, pad), fill)], axis=1)
        return fn(w.reshape(A, nb, BLOCK), axis=2)

    return (blocked(scene.x, np.inf, np.min), blocked(scene.x, -np.inf, np.max),
            blocked(scene.y, np.inf, np.min), blocked(scene.y, -np.inf, np.max))


def _all_block_candidates(scene: SampledScene, step: FloatArray, gap_reach: float) -> tuple[IntArray, IntArray]:
    """`_block_candidates` of every pair (pair_rows order), found without looking at every pair.

    The pair margin r_i + r_j + max(gap_reach, s_i + s_j) is at most e_i + e_j with the per-agent
    e = r + max(gap_reach, 2 s) / 2, so a pair passing the test has overlapping boxes when each is
    grown by its own e: per block, a sweep over the grown x-intervals sorted by their start, then the
    grown y-intervals, give a superset of the pairs, and the pair test itself keeps exactly the old set
    (same arithmetic). Work ~ agents log agents + close pairs per block, instead of agents^2.
    """
    A, T = scene.num_agents, scene.num_frames
    x0, x1, y0, y1 = _blocked_boxes(scene)
    e = scene.radius + np.maximum(gap_reach, 2.0 * step) / 2
    e = e * (1.0 + 1e-9) + 1e-9                     # slack for rounding: the sweep may only keep more
    found_i, found_j, found_b = [], [], []
    for blk in range(x0.shape[1]):
        lo, hi = x0[:, blk] - e, x1[:, blk] + e
        valid = np.flatnonzero(np.isfinite(lo))     # agents present in the block
        order = valid[np.argsort(lo[valid], kind="stable")]
        start = np.arange(1, order.size + 1)
        cnt = np.maximum(np.searchsorted(lo[order], hi[order], side="right") - start, 0)
        qi = np.repeat(np.arange(order.size), cnt)
        qj = np.arange(qi.size) - np.repeat(np.cumsum(cnt) - cnt - start, cnt)
        a, c = order[qi], order[qj]
        ok = (y0[a, blk] - e[a] <= y1[c, blk] + e[c]) & (y0[c, blk] - e[c] <= y1[a, blk] + e[a])
        a, c = a[ok], c[ok]
        found_i.append(np.minimum(a, c))
        found_j.append(np.maximum(a, c))
        found_b.append(np.full(a.size, blk, dtype=np.intp))
    i, j, bb = np.concatenate(found_i), np.concatenate(found_j), np.concatenate(found_b)
    g = (scene.radius[i] + scene.radius[j]) + np.maximum(gap_reach, step[i] + step[j])   # as in pair_grid
    ok = ((x0[i, bb] - g <= x1[j, bb]) & (x0[j, bb] - g <= x1[i, bb]) & (y0[i, bb] - g <= y1[j, bb])
          & (y0[j, bb] - g <= y1[i, bb]))
    i, j, bb = i[ok], j[ok], bb[ok]
    pb = i * (2 * A - i - 1) // 2 + (j - i - 1)     # index of (i, j) among pair_rows(A)
    order = np.lexsort((bb, pb))
    pb, bb = pb[order], bb[order]
    k = (bb[:, None] * BLOCK + np.arange(BLOCK)[None, :]).ravel()
    p = np.repeat(pb, BLOCK)
    keep = k < T
    return p[keep], k[keep]


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
    # flat (row * T + frame) indices: one 1-D gather per array instead of 2-D fancy indexing
    fi, fj = i[p] * T + k, j[p] * T + k
    present = scene.present.ravel()
    keep = np.flatnonzero(present[fi] & present[fj])
    p, k, fi, fj = p[keep], k[keep], fi[keep], fj[keep]
    X, Y = scene.x.ravel(), scene.y.ravel()
    dx, dy = X[fj] - X[fi], Y[fj] - Y[fi]
    dist = np.hypot(dx, dy)
    keep = np.flatnonzero(dist <= rsum[p] + reach[p])
    p, k, fi, fj, dx, dy, dist = p[keep], k[keep], fi[keep], fj[keep], dx[keep], dy[keep], dist[keep]
    depth = np.full(p.size, np.nan)
    gap = np.full(p.size, np.nan)
    m = np.flatnonzero(dist <= rsum[p] + gap_reach)
    if m.size:
        ia, ja = i[p[m]], j[p[m]]
        fa, fb = fi[m], fj[m]
        C, S = scene.cos_yaw.ravel(), scene.sin_yaw.ravel()
        geo = (dx[m], dy[m], scene.half_length[ia], scene.half_width[ia], scene.half_length[ja], scene.half_width[ja])
        trig = (C[fa], S[fa], C[fb], S[fb])
        d = obb_penetration(geo[0], geo[1], None, geo[2], geo[3], None, geo[4], geo[5], trig=trig)
        depth[m] = d
        need = np.flatnonzero(-d < gap_reach)          # minus the depth is a lower bound on the gap
        if need.size:
            dxn, dyn, hla, hwa, hlb, hwb = (v[need] for v in geo)
            ca, sa, cb, sb = (v[need] for v in trig)
            gap[m[need]] = obb_gap(dxn, dyn, None, hla, hwa, None, hlb, hwb, depth=d[need], trig=(ca, sa, cb, sb))
    hit = np.nan_to_num(depth, nan=-np.inf) > contact_tolerance
    return PairGrid(i=i, j=j, num_frames=T, p=p, k=k, dist=dist, depth=depth, gap=gap, hit=hit)
