"""Driving against the lane direction.

Lane centre lines are resampled every `LANE_STEP` metres into points that carry the lane's heading
and half width, indexed once per map in a k-d tree (scipy). A moving vehicle or bicycle is "in" a
lane where its centre lies within the lane's half width of the centre line. At a frame it drives
the wrong way when it is in at least one lane, none of the lanes it is in runs within 90 degrees of
its heading, and one runs more than `wrong_way_angle` against it (lanes crossing at right angles,
as inside an intersection, decide nothing). Runs shorter than `wrong_way_min_duration` are dropped.
Pedestrians and static objects are not checked; nor is reversing (the heading, not the direction
of travel, is compared). A raster of the lane directions each cell can be "in" (1 m cells, 30 degree
bins) settles most queries without the tree: where no lane within reach can run against the heading,
the answer is "not wrong-way" whatever the nearest points are.
"""
from __future__ import annotations

import functools
import weakref
from typing import Any

import numpy as np
from numpy.typing import NDArray

from engine.checks.config import LANE_DIRECTION_CLASSES, CheckConfig
from engine.checks.findings import Finding, FindingCode, Severity, name_of
from engine.checks.sampling import BoolArray, FloatArray, IntArray, SampledScene, runs
from engine.scenario.map_elements import RoadMap

LANE_STEP = 1.0      # m between resampled centre-line points
K_NEAREST = 12       # lane points looked at per query
DIRECTION_BINS = 12  # lane headings per raster cell, in bins of 30 degrees
RASTER_CELL = 1.0    # m, cell of the lane-direction raster (coarser for very large maps)
RASTER_MAX_CELLS = 4_000_000

_cache: dict[int, tuple[weakref.ref[RoadMap], "LaneIndex"]] = {}


