"""OpenSCENARIO / OpenDRIVE export: schema validity, read-back of trajectories, road geometry."""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import replace

import numpy as np
import pytest

from engine.export.opendrive import opendrive_bytes
from engine.export.openscenario import export_openscenario, openscenario_bytes, trajectory_vertices
from engine.export.openscenario_frame import centre_offset, centre_to_reference, reference_to_centre
from engine.export.openscenario_reader import OpenScenarioReadError, read_openscenario, scenario_from_openscenario
from engine.export.road_layout import UnsupportedLayout, analyse_layout
from engine.export.xml_schemas import validate_opendrive, validate_openscenario
from engine.roadmap.procedural import straight_road_map
from engine.scenario.model import Agent, Environment, Scenario
from engine.scenario.map_elements import Lane, RoadMap
from engine.scenario.trajectory import Trajectory


@pytest.mark.parametrize("minor", [0, 1, 2, 3])
def test_demo_validates_against_each_schema_version(demo_scenario, tmp_path, minor):
    res = export_openscenario(demo_scenario, tmp_path, minor_version=minor)
    tree = ET.parse(res.xosc_path)
    assert tree.getroot().find("FileHeader").attrib["revMinor"] == str(minor)
    assert validate_openscenario(tree) == []
    assert res.xodr_path is not None and validate_opendrive(ET.parse(res.xodr_path)) == []


def test_schema_validation_catches_a_broken_document(demo_scenario):
    root = ET.fromstring(openscenario_bytes(demo_scenario))
    assert validate_openscenario(root) == []
    dims = root.find(".//ScenarioObject/Vehicle/BoundingBox/Dimensions")
    dims.attrib["width"] = "wide"
    root.find(".//Storyboard").remove(root.find(".//Storyboard/Init"))
    problems = validate_openscenario(root)
    assert len(problems) >= 1
    assert any("Dimensions" in p.path or "width" in p.reason for p in problems) or any("Init" in p.reason for p in problems)


def test_trajectories_read_back_within_tolerance(demo_scenario, tmp_path):
    res = export_openscenario(demo_scenario, tmp_path)
    doc = read_openscenario(res.xosc_path)
    assert [e.name for e in doc.entities] == ["ego", *demo_scenario.agent_ids()]
    assert doc.stop_time == pytest.approx(demo_scenario.duration)
    assert doc.road_file == res.xodr_path.name
    times = demo_scenario.frame_times()
    half = times[:-1] + 0.5 / demo_scenario.fps
    for agent in demo_scenario.all_agents:
        e = doc.entity(agent.id)
        assert e.cls == agent.cls and np.allclose(e.size, agent.size)
        a, b = agent.trajectory.sample(times), e.trajectory.sample(times)
        # at the polyline vertices (every frame) the poses are the written numbers: 1 mm, 1e-5 rad
        assert np.abs(a.x - b.x).max() < 1e-3 and np.abs(a.y - b.y).max() < 1e-3
        assert np.abs(np.angle(np.exp(1j * (a.yaw - b.yaw)))).max() < 1e-5
        # between frames the polyline is a chord of the smooth path: within 5 cm
        a, b = agent.trajectory.sample(half), e.trajectory.sample(half)
        assert np.hypot(a.x - b.x, a.y - b.y).max() < 0.05


def test_vehicle_positions_are_rear_axle_references(demo_scenario, tmp_path):
    res = export_openscenario(demo_scenario, tmp_path)
    root = ET.parse(res.xosc_path).getroot()
    car = demo_scenario.agent("car_1")
    centre = root.find(".//ScenarioObject[@name='car_1']/Vehicle/BoundingBox/Center")
    assert float(centre.attrib["x"]) == pytest.approx(0.3 * car.length)
    assert float(centre.attrib["z"]) == pytest.approx(car.height / 2)
    tp = root.find(".//Private[@entityRef='car_1']//TeleportAction/Position/WorldPosition")
    x, y, yaw = car.trajectory.pose_at(0.0)
    assert float(tp.attrib["x"]) == pytest.approx(x - 0.3 * car.length * math.cos(yaw), abs=1e-6)
    # pedestrians and cones keep the box centre as reference
    cone = demo_scenario.agent("traffic_cone_1")
    tp = root.find(".//Private[@entityRef='traffic_cone_1']//TeleportAction/Position/WorldPosition")
    assert float(tp.attrib["x"]) == pytest.approx(cone.trajectory.points[0].x)


