"""Spatial pruning changes no finding: the pruned pair grid and PET search against brute force on random scenes.

The brute-force references here look at every pair of agents at every frame (and, for PET, every
pair of frames) with the same geometric predicates (`obb_penetration`, `obb_gap`), so any candidate
the prefilters (blocks, bounding circles, crossing index, dense/sparse membership) wrongly drop shows.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine.checks import CheckConfig, check_scenario
from engine.checks import pet as pet_module
from engine.checks.geometry import obb_gap, obb_penetration
from engine.checks.pairs import pair_grid
from engine.checks.sampling import SampledScene
from engine.classes import default_size
from engine.scenario.model import EGO_ID, Agent, Scenario
from engine.scenario.map_elements import RoadMap
from engine.scenario.trajectory import Trajectory

CLASSES = ("car", "car", "truck", "pedestrian", "bicycle", "motorcycle", "traffic_cone")


def random_scene(seed: int, n: int = 24, duration: float = 6.0, area: float = 60.0) -> Scenario:
    """n agents on random straight or gently curving paths through a square of side `area` (m)."""
    rng = np.random.default_rng(seed)
    t = np.round(np.arange(0.0, duration + 1e-9, 0.5), 6)

    def traj(cls: str) -> Trajectory:
        if cls == "traffic_cone" or rng.uniform() < 0.1:
            return Trajectory.static(*rng.uniform(-area / 2, area / 2, 2), rng.uniform(-math.pi, math.pi))
        speed = rng.uniform(1.0, 3.0) if cls == "pedestrian" else rng.uniform(3.0, 14.0)
        yaw0, turn = rng.uniform(-math.pi, math.pi), rng.uniform(-0.15, 0.15)
        yaw = yaw0 + turn * t
        start = rng.uniform(-area / 2, area / 2, 2) - 0.5 * speed * duration * np.array([math.cos(yaw0), math.sin(yaw0)])
        dx, dy = np.cos(yaw) * speed * 0.5, np.sin(yaw) * speed * 0.5
        x = start[0] + np.concatenate([[0.0], np.cumsum(dx[:-1])])
        y = start[1] + np.concatenate([[0.0], np.cumsum(dy[:-1])])
        return Trajectory.from_arrays(t, x, y, yaw)

    agents = []
    for i in range(n):
        cls = CLASSES[rng.integers(len(CLASSES))]
        agents.append(Agent(id=f"{cls}_{i + 1}", cls=cls, size=default_size(cls), trajectory=traj(cls)))
    ego = Agent(id=EGO_ID, cls="car", size=default_size("car"), trajectory=traj("car"))
    return Scenario(name=f"random_{seed}", fps=12.0, duration=duration, ego=ego, agents=tuple(agents), map=RoadMap())


def _brute_pairs(s: SampledScene, tol: float, gap_reach: float):
    """Every (i < j, frame) with both present: overlap flag and the exact gap where it is below gap_reach."""
    A, T = s.num_agents, s.num_frames
    overlap = {}
    close = {}
    for i in range(A):
        for j in range(i + 1, A):
            for k in range(T):
                if not (s.present[i, k] and s.present[j, k]):
                    continue
                args = (s.x[j, k] - s.x[i, k], s.y[j, k] - s.y[i, k], s.yaw[i, k], s.half_length[i], s.half_width[i],
                        s.yaw[j, k], s.half_length[j], s.half_width[j])
                d = float(obb_penetration(*(np.atleast_1d(a) for a in args))[0])
                if d > tol:
                    overlap[i, j, k] = True
                g = float(obb_gap(*(np.atleast_1d(a) for a in args), depth=np.atleast_1d(d))[0])
                if g < gap_reach:
                    close[i, j, k] = g
    return overlap, close


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pruned_pair_grid_finds_what_brute_force_finds(seed):
    cfg = CheckConfig()
    s = SampledScene.from_scenario(random_scene(seed))
    grid = pair_grid(s, cfg.contact_tolerance, cfg.min_gap_warning)
    overlap, close = _brute_pairs(s, cfg.contact_tolerance, cfg.min_gap_warning)
    assert overlap, "the random scene should hold some contacts"
    got = {(int(grid.i[p]), int(grid.j[p]), int(k)) for p, k in zip(*np.nonzero(grid.overlap))}
    assert got == set(overlap)
    gaps = {(int(grid.i[p]), int(grid.j[p]), int(k)): float(g)
            for p, k, g in zip(grid.p, grid.k, grid.gap) if np.isfinite(g) and g < cfg.min_gap_warning}
    assert set(gaps) == set(close)
    for key, g in close.items():
        assert gaps[key] == pytest.approx(g, abs=1e-9)


def _brute_pet(s: SampledScene, cfg: CheckConfig, heading: np.ndarray) -> dict[tuple[int, int], float]:
    """Least |tb - ta| per pair over every pair of frames where both move, cross and overlap (frame grid)."""
    moving = s.present & (s.speed >= cfg.moving_speed)
    max_dt = cfg.pet_max + s.dt
    best: dict[tuple[int, int], float] = {}
    A = s.num_agents
    for a in range(A):
        for b in range(a + 1, A):
            ka, kb = np.nonzero(moving[a][:, None] & moving[b][None, :])
            if ka.size == 0:
                continue
            dt = s.times[kb] - s.times[ka]
            ok = np.abs(dt) <= max_dt
            ok &= np.abs(np.sin(heading[b, kb] - heading[a, ka])) >= np.sin(cfg.pet_min_angle) - 1e-9
            ka, kb, dt = ka[ok], kb[ok], dt[ok]
            if ka.size == 0:
                continue
            d = obb_penetration(s.x[b, kb] - s.x[a, ka], s.y[b, kb] - s.y[a, ka], s.yaw[a, ka], s.half_length[a],
                                s.half_width[a], s.yaw[b, kb], s.half_length[b], s.half_width[b])
            hit = d > 0
            if hit.any():
                best[a, b] = float(np.abs(dt[hit]).min())
    return best


@pytest.mark.parametrize("seed", [0, 3])
@pytest.mark.parametrize("dense", [True, False])
def test_pet_candidates_match_brute_force(seed, dense, monkeypatch):
    """The crossing index and the coarse search keep every pair of frames brute force finds (dense and sparse lookups)."""
    if not dense:
        monkeypatch.setattr(pet_module, "DENSE_REACH_LIMIT", 0)
    cfg = CheckConfig()
    s = SampledScene.from_scenario(random_scene(seed, n=30))
    index, heading = pet_module._index(s, cfg)
    assert (index._reach_flat is not None) == dense
    a, b, delta, _, _ = pet_module._coarse(s, index.candidate_pairs(), cfg, index, heading)
    got = {(int(x), int(y)): abs(float(d)) for x, y, d in zip(a, b, delta)}
    want = _brute_pet(s, cfg, heading)
    assert want, "the random scene should hold some crossings"
    assert set(got) == set(want)
    for key, v in want.items():
        assert got[key] == pytest.approx(v, abs=1e-9)


def test_dense_and_sparse_membership_give_the_same_report(monkeypatch):
    scen = random_scene(5, n=30)
    dense = check_scenario(scen)
    monkeypatch.setattr(pet_module, "DENSE_REACH_LIMIT", 0)
    sparse = check_scenario(scen)
    assert [f.to_document() if hasattr(f, "to_document") else repr(f) for f in dense.findings] == \
           [f.to_document() if hasattr(f, "to_document") else repr(f) for f in sparse.findings]
