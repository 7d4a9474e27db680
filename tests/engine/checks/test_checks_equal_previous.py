"""The checks report what the previous implementation reported, on randomized scenarios.

`data/previous_reports.json` holds the `CheckReport.to_dict()` of every scenario below as computed by
the implementation before the speed-ups of issue 19 (commit 9a98b7d). Codes, severities, agents, times
and messages must match exactly; numbers to 1e-9 relative (the same arithmetic; the tolerance only
absorbs last-bit differences of vectorised math between CPUs).

Regenerate (only when a change of findings is intended, and say so in the commit):

    python tests/engine/checks/test_checks_equal_previous.py --write
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from engine.checks import CheckConfig, check_scenario
from engine.checks import collisions as collisions_module
from engine.checks import lanes as lanes_module
from engine.checks import pairs as pairs_module
from engine.checks import pet as pet_module
from engine.checks.sampling import SampledScene
from engine.classes import default_size
from engine.roadmap.procedural import IntersectionLayout, intersection_map, straight_road_map
from engine.scenario.model import EGO_ID, Agent, Intent, Scenario
from engine.scenario.trajectory import Trajectory
from reference_checks import crossing_member

DATA = Path(__file__).parent / "data" / "previous_reports.json"
CLASSES = ("car", "car", "car", "truck", "bus", "pedestrian", "pedestrian", "bicycle", "motorcycle",
           "traffic_cone", "barrier")
# (seed, agents, duration s, area side m, key step s)
CASES = [(0, 8, 3.0, 50.0, 0.5), (1, 20, 6.0, 60.0, 0.5), (2, 40, 10.0, 80.0, 1.0), (3, 60, 4.0, 70.0, 0.25),
         (4, 30, 8.0, 40.0, 0.5), (5, 60, 12.0, 120.0, 1.0), (6, 15, 20.0, 100.0, 2.0), (7, 50, 5.0, 45.0, 0.5)]


def random_scenario(seed: int, n: int, duration: float, area: float, step: float) -> Scenario:
    """n agents on straight, curving, braking, standing or short-lived paths around an intersection.

    Each agent's keys span a random sub-window of the clip (it appears and disappears), some stand,
    some reverse or turn hard (infeasible), one in ten teleports; a few intents are declared.
    """
    rng = np.random.default_rng(seed)
    road = intersection_map(IntersectionLayout(center_x=0.0, west_extent=-area, east_extent=area, cross_extent=area))

    def traj(cls: str) -> Trajectory:
        if cls in ("traffic_cone", "barrier") or rng.uniform() < 0.08:
            return Trajectory.static(*rng.uniform(-area / 2, area / 2, 2), rng.uniform(-math.pi, math.pi),
                                     t0=float(rng.choice([0.0, rng.uniform(0, duration / 2)])))
        t0 = 0.0 if rng.uniform() < 0.6 else rng.uniform(0.0, duration / 2)
        t1 = duration if rng.uniform() < 0.6 else rng.uniform(t0 + step, duration + step)
        t = np.round(np.arange(t0, t1 + 1e-9, step), 6)
        if t.size < 2:
            t = np.array([t0, t0 + step])
        speed = rng.uniform(0.8, 3.0) if cls == "pedestrian" else rng.uniform(2.0, 16.0)
        yaw0, turn = rng.uniform(-math.pi, math.pi), rng.uniform(-0.3, 0.3) * (3.0 if rng.uniform() < 0.1 else 1.0)
        accel = rng.uniform(-3.0, 1.5) if rng.uniform() < 0.3 else 0.0
        tau = t - t[0]
        v = np.maximum(speed + accel * tau, 0.0)
        yaw = yaw0 + turn * tau
        h = np.diff(tau, prepend=tau[0])
        start = rng.uniform(-area / 3, area / 3, 2) - 0.4 * speed * (t[-1] - t[0]) * np.array([math.cos(yaw0), math.sin(yaw0)])
        x = start[0] + np.cumsum(np.cos(yaw) * v * h)
        y = start[1] + np.cumsum(np.sin(yaw) * v * h)
        if rng.uniform() < 0.1 and t.size > 3:          # a jump
            k = int(rng.integers(1, t.size - 1))
            x[k:] += rng.uniform(5.0, 15.0)
        face = yaw + (math.pi if rng.uniform() < 0.05 else 0.0)   # reversing or sliding now and then
        return Trajectory.from_arrays(t, x, y, face)

    agents = []
    for i in range(n):
        cls = CLASSES[int(rng.integers(len(CLASSES)))]
        agents.append(Agent(id=f"{cls}_{i + 1}", cls=cls, size=default_size(cls), trajectory=traj(cls)))
    ego = Agent(id=EGO_ID, cls="car", size=default_size("car"), trajectory=traj("car"))
    ids = [a.id for a in agents]
    kinds = ["contact", "near_miss", "min_ttc", "min_distance", "pet", "off_road", "wrong_way", "bogus"]
    intents = []
    for _ in range(int(rng.integers(0, 4))):
        kind = kinds[int(rng.integers(len(kinds)))]
        who = tuple(str(a) for a in rng.choice(ids, size=int(rng.integers(1, 3)), replace=False))
        params: dict[str, Any] = {}
        if kind in ("min_ttc", "min_distance", "pet") and rng.uniform() < 0.7:
            params["max"] = float(np.round(rng.uniform(0.5, 5.0), 2))
        if rng.uniform() < 0.3:
            params["t_start"] = float(np.round(rng.uniform(0, duration / 2), 2))
        intents.append(Intent(kind, who, params))
    return Scenario(name=f"random_{seed}", fps=12.0, duration=duration, ego=ego, agents=tuple(agents), map=road,
                    intents=tuple(intents))


def reports() -> dict[str, dict[str, Any]]:
    out = {}
    for case in CASES:
        s = random_scenario(*case)
        out[s.name] = json.loads(json.dumps(check_scenario(s).to_dict(), allow_nan=False))
    return out


def _compare(got: Any, want: Any, path: str) -> None:
    if isinstance(want, dict):
        assert isinstance(got, dict) and sorted(got) == sorted(want), f"{path}: keys {sorted(got)} != {sorted(want)}"
        for k in want:
            _compare(got[k], want[k], f"{path}.{k}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), f"{path}: {len(got)} items, expected {len(want)}"
        for i, (g, w) in enumerate(zip(got, want)):
            _compare(g, w, f"{path}[{i}]")
    elif isinstance(want, float) and not isinstance(want, bool):
        assert isinstance(got, (int, float)) and got == pytest.approx(want, rel=1e-9, abs=1e-9), f"{path}: {got} != {want}"
    else:
        assert got == want, f"{path}: {got!r} != {want!r}"


@pytest.mark.parametrize("case", CASES, ids=[f"random_{c[0]}" for c in CASES])
def test_report_equals_the_previous_implementation(case):
    want = json.loads(DATA.read_text())
    s = random_scenario(*case)
    got = json.loads(json.dumps(check_scenario(s).to_dict(), allow_nan=False))
    assert want[s.name]["findings"], "the scenario should produce findings"
    _compare(got, want[s.name], s.name)


# The coarse PET search of the previous implementation, verbatim: every (pair, ka, kb) of the full window
# at once, then per pair the first entry with the least |delta|. The current one searches bands of growing
# |kb - ka| and stops at the first band with an overlap; it must pick the very same frames.
def _coarse_full_product(scene: SampledScene, pairs: list[tuple[int, int]], cfg: CheckConfig,
                         index: pet_module.CrossingIndex, heading: np.ndarray) -> tuple[np.ndarray, ...]:
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
    pid_a, ka_all = np.nonzero(ma)
    pid_b, kb_all = np.nonzero(mb)
    ia, ib = pa[pid_a] * T + ka_all, pb[pid_b] * T + kb_all
    keep = pet_module._inside_box(X[ia], Y[ia], pet_module._group_box(pid_b, X[ib], Y[ib], pa.size), pid_a, reach)
    pid_a, ka_all, ia = pid_a[keep], ka_all[keep], ia[keep]
    st = pet_module._group_starts(pid_a)
    t_lo = pet_module._group_reduce(np.minimum, pid_a, times[ka_all], pa.size, np.inf, st) - max_dt
    t_hi = pet_module._group_reduce(np.maximum, pid_a, times[ka_all], pa.size, -np.inf, st) + max_dt
    tb = times[kb_all]
    keep = (pet_module._inside_box(X[ib], Y[ib], pet_module._group_box(pid_a, X[ia], Y[ia], pa.size), pid_b, reach)
            & (tb >= t_lo[pid_b]) & (tb <= t_hi[pid_b]))
    pid_b, kb_all = pid_b[keep], kb_all[keep]
    if pid_a.size == 0 or pid_b.size == 0:
        return empty, empty, np.zeros(0), empty, empty
    # only b's frames within a window of frames around each frame of a (a superset of
    # |tb - ta| <= max_dt, which is tested exactly below); same (pair, ka, kb) order as the full product
    w = int(np.ceil(max_dt / s.dt)) + 2 if s.dt > 0 else T
    codes_b = pid_b * T + kb_all                  # sorted
    base = pid_a * T
    lo = np.searchsorted(codes_b, base + np.maximum(ka_all - w, 0), side="left")
    hi = np.searchsorted(codes_b, base + np.minimum(ka_all + w, T - 1), side="right")
    cnt = hi - lo
    eid = np.repeat(np.arange(ka_all.size), cnt)
    idx = np.arange(eid.size) - np.repeat(np.cumsum(cnt) - cnt - lo, cnt)
    pid, ka, kb = pid_a[eid], ka_all[eid], kb_all[idx]
    keep = np.flatnonzero(np.abs(times[kb] - times[ka]) <= max_dt)   # cheapest tests first, compacting
    pid, ka, kb = pid[keep], ka[keep], kb[keep]
    # flat (row * T + frame) indices: one 1-D gather per array instead of 2-D fancy indexing
    ia, ib = pa[pid] * T + ka, pb[pid] * T + kb
    dx, dy = X[ib] - X[ia], Y[ib] - Y[ia]
    keep = np.flatnonzero(dx ** 2 + dy ** 2 <= reach[pid] ** 2)
    pid, ia, ib, dx, dy = pid[keep], ia[keep], ib[keep], dx[keep], dy[keep]
    H = heading.ravel()
    keep = np.flatnonzero(np.abs(np.sin(H[ib] - H[ia])) >= np.sin(cfg.pet_min_angle) - 1e-9)
    pid, ia, ib, dx, dy = pid[keep], ia[keep], ib[keep], dx[keep], dy[keep]
    a, b = pa[pid], pb[pid]
    C, S = s.cos_yaw.ravel(), s.sin_yaw.ravel()
    depth = pet_module.obb_penetration(dx, dy, None, s.half_length[a], s.half_width[a], None, s.half_length[b],
                            s.half_width[b], trig=(C[ia], S[ia], C[ib], S[ib]))
    hit = np.flatnonzero(depth > 0.0)
    if hit.size == 0:
        return empty, empty, np.zeros(0), empty, empty
    pid, a, b, ka, kb = pid[hit], a[hit], b[hit], ia[hit] % T, ib[hit] % T
    delta = times[kb] - times[ka]
    # per pair (pid is non-decreasing) the first entry with the least |delta|, as a stable sort would pick
    absd = np.abs(delta)
    starts = np.flatnonzero(np.r_[True, pid[1:] != pid[:-1]])
    group = np.cumsum(np.r_[True, pid[1:] != pid[:-1]]) - 1
    best = np.flatnonzero(absd == np.minimum.reduceat(absd, starts)[group])
    first = best[np.r_[True, pid[best][1:] != pid[best][:-1]]]
    return a[first], b[first], delta[first], ka[first], kb[first]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("cfg", [CheckConfig(), CheckConfig(pet_max=60.0), CheckConfig(pet_min_angle=0.2)],
                         ids=["default", "pet_max_60", "min_angle_0.2"])
def test_banded_pet_search_picks_what_the_full_product_picks(seed, cfg):
    s = SampledScene.from_scenario(random_scenario(100 + seed, 60, 10.0, 50.0, 0.5))
    index, heading = pet_module._index(s, cfg)
    pairs = index.candidate_pairs()
    want = _coarse_full_product(s, pairs, cfg, index, heading)
    got = pet_module._coarse(s, pairs, cfg, index, heading)
    assert want[0].size > 0, "the scene should hold crossings"
    for w, g in zip(want, got):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("gap_reach", [0.0, 0.5, 3.0])
def test_swept_block_candidates_equal_the_all_pairs_test(seed, gap_reach):
    """The per-block sweep keeps exactly the (pair, frame) entries the test over every pair keeps."""
    s = SampledScene.from_scenario(random_scenario(200 + seed, 80, 10.0, 70.0, 1.0))
    i, j = pairs_module.pair_rows(s.num_agents)
    step = pairs_module.max_steps(s)
    want = pairs_module._block_candidates(s, i, j, (s.radius[i] + s.radius[j]) + np.maximum(gap_reach, step[i] + step[j]))
    got = pairs_module._all_block_candidates(s, step, gap_reach)
    assert want[0].size > 0
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


@pytest.mark.parametrize("road", [intersection_map(), straight_road_map(-200.0, 400.0)], ids=["intersection", "straight"])
@pytest.mark.parametrize("angle", [math.radians(120), math.radians(95), math.pi])
def test_lane_raster_settles_only_what_the_tree_settles(road, angle):
    """Wrong-way flags and opposed lanes with the direction raster equal those of the k-d tree alone."""
    index = lanes_module.LaneIndex(road)
    rng = np.random.default_rng(7)
    lo, hi = index.points.min(0) - 10.0, index.points.max(0) + 10.0
    k = rng.integers(0, len(index.points), 20000)
    xy = np.vstack([rng.uniform(lo, hi, (40000, 2)), index.points[k] + rng.normal(0.0, 1.5, (20000, 2))])
    yaw = np.concatenate([rng.uniform(-10.0, 10.0, 40000),
                          index.heading[k] + rng.choice([0.0, math.pi], 20000) + rng.normal(0.0, 0.5, 20000)])
    want = index._query_tree(xy, yaw, angle)
    got = index.query(xy, yaw, angle)
    assert (want[0].any() or angle >= math.pi) and index._cannot_be_against(xy, yaw, angle).mean() > 0.3
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])



# Contacts between frames as the previous implementation found them (every close step through the
# continuous SAT, without the circumcircle prefilter), verbatim.
def _between_frames_unpruned(scene: SampledScene, grid: pairs_module.PairGrid,
                             cfg: CheckConfig) -> list[collisions_module.ContactEvent]:
    """Contacts that start and end between two frames (no frame shows the overlap)."""
    if scene.num_frames < 2:
        return []
    step = pairs_module.max_steps(scene)
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
    grow_a = scene.radius[a] * np.abs(scene.yaw[a, k + 1] - scene.yaw[a, k]) + collisions_module.SWEEP_MARGIN
    grow_b = scene.radius[b] * np.abs(scene.yaw[b, k + 1] - scene.yaw[b, k]) + collisions_module.SWEEP_MARGIN
    ttc = collisions_module.time_to_overlap(rx, ry, wx, wy, scene.yaw[a, k], scene.half_length[a] + grow_a,
                          scene.half_width[a] + grow_a, scene.yaw[b, k], scene.half_length[b] + grow_b,
                          scene.half_width[b] + grow_b)
    c = np.flatnonzero(ttc <= dt)
    if c.size == 0:
        return []
    a, b, k = a[c], b[c], k[c]
    u = np.linspace(0.0, 1.0, collisions_module.TUNNEL_STEPS + 1)
    times = scene.times[k][:, None] + dt * u[None, :]
    dep, _, _ = collisions_module._depth_at(scene, a, b, times)
    over = np.nan_to_num(dep, nan=-np.inf) > cfg.contact_tolerance
    hit = np.flatnonzero(over.any(1))
    if hit.size == 0:
        return []
    a, b, times, over, dep = a[hit], b[hit], times[hit], over[hit], dep[hit]
    h0 = np.argmax(over, axis=1)
    h1 = over.shape[1] - 1 - np.argmax(over[:, ::-1], axis=1)
    e = np.arange(hit.size)
    t_c, rel, _ = collisions_module.first_touch(scene, a, b, times[e, h0 - 1], times[e, h0], cfg.contact_tolerance)
    pa, pb = scene.poses_at(a, times[e, h0][:, None]), scene.poses_at(b, times[e, h0][:, None])
    ca = collisions_module.box_corners(pa.x[:, 0], pa.y[:, 0], pa.yaw[:, 0], scene.half_length[a], scene.half_width[a])
    cb = collisions_module.box_corners(pb.x[:, 0], pb.y[:, 0], pb.yaw[:, 0], scene.half_length[b], scene.half_width[b])
    where = collisions_module.overlap_centroids(ca, cb)
    return [collisions_module.ContactEvent(int(a[n]), int(b[n]), float(t_c[n]), float(times[n, h1[n]]), float(np.nanmax(dep[n])),
                         float(rel[n]), (float(where[n, 0]), float(where[n, 1])), False, False)
            for n in range(hit.size)]


@pytest.mark.parametrize("seed", range(8))
def test_between_frame_contacts_equal_the_unpruned_search(seed):
    cfg = CheckConfig()
    s = SampledScene.from_scenario(random_scenario(300 + seed, 60, 8.0, 30.0, 0.5))
    grid = pairs_module.pair_grid(s, cfg.contact_tolerance, cfg.min_gap_warning)
    assert collisions_module._between_frames(s, grid, cfg) == _between_frames_unpruned(s, grid, cfg)


if __name__ == "__main__":
    if "--write" in sys.argv:
        DATA.parent.mkdir(exist_ok=True)
        DATA.write_text(json.dumps(reports(), separators=(",", ":"), allow_nan=False) + "\n")
        print(f"wrote {DATA}")
