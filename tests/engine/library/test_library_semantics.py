"""What individual functions promise: gaps, speeds, headings, placement refusals, limits, contact."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine.library import LIMITS, LibraryError, LimitError, PlacementError, ScenarioBuilder, library_functions
from engine.library.clearance import footprint_distances
from engine.library.motion import extrapolated_pose
from engine.scenario.model import EGO_ID


def call(b: ScenarioBuilder, name: str, *args, **kwargs):
    return library_functions()[name].call(b, args, kwargs)


def _yaw_change(traj, t0, t1):
    return math.remainder(traj.pose_at(t1)[2] - traj.pose_at(t0)[2], 2 * math.pi)


def test_limits_table_covers_every_class_and_is_consistent():
    from engine.classes import class_names

    assert set(LIMITS) == set(class_names())
    for lim in LIMITS.values():
        assert lim.comfort_accel <= lim.max_accel and lim.comfort_decel <= lim.max_decel
        assert lim.comfort_lat_accel <= lim.max_lat_accel
        assert lim.typical_speed[0] <= lim.typical_speed[1] <= lim.max_speed


def test_cut_in_ends_at_the_requested_gap_ahead_of_the_target():
    b = ScenarioBuilder(seed=1, duration=6.0)
    h = call(b, "cut_in", b.ego, side="left", gap=5.0, start=0.5, duration=2.5)
    rec = b.record(h)
    t_end = 0.5 + 2.5
    (xc, yc), _, _ = extrapolated_pose(rec.trajectory, t_end)
    (xe, ye), _, _ = extrapolated_pose(b.record(EGO_ID).trajectory, t_end)
    gap = (xc - xe) - (rec.size[1] + b.record(EGO_ID).size[1]) / 2
    assert gap == pytest.approx(5.0, abs=0.15)
    assert yc == pytest.approx(ye, abs=0.05)                          # in the ego's lane by then
    assert rec.trajectory.pose_at(0.0)[1] == pytest.approx(-1.75)     # started in the left lane


def test_cut_in_refuses_a_gap_below_one_metre_unless_contact_is_asked():
    b = ScenarioBuilder(seed=0)
    with pytest.raises(PlacementError, match="contact=True"):
        call(b, "cut_in", b.ego, gap=0.3)
    h = call(b, "cut_in", b.ego, gap=0.0, contact=True)
    assert any(i.kind == "contact" and set(i.agents) == {h.id, EGO_ID} for i in b.intents)


def test_cut_in_from_the_left_of_the_innermost_lane_says_why_it_cannot():
    b = ScenarioBuilder()
    call(b, "set_road", ego_lane=1)
    with pytest.raises(PlacementError, match="no lane to the left"):
        call(b, "cut_in", b.ego, side="left")


def test_explicit_overlapping_placement_is_refused_and_leaves_the_scenario_unchanged():
    b = ScenarioBuilder()
    call(b, "forward", "car", ahead=10.0)
    before = [r.id for r in b.records()]
    with pytest.raises(PlacementError, match="would come within"):
        call(b, "forward", "truck", ahead=11.0)
    assert [r.id for r in b.records()] == before


def test_failed_group_call_adds_nothing():
    b = ScenarioBuilder()
    call(b, "forward", "car", lane="right", ahead=20.0, speed=0.0)
    n = len(b.records())
    with pytest.raises(PlacementError):
        call(b, "work_zone", lane="right", ahead=5.0)
    assert len(b.records()) == n


def test_brake_reaches_the_target_speed_and_emergency_stop_stops():
    b = ScenarioBuilder(duration=5.0)
    h = call(b, "brake", b.ego, speed=10.0, to_speed=4.0, decel=3.0, start=0.5)
    v = b.record(h).trajectory.sample(b.times).speed
    assert v[0] == pytest.approx(10.0, abs=0.05) and v[-1] == pytest.approx(4.0, abs=0.05)
    assert np.all(np.diff(v) <= 5e-3)          # never speeds up (positions are stored to 0.1 mm)
    e = call(b, "emergency_stop", "car", speed=12.0, lane="left", start=0.3)
    ve = b.record(e).trajectory.sample(b.times).speed
    assert ve[-1] < 0.05
    accel = np.gradient(ve, b.times)
    assert accel.min() < -0.7 * LIMITS["car"].max_decel           # hard, close to the limit


def test_kinematic_limit_errors_name_the_limit():
    b = ScenarioBuilder()
    with pytest.raises(LimitError, match="beyond what a truck can do"):
        call(b, "brake", "truck", decel=12.0, lane="left")
    with pytest.raises(LimitError, match="at least"):
        call(b, "change_lane", "car", side="left", lane="right", duration=0.4)
    with pytest.raises(LimitError, match="top speed"):
        call(b, "forward", "bicycle", speed=30.0, lane="right")


def test_bad_arguments_name_function_and_parameter():
    b = ScenarioBuilder()
    with pytest.raises(LibraryError, match=r"cut_in: side must be one of 'left', 'right'"):
        call(b, "cut_in", b.ego, side="up")
    with pytest.raises(LibraryError, match=r"forward: speed must be a number"):
        call(b, "forward", "car", speed="fast")
    with pytest.raises(LibraryError, match=r"unexpected keyword argument 'speeed'"):
        call(b, "forward", "car", speeed=3.0)
    with pytest.raises(LibraryError, match="unknown class 'spaceship'"):
        call(b, "forward", "spaceship")


def test_the_ego_gets_one_motion_set_before_agents_placed_relative_to_it():
    b = ScenarioBuilder()
    call(b, "cut_in", b.ego)
    with pytest.raises(PlacementError, match="before placing agents relative to it"):
        call(b, "brake", b.ego)
    b2 = ScenarioBuilder()
    call(b2, "brake", b2.ego)
    with pytest.raises(PlacementError, match="one motion function"):
        call(b2, "accelerate", b2.ego)


def test_follow_copies_the_leader_with_a_time_gap():
    b = ScenarioBuilder(duration=6.0)
    lead = call(b, "brake", "car", speed=10.0, to_speed=0.0, decel=3.0, start=1.0, lane="left", ahead=20.0)
    f = call(b, "follow", lead, who="car", time_gap=1.5)
    tl, tf = b.record(lead).trajectory, b.record(f).trajectory
    t = np.array([2.0, 3.0, 4.0])
    assert np.allclose(tf.sample(t).speed, tl.sample(t - 1.5).speed, atol=0.05)
    d = footprint_distances(b.record(f).footprints(b.times), b.record(lead).footprints(b.times))
    assert d.min() >= 1.9                                        # standstill distance kept


def test_turns_change_heading_by_a_quarter_and_u_turn_by_a_half():
    b = ScenarioBuilder(duration=8.0)
    call(b, "turn_left", b.ego)
    assert _yaw_change(b.record(EGO_ID).trajectory, 0.0, 8.0) == pytest.approx(math.pi / 2, abs=0.02)
    assert b.layout.intersection_x is not None
    b2 = ScenarioBuilder(duration=8.0)
    call(b2, "turn_right", b2.ego)
    assert _yaw_change(b2.record(EGO_ID).trajectory, 0.0, 8.0) == pytest.approx(-math.pi / 2, abs=0.02)
    b3 = ScenarioBuilder(duration=8.0)
    call(b3, "u_turn", b3.ego)
    assert abs(_yaw_change(b3.record(EGO_ID).trajectory, 0.0, 8.0)) == pytest.approx(math.pi, abs=0.02)


def test_u_turn_that_does_not_fit_says_what_to_change():
    b = ScenarioBuilder()
    with pytest.raises(PlacementError, match="set_road"):
        call(b, "u_turn", "truck", lane="left")


def test_parked_cars_sit_in_a_parking_lane_and_keep_spacing():
    b = ScenarioBuilder()
    hs = call(b, "parked", "car", side="right", count=4, spacing=1.5)
    assert len(hs) == 4 and "EB" in b.layout.parking
    xs = sorted(b.record(h).trajectory.pose_at(0.0)[0] for h in hs)
    assert np.allclose(np.diff(xs), b.record(hs[0]).size[1] + 1.5, atol=1e-3)
    ys = {round(b.record(h).trajectory.pose_at(0.0)[1], 3) for h in hs}
    assert ys == {round(b.layout.parking_lat("EB"), 3)}


def test_crossing_pedestrian_uses_a_crosswalk_and_jaywalker_avoids_them():
    b = ScenarioBuilder()
    p = call(b, "pedestrian_crossing", side="right")
    x = b.record(p).trajectory.pose_at(0.0)[0]
    assert any(abs(x - c) < 0.01 for c in b.layout.main_crosswalk_centres())
    j = call(b, "jaywalk", side="left")
    xj = b.record(j).trajectory.pose_at(0.0)[0]
    assert min(abs(xj - c) for c in b.layout.main_crosswalk_centres()) > 6.0


def test_run_out_adds_two_parked_cars_that_hide_the_pedestrian():
    b = ScenarioBuilder()
    p = call(b, "run_out", side="right")
    rec = b.record(p)
    parked_ids = rec.params["parked"]
    assert len(parked_ids) == 2 and all(b.record(i).behavior == "parked" for i in parked_ids)
    px = rec.trajectory.pose_at(0.0)[0]
    cx = sorted(b.record(i).trajectory.pose_at(0.0)[0] for i in parked_ids)
    assert cx[0] < px < cx[1]


def test_handles_expose_only_documented_attributes():
    b = ScenarioBuilder()
    h = call(b, "forward", "truck", speed=9.0, lane="left")
    assert (h.id, h.cls, h.lane) == ("truck_1", "truck", "EB_1")
    assert h.speed == pytest.approx(9.0, abs=0.01)
    assert h.length > 6.0 and h.width > 2.0
    assert not hasattr(h, "__dict__")


def test_any_duration_and_rate():
    for duration, fps in ((0.5, 12.0), (20.0, 10.0), (3.0, 30.0)):
        b = ScenarioBuilder(duration=duration, fps=fps)
        call(b, "cut_in", b.ego, side="left")
        call(b, "pedestrian_crossing")
        s = b.build()
        assert s.num_frames == len(b.times)
        assert all(len(a.trajectory.points) == s.num_frames for a in s.all_agents)
