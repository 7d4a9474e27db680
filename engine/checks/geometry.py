"""Vectorised geometry of oriented footprint boxes on the ground plane.

A box is its centre (x, y), its yaw (rad, CCW from +x) and its half length ``hl`` (along the heading)
and half width ``hw``. Every function broadcasts over any leading shape, so the same code serves one
pair of boxes, (P, T) pairs-by-frames, or (Ta, Tb) time-by-time matrices.

Separating-axis test (SAT): two convex polygons are disjoint iff their projections on some edge
normal are disjoint; rectangles have two normals each, so four axes decide.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from engine.geometry import CORNER_SIGNS as _CORNER_SIGNS  # front-left, rear-left, rear-right, front-right
from engine.geometry import footprint_corners

FloatArray = NDArray[np.float64]
Num = FloatArray | float                      # an array of any (broadcastable) shape, or a scalar
Trig = tuple[Num, Num, Num, Num]              # cos yaw_a, sin yaw_a, cos yaw_b, sin yaw_b
Axes4 = tuple[Num, Num, Num, Num]             # four arrays (or scalars) of one broadcast shape


def box_corners(x: Num, y: Num, yaw: Num, hl: Num, hw: Num) -> FloatArray:
    """Footprint corners, shape (..., 4, 2), for centres/yaws of shape (...) and half sizes broadcastable to it."""
    return footprint_corners(x, y, yaw, hl, hw)


def _trig(yaw_a: Num | None, yaw_b: Num | None, trig: Trig | None) -> Trig:
    """cos / sin of both yaws: `trig` when given, else computed (then the yaws must be given)."""
    if trig is not None:
        return trig
    if yaw_a is None or yaw_b is None:
        raise ValueError("the yaws are needed when trig is not given")
    return np.cos(yaw_a), np.sin(yaw_a), np.cos(yaw_b), np.sin(yaw_b)


def _axis_terms(dx: Num, dy: Num, hl_a: Num, hw_a: Num, hl_b: Num, hw_b: Num,
                ca: Num, sa: Num, cb: Num, sb: Num) -> tuple[Axes4, Axes4]:
    """Centre offsets d and half-sum extents r on the four SAT axes (a's length and width axes, then b's)."""
    c = np.abs(ca * cb + sa * sb)          # |cos(yaw_b - yaw_a)|
    s = np.abs(sa * cb - ca * sb)          # |sin(yaw_b - yaw_a)|
    d = (dx * ca + dy * sa, dy * ca - dx * sa, dx * cb + dy * sb, dy * cb - dx * sb)
    r = (hl_a + hl_b * c + hw_b * s, hw_a + hl_b * s + hw_b * c,
         hl_b + hl_a * c + hw_a * s, hw_b + hl_a * s + hw_a * c)
    return d, r


def obb_penetration(dx: Num, dy: Num, yaw_a: Num | None, hl_a: Num, hw_a: Num, yaw_b: Num | None, hl_b: Num,
                    hw_b: Num, trig: Trig | None = None) -> FloatArray:
    """Signed SAT depth of two oriented rectangles, broadcast shape (...).

    dx, dy: centre of b minus centre of a. Positive: the boxes overlap, and this is the smallest
    translation that separates them (the penetration depth). Zero or negative: they are apart, and
    minus the value is the largest gap along one of the four axes (a lower bound on the true gap).
    trig: (cos yaw_a, sin yaw_a, cos yaw_b, sin yaw_b) when already at hand.
    """
    d, r = _axis_terms(dx, dy, hl_a, hw_a, hl_b, hw_b, *_trig(yaw_a, yaw_b, trig))
    out: FloatArray = r[0] - np.abs(d[0])
    for dk, rk in zip(d[1:], r[1:]):
        out = np.minimum(out, rk - np.abs(dk))
    return out


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
    v4 = (rvx * ca + rvy * sa, rvy * ca - rvx * sa, rvx * cb + rvy * sb, rvy * cb - rvx * sb)
    t_enter: FloatArray | None = None
    t_exit: FloatArray | None = None
    for d, r, v in zip(d4, r4, v4):      # axis by axis, the running max / min of the interval ends
        moving = np.abs(v) > 1e-9
        safe_v = np.where(moving, v, 1.0)
        t1 = (-r - d) / safe_v
        t2 = (r - d) / safe_v
        inside_now = np.abs(d) < r
        lo = np.where(moving, np.minimum(t1, t2), np.where(inside_now, -np.inf, np.inf))
        hi = np.where(moving, np.maximum(t1, t2), np.where(inside_now, np.inf, -np.inf))
        t_enter = lo if t_enter is None else np.maximum(t_enter, lo)
        t_exit = hi if t_exit is None else np.minimum(t_exit, hi)
    assert t_enter is not None and t_exit is not None      # four axes
    hit = (t_enter <= t_exit) & (t_exit > 0.0)
    out: FloatArray = np.where(hit, np.maximum(t_enter, 0.0), np.inf)
    return out


def _corner_box_distance(cx: Num, cy: Num, c: Num, s: Num, hl_p: Num, hw_p: Num, hl_q: Num, hw_q: Num) -> FloatArray:
    """Least distance from the 4 corners of box p to the axis-aligned box q (half sizes hl_q, hw_q).

    Box p has its centre at (cx, cy) in q's frame and is rotated by the angle with cosine c and
    sine s relative to q. Result broadcasts to the shape of the inputs.
    """
    best: FloatArray | None = None
    for sl, sw in _CORNER_SIGNS:
        px = cx + c * sl * hl_p - s * sw * hw_p
        py = cy + s * sl * hl_p + c * sw * hw_p
        d: FloatArray = np.hypot(np.maximum(np.abs(px) - hl_q, 0.0), np.maximum(np.abs(py) - hw_q, 0.0))
        best = d if best is None else np.minimum(best, d)
    assert best is not None      # four corners
    return best


def obb_gap(dx: Num, dy: Num, yaw_a: Num | None, hl_a: Num, hw_a: Num, yaw_b: Num | None, hl_b: Num, hw_b: Num,
            depth: FloatArray | None = None, trig: Trig | None = None) -> FloatArray:
    """Exact distance between two oriented rectangles (0 where they overlap), broadcast shape (...).

    dx, dy: centre of b minus centre of a. Two disjoint convex polygons are closest at a vertex of
    one of them, so the gap is the least distance from a corner of either box to the other box,
    each measured in the other box's own frame (where the box is axis-aligned). `depth`: the
    `obb_penetration` of the same boxes when already known; trig as for `obb_penetration`.
    """
    ca, sa, cb, sb = _trig(yaw_a, yaw_b, trig)
    c = ca * cb + sa * sb            # cos(yaw_b - yaw_a)
    s = ca * sb - sa * cb            # sin(yaw_b - yaw_a)
    b_in_a = _corner_box_distance(dx * ca + dy * sa, -dx * sa + dy * ca, c, s, hl_b, hw_b, hl_a, hw_a)
    a_in_b = _corner_box_distance(-(dx * cb + dy * sb), dx * sb - dy * cb, c, -s, hl_a, hw_a, hl_b, hw_b)
    gap = np.minimum(b_in_a, a_in_b)
    if depth is None:
        depth = obb_penetration(dx, dy, yaw_a, hl_a, hw_a, yaw_b, hl_b, hw_b, trig=(ca, sa, cb, sb))
    out: FloatArray = np.where(depth > 0.0, 0.0, gap)
    return out


def headings_from_velocity(vx: FloatArray, vy: FloatArray, yaw: FloatArray, min_speed: float = 0.2) -> FloatArray:
    """Direction of travel (rad), falling back to the yaw where slower than `min_speed`; shape of the inputs."""
    moving = np.hypot(vx, vy) >= min_speed
    out: FloatArray = np.where(moving, np.arctan2(vy, vx), yaw)
    return out


CLIP_MIN_DEPTH = 1e-2   # m: pairs whose projections overlap at least this much on every SAT axis, and
CLIP_MIN_AREA = 1e-4    # m2: whose overlap has at least this area, take the array path of `overlap_centroids`
CLIP_MIN_COUNT = 32     # pairs below which shapely alone is faster


def _sat_depth_of_corners(ca: FloatArray, cb: FloatArray) -> FloatArray:
    """(N,) SAT depth of two sets of rectangles given by their corners (N, 4, 2): the least overlap of
    their projections on the four edge normals (negative where apart)."""
    out = np.full(ca.shape[0], np.inf)
    for poly in (ca, cb):
        for e in (0, 1):
            n = poly[:, e + 1] - poly[:, e]                                   # (N, 2) edge, then its normal
            nx, ny = -n[:, 1:2], n[:, 0:1]
            pa = ca[:, :, 0] * nx + ca[:, :, 1] * ny                          # (N, 4) projections
            pb = cb[:, :, 0] * nx + cb[:, :, 1] * ny
            lo, hi = np.maximum(pa.min(1), pb.min(1)), np.minimum(pa.max(1), pb.max(1))
            out = np.minimum(out, (hi - lo) / np.maximum(np.hypot(nx[:, 0], ny[:, 0]), 1e-300))
    return out


def _convex_overlap_centroids(ca: FloatArray, cb: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(N, 2) centroids and (N,) areas of the intersections of N pairs of convex quadrilaterals (N, 4, 2) that overlap.

    The intersection is the convex hull of the corners of each inside the other and of the crossings
    of their edges; those points, ordered by angle around their mean, give the area-weighted centroid
    (shoelace, relative to the mean for precision).
    """
    N = ca.shape[0]

    def inside(p: FloatArray, poly: FloatArray) -> NDArray[np.bool_]:
        """(N, M) points p (N, M, 2) inside (or on) the convex polygons poly (N, 4, 2)."""
        e0, e1 = poly, np.roll(poly, -1, axis=1)                            # (N, 4, 2) edges
        ex, ey = (e1 - e0)[:, None, :, 0], (e1 - e0)[:, None, :, 1]         # (N, 1, 4)
        cr = ex * (p[:, :, None, 1] - e0[:, None, :, 1]) - ey * (p[:, :, None, 0] - e0[:, None, :, 0])  # (N, M, 4)
        scale = 1e-9 * (np.abs(ex) + np.abs(ey)) * (1.0 + np.abs(e0[:, None, :, 0]) + np.abs(e0[:, None, :, 1]))
        out: NDArray[np.bool_] = (cr >= -scale).all(2) | (cr <= scale).all(2)
        return out

    a0, a1 = ca, np.roll(ca, -1, axis=1)
    b0, b1 = cb, np.roll(cb, -1, axis=1)
    r = (a1 - a0)[:, :, None, :]                                             # (N, 4, 1, 2)
    q = (b1 - b0)[:, None, :, :]                                             # (N, 1, 4, 2)
    w = b0[:, None, :, :] - a0[:, :, None, :]                                # (N, 4, 4, 2)
    den = r[..., 0] * q[..., 1] - r[..., 1] * q[..., 0]                      # (N, 4, 4)
    safe = np.where(den == 0.0, 1.0, den)
    t = (w[..., 0] * q[..., 1] - w[..., 1] * q[..., 0]) / safe
    u = (w[..., 0] * r[..., 1] - w[..., 1] * r[..., 0]) / safe
    cross_ok = (den != 0.0) & (t >= 0.0) & (t <= 1.0) & (u >= 0.0) & (u <= 1.0)
    cross_pt = a0[:, :, None, :] + t[..., None] * r                          # (N, 4, 4, 2)
    pts = np.concatenate([ca, cb, cross_pt.reshape(N, 16, 2)], axis=1)       # (N, 24, 2)
    ok = np.concatenate([inside(ca, cb), inside(cb, ca), cross_ok.reshape(N, 16)], axis=1)
    cnt = ok.sum(1)
    mean = (pts * ok[..., None]).sum(1) / np.maximum(cnt, 1)[:, None]
    rel = pts - mean[:, None, :]
    ang = np.where(ok, np.arctan2(rel[..., 1], rel[..., 0]), np.inf)
    order = np.argsort(ang, axis=1, kind="stable")
    rel = np.take_along_axis(rel, order[..., None], axis=1)
    # the unused slots (sorted last) repeat the first point: zero-area terms of the shoelace sum
    used = np.arange(pts.shape[1])[None, :] < cnt[:, None]
    rel = np.where(used[..., None], rel, rel[:, :1, :])
    nxt = np.roll(rel, -1, axis=1)
    cr = rel[..., 0] * nxt[..., 1] - nxt[..., 0] * rel[..., 1]               # (N, 24)
    area = cr.sum(1) / 2
    cx = ((rel[..., 0] + nxt[..., 0]) * cr).sum(1) / (6 * area)
    cy = ((rel[..., 1] + nxt[..., 1]) * cr).sum(1) / (6 * area)
    return mean + np.stack([cx, cy], -1), area


