"""Dropping assets (pose along the lane), hit testing and drag sessions on the bird's-eye view."""
from __future__ import annotations

import math

import pytest

from editor.interaction import AgentDrag, Hit, RotateDrag, WaypointDrag, hit_test, rotate_handle_position
from editor.drop_placement import new_agent_at
from engine.demo import build_demo_scenario


@pytest.fixture(scope="module")
def demo():
    return build_demo_scenario()


def test_a_car_dropped_on_a_lane_drives_along_it_through_the_drop_point(demo):
    # westbound lane WB_1 centre is at y = +1.75 and heads towards -x
    agent, placement = new_agent_at(demo, "car", 10.0, 2.3, t_drop=1.0)
    assert agent.id == "car_2" and placement.reason.startswith("driving along lane WB_1")
    x, y, yaw = agent.trajectory.pose_at(1.0)
    assert (x, y) == pytest.approx((10.0, 1.75), abs=1e-3)
    assert abs(math.remainder(yaw - math.pi, 2 * math.pi)) < 1e-3
    assert agent.trajectory.pose_at(2.0)[0] == pytest.approx(10.0 - 8.0, abs=0.05)
    assert agent.trajectory.covers(0.0) and agent.trajectory.covers((demo.num_frames - 1) / demo.fps)


def test_other_drops_park_cross_or_stand(demo):
    parked, p = new_agent_at(demo, "truck", 10.0, 30.0)
    assert p.speed == 0 and len(parked.trajectory.points) == 1
    ped, p = new_agent_at(demo, "pedestrian", 36.0, -3.0)  # on the west crosswalk
    assert p.reason.startswith("walking across") and abs(math.sin(p.yaw)) > 0.99
    cone, p = new_agent_at(demo, "traffic_cone", 20.0, -5.0)
    assert p.speed == 0 and cone.size[2] < 1.2
    with pytest.raises(ValueError, match="unknown class 'unicorn'"):
        new_agent_at(demo, "unicorn", 0, 0)


def test_hit_test_prefers_handles_of_the_selection_then_small_agents(demo):
    t = 1.0
    x, y, _ = demo.agent("car_1").trajectory.pose_at(t)
    assert hit_test(demo, t, x, y) == Hit("agent", "car_1")
    p = demo.agent("car_1").trajectory.points[4]
    assert p.t == t  # the car's box sits on this waypoint now: grabbing there takes the body (whole path) ...
    assert hit_test(demo, t, p.x, p.y, ("car_1",), radius=0.3) == Hit("agent", "car_1")
    # ... unless the waypoint is asked for (Alt), and a waypoint away from the box is a waypoint anyway
    assert hit_test(demo, t, p.x, p.y, ("car_1",), radius=0.3, prefer_waypoint=True) == Hit("waypoint", "car_1", 4)
    q = demo.agent("car_1").trajectory.points[9]
    assert hit_test(demo, t, q.x, q.y, ("car_1",), radius=0.3) == Hit("waypoint", "car_1", 9)
    hx, hy = rotate_handle_position(demo, "car_1", t, gap=1.5)
    assert hit_test(demo, t, hx, hy, ("car_1",)).kind == "rotate"
    assert hit_test(demo, t, -40.0, 30.0) is None


def test_drag_sessions_compute_from_the_start_state(demo):
    t = 1.0
    x, y, yaw = demo.agent("truck_1").trajectory.pose_at(t)
    drag = AgentDrag(demo, "truck_1", x, y, t)
    moved = drag.scenario_at(x + 3.0, y + 0.4)
    assert moved.agent("truck_1").trajectory.pose_at(t)[:2] == pytest.approx((x + 3.0, y + 0.4))
    snapped = drag.scenario_at(x + 3.0, y + 0.4, snap=True)
    assert snapped.agent("truck_1").trajectory.pose_at(t)[1] == pytest.approx(1.75, abs=1e-6)
    assert drag.scenario_at(x, y) == demo  # back to the start: nothing changed

    rot = RotateDrag(demo, "truck_1", x - 5.0, y, t)  # handle ahead of the westbound truck
    turned = rot.scenario_at(x, y - 5.0)
    assert turned.agent("truck_1").trajectory.pose_at(t)[2] == pytest.approx(math.remainder(yaw + math.pi / 2, 2 * math.pi))
    assert rot.angle_at(x - 5.0, y - 0.3, snap=True) == pytest.approx(0.0, abs=1e-9)

    p = demo.agent("car_1").trajectory.points[6]
    wd = WaypointDrag(demo, "car_1", 6, p.x + 0.2, p.y)  # grabbed 0.2 m off the handle
    out = wd.scenario_at(p.x + 1.2, p.y + 1.0).agent("car_1").trajectory.points[6]
    assert (out.x, out.y) == pytest.approx((p.x + 1.0, p.y + 1.0))
