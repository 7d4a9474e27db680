"""Contacts, TTC and gaps on hand-built cases with analytic answers, and against a brute-force reference."""
from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from engine.checks import CheckConfig, Severity, check_scenario, ego_relations
from engine.checks.pairs import pair_grid
from engine.checks.sampling import SampledScene
from engine.classes import default_size

CAR_W, CAR_L = default_size("car")[:2]


def test_head_on_collision_time_and_ttc(head_on):
    # fronts meet when 50 - 20 t = car length
    t_contact = (50.0 - CAR_L) / 20.0
    report = check_scenario(head_on)
    coll = report.with_code("collision")
    assert len(coll) == 1
    f = coll[0]
    assert f.severity == Severity.ERROR and set(f.agents) == {"ego", "car_1"}
    assert f.t_start == pytest.approx(t_contact, abs=1e-3)
    assert f.metrics["relative_speed"] == pytest.approx(20.0, rel=1e-3)
    assert f.where[0] == pytest.approx(25.0, abs=0.3) and f.where[1] == pytest.approx(-1.75, abs=1e-6)
    # they drive through each other: the last frame with more than the 2 cm contact tolerance of overlap
    assert f.t_end == pytest.approx(math.floor((50.0 + CAR_L - 0.02) / 20.0 * 12) / 12)
    assert report.has_errors and report.max_severity == Severity.ERROR
    # the lead-up is part of the collision, not a separate near miss
    assert not report.with_code("near_miss")

    rel = ego_relations(head_on, "car_1")
    t = rel.time
    before = t < t_contact - 1e-6
    assert np.allclose(rel.ttc[before], t_contact - t[before], atol=1e-3)
    assert np.allclose(rel.distance[before], 50.0 - 20.0 * t[before] - CAR_L, atol=1e-3)
    during = ~before & (t < (50.0 + CAR_L) / 20.0)
    assert np.all(rel.ttc[during] == 0.0) and np.all(rel.distance[during] == 0.0)
    assert np.all(np.isinf(rel.thw))      # car_1 faces the ego: ahead, but THW needs the ego to follow it
    assert rel.thw.shape == rel.ttc.shape == t.shape == (head_on.num_frames,)


def test_thw_to_a_lead_vehicle(build):
    s, st, ag = build["scenario"], build["straight"], build["agent"]
    ego = st(0.0, -1.75, 0.0, 10.0, 3.0)
    lead = ag("car_1", "car", st(25.0, -1.75, 0.0, 10.0, 3.0))
    rel = ego_relations(s(ego, [lead]), "car_1")
    assert np.allclose(rel.thw, (25.0 - CAR_L) / 10.0, atol=1e-3)
    assert np.all(np.isinf(rel.ttc))     # same speed: never closer


def test_passing_in_the_next_lane_is_not_a_near_miss(build):
    s, st, ag = build["scenario"], build["straight"], build["agent"]
    ego = st(0.0, -1.75, 0.0, 15.0, 3.0)
    oncoming = ag("car_1", "car", st(60.0, 1.75, math.pi, 15.0, 3.0))
    report = check_scenario(s(ego, [oncoming]))
    assert report.findings == []
    assert report.summary["per_agent"]["car_1"]["min_ttc"] == math.inf
    assert report.summary["per_agent"]["car_1"]["min_distance"] == pytest.approx(3.5 - CAR_W, abs=1e-6)


def test_near_miss_warning_with_the_right_minimum_ttc(build):
    s, st, ag = build["scenario"], build["straight"], build["agent"]
    # ego at 10 m/s brakes at 8 m/s^2 from 0.5 s behind a stopped car 30 m ahead: least TTC at 0.5 s
    ego = st(0.0, -1.75, 0.0, 10.0, 4.0, accel=-8.0, t_brake=0.5)
    parked = ag("car_1", "car", st(30.0, -1.75, 0.0, 0.0, 4.0))
    report = check_scenario(s(ego, [parked], duration=4.0), CheckConfig(ttc_warning=2.1))
    nm = report.with_code("near_miss")
    assert len(nm) == 1
    assert nm[0].metrics["min_ttc"] == pytest.approx((25.0 - CAR_L) / 10.0, abs=0.02)
    assert nm[0].metrics["t_min_ttc"] == pytest.approx(0.5, abs=1e-9)
    assert nm[0].severity == Severity.WARNING and not report.has_errors
    # with the default 1.5 s threshold there is no near miss
    assert not check_scenario(s(ego, [parked], duration=4.0)).with_code("near_miss")