class LaneIndex:
    """Resampled lane centre lines: points (M, 2), heading (M,), half_width (M,), lane (M,) index, tree."""

    def __init__(self, road_map: RoadMap) -> None:
        pts, head, half, lane = [], [], [], []
        self.lane_ids: list[str] = []
        for ln in road_map.lanes:
            c = ln.array
            if len(c) < 2:
                continue
            self.lane_ids.append(ln.id)
            seg = np.diff(c, axis=0)
            length = np.hypot(seg[:, 0], seg[:, 1])
            for s in np.flatnonzero(length > 1e-9):
                n = max(1, int(np.ceil(length[s] / LANE_STEP)))
                u = (np.arange(n) + 0.5) / n
                pts.append(c[s] + u[:, None] * seg[s])
                head.append(np.full(n, np.arctan2(seg[s, 1], seg[s, 0])))
                half.append(np.full(n, ln.width / 2))
                lane.append(np.full(n, len(self.lane_ids) - 1))
        self.points = np.concatenate(pts) if pts else np.zeros((0, 2))
        self.heading = np.concatenate(head) if head else np.zeros(0)
        self.half_width = np.concatenate(half) if half else np.zeros(0)
        self.lane = np.concatenate(lane) if lane else np.zeros(0, dtype=int)
        self._tree: Any = None   # the k-d tree, built by the first query the raster cannot settle
        self.max_half_width = float(self.half_width.max()) if len(self.half_width) else 0.0
        self._build_raster()

    def _build_raster(self) -> None:
        """Per raster cell, a bit per direction bin of the lane points a point in the cell can be "in".

        A point is in a lane point's lane when within half_width + LANE_STEP / 2 of it; a cell gets
        the bins of every lane point within that distance of some point of the cell (the cell's nearest
        point), so a cell's bits are a superset of the headings any point in it can be judged against.
        """
        self.bits: NDArray[np.uint16] | None = None
        if not len(self.points):
            return
        lo = self.points.min(axis=0) - self.max_half_width - 2 * LANE_STEP
        hi = self.points.max(axis=0) + self.max_half_width + 2 * LANE_STEP
        cell = max(RASTER_CELL, float(np.sqrt(np.prod(hi - lo) / RASTER_MAX_CELLS)))
        shape = (int(np.ceil((hi[1] - lo[1]) / cell)) + 1, int(np.ceil((hi[0] - lo[0]) / cell)) + 1)
        bins = np.floor((self.heading + np.pi) / (2 * np.pi / DIRECTION_BINS)).astype(np.int64) % DIRECTION_BINS
        radius = self.half_width + LANE_STEP / 2
        span = int(np.ceil(float(radius.max()) / cell)) + 1
        off = np.arange(-span, span + 1)
        oy, ox = (v.ravel() for v in np.meshgrid(off, off, indexing="ij"))
        cy = np.floor((self.points[:, 1] - lo[1]) / cell).astype(np.int64)[:, None] + oy[None, :]
        cx = np.floor((self.points[:, 0] - lo[0]) / cell).astype(np.int64)[:, None] + ox[None, :]
        # distance from the lane point to the nearest point of the cell [x0, x0 + cell) x [y0, y0 + cell)
        gx = np.maximum(np.abs(lo[0] + (cx + 0.5) * cell - self.points[:, :1]) - cell / 2, 0.0)
        gy = np.maximum(np.abs(lo[1] + (cy + 0.5) * cell - self.points[:, 1:]) - cell / 2, 0.0)
        near = np.hypot(gx, gy) <= radius[:, None] + 1e-6
        near &= (cy >= 0) & (cy < shape[0]) & (cx >= 0) & (cx < shape[1])
        bits = np.zeros(shape, dtype=np.uint16)
        flat = (cy * shape[1] + cx)[near]
        point_bin = np.broadcast_to(bins[:, None], near.shape)[near]
        for b in range(DIRECTION_BINS):
            cells = flat[point_bin == b]
            if cells.size:
                mark = np.zeros(bits.size, dtype=bool)
                mark[cells] = True
                bits.ravel()[mark] |= np.uint16(1 << b)
        self.bits, self.raster_origin, self.raster_cell = bits, lo, cell

    def _cannot_be_against(self, xy: FloatArray, yaw: FloatArray, wrong_way_angle: float) -> BoolArray:
        """(N,) True where no lane point the query can be in runs against `yaw` by more than wrong_way_angle
        (then the query is not wrong-way); False where it may (the exact test decides)."""
        if self.bits is None:
            return np.zeros(xy.shape[0], dtype=bool)
        ix = np.floor((xy[:, 0] - self.raster_origin[0]) / self.raster_cell).astype(np.int64)
        iy = np.floor((xy[:, 1] - self.raster_origin[1]) / self.raster_cell).astype(np.int64)
        on = (ix >= 0) & (ix < self.bits.shape[1]) & (iy >= 0) & (iy < self.bits.shape[0])
        cell_bits = np.zeros(xy.shape[0], dtype=np.uint16)
        cell_bits[on] = self.bits[iy[on], ix[on]]
        # a bin may hold a heading against yaw when its farthest heading is more than the angle away; per
        # yaw, looked up in a table over YAW_STEPS slices of the circle (conservative within a slice)
        table = _risky_table(wrong_way_angle)
        k = np.floor((yaw + np.pi) * (YAW_STEPS / (2 * np.pi))).astype(np.int64) % YAW_STEPS
        risky_bits = table[k]
        out: BoolArray = on & ((cell_bits & risky_bits) == 0)
        return out

    def query(self, xy: FloatArray, yaw: FloatArray, wrong_way_angle: float) -> tuple[BoolArray, IntArray]:
        """For points (N, 2) with headings (N,): wrong-way flags (N,) and the lane index opposed (N,), -1 if none."""
        n = xy.shape[0]
        flag = np.zeros(n, dtype=bool)
        opposed = np.full(n, -1)
        if not len(self.points) or n == 0:
            return flag, opposed
        # the raster settles most queries (no lane they can be in runs against them); the rest go to the tree
        todo = np.flatnonzero(~self._cannot_be_against(xy, yaw, wrong_way_angle))
        if todo.size == 0:
            return flag, opposed
        f, o = self._query_tree(xy[todo], yaw[todo], wrong_way_angle)
        flag[todo], opposed[todo] = f, o
        return flag, opposed

    @property
    def tree(self) -> Any:
        """scipy's cKDTree of the lane points (built on first use: most scenes never need it, and importing
        scipy.spatial costs about 0.15 s of a command's start-up); None when the map has no lanes."""
        if self._tree is None and len(self.points):
            self._tree = _kd_tree_class()(self.points)
        return self._tree

    def _query_tree(self, xy: FloatArray, yaw: FloatArray, wrong_way_angle: float) -> tuple[BoolArray, IntArray]:
        """`query` by the k-d tree alone."""
        n = xy.shape[0]
        flag = np.zeros(n, dtype=bool)
        opposed = np.full(n, -1)
        tree = self.tree
        reach = self.max_half_width + LANE_STEP / 2
        # first the nearest lane point: inside its lane and agreeing settles most queries
        d1, i1 = tree.query(xy, k=1, distance_upper_bound=reach)
        found = i1 < len(self.points)
        j1 = np.where(found, i1, 0)
        settled = ~found | ((d1 <= self.half_width[j1] + LANE_STEP / 2) & (np.cos(yaw - self.heading[j1]) > 0.0))
        rest = np.flatnonzero(~settled)
        if rest.size == 0:
            return flag, opposed
        k = min(K_NEAREST, len(self.points))
        d, idx = tree.query(xy[rest], k=k, distance_upper_bound=reach)
        d, idx = d.reshape(rest.size, k), idx.reshape(rest.size, k)
        valid = idx < len(self.points)
        safe = np.where(valid, idx, 0)
        inside = valid & (d <= self.half_width[safe] + LANE_STEP / 2)
        cosang = np.cos(yaw[rest][:, None] - self.heading[safe])
        agree = (inside & (cosang > 0.0)).any(1)
        against = inside & (cosang < np.cos(wrong_way_angle))
        f = against.any(1) & ~agree
        first = np.argmax(against, axis=1)
        flag[rest] = f
        opposed[rest] = np.where(f, self.lane[safe[np.arange(rest.size), first]], -1)
        return flag, opposed