def overlap_centroids(corners_a: FloatArray, corners_b: FloatArray) -> FloatArray:
    """Centroids (N, 2) of the intersections of N pairs of footprints (N, 4, 2); the midpoint of the
    two centres where they only touch or are apart.

    From `CLIP_MIN_COUNT` pairs on, those clearly overlapping (`CLIP_MIN_DEPTH`, `CLIP_MIN_AREA`) are
    intersected with array operations (`_convex_overlap_centroids`, the same centroids to rounding),
    the others (touching, thin slivers, apart) with shapely.
    """
    import shapely

    ca, cb = np.asarray(corners_a, dtype=np.float64), np.asarray(corners_b, dtype=np.float64)
    mid: FloatArray = (ca.mean(-2) + cb.mean(-2)) / 2
    if ca.shape[0] == 0:
        return mid
    out = mid.copy()
    deep = np.flatnonzero(_sat_depth_of_corners(ca, cb) >= CLIP_MIN_DEPTH) if ca.shape[0] >= CLIP_MIN_COUNT \
        else np.zeros(0, dtype=np.intp)
    if deep.size:
        centre, area = _convex_overlap_centroids(ca[deep], cb[deep])
        good = area >= CLIP_MIN_AREA
        out[deep[good]] = centre[good]
        deep = deep[good]
    todo = np.ones(ca.shape[0], dtype=bool)
    todo[deep] = False
    rest = np.flatnonzero(todo)
    if rest.size:
        inter = shapely.intersection(shapely.polygons(ca[rest]), shapely.polygons(cb[rest]))
        ok = shapely.area(inter) > 0.0
        if ok.any():
            out[rest[ok]] = shapely.get_coordinates(shapely.centroid(inter[ok]))
    return out