def test_contact_between_frames_is_found(build):
    s, st, ag = build["scenario"], build["straight"], build["agent"]
    # a motorcycle at 40 m/s crosses a pedestrian's spot between two frames: no frame shows the overlap
    ego = st(-50.0, 0.0, 0.0, 0.0, 2.0)
    ped = ag("pedestrian_1", "pedestrian", st(30.0, -1.75, math.pi / 2, 0.0, 2.0))
    # at 12 Hz the motorcycle moves 3.33 m per frame; centre passes x=30 at t=1.0 + 1/24 (mid-step)
    moto = ag("motorcycle_1", "motorcycle", st(30.0 - 40.0 * (1.0 + 1 / 24), -1.75, 0.0, 40.0, 2.0))
    sc = s(ego, [ped, moto], duration=2.0)
    scene = SampledScene.from_scenario(sc)
    grid = pair_grid(scene, 0.02, 0.5)
    assert not grid.overlap.any()                          # the frame grid alone misses it
    report = check_scenario(sc, CheckConfig().with_checks("collision"))
    coll = report.with_code("collision")
    assert len(coll) == 1 and set(coll[0].agents) == {"pedestrian_1", "motorcycle_1"}
    # first touch: motorcycle front reaches the pedestrian's rear (x = 30 - ped_l/2 ... along x: ped width)
    ped_w = default_size("pedestrian")[0]
    moto_l = default_size("motorcycle")[1]
    t_touch = 1.0 + 1 / 24 - (moto_l / 2 + ped_w / 2) / 40.0
    assert coll[0].t_start == pytest.approx(t_touch, abs=2e-3)
    assert 1.0 < coll[0].t_start < 1.0 + 1 / 12


def test_standing_objects_placed_overlapping_are_a_warning(build):
    s, st, ag = build["scenario"], build["straight"], build["agent"]
    ego = st(0.0, -1.75, 0.0, 5.0, 2.0)
    a = ag("barrier_1", "barrier", st(40.0, -5.0, 0.0, 0.0, 2.0))
    b = ag("barrier_2", "barrier", st(40.2, -5.0, 0.0, 0.0, 2.0))
    report = check_scenario(s(ego, [a, b], duration=2.0))
    ov = report.with_code("overlap")
    assert len(ov) == 1 and ov[0].severity == Severity.WARNING and not report.with_code("collision")


def test_agents_that_appear_overlapping_are_reported_from_their_first_frame(build):
    s, st, ag = build["scenario"], build["straight"], build["agent"]
    ego = st(0.0, -1.75, 0.0, 10.0, 3.0)
    # car_1 exists from 1.0 s, placed right on top of the ego's position then
    from engine.scenario.trajectory import Trajectory

    t = np.array([1.0, 2.0])
    late = ag("car_1", "car", Trajectory.from_arrays(t, 10.0 + 10.0 * (t - 1.0), [-1.75, -1.75], [0.0, 0.0]))
    f = check_scenario(s(ego, [late]), CheckConfig().with_checks("collision")).with_code("collision")
    assert len(f) == 1 and f[0].t_start == pytest.approx(1.0) and f[0].t_end == pytest.approx(2.0)
    assert "already overlap" in f[0].message


def _random_scene(rng: np.random.Generator, n: int, build):
    st, ag = build["straight"], build["agent"]
    classes = ["car", "pedestrian", "truck", "bicycle", "traffic_cone"]
    agents = []
    for k in range(n):
        cls = classes[k % len(classes)]
        speed = 0.0 if cls == "traffic_cone" else rng.uniform(1.0, 12.0)
        agents.append(ag(f"{cls}_{k}", cls, st(rng.uniform(-20, 20), rng.uniform(-15, 15),
                                               rng.uniform(-math.pi, math.pi), speed, 3.0)))
    return build["scenario"](st(-20.0, 0.0, 0.0, 8.0, 3.0), agents, duration=3.0)


