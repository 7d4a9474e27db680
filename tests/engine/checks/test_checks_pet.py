"""Post-encroachment time on crossings with analytic answers."""
from __future__ import annotations

import math

import pytest

from engine.checks import CheckConfig, Severity, check_scenario
from engine.checks.pet import pair_pet, pet_events
from engine.checks.sampling import SampledScene

@pytest.mark.parametrize("pet", [0.4, 0.8, 2.5])
def test_pedestrian_crossing_behind_a_car_gives_the_right_pet(build, pet):
    sc, t_leave, t_enter = build["crossing_behind"](pet)
    report = check_scenario(sc)
    assert not report.with_code("collision")
    assert report.summary["min_pet"] == pytest.approx(pet, abs=0.003)
    assert report.summary["min_pet_agents"] == ["ego", "pedestrian_1"]
    found = report.with_code("pet")
    if pet < 1.0:
        assert len(found) == 1
        f = found[0]
        assert f.severity == Severity.WARNING and f.agents == ("ego", "pedestrian_1")
        assert f.metrics["pet"] == pytest.approx(pet, abs=0.003)
        assert f.t_start == pytest.approx(t_leave, abs=0.003) and f.t_end == pytest.approx(t_enter, abs=0.003)
        assert f.metrics["crossing_angle"] == pytest.approx(math.pi / 2, abs=1e-3)
        assert math.hypot(f.where[0], f.where[1]) < 1.5          # at the crossing point
    else:
        assert not found                                          # above the 1 s warning level


def test_pet_of_a_pair_and_who_comes_first(build):
    sc, t_leave, t_enter = build["crossing_behind"](0.6)
    scene = SampledScene.from_scenario(sc)
    ev = pair_pet(scene, scene.index("pedestrian_1"), scene.index("ego"), CheckConfig())
    assert ev is not None
    assert scene.ids[ev.first] == "ego" and scene.ids[ev.second] == "pedestrian_1"
    assert ev.pet == pytest.approx(0.6, abs=0.003)


def test_following_on_the_same_path_has_no_pet(build):
    st, ag = build["straight"], build["agent"]
    ego = st(0.0, -1.75, 0.0, 10.0, 4.0)
    follower = ag("car_1", "car", st(-15.0, -1.75, 0.0, 10.0, 4.0))   # drives where the ego was 1.5 s earlier
    scene = SampledScene.from_scenario(build["scenario"](ego, [follower], duration=4.0))
    assert pet_events(scene, CheckConfig(), set()) == []


def test_background_crossings_are_info(build):
    sc, _, _ = build["crossing_behind"](0.5)
    # same crossing, but the car is not the ego: the ego stands far away
    car = build["agent"]("car_1", "car", sc.ego.trajectory)
    ego = build["straight"](-150.0, -1.75, 0.0, 0.0, 8.0)
    bg = build["scenario"](ego, [car, sc.agents[0]], duration=8.0)
    f = check_scenario(bg).with_code("pet")
    assert len(f) == 1 and f[0].severity == Severity.INFO


def test_hashed_search_finds_every_crossing_of_a_brute_force_search(build):
    """The crossing index and box cuts only skip what cannot count: compare with all (Ta, Tb) frame pairs."""
    import numpy as np

    from engine.checks.geometry import obb_penetration
    from engine.checks.pet import _coarse, _index

    rng = np.random.default_rng(3)
    st, ag = build["straight"], build["agent"]
    classes = ["car", "pedestrian", "bus", "bicycle", "truck"]
    agents = [ag(f"{classes[k % 5]}_{k}", classes[k % 5],
                 st(rng.uniform(-25, 25), rng.uniform(-25, 25), rng.uniform(-math.pi, math.pi),
                    rng.uniform(1.0, 10.0), 5.0)) for k in range(12)]
    scene = SampledScene.from_scenario(build["scenario"](st(-30.0, 0.0, 0.3, 6.0, 5.0), agents, duration=5.0))
    cfg = CheckConfig()
    index, heading = _index(scene, cfg)
    pairs = [(a, b) for a in range(scene.num_agents) for b in range(a + 1, scene.num_agents)]
    a_, b_, delta, _, _ = _coarse(scene, pairs, cfg, index, heading)
    found = {(int(a), int(b)): abs(float(d)) for a, b, d in zip(a_, b_, delta)}
    moving = scene.present & (scene.speed >= cfg.moving_speed)
    t = scene.times
    expected = {}
    for a, b in pairs:
        E, F = (slice(None), None), (None, slice(None))
        depth = obb_penetration(scene.x[b][F] - scene.x[a][E], scene.y[b][F] - scene.y[a][E], scene.yaw[a][E],
                                scene.half_length[a], scene.half_width[a], scene.yaw[b][F],
                                scene.half_length[b], scene.half_width[b])
        ok = (depth > 0) & moving[a][E] & moving[b][F] \
            & (np.abs(np.sin(heading[b][F] - heading[a][E])) >= math.sin(cfg.pet_min_angle) - 1e-9) \
            & (np.abs(t[F] - t[E]) <= cfg.pet_max + scene.dt)
        if ok.any():
            expected[(a, b)] = float(np.abs(t[F] - t[E])[ok].min())
    assert len(expected) >= 5                                     # the random scene has crossings
    assert found.keys() == expected.keys()
    for k, v in expected.items():
        assert found[k] == pytest.approx(v, abs=1e-9)
