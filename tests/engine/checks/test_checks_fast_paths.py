"""The faster check paths (issue 19, this round) report exactly what the kept reference implementation reports.

`reference_checks` holds verbatim copies of every function the speed-ups replaced. Whole reports are
compared as JSON text (codes, severities, agents, times, messages and every number, bit for bit) on
seeded random scenes with many agents: agents appearing and disappearing mid-clip, standing objects,
boxes placed exactly touching or overlapping, pedestrians, off-road drivers and crossing traffic.
The parts are also compared one by one against the reference or a brute-force oracle, including the
fallbacks taken for large inputs (sorted keys, sparse membership).
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import reference_checks as ref
import shapely

from engine.checks import CheckConfig, check_scenario
from engine.checks import pet as pet_module
from engine.checks.geometry import time_to_overlap
from engine.checks.offroad import map_layers
from engine.checks.pairs import pair_grid
from engine.checks.raster import RegionRaster
from engine.checks.relations import ttc_between
from engine.checks.sampling import SampledScene
from engine.classes import default_size
from engine.roadmap.procedural import IntersectionLayout, intersection_map
from engine.scenario.model import EGO_ID, Agent, Intent, Scenario
from engine.scenario.trajectory import Trajectory

CLASSES = ("car", "car", "car", "truck", "bus", "pedestrian", "pedestrian", "bicycle", "motorcycle",
           "traffic_cone", "barrier")


def busy_scene(seed: int, n: int = 120, duration: float = 8.0, area: float = 45.0, step: float = 0.5) -> Scenario:
    """n agents around an intersection, plus hand-placed edge cases (see the module docstring)."""
    rng = np.random.default_rng(seed)
    road = intersection_map(IntersectionLayout(center_x=0.0, west_extent=-area, east_extent=area, cross_extent=area))

    def moving(cls: str) -> Trajectory:
        t0 = 0.0 if rng.uniform() < 0.5 else rng.uniform(0.0, duration / 2)          # appears mid-clip
        t1 = duration if rng.uniform() < 0.5 else rng.uniform(t0 + step, duration)    # disappears mid-clip
        t = np.round(np.arange(t0, t1 + 1e-9, step), 6)
        if t.size < 2:
            t = np.array([t0, t0 + step])
        speed = rng.uniform(0.8, 2.5) if cls == "pedestrian" else rng.uniform(2.0, 15.0)
        yaw0, turn = rng.uniform(-math.pi, math.pi), rng.uniform(-0.3, 0.3)
        tau = t - t[0]
        yaw = yaw0 + turn * tau
        v = np.maximum(speed + (rng.uniform(-2.0, 1.0) if rng.uniform() < 0.3 else 0.0) * tau, 0.0)
        h = np.diff(tau, prepend=tau[0])
        start = rng.uniform(-area / 3, area / 3, 2) - 0.45 * speed * (t[-1] - t[0]) * np.array([math.cos(yaw0), math.sin(yaw0)])
        return Trajectory.from_arrays(t, start[0] + np.cumsum(np.cos(yaw) * v * h), start[1] + np.cumsum(np.sin(yaw) * v * h), yaw)

    agents: list[Agent] = []

    def add(cls: str, traj: Trajectory) -> None:
        agents.append(Agent(id=f"{cls}_{len(agents) + 1}", cls=cls, size=default_size(cls), trajectory=traj))

    for _ in range(n):
        cls = CLASSES[int(rng.integers(len(CLASSES)))]
        if cls in ("traffic_cone", "barrier") or rng.uniform() < 0.08:
            add(cls, Trajectory.static(*rng.uniform(-area / 2, area / 2, 2), rng.uniform(-math.pi, math.pi),
                                       t0=float(rng.choice([0.0, rng.uniform(0, duration / 2)]))))
        else:
            add(cls, moving(cls))
    # edge cases: standing boxes exactly touching end to end and overlapping; two cars side by side
    # exactly a width apart (touching, gap 0) and a car driving through a standing barrier
    cone = default_size("barrier")
    x0, y0 = rng.uniform(-10.0, 10.0, 2)
    add("barrier", Trajectory.static(x0, y0, 0.0))
    add("barrier", Trajectory.static(x0 + cone[1], y0, 0.0))                 # touching end to end
    add("barrier", Trajectory.static(x0 + 0.5 * cone[1], y0 + 0.3 * cone[0], 0.0))   # overlapping both
    w = default_size("car")[0]
    t = np.round(np.arange(0.0, duration + 1e-9, step), 6)
    add("car", Trajectory.from_arrays(t, -30.0 + 8.0 * t, np.full_like(t, 1.75), np.zeros_like(t)))
    add("car", Trajectory.from_arrays(t, -30.0 + 8.0 * t, np.full_like(t, 1.75 + w), np.zeros_like(t)))
    add("barrier", Trajectory.static(float(-30.0 + 8.0 * duration / 2), -1.75, 0.0))
    add("car", Trajectory.from_arrays(t, -30.0 + 8.0 * t, np.full_like(t, -1.75), np.zeros_like(t)))
    ego = Agent(id=EGO_ID, cls="car", size=default_size("car"), trajectory=moving("car"))
    ids = [a.id for a in agents]
    intents = tuple(Intent(kind, tuple(str(v) for v in rng.choice(ids, size=2, replace=False)), params)
                    for kind, params in (("contact", {}), ("pet", {"max": 2.0}), ("min_distance", {"max": 1.0})))
    return Scenario(name=f"busy_{seed}", fps=12.0, duration=duration, ego=ego, agents=tuple(agents), map=road,
                    intents=intents)


def _report_text(s: Scenario, cfg: CheckConfig | None = None) -> str:
    return json.dumps(check_scenario(s, cfg).to_dict(), sort_keys=True)


@pytest.mark.parametrize("seed", range(4))
def test_reports_equal_the_reference_bit_for_bit(seed, monkeypatch):
    s = busy_scene(seed, n=100 + 20 * seed)
    got = _report_text(s)
    with monkeypatch.context() as m:
        ref.use_reference(m)
        want = _report_text(s)
    report = json.loads(want)
    codes = {f["code"] for f in report["findings"]}
    assert {"collision", "overlap", "pet", "off_road"} <= codes, codes       # the scene exercises the paths
    assert got == want


@pytest.mark.parametrize("seed", range(2))
def test_reports_equal_the_reference_on_the_fallback_paths(seed, monkeypatch):
    """Sorted cell keys (no mark table) and sparse membership give the same report too."""
    s = busy_scene(50 + seed, n=80, duration=6.0)
    monkeypatch.setattr(pet_module, "DENSE_CODE_LIMIT", 0)
    monkeypatch.setattr(pet_module, "DENSE_REACH_LIMIT", 0)
    got = _report_text(s)
    with monkeypatch.context() as m:
        ref.use_reference(m)
        want = _report_text(s)
    assert got == want


@pytest.mark.parametrize("seed", range(3))
def test_crossing_index_keys_and_groups_equal_sorting(seed, monkeypatch):
    cfg = CheckConfig()
    sc = SampledScene.from_scenario(busy_scene(seed, n=60))
    for limit in (pet_module.DENSE_CODE_LIMIT, 0):
        monkeypatch.setattr(pet_module, "DENSE_CODE_LIMIT", limit)
        index, heading = pet_module._index(sc, cfg)
        moving = index.moving
        ix = np.floor(sc.x / index.cell).astype(np.int64) + (1 << 20)
        iy = np.floor(sc.y / index.cell).astype(np.int64) + (1 << 20)
        b = np.minimum((np.mod(heading, np.pi) / (np.pi / pet_module._BINS)).astype(np.int64), pet_module._BINS - 1)
        keys = ((ix << 21) + iy) * pet_module._BINS + b
        want_keys = np.unique(keys[moving])
        np.testing.assert_array_equal(index.keys, want_keys)
        np.testing.assert_array_equal(index.kid, np.where(moving, np.searchsorted(want_keys, keys), -1))
        # every group holds exactly the frames of its agent under its key, in frame order
        T = sc.num_frames
        for g in range(index.g_agent.size):
            ent = index.g_entries[index.g_start[g]:index.g_start[g + 1]]
            want = np.flatnonzero(index.kid[index.g_agent[g]] == index.g_kid[g]) + index.g_agent[g] * T
            np.testing.assert_array_equal(ent, want)


@pytest.mark.parametrize("seed", range(3))
def test_coarse_pet_equals_the_reference(seed, monkeypatch):
    cfg = CheckConfig()
    sc = SampledScene.from_scenario(busy_scene(seed, n=90))
    for limit in (pet_module.DENSE_REACH_LIMIT, 0):
        monkeypatch.setattr(pet_module, "DENSE_REACH_LIMIT", limit)
        index, heading = pet_module._index(sc, cfg)
        pairs = index.candidate_pairs()
        got = pet_module._coarse(sc, pairs, cfg, index, heading)
        want = ref._coarse(sc, pairs, cfg, index, heading)
        assert want[0].size > 10
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)


def test_pet_search_equals_the_reference():
    cfg = CheckConfig()
    sc = SampledScene.from_scenario(busy_scene(7, n=120))
    index, heading = pet_module._index(sc, cfg)
    a, b, delta, ka, kb = pet_module._coarse(sc, index.candidate_pairs(), cfg, index, heading)
    assert a.size > 10
    for span in (sc.dt, sc.dt / pet_module.REFINE_STEPS):
        got = pet_module._search(sc, a, b, sc.times[ka], sc.times[kb], span, cfg, np.abs(delta))
        want = ref._search(sc, a, b, sc.times[ka], sc.times[kb], span, cfg, np.abs(delta))
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("seed", range(3))
def test_pair_grid_and_contacts_equal_the_reference(seed):
    cfg = CheckConfig()
    sc = SampledScene.from_scenario(busy_scene(seed, n=90, area=30.0))
    grid = pair_grid(sc, cfg.contact_tolerance, cfg.min_gap_warning)
    want = ref.pair_grid(sc, cfg.contact_tolerance, cfg.min_gap_warning)
    for name in ("i", "j", "p", "k", "dist", "depth", "gap", "hit"):
        np.testing.assert_array_equal(getattr(grid, name), getattr(want, name))
    codes = grid.p * sc.num_frames + grid.k
    assert np.all(np.diff(codes) > 0)                          # sorted by (pair, frame), each once
    dense = np.zeros((grid.i.size, sc.num_frames), dtype=bool)
    dense[grid.p[grid.hit], grid.k[grid.hit]] = True
    np.testing.assert_array_equal(grid.overlap, dense)
    nxt = np.zeros(grid.p.size, dtype=bool)
    ok = grid.k + 1 < sc.num_frames
    nxt[ok] = dense[grid.p[ok], grid.k[ok] + 1]
    np.testing.assert_array_equal(grid.hit_next(), nxt)
    events = ref.contact_events(sc, grid, cfg)
    assert len(events) > 5 and any(e.static for e in events)
    from engine.checks.collisions import close_pass_findings, contact_events
    assert contact_events(sc, grid, cfg) == events
    skip = {(e.a, e.b) for e in events if not e.static}
    assert close_pass_findings(sc, grid, cfg, skip) == ref.close_pass_findings(sc, grid, cfg, skip)


def test_region_raster_cells_equal_shapely():
    """`RegionRaster.contains` (clipped cell lookups) equals shapely everywhere: inside, on the boundary
    band, off the grid on every side, and for NaN / infinite coordinates."""
    road = intersection_map()
    geom = map_layers(road).drivable
    raster = RegionRaster(geom)
    rng = np.random.default_rng(3)
    minx, miny, maxx, maxy = geom.bounds
    x = rng.uniform(minx - 50.0, maxx + 50.0, 60000)
    y = rng.uniform(miny - 50.0, maxy + 50.0, 60000)
    x[:6] = [np.nan, np.inf, -np.inf, 1e300, -1e300, 0.0]
    y[:6] = [0.0, 0.0, 0.0, 0.0, 0.0, np.nan]
    got = raster.contains(x, y)
    np.testing.assert_array_equal(got, shapely.contains_xy(geom, x, y))
    np.testing.assert_array_equal(got, ref.contains(raster, x, y))
    assert got.any() and not got.all()


def test_time_to_overlap_equals_the_reference():
    rng = np.random.default_rng(11)
    n = 20000
    dx, dy = rng.uniform(-20, 20, n), rng.uniform(-20, 20, n)
    vx, vy = rng.uniform(-10, 10, n), rng.uniform(-10, 10, n)
    vx[::7], vy[::11] = 0.0, 0.0                                        # no motion along some axes
    ya, yb = rng.uniform(-4, 4, n), rng.uniform(-4, 4, n)
    ya[::13] = 0.0
    yb[::13] = 0.0                                                      # aligned boxes
    hl, hw = rng.uniform(0.2, 6, n), rng.uniform(0.2, 1.5, n)
    got = time_to_overlap(dx, dy, vx, vy, ya, hl, hw, yb, 2.3, 0.95)    # scalar half sizes broadcast
    want = ref.time_to_overlap(dx, dy, vx, vy, ya, hl, hw, yb, 2.3, 0.95)
    np.testing.assert_array_equal(got, want)
    assert np.isfinite(got).any() and np.isinf(got).any() and (got == 0).any()
    one = time_to_overlap(1.0, 0.0, -1.0, 0.0, 0.0, 0.5, 0.5, 0.0, 0.5, 0.5)
    assert float(one) == float(ref.time_to_overlap(1.0, 0.0, -1.0, 0.0, 0.0, 0.5, 0.5, 0.0, 0.5, 0.5)) == 0.0


def test_ttc_and_poses_equal_the_reference():
    sc = SampledScene.from_scenario(busy_scene(2, n=80))
    rows = np.arange(1, sc.num_agents)
    for a, b in ((0, rows), (rows, 0), (0, 5), (rows, rows[::-1])):
        np.testing.assert_array_equal(ttc_between(sc, a, b, 6.0), ref.ttc_between(sc, a, b, 6.0))
    with np.errstate(invalid="ignore"):                  # the reference's reach is 0 x inf at rest
        for horizon in (0.0, math.inf):
            np.testing.assert_array_equal(ttc_between(sc, 0, rows, horizon), ref.ttc_between(sc, 0, rows, horizon))
    rng = np.random.default_rng(5)
    r = rng.integers(0, sc.num_agents, 300)
    t = rng.uniform(sc.times[0] - 0.1, sc.times[-1] + 0.1, (300, 9))
    for got, want in zip(sc.poses_at(r, t), ref.poses_at(sc, r, t)):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(sc.poses_at(3, t[0]), ref.poses_at(sc, 3, t[0])):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("slack", [pet_module.RANK_TABLE_SLACK, -10**12], ids=["table", "binary_search"])
def test_frame_ranks_equal_searchsorted(slack, monkeypatch):
    monkeypatch.setattr(pet_module, "RANK_TABLE_SLACK", slack)
    rng = np.random.default_rng(9)
    P, T = 50, 40
    codes = np.unique(rng.integers(0, P * T, 700))
    codes = codes[(codes // T) % 7 != 3]                     # some pairs without entries
    pid, frame = np.divmod(codes, T)
    ranks = pet_module._FrameRanks(pid, frame, P, T)
    assert (ranks.table is None) == (slack < 0)
    qp = np.repeat(np.arange(P), T + 1)
    qf = np.tile(np.arange(T + 1), P)
    np.testing.assert_array_equal(ranks.below(qp, qf), np.searchsorted(codes, qp * T + qf, side="left"))
    empty = pet_module._FrameRanks(np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp), 3, T)
    np.testing.assert_array_equal(empty.below(np.array([0, 2]), np.array([0, T])), [0, 0])


def _tiny_scenes() -> dict[str, Scenario]:
    ego_static = Agent(id=EGO_ID, cls="car", size=default_size("car"), trajectory=Trajectory.static(0.0, 0.0, 0.0))
    t = np.round(np.arange(0.0, 4.01, 0.5), 6)
    moving = Trajectory.from_arrays(t, 5.0 * t, np.zeros_like(t), np.zeros_like(t))
    barriers = tuple(Agent(id=f"barrier_{i}", cls="barrier", size=default_size("barrier"),
                           trajectory=Trajectory.static(0.3 * i, 0.0, 0.0)) for i in range(5))
    road = intersection_map()
    return {
        "ego_alone_standing": Scenario(name="a", fps=12.0, duration=3.0, ego=ego_static, agents=(), map=road),
        "ego_alone_driving": Scenario(name="b", fps=12.0, duration=4.0, agents=(), map=road,
                                      ego=Agent(id=EGO_ID, cls="car", size=default_size("car"), trajectory=moving)),
        "standing_overlaps": Scenario(name="c", fps=12.0, duration=2.0, ego=ego_static, agents=barriers, map=road),
        "one_frame": Scenario(name="d", fps=12.0, duration=0.0, ego=ego_static, map=road, agents=(
            Agent(id="car_1", cls="car", size=default_size("car"), trajectory=Trajectory.static(1.0, 0.0, 0.0)),)),
    }


@pytest.mark.parametrize("name", list(_tiny_scenes()))
def test_tiny_scenes_equal_the_reference(name, monkeypatch):
    s = _tiny_scenes()[name]
    got = _report_text(s)
    with monkeypatch.context() as m:
        ref.use_reference(m)
        want = _report_text(s)
    assert got == want