def _kd_tree_class() -> Any:
    """scipy's cKDTree, from `scipy.spatial._ckdtree` without `scipy.spatial`'s package import (qhull,
    distances, rotations: about 0.1 s of a `check`'s start-up); the public import if that fails."""
    from engine.importing import import_skipping_package_inits

    try:
        return import_skipping_package_inits("scipy.spatial._ckdtree").cKDTree
    except (ImportError, AttributeError):   # a scipy that moved it: the public name
        from scipy.spatial import cKDTree

        return cKDTree


YAW_STEPS = 720     # slices of the heading circle of the risky-bins table


@functools.lru_cache(maxsize=8)
def _risky_table(wrong_way_angle: float) -> NDArray[np.uint16]:
    """(YAW_STEPS,) per slice of yaw, the direction bins that may hold a heading more than
    `wrong_way_angle` from some yaw in the slice (the farthest pair of angles, plus slack)."""
    width, step = 2 * np.pi / DIRECTION_BINS, 2 * np.pi / YAW_STEPS
    centres = -np.pi + (np.arange(DIRECTION_BINS) + 0.5) * width
    yaw = -np.pi + (np.arange(YAW_STEPS) + 0.5) * step
    gap = np.abs((yaw[:, None] - centres[None, :] + np.pi) % (2 * np.pi) - np.pi)
    risky = gap + width / 2 + step / 2 + 1e-6 > wrong_way_angle
    out: NDArray[np.uint16] = (risky.astype(np.uint16) << np.arange(DIRECTION_BINS, dtype=np.uint16)[None, :]).sum(
        axis=1, dtype=np.uint16)
    return out


def lane_index(road_map: RoadMap) -> LaneIndex:
    """The LaneIndex of a map, built once per RoadMap object."""
    key = id(road_map)
    hit = _cache.get(key)
    if hit is not None and hit[0]() is road_map:
        return hit[1]
    idx = LaneIndex(road_map)
    for k in [k for k, (ref, _) in _cache.items() if ref() is None]:
        del _cache[k]
    _cache[key] = (weakref.ref(road_map), idx)
    return idx


def wrong_way_findings(scene: SampledScene, road_map: RoadMap, cfg: CheckConfig) -> list[Finding]:
    """A warning per run of at least `wrong_way_min_duration` driving against the lanes."""
    if not road_map.lanes:
        return [Finding(FindingCode.MAP_INCOMPLETE, Severity.INFO, scene.times[0], scene.times[-1], (),
                        "The map has no lanes: the lane direction was not checked.")]
    index = lane_index(road_map)
    rows = np.array([r for r, c in enumerate(scene.classes) if c in LANE_DIRECTION_CLASSES], dtype=int)
    if rows.size == 0:
        return []
    active = scene.present[rows] & (scene.speed[rows] >= cfg.lane_min_speed)
    r_idx, k_idx = np.nonzero(active)
    if r_idx.size == 0:
        return []
    xy = np.stack([scene.x[rows][r_idx, k_idx], scene.y[rows][r_idx, k_idx]], -1)
    flag, opposed = index.query(xy, scene.yaw[rows][r_idx, k_idx], cfg.wrong_way_angle)
    wrong = np.zeros(active.shape, dtype=bool)
    lane_of = np.full(active.shape, -1)
    wrong[r_idx, k_idx] = flag
    lane_of[r_idx, k_idx] = opposed
    min_frames = max(1, int(np.ceil(cfg.wrong_way_min_duration / scene.dt - 1e-9)))
    out = []
    for r in np.flatnonzero(wrong.any(1)):
        for k0, k1 in runs(wrong[r]):
            if k1 - k0 + 1 < min_frames:
                continue
            row = int(rows[r])
            aid = scene.ids[row]
            lanes = sorted({index.lane_ids[l] for l in lane_of[r, k0:k1 + 1] if l >= 0})
            out.append(Finding(
                FindingCode.WRONG_WAY, Severity.WARNING, scene.times[k0], scene.times[k1], (aid,),
                f"{name_of(aid, True)} drives against the direction of lane {', '.join(lanes)} from {scene.times[k0]:.2f} "
                f"to {scene.times[k1]:.2f} s.", (float(scene.x[row, k0]), float(scene.y[row, k0])),
                {"duration": float(scene.times[k1] - scene.times[k0])}))
    return out
