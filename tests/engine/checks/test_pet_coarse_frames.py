"""The vectorised PET coarse pass picks exactly the pair of frames a brute force picks.

Brute force: for every pair of agents, every pair of frames (ta, tb) where both move, their
directions of travel cross by at least `pet_min_angle`, |tb - ta| <= pet_max + dt and the
footprints overlap (`obb_penetration` > 0); the pick is the least |tb - ta|, ties going to the
first (ka, kb) in row-major order. The coarse pass (crossing index, sparse boxes, frame window,
flat gathers, per-pair minimum) must return the same pairs, frames and signed deltas, so that the
refinement and the findings built on them cannot change.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from engine.checks import CheckConfig
from engine.checks import pet as pet_module
from engine.checks.geometry import obb_penetration
from engine.checks.sampling import SampledScene

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_checks_pruning import random_scene  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
from bench_checks import build_bench_scenario  # noqa: E402


def _brute_frames(s: SampledScene, cfg: CheckConfig, heading: np.ndarray) -> dict[tuple[int, int], tuple]:
    """(a, b) -> (signed delta, ka, kb) of the first least-|delta| overlapping crossing pair of frames."""
    moving = s.present & (s.speed >= cfg.moving_speed)
    max_dt = cfg.pet_max + s.dt
    out = {}
    for a in range(s.num_agents):
        for b in range(a + 1, s.num_agents):
            ka, kb = np.nonzero(moving[a][:, None] & moving[b][None, :])    # row-major (ka, kb)
            if ka.size == 0:
                continue
            dt = s.times[kb] - s.times[ka]
            ok = np.abs(dt) <= max_dt
            ok &= np.abs(np.sin(heading[b, kb] - heading[a, ka])) >= np.sin(cfg.pet_min_angle) - 1e-9
            ok &= obb_penetration(s.x[b, kb] - s.x[a, ka], s.y[b, kb] - s.y[a, ka], s.yaw[a, ka], s.half_length[a],
                                  s.half_width[a], s.yaw[b, kb], s.half_length[b], s.half_width[b]) > 0
            if ok.any():
                n = np.flatnonzero(ok)[np.argmin(np.abs(dt[ok]))]      # argmin: the first of the least
                out[a, b] = (float(dt[n]), int(ka[n]), int(kb[n]))
    return out


def _coarse_frames(s: SampledScene, cfg: CheckConfig) -> dict[tuple[int, int], tuple]:
    index, heading = pet_module._index(s, cfg)
    a, b, delta, ka, kb = pet_module._coarse(s, index.candidate_pairs(), cfg, index, heading)
    return {(int(x), int(y)): (float(d), int(i), int(j)) for x, y, d, i, j in zip(a, b, delta, ka, kb)}


@pytest.mark.parametrize("seed", [1, 2, 4, 7])
@pytest.mark.parametrize("dense", [True, False])
def test_coarse_frames_match_brute_force_on_random_scenes(seed, dense, monkeypatch):
    if not dense:
        monkeypatch.setattr(pet_module, "DENSE_REACH_LIMIT", 0)
    cfg = CheckConfig()
    s = SampledScene.from_scenario(random_scene(seed, n=30))
    want = _brute_frames(s, cfg, pet_module._index(s, cfg)[1])
    assert want, "the random scene should hold some crossings"
    got = _coarse_frames(s, cfg)
    assert got.keys() == want.keys()
    for key, (d, ka, kb) in want.items():
        assert got[key][1:] == (ka, kb), key
        assert got[key][0] == pytest.approx(d, abs=1e-12)


@pytest.mark.parametrize("pet_max", [3.0])
def test_coarse_frames_match_brute_force_on_the_busy_intersection(pet_max):
    """The benchmark's intersection (turns through oncoming traffic, crosswalks): many crossings, ties in |delta|."""
    cfg = CheckConfig(pet_max=pet_max)
    s = SampledScene.from_scenario(build_bench_scenario(50, 20.0))
    want = _brute_frames(s, cfg, pet_module._index(s, cfg)[1])
    assert len(want) >= 20
    got = _coarse_frames(s, cfg)
    assert got.keys() == want.keys()
    for key, (d, ka, kb) in want.items():
        assert got[key][1:] == (ka, kb), key
        assert got[key][0] == pytest.approx(d, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 3, 5])
def test_refinement_limited_to_improvements_changes_no_event(seed, monkeypatch):
    """The sub-frame search tests only pairs of sub-samples that could improve on the current PET; searching all of
    them (the limit lifted to infinity) gives exactly the same events: times, places, angles."""
    cfg = CheckConfig(pet_warning=2.5)     # more pairs refined
    s = SampledScene.from_scenario(random_scene(seed, n=30))
    pruned = pet_module.pet_events(s, cfg, set())
    full_search = pet_module._search

    def unlimited(scene, a, b, ta0, tb0, span, cfg_, limit):
        return full_search(scene, a, b, ta0, tb0, span, cfg_, np.full(np.shape(limit), np.inf))

    monkeypatch.setattr(pet_module, "_search", unlimited)
    full = pet_module.pet_events(s, cfg, set())
    assert pruned, "the random scene should hold some crossings"
    assert pruned == full


@pytest.mark.parametrize("seed", [0, 3, 5])
def test_staged_sub_frame_search_changes_no_event(seed, monkeypatch):
    """The sub-frame search in stages of growing |tb - ta| (rows stop at the first stage with an overlap) gives
    exactly the events of one stage over every candidate pair of sub-samples."""
    cfg = CheckConfig(pet_warning=2.5)     # more pairs refined
    s = SampledScene.from_scenario(random_scene(seed, n=30))
    staged = pet_module.pet_events(s, cfg, set())
    monkeypatch.setattr(pet_module, "SEARCH_STAGES", (1.0,))
    single = pet_module.pet_events(s, cfg, set())
    assert staged, "the random scene should hold some crossings"
    assert staged == single
