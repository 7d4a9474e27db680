"""Library manoeuvres placed relative to the real ego: they follow its road and avoid the real agents."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine.library import LibraryError
from engine.realscene.ego_path import EgoPathFrame
from engine.realscene.maneuvers import ManeuverPlacementError, ego_lane_guess, place_maneuver
from engine.rig.pose import agent_present
from engine.sources import open_nuscenes_scene

VERSION = "v1.0-mini"


@pytest.fixture(scope="module")
def scenario(nuscenes_dataset):
    return open_nuscenes_scene(nuscenes_dataset.dataroot, VERSION, "scene-0001").scenario


def _min_gap(scenario, agent) -> float:
    from shapely.geometry import Polygon

    gaps = []
    for t in scenario.frame_times():
        if not agent_present(agent, float(t)):
            continue
        mine = Polygon(agent.box_corners_2d(float(t))[0])
        for other in scenario.agents:
            if agent_present(other, float(t)):
                gaps.append(mine.distance(Polygon(other.box_corners_2d(float(t))[0])))
    return min(gaps)


def test_ego_path_frame_round_trips_and_follows_the_path(scenario):
    frame = EgoPathFrame.from_agent(scenario.ego, scenario.frame_times())
    rng = np.random.default_rng(1)
    s = rng.uniform(-10, frame.length + 10, 50)
    d = rng.uniform(-8, 8, 50)
    xy, heading = frame.to_world(s, d)
    s2, d2 = frame.to_path(xy)
    assert np.allclose(s2, s, atol=0.05) and np.allclose(d2, d, atol=0.05)
    ego_xy = scenario.ego.trajectory.sample(scenario.frame_times()).xy
    _, d_ego = frame.to_path(ego_xy)
    assert np.abs(d_ego).max() < 1e-6


def test_ego_lane_is_read_from_the_map(scenario):
    assert ego_lane_guess(scenario) == (1, 2)         # next to the centre line, two lanes each way


def test_cut_in_from_the_right_ends_ahead_of_the_real_ego_in_its_lane(scenario):
    placed = place_maneuver(scenario, "cut_in", side="right")
    (cutter,) = placed.agents
    assert cutter.behavior == "cut_in" and not cutter.locked and cutter.id not in scenario.agent_ids()
    frame = EgoPathFrame.from_agent(scenario.ego, scenario.frame_times())
    times = scenario.frame_times()
    s_c, d_c = frame.to_path(cutter.trajectory.sample(times).xy)
    s_e, _ = frame.to_path(scenario.ego.trajectory.sample(times).xy)
    assert d_c[0] == pytest.approx(-3.5, abs=0.6), "starts one lane to the right of the ego's path"
    assert abs(d_c[-1]) < 0.8 and s_c[-1] > s_e[-1] + 4.0, "ends in the ego's lane, ahead of it"
    assert _min_gap(scenario, cutter) >= 0.5 - 1e-6


@pytest.mark.parametrize("function", ["forward", "brake", "static_object"])
def test_placed_agents_keep_clear_of_the_annotated_traffic(scenario, function):
    placed = place_maneuver(scenario, function)
    for a in placed.agents:
        assert _min_gap(scenario, a) >= 0.5 - 1e-6, a.id
        yaw0 = a.trajectory.pose_at(0.0)[2]
        ego_yaw = scenario.ego.trajectory.pose_at(0.0)[2]
        assert abs((yaw0 - ego_yaw + math.pi) % (2 * math.pi) - math.pi) < 0.2, "aligned with the ego's road"


def test_impossible_or_unknown_manoeuvres_say_why(scenario):
    with pytest.raises(ManeuverPlacementError, match="no lane to the left"):
        place_maneuver(scenario, "cut_in", side="left", seeds=range(2))
    with pytest.raises(LibraryError, match="unknown manoeuvre 'fly'"):
        place_maneuver(scenario, "fly")
    with pytest.raises(LibraryError, match="parameters are"):
        place_maneuver(scenario, "forward", wings=2)
