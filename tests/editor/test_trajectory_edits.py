"""Waypoint edits, retiming by speed profile, and the commands built on them."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from editor import commands as C
from editor import speed_profile as sp
from editor import trajectory_edit as te
from editor.document import Document
from engine.scenario.trajectory import Trajectory, Waypoint
from tests.editor.conftest import straight_agent


def test_move_waypoint_turns_the_neighbours_along_the_new_path():
    traj = straight_agent("a", y0=0.0).trajectory
    out = te.move_waypoint(traj, 5, traj.points[5].x, 2.0)
    assert out.points[5].y == 2.0
    assert out.points[4].yaw > 0.1  # climbing towards the moved point
    assert out.points[6].yaw < -0.1  # descending after it
    assert out.points[0].yaw == 0.0 and out.points[9].yaw == 0.0
    with pytest.raises(ValueError, match="waypoint 13 does not exist"):
        te.move_waypoint(traj, 12, 0.0, 0.0)


def test_insert_delete_and_append_keep_times_increasing():
    traj = straight_agent("a").trajectory
    wp = te.split_point(traj, 0.6)
    out, i = te.insert_waypoint(traj, wp)
    assert i == 3 and out.points[3].t == pytest.approx(0.6)
    assert out.pose_at(0.6)[0] == pytest.approx(traj.pose_at(0.6)[0], abs=1e-6)
    with pytest.raises(ValueError, match="exists already"):
        te.insert_waypoint(traj, Waypoint(0.5, 0, 0, 0))
    assert len(te.delete_waypoint(traj, 0).points) == 11
    with pytest.raises(ValueError, match="only waypoint"):
        te.delete_waypoint(Trajectory.static(0, 0, 0), 0)
    app = te.append_waypoint(traj, traj.points[-1].x + 10.0, traj.points[-1].y + 10.0, speed=5.0)
    assert app.points[-1].t == pytest.approx(traj.end_time + math.hypot(10, 10) / 5.0)
    assert app.points[-1].yaw == pytest.approx(math.pi / 4)


def test_append_to_a_parked_object_makes_it_drive_off():
    traj = Trajectory.static(0.0, 0.0, math.pi)
    out = te.append_waypoint(traj, 0.0, 10.0, speed=2.0)
    assert [p.t for p in out.points] == [0.0, 5.0]
    assert all(p.yaw == pytest.approx(math.pi / 2) for p in out.points)


def test_rotation_about_a_pivot_turns_positions_and_yaws():
    traj = straight_agent("a", x0=0.0, y0=0.0).trajectory
    out = te.rotated(traj, math.pi / 2, (0.0, 0.0))
    assert out.points[1].x == pytest.approx(0.0, abs=1e-9)
    assert out.points[1].y == pytest.approx(traj.points[1].x)
    assert out.points[1].yaw == pytest.approx(math.pi / 2)


def test_set_waypoint_fields_rejects_times_out_of_order():
    traj = straight_agent("a").trajectory
    with pytest.raises(ValueError, match="waypoint 4: t = 0.200 s must come after waypoint 3"):
        te.set_waypoint_fields(traj, 3, t=0.2)
    with pytest.raises(ValueError, match="unknown waypoint field"):
        te.set_waypoint_fields(traj, 3, z=1.0)
    out = te.set_waypoint_fields(traj, 3, t=0.8, v=3.0)
    assert out.points[3].t == 0.8 and out.points[3].v == 3.0


def test_retiming_keeps_the_path_and_follows_the_speeds():
    traj = Trajectory.from_arrays([0, 2, 4], [0, 20, 40], [0, 0, 0], [0, 0, 0])
    slow = sp.retimed(traj, [5.0, 5.0, 5.0])
    assert slow.end_time == pytest.approx(8.0, rel=1e-3)
    assert np.allclose(slow.key_xy[:, 1], 0.0)
    stop = sp.retimed(traj, [10.0, 0.0, 10.0])
    realised = stop.sample(stop.times).speed
    i_stop = int(np.argmin(np.abs(stop.key_xy[:, 0] - 20.0)))
    assert stop.key_xy[i_stop, 0] == pytest.approx(20.0)
    assert realised[i_stop] < 1.0  # it nearly stops where the profile says 0
    assert realised[0] == pytest.approx(10.0, rel=0.1)
    assert len(stop.points) > 3  # intermediate waypoints keep the interpolation on the ramp
    with pytest.raises(ValueError, match="expected 3 speeds"):
        sp.retimed(traj, [1.0, 2.0])
    with pytest.raises(ValueError, match="waypoint 2: speed must be"):
        sp.retimed(traj, [1.0, -2.0, 1.0])


def test_speed_profile_of_derived_speeds_keeps_the_timing():
    traj = straight_agent("a", speed=8.0).trajectory
    same = sp.retimed(traj, sp.waypoint_speeds(traj))
    assert np.allclose(same.times, traj.times, atol=1e-6)
    assert np.allclose(sp.scaled_speed(traj, 2.0).times, traj.times / 2)


def test_agent_commands_refuse_locked_agents_and_undo_exactly(road_scenario):
    from dataclasses import replace

    s = road_scenario.with_agent(replace(road_scenario.agent("car_1"), locked=True))
    doc = Document(s)
    with pytest.raises(C.LockedAgentError, match="car_1 comes from the real scene"):
        doc.execute(C.MoveAgent("car_1", dx=1.0))
    with pytest.raises(ValueError, match="ego cannot be deleted"):
        doc.execute(C.RemoveAgent("ego"))
    assert doc.scenario is s and not doc.is_dirty
    doc.execute(C.SetAgentClass("car_2", cls="truck"))
    truck = doc.scenario.agent("car_2")
    assert truck.cls == "truck" and truck.asset == "builtin:truck" and truck.length > 6
    assert doc.undo_stack.undo_label() == "Undo Change class of car_2"
    doc.undo()
    assert doc.scenario == s and not doc.is_dirty


def test_apply_prompt_add_mode_renames_clashing_ids(road_scenario):
    from engine.scenario.model import Environment, Intent, Scenario

    result = Scenario(agents=(straight_agent("car_1", x0=50.0), straight_agent("truck_9", cls="truck")),
                      environment=Environment("night", "clear"),
                      intents=(Intent("near_miss", ("car_1", "ego")),), script="s()")
    merged = C.merge_prompt_result(road_scenario, result, "add", prompt="a truck at night")
    assert merged.agent_ids() == ["car_1", "car_2", "car_3", "truck_9"]
    # placed relative to the ego: the result's ego (default, at the origin) maps onto this one
    ego0 = road_scenario.ego.trajectory.points[0]
    assert (merged.agent("car_3").trajectory.points[0].x, merged.agent("car_3").trajectory.points[0].y) == pytest.approx(
        (50.0 + ego0.x, -5.25 + ego0.y))
    assert merged.intents[-1].agents == ("car_3", "ego")
    assert merged.environment.time_of_day == "night"
    rainy = replace(road_scenario, environment=Environment("day", "rain"))
    assert C.merge_prompt_result(rainy, result, "add").environment == Environment("night", "rain")  # rain stays
    assert C.merge_prompt_result(rainy, replace(result, environment=Environment()), "add").environment == \
        Environment("day", "rain")
    assert merged.map is road_scenario.map and merged.ego is road_scenario.ego
    assert merged.prompt == "a truck at night" and merged.script == "s()"
    replaced = C.merge_prompt_result(road_scenario, result, "replace")
    assert replaced.agent_ids() == ["car_1", "truck_9"] and replaced.name == road_scenario.name
    with pytest.raises(ValueError, match="apply mode"):
        C.merge_prompt_result(road_scenario, result, "merge")
