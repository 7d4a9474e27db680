"""Insertion proposals never collide with an annotated agent and stay on the drivable area."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon

from engine.realscene.proposals import (
    EGO_REAR_AXLE_OFFSET, PAPER_SPEEDS, ROAD_TOLERANCE, insertion_conflicts, propose_insertions, straight_trajectory,
)
from engine.rig.pose import agent_present
from engine.scenario.model import Agent
from engine.sources import open_nuscenes_scene

VERSION = "v1.0-mini"


@pytest.fixture(scope="module")
def scenes(nuscenes_dataset):
    return {n: open_nuscenes_scene(nuscenes_dataset.dataroot, VERSION, n) for n in ("scene-0001", "scene-0002", "scene-0003")}


def _footprint(agent: Agent, t: float, forward: float = 0.0) -> Polygon:
    """Shapely footprint, optionally lengthened forward (the ego's body ahead of its rear axle)."""
    x, y, yaw = agent.trajectory.pose_at(t)
    l, w = agent.length + forward, agent.width
    cx, cy = x + math.cos(yaw) * forward / 2, y + math.sin(yaw) * forward / 2
    c, s = math.cos(yaw), math.sin(yaw)
    pts = [(cx + c * dx - s * dy, cy + s * dx + c * dy) for dx, dy in ((l / 2, w / 2), (-l / 2, w / 2), (-l / 2, -w / 2), (l / 2, -w / 2))]
    return Polygon(pts)


def _independent_check(scenario, agent: Agent, margin: float) -> None:
    """Shapely (not the SAT code under test): footprints at least `margin` apart, footprint on the road."""
    area = scenario.map.drivable_geometry.buffer(ROAD_TOLERANCE + 1e-6)
    for t in scenario.frame_times():
        mine = _footprint(agent, t)
        assert area.contains(mine), f"{agent.id} off the drivable area at t={t:.2f}"
        for other in scenario.all_agents:
            if other.id != "ego" and not agent_present(other, float(t)):
                continue
            theirs = _footprint(other, t, EGO_REAR_AXLE_OFFSET if other.id == "ego" else 0.0)
            gap = mine.distance(theirs)
            assert gap >= margin - 1e-6, f"{agent.id} within {margin:.2f} m of {other.id} at t={t:.2f} (gap {gap:.2f} m)"


@pytest.mark.parametrize("name", ["scene-0001", "scene-0002"])
@pytest.mark.parametrize("cls", ["car", "truck", "pedestrian", "bicycle"])
def test_proposals_are_clear_of_every_annotated_agent_at_every_frame(scenes, name, cls):
    scene = scenes[name]
    props = propose_insertions(scene.scenario, cls, count=6)
    assert props, f"no {cls} proposal in {name}"
    for p in props:
        a = p.agent
        assert not a.locked and a.cls == cls and a.behavior == "straight"
        assert a.trajectory.speed_at(1.0) == pytest.approx(p.speed, abs=1e-3)
        _independent_check(scene.scenario, a, 0.5)
        assert insertion_conflicts(scene.scenario, a) == []
    starts = np.array([p.agent.trajectory.sample(0.0).xy[0] for p in props])
    d = np.hypot(*(starts[:, None] - starts[None]).transpose(2, 0, 1))
    assert (d + np.eye(len(props)) * 99).min() >= 6.0 - 1e-6, "proposals are spread out"


def test_vehicle_proposals_cycle_through_the_paper_speeds_and_prefer_the_front(scenes):
    props = propose_insertions(scenes["scene-0001"].scenario, "car", count=6)
    assert {p.speed for p in props} == set(PAPER_SPEEDS)
    assert abs(props[0].bearing) < math.radians(35) and 6.0 <= props[0].distance <= 45.0
    ids = [p.agent.id for p in props]
    assert len(set(ids)) == len(ids) and not set(ids) & set(scenes["scene-0001"].scenario.agent_ids())


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(speed=st.floats(0.0, 12.0), margin=st.floats(0.0, 1.5), name=st.sampled_from(["scene-0001", "scene-0003"]))
def test_any_speed_and_margin_give_collision_free_proposals(scenes, speed, margin, name):
    scene = scenes[name]
    for p in propose_insertions(scene.scenario, "car", speeds=(speed,), count=3, margin=margin):
        _independent_check(scene.scenario, p.agent, margin)


def test_conflicts_name_the_agent_hit_and_the_time(scenes):
    sc = scenes["scene-0001"].scenario
    times = sc.frame_times()
    lead = max((a for a in sc.agents if a.cls == "car"), key=lambda a: a.trajectory.speed_at(1.0) if a.trajectory.covers(0.0) else -1)
    x, y, yaw = lead.trajectory.pose_at(1.0)
    # a car parked where the lead car will be at t = 1 s
    parked = Agent("car_x", "car", (1.9, 4.5, 1.6), straight_trajectory(x, y, yaw, 0.0, times))
    conflicts = insertion_conflicts(sc, parked)
    assert [c.kind for c in conflicts] == ["collision"] and conflicts[0].other == lead.id
    assert conflicts[0].t <= 1.0 and "overlaps" in str(conflicts[0])
    # driving straight off the road sideways
    side = Agent("car_y", "car", (1.9, 4.5, 1.6), straight_trajectory(x, y, yaw + math.pi / 2, 8.0, times))
    assert any(c.kind == "off_road" for c in insertion_conflicts(sc, side))


def test_no_room_means_no_proposal_rather_than_a_bad_one(scenes):
    sc = scenes["scene-0001"].scenario
    assert propose_insertions(sc, "bus", min_distance=0.0, max_distance=0.5) == []
    with pytest.raises(ValueError, match="unknown class 'spaceship'"):
        propose_insertions(sc, "spaceship")
