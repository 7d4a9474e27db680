"""Leaving the drivable area, pedestrians on the roadway and driving against the lane direction."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine.checks import CheckConfig, Severity, check_scenario
from engine.classes import default_size
from engine.roadmap.procedural import intersection_map, straight_road_map
from engine.scenario.map_elements import RoadMap

CAR_W, CAR_L = default_size("car")[:2]
MAP_ONLY = CheckConfig().with_checks("offroad", "lane_direction")
ROAD = straight_road_map(-60.0, 200.0)          # drivable for |y| <= 7 (two 3.5 m lanes each way)


def test_car_leaving_the_road_is_flagged_at_the_right_time(build):
    st, ag = build["straight"], build["agent"]
    # a car turned north (yaw pi/2) drives at 2 m/s from y = 0 across the kerb at y = 7
    ego = st(0.0, -1.75, 0.0, 0.0, 5.0)
    car = ag("car_1", "car", st(30.0, 0.0, math.pi / 2, 2.0, 5.0))
    report = check_scenario(build["scenario"](ego, [car], duration=5.0, road=ROAD), MAP_ONLY)
    off = report.with_code("off_road")
    assert len(off) == 1
    f = off[0]
    tol = MAP_ONLY.offroad_tolerance
    t_exit = (7.0 + tol - CAR_L / 2) / 2.0              # front corners 0.3 m past the kerb
    t_centre = (7.0 + tol) / 2.0
    assert f.metrics["t_exit"] == pytest.approx(t_exit, abs=1e-3)
    assert f.t_start == pytest.approx(math.ceil(t_exit * 12) / 12)          # first frame past it
    assert f.metrics["t_centre_out"] == pytest.approx(math.ceil(t_centre * 12) / 12)
    assert f.severity == Severity.ERROR and f.agents == ("car_1",)
    assert f.where[1] == pytest.approx(2.0 * f.t_start + CAR_L / 2, abs=1e-3)    # the front corner, then
    assert f.t_end == pytest.approx(4 + 11 / 12)                                   # off the road to the end
    assert "front" in f.message


def test_a_corner_over_the_kerb_is_a_warning(build):
    st, ag = build["straight"], build["agent"]
    ego = st(0.0, -1.75, 0.0, 0.0, 3.0)
    # centre 0.5 m from the south kerb, car 1.95 m wide: 0.475 m of it outside
    car = ag("car_1", "car", st(0.0, -6.5, 0.0, 10.0, 3.0))
    off = check_scenario(build["scenario"](ego, [car], road=ROAD), MAP_ONLY).with_code("off_road")
    assert len(off) == 1 and off[0].severity == Severity.WARNING
    assert off[0].metrics["max_outside"] == pytest.approx(CAR_W / 2 - 0.5, abs=1e-6)
    # within the tolerance: nothing
    car_ok = ag("car_1", "car", st(0.0, -6.2, 0.0, 10.0, 3.0))
    assert not check_scenario(build["scenario"](ego, [car_ok], road=ROAD), MAP_ONLY).findings


def test_pedestrians_and_static_objects_off_the_road_are_fine(build):
    st, ag = build["straight"], build["agent"]
    ego = st(0.0, -1.75, 0.0, 0.0, 3.0)
    on_pavement = ag("pedestrian_1", "pedestrian", st(0.0, 9.0, 0.0, 1.4, 3.0))
    cone = ag("traffic_cone_1", "traffic_cone", st(10.0, 8.0, 0.0, 0.0, 3.0))
    report = check_scenario(build["scenario"](ego, [on_pavement, cone], road=ROAD), MAP_ONLY)
    assert report.findings == []


def test_jaywalking_is_info_but_crosswalks_are_not(build):
    st, ag = build["straight"], build["agent"]
    road = intersection_map()
    cross_w = road.ped_crossings[0].array        # west arm crossing at x in [34, 37]
    x_cw = float(cross_w[:, 0].mean())
    ego = st(-50.0, -1.75, 0.0, 0.0, 4.0)
    on_crossing = ag("pedestrian_1", "pedestrian", st(x_cw, -9.0, math.pi / 2, 1.4, 4.0))
    jaywalker = ag("pedestrian_2", "pedestrian", st(10.0, -9.0, math.pi / 2, 1.4, 4.0))
    report = check_scenario(build["scenario"](ego, [on_crossing, jaywalker], duration=4.0, road=road), MAP_ONLY)
    jw = report.with_code("jaywalking")
    assert [f.agents for f in jw] == [("pedestrian_2",)] and jw[0].severity == Severity.INFO
    assert jw[0].t_start == pytest.approx(math.ceil((-7.0 + 9.0) / 1.4 * 12) / 12)   # steps onto the road


def test_wrong_way_driving(build):
    st, ag = build["straight"], build["agent"]
    ego = st(0.0, -1.75, 0.0, 8.0, 3.0)
    ghost = ag("car_1", "car", st(100.0, -5.25, math.pi, 12.0, 3.0))       # westbound in an eastbound lane
    reversing = ag("car_2", "car", st(60.0, -1.75, 0.0, -2.0, 3.0))         # facing east, backing up slowly
    walker = ag("pedestrian_1", "pedestrian", st(150.0, -1.75, math.pi, 1.4, 3.0))
    parked = ag("car_3", "car", st(40.0, 5.25, math.pi / 2, 0.0, 3.0))       # standing across a lane
    sc = build["scenario"](ego, [ghost, reversing, walker, parked], road=ROAD)
    report = check_scenario(sc, MAP_ONLY)
    ww = report.with_code("wrong_way")
    assert [f.agents for f in ww] == [("car_1",)]
    assert ww[0].severity == Severity.WARNING and "EB_2" in ww[0].message
    assert ww[0].t_start == 0.0 and ww[0].t_end == pytest.approx(sc.frame_times()[-1])


def test_brief_wrong_way_heading_is_ignored(build):
    # a moment against the lane (backing out, a U-turn) is not wrong-way driving: short runs are dropped
    ag = build["agent"]
    from engine.scenario.trajectory import Trajectory

    t = np.linspace(0.0, 3.0, 49)
    only_lanes = MAP_ONLY.with_checks("lane_direction")

    def west_for(seconds: float):
        x = np.where(t < seconds, 50.0 - 8.0 * t, 50.0 - 8.0 * seconds)
        car = ag("car_1", "car", Trajectory.from_arrays(t, x, np.full_like(t, -1.75), np.full_like(t, math.pi)))
        sc = build["scenario"](build["straight"](0, -5.25, 0, 0, 3), [car], road=ROAD)
        return check_scenario(sc, only_lanes).with_code("wrong_way")

    assert west_for(0.25) == []                     # below the 0.5 s minimum
    long = west_for(1.5)
    assert len(long) == 1 and long[0].t_start == 0.0 and long[0].t_end == pytest.approx(1.5, abs=0.1)


def test_a_map_without_drivable_area_or_lanes_says_so(build):
    st = build["straight"]
    sc = build["scenario"](st(0.0, 0.0, 0.0, 5.0, 2.0), [], duration=2.0, road=RoadMap())
    report = check_scenario(sc, MAP_ONLY)
    assert [f.code for f in report.findings] == ["map_incomplete", "map_incomplete"]
    assert all(f.severity == Severity.INFO for f in report.findings)


def test_region_raster_answers_exactly_as_shapely():
    import shapely

    from engine.checks.raster import RegionRaster

    rng = np.random.default_rng(5)
    ring = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], holes=[[(3, 3), (7, 3), (7, 7), (3, 7)]])
    tilted = shapely.affinity.rotate(shapely.box(20, 0, 25, 5), 17.0)
    shapes = [shapely.MultiPolygon([ring, tilted]), intersection_map().drivable_geometry]
    for geom in shapes:
        r = RegionRaster(geom, resolution=0.3)
        x0, y0, x1, y1 = geom.bounds
        p = rng.uniform([x0 - 3, y0 - 3], [x1 + 3, y1 + 3], size=(100_000, 2))
        # points right on and next to the boundary too
        edge = shapely.get_coordinates(shapely.segmentize(geom.boundary, 0.5))
        p = np.concatenate([p, edge, edge + rng.normal(0, 0.01, edge.shape)])
        assert np.array_equal(r.contains(p[:, 0], p[:, 1]), shapely.contains_xy(geom, p[:, 0], p[:, 1]))
    empty = RegionRaster(shapely.Polygon())
    assert not empty.contains(np.zeros(3), np.zeros(3)).any()
