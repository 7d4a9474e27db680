"""Maps that agree with the trajectories: vehicles on drivable area and in lanes, crossing
pedestrians on crosswalks (jaywalkers not), turns at the intersection — over many prompts and seeds."""
from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from engine.classes import VEHICLE_CLASSES
from engine.prompting import prompt_to_scenario
from engine.roadmap.connectors import turn_connector, uturn_connector
from engine.roadmap.fitted import MapExtent, fitted_road_map
from engine.roadmap.layout import Ramp, RoadLayout
from engine.roadmap.procedural import IntersectionLayout, intersection_map, straight_road_map
from engine.sandbox.runner import RunOptions

PROMPTS = [
    "a truck cuts in from the left at night while a pedestrian crosses",
    "we turn left at the intersection while an oncoming car goes straight",
    "we turn right at the junction and a cyclist crosses from the right",
    "a bus turns right in front of us at the crossroads",
    "an oncoming truck turns left across our path in the rain",
    "a car runs a red light from the left",
    "a kid runs out between parked cars",
    "a person jaywalks from the left while a lorry is parked on the right",
    "the ego makes a U-turn at night",
    "an SUV makes a U-turn in front of us",
    "a van merges from the on-ramp",
    "a motorbike overtakes us on the left at 60 km/h",
    "on a narrow road a car overtakes us",
    "roadworks close the right lane and a car cuts in from the right lane",
    "three parked cars on the left and a cyclist crosses ahead",
    "a group of pedestrians crossing at the crosswalk while the car in front brakes",
    "a truck follows closely behind us while we change lanes to the left",
    "two cars ahead, a bus coming the other way and a stalled truck in the right lane",
    "we are stuck in stop and go traffic on the highway",
    "a car overtakes the truck ahead while a pedestrian crosses at the intersection",
]


def _box(road) -> tuple[float, float] | None:
    """(centre x, half width) of the intersection from its west/east crosswalks."""
    cw = {c.id: c.array for c in road.ped_crossings}
    if "cross_W" not in cw:
        return None
    x_w, x_e = cw["cross_W"][:, 0].max(), cw["cross_E"][:, 0].min()
    return (x_w + x_e) / 2, (x_e - x_w) / 2


def _check(s) -> None:
    road = s.map
    area = road.drivable_geometry.buffer(0.05)
    shapely.prepare(area)
    lanes = [(shapely.linestrings(l.array), l.width) for l in road.lanes]
    crossings = shapely.union_all([shapely.polygons(c.array) for c in road.ped_crossings]) if road.ped_crossings \
        else shapely.Polygon()
    t = s.frame_times()
    box = _box(road)
    for a in s.all_agents:
        corners = a.box_corners_2d(t)
        centres = corners.mean(axis=1)
        pts = shapely.points(centres)
        if a.cls in VEHICLE_CLASSES and a.behavior not in ("cyclist_crossing", "crossing_traffic") or \
                a.behavior == "crossing_traffic":
            polys = shapely.polygons(corners)
            assert shapely.contains(area, polys).all(), f"{a.id} ({a.behavior}) leaves the drivable area"
            dist = np.min([shapely.distance(line, pts) - w / 2 for line, w in lanes], axis=0)
            assert (dist <= 0.05).all(), f"{a.id} ({a.behavior}) leaves the lanes by {dist.max():.2f} m"
        if a.behavior in ("pedestrian_crossing", "cyclist_crossing"):
            on_road = shapely.contains(road.drivable_geometry, pts)
            in_cw = shapely.contains(crossings.buffer(0.3), pts)
            assert in_cw[on_road].all(), f"{a.id} crosses outside a crosswalk"
        if a.behavior in ("jaywalk", "run_out"):
            assert not shapely.intersects(crossings, pts).any(), f"{a.id} jaywalks on a crosswalk"
        if a.behavior in ("turn_left", "turn_right"):
            yaw = np.unwrap(a.trajectory.sample(t).yaw)
            turning = np.abs(yaw - yaw[0])
            mid = (turning > 0.2) & (turning < math.pi / 2 - 0.2)
            assert box is not None
            cx, h = box
            assert (np.abs(centres[mid, 0] - cx) <= h + 12).all() and (np.abs(centres[mid, 1]) <= h + 12).all(), \
                f"{a.id} turns away from the intersection"


@pytest.mark.parametrize("prompt", PROMPTS)
def test_map_agrees_with_trajectories(prompt):
    for seed in (0, 3):
        result = prompt_to_scenario(prompt, options=RunOptions(seed=seed, duration=4.0))
        _check(result.scenario)


def test_map_agrees_for_a_long_clip_with_turns():
    result = prompt_to_scenario("we turn left while a bus turns right from the left and a truck turns left",
                                options=RunOptions(seed=1, duration=12.0))
    _check(result.scenario)


def test_procedural_maps_are_unchanged():
    m = intersection_map(IntersectionLayout())
    assert len(m.lanes) == 16 and len(m.ped_crossings) == 4 and len(m.lane_boundaries) == 4
    s = straight_road_map()
    assert {l.id for l in s.lanes} == {"EB_1", "EB_2", "WB_1", "WB_2"}


def test_turn_connector_joins_lanes_with_zero_end_curvature():
    lay = RoadLayout(intersection_x=40.0)
    c = turn_connector(lay, "EB", 1, "left", 1, max_curvature=0.15)
    assert c.points[0][1] == pytest.approx(-1.75) and c.points[-1][0] == pytest.approx(41.75)
    assert c.points[0][0] <= lay.box_entry_s("EB") + 1e-9
    assert c.points[-1][1] >= lay.box_exit_s("NB") - 1e-9
    p = c.path
    k = np.abs(np.gradient(p.headings, p.s))
    assert k.max() <= 0.15 + 1e-6
    assert k[1] < 0.1 * k.max() and k[-2] < 0.1 * k.max()
    tight = turn_connector(lay, "EB", 2, "right", 2, max_curvature=1 / 9.0)   # a bus needs a wider curve
    loose = turn_connector(lay, "EB", 2, "right", 2, max_curvature=1 / 5.0)
    assert tight.path.length > loose.path.length
    with pytest.raises(ValueError, match="U-turn"):
        uturn_connector(lay, "EB", 1, 1, 0.0, max_curvature=0.2)


def test_fitted_map_kerbs_parking_ramps_and_crosswalks():
    lay = RoadLayout(parking=frozenset({"EB"}), crosswalks=(30.0,), ramps=(Ramp("WB", -20.0),))
    ext = MapExtent(-60.0, 120.0)
    m = fitted_road_map(lay, ext)
    ids = {l.id for l in m.lanes}
    assert {"EB_park", "WB_merge", "EB_1", "WB_2"} <= ids
    assert any(c.id == "cross_mid_1" for c in m.ped_crossings)
    for kerb in m.lane_boundaries:
        a = kerb.array
        on_cut = np.isclose(a[:, 0], ext.xmin) | np.isclose(a[:, 0], ext.xmax)
        assert not (on_cut[1:] & on_cut[:-1] & np.isclose(a[1:, 0], a[:-1, 0])).any()   # no kerb across road ends
    area = m.drivable_geometry
    assert area.contains(shapely.Point(0.0, -8.25))          # parking lane is drivable
    assert area.contains(shapely.Point(60.0, 8.75))          # westbound merge lane before it ends (x = 20)
    assert not area.contains(shapely.Point(-40.0, 8.75))     # ...and not after its 40 m taper