def test_frame_conversion_round_trips():
    rng = np.random.default_rng(0)
    x, y, yaw = rng.normal(size=(3, 50)) * [[30], [30], [3]]
    for cls, size in (("truck", (2.5, 6.7, 2.7)), ("pedestrian", (0.7, 0.7, 1.8))):
        off = centre_offset(cls, size)
        xr, yr = centre_to_reference(x, y, yaw, off)
        xc, yc = reference_to_centre(xr, yr, yaw, off)
        assert np.allclose(xc, x) and np.allclose(yc, y)
        if cls == "truck":
            assert np.allclose(np.hypot(xr - x, yr - y), 0.3 * 6.7)


def test_headings_are_written_continuous_across_pi():
    # a U-turn through +-pi: the written headings must not jump by 2 pi
    t = np.linspace(0, 3, 13)
    yaw = np.linspace(math.pi / 2, 3 * math.pi / 2, 13)
    traj = Trajectory.from_arrays(t, 10 * np.cos(yaw), 10 * np.sin(yaw), np.angle(np.exp(1j * (yaw + math.pi / 2))))
    agent = Agent("car_1", "car", (1.9, 4.6, 1.7), traj)
    _, _, _, h = trajectory_vertices(agent, 12.0)
    assert np.abs(np.diff(h)).max() < 0.3


@pytest.mark.parametrize("tod,weather", [(t, w) for t in ("day", "dusk", "night") for w in ("clear", "rain", "fog", "snow")])
def test_environment_round_trips(tod, weather, tmp_path):
    s = Scenario(name="env", environment=Environment(tod, weather))
    res = export_openscenario(s, tmp_path, write_road=False)
    assert res.xodr_path is None
    assert read_openscenario(res.xosc_path).environment == Environment(tod, weather)


def test_scenario_from_openscenario(demo_scenario, tmp_path):
    res = export_openscenario(demo_scenario, tmp_path)
    back = scenario_from_openscenario(res.xosc_path)
    assert back.ego.cls == "car" and back.agent_ids() == demo_scenario.agent_ids()
    assert back.environment == demo_scenario.environment
    assert back.num_frames == demo_scenario.num_frames


def test_reader_names_what_it_cannot_read(tmp_path):
    p = tmp_path / "x.xosc"
    p.write_text("<Other/>")
    with pytest.raises(OpenScenarioReadError, match="not OpenSCENARIO"):
        read_openscenario(p)
    p.write_text("<OpenSCENARIO><Entities><ScenarioObject name='a'><CatalogReference/></ScenarioObject></Entities></OpenSCENARIO>")
    with pytest.raises(OpenScenarioReadError, match="ScenarioObject\\[@name='a'\\]"):
        read_openscenario(p)


def _lane_centres_from_xodr(data: bytes) -> list[np.ndarray]:
    """Centre lines (N, 2) of every driving lane of every non-junction road (straight geometry only)."""
    root = ET.fromstring(data)
    out = []
    for road in root.findall("road"):
        if road.attrib.get("junction", "-1") != "-1":
            continue
        g = road.find("planView/geometry")
        assert g.find("line") is not None
        x, y, h, length = (float(g.attrib[k]) for k in ("x", "y", "hdg", "length"))
        d, n = np.array([math.cos(h), math.sin(h)]), np.array([-math.sin(h), math.cos(h)])
        sec = road.find("lanes/laneSection")
        for side, sign in (("left", 1), ("right", -1)):
            lanes = sec.find(side)
            if lanes is None:
                continue
            for lane in sorted(lanes.findall("lane"), key=lambda l: abs(int(l.attrib["id"]))):
                if lane.attrib["type"] != "driving":
                    continue
                k = abs(int(lane.attrib["id"]))
                w = float(lane.find("width").attrib["a"])
                off = sign * (k - 0.5) * w
                s = np.linspace(0, length, 5)
                out.append(np.array([x, y]) + s[:, None] * d + off * n)
    return out