def test_vectorised_pairs_match_a_brute_force_reference(build):
    rng = np.random.default_rng(7)
    sc = _random_scene(rng, 14, build)
    scene = SampledScene.from_scenario(sc)
    grid = pair_grid(scene, 0.0, 0.5)
    gap = grid.dense(grid.gap, np.nan)
    polys = shapely.polygons(scene.corners)                       # (A, T)
    n_overlaps = 0
    for p, (i, j) in enumerate(zip(grid.i, grid.j)):
        inter = shapely.area(shapely.intersection(polys[i], polys[j]))
        dist = shapely.distance(polys[i], polys[j])
        assert np.array_equal(grid.overlap[p], inter > 1e-9), (i, j)
        known = ~np.isnan(gap[p])
        assert np.allclose(gap[p][known], dist[known], atol=1e-7)
        assert np.all(dist[~known] >= 0.5 - 1e-9)                # not evaluated: known to be far
        assert np.all(known[dist < 0.5])                          # every close frame is evaluated
        n_overlaps += int(grid.overlap[p].sum())
    assert n_overlaps > 0                                          # the random scene does have contacts


def test_lazy_ego_gaps_keep_every_agents_least_gap_exact(build):
    from engine.checks.relations import ego_relation_arrays, headway_to

    rng = np.random.default_rng(11)
    sc = _random_scene(rng, 20, build)
    scene = SampledScene.from_scenario(sc)
    exact = ego_relation_arrays(scene, exact_distance=True)
    lazy = ego_relation_arrays(scene, exact_distance=False)
    for r in range(1, scene.num_agents):
        if np.isnan(exact["distance"][r]).all():
            continue
        assert np.nanmin(lazy["distance"][r]) == pytest.approx(np.nanmin(exact["distance"][r]), abs=1e-9)
        known = ~np.isnan(lazy["distance"][r])
        assert np.allclose(lazy["distance"][r][known], exact["distance"][r][known])
    # THW from box extents equals THW from the corners
    rows = np.arange(1, scene.num_agents)
    c, s = np.cos(scene.yaw[0]), np.sin(scene.yaw[0])
    rel = scene.corners[rows] - np.stack([scene.x[0], scene.y[0]], -1)[None, :, None, :]
    lon = rel[..., 0] * c[None, :, None] + rel[..., 1] * s[None, :, None]
    lat = -rel[..., 0] * s[None, :, None] + rel[..., 1] * c[None, :, None]
    ahead = lon.min(-1) - scene.half_length[0]
    corridor = (lat.max(-1) > -scene.half_width[0]) & (lat.min(-1) < scene.half_width[0])
    lead_v = scene.vx[rows] * c + scene.vy[rows] * s
    ok = corridor & (ahead > 0) & (scene.vx[0] * c + scene.vy[0] * s > 0.5) & (lead_v > -0.5)
    thw = headway_to(scene, rows)
    assert ok.any() and np.array_equal(np.isfinite(thw), ok)
    assert np.allclose(thw[ok], (ahead / (scene.vx[0] * c + scene.vy[0] * s))[ok])


def test_recorded_agents_are_facts_not_mistakes(build):
    from dataclasses import replace as dc_replace

    s, st, ag = build["scenario"], build["straight"], build["agent"]
    # a recorded car runs into another recorded one (say, annotation noise), and an authored car drives
    # into a third recorded, parked car
    rec_a = dc_replace(ag("car_1", "car", st(30.0, -1.75, 0.0, 0.0, 3.0)), locked=True)
    rec_b = dc_replace(ag("car_2", "car", st(24.0, -1.75, 0.0, 3.0, 3.0)), locked=True)
    rec_c = dc_replace(ag("car_4", "car", st(40.0, -5.25, 0.0, 0.0, 3.0)), locked=True)
    authored = ag("car_3", "car", st(15.0, -5.25, 0.0, 10.0, 3.0))
    agents = [rec_a, rec_b, rec_c, authored]
    ego = st(-50.0, 1.75, 0.0, 0.0, 3.0)
    report = check_scenario(s(ego, agents), CheckConfig().with_checks("collision"))
    by_pair = {frozenset(f.agents): f for f in report.findings}
    assert set(by_pair) == {frozenset({"car_1", "car_2"}), frozenset({"car_3", "car_4"})}
    assert by_pair[frozenset({"car_1", "car_2"})].severity == Severity.INFO
    assert "recorded" in by_pair[frozenset({"car_1", "car_2"})].message
    assert by_pair[frozenset({"car_3", "car_4"})].severity == Severity.ERROR
    strict = check_scenario(s(ego, agents), CheckConfig(recorded_severity="error").with_checks("collision"))
    assert [f.severity for f in strict.findings] == [Severity.ERROR, Severity.ERROR]