def _distance_to_lanes(p: np.ndarray, road_map: RoadMap) -> float:
    best = math.inf
    for lane in road_map.lanes:
        a = lane.array
        for s, e in zip(a[:-1], a[1:]):
            u = np.clip(np.dot(p - s, e - s) / max(np.dot(e - s, e - s), 1e-12), 0, 1)
            best = min(best, float(np.linalg.norm(s + u * (e - s) - p)))
    return best


def test_straight_road_lanes_match_the_map():
    m = straight_road_map(x0=-20, x1=80, lanes_per_direction=3, lane_width=3.2)
    data, note = opendrive_bytes(m, "straight")
    assert data is not None and "straight road" in note
    assert validate_opendrive(ET.fromstring(data)) == []
    centres = _lane_centres_from_xodr(data)
    assert len(centres) == 6
    for c in centres:
        assert max(_distance_to_lanes(p, m) for p in c) < 1e-6


def test_intersection_arms_match_the_map_and_junction_connects_them(demo_scenario):
    data, note = opendrive_bytes(demo_scenario.map, "demo")
    assert data is not None and "junction with 4 arms" in note
    root = ET.fromstring(data)
    centres = _lane_centres_from_xodr(data)
    assert len(centres) == 16  # 4 arms x 2 directions x 2 lanes
    for c in centres:
        assert max(_distance_to_lanes(p, demo_scenario.map) for p in c) < 1e-6
    junction = root.find("junction")
    incoming = {c.attrib["incomingRoad"] for c in junction.findall("connection")}
    assert incoming == {"1", "2", "3", "4"}


def test_one_way_road_and_unsupported_maps():
    one_way = straight_road_map(lanes_per_direction=2, one_way=True)
    layout = analyse_layout(one_way)
    assert layout.arms[0].corridor.n_right == 2 and layout.arms[0].corridor.n_left == 0
    curved = RoadMap(lanes=(Lane("c", tuple((10 * math.cos(a), 10 * math.sin(a)) for a in np.linspace(0, 1.5, 12))),))
    with pytest.raises(UnsupportedLayout, match="curved lanes"):
        analyse_layout(curved)
    data, note = opendrive_bytes(curved, "curved")
    assert data is None and "curved lanes" in note
    mixed = RoadMap(lanes=(Lane("a", ((0, -1.75), (50, -1.75)), 3.5), Lane("b", ((0, -5.0), (50, -5.0)), 3.0)))
    with pytest.raises(UnsupportedLayout, match="different widths"):
        analyse_layout(mixed)
    assert opendrive_bytes(RoadMap(), "empty")[0] is None


def test_export_without_expressible_road_writes_no_logic_file(demo_scenario, tmp_path):
    s = replace(demo_scenario, map=RoadMap())
    res = export_openscenario(s, tmp_path)
    assert res.xodr_path is None and "no lanes" in res.road_note
    assert ET.parse(res.xosc_path).getroot().find("RoadNetwork/LogicFile") is None


def test_pure_python_validator_takes_over_without_lxml(demo_scenario, monkeypatch):
    import sys

    from engine.export import xml_schemas

    data = openscenario_bytes(demo_scenario, minor_version=1)
    monkeypatch.setitem(sys.modules, "lxml", None)  # lxml cannot be imported
    validator = xml_schemas._Validator(xml_schemas.schema_dir() / xml_schemas.OSC_SCHEMA_FILES[1])
    assert validator._lxml is None and validator._xmlschema is not None
    assert validator.problems(data) == []
    broken = data.replace(b'revMajor="1"', b'revMajor="one"', 1)
    assert any("revMajor" in p.reason or "revMajor" in p.path for p in validator.problems(broken))
