"""A roundabout scenario still exports: the OpenSCENARIO file validates and replays every trajectory;
the OpenDRIVE writer, which has no ring, is skipped with a clear note instead of failing."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np

from engine.export.openscenario import export_openscenario
from engine.export.openscenario_reader import read_openscenario
from engine.export.xml_schemas import validate_openscenario
from engine.library.builder import ScenarioBuilder
from engine.library.registry import bind_library


def _roundabout_scenario():
    b = ScenarioBuilder(seed=2, duration=8.0)
    L = bind_library(b)
    L["roundabout"](b.ego, exit=2)
    L["roundabout"]("car", entry="from_left", exit=3)
    L["roundabout"]("bicycle", entry="oncoming", exit=1)
    return b.build(name="roundabout")


def test_roundabout_exports_valid_openscenario_with_a_note_for_opendrive(tmp_path):
    s = _roundabout_scenario()
    res = export_openscenario(s, tmp_path)
    assert validate_openscenario(ET.parse(res.xosc_path)) == []
    assert res.xodr_path is None and "roundabout" in res.road_note and "trajector" in res.road_note
    assert ET.parse(res.xosc_path).getroot().find("RoadNetwork/LogicFile") is None
    doc = read_openscenario(res.xosc_path)
    times = s.frame_times()
    for agent in s.all_agents:
        a, b = agent.trajectory.sample(times), doc.entity(agent.id).trajectory.sample(times)
        assert np.abs(a.x - b.x).max() < 1e-3 and np.abs(a.y - b.y).max() < 1e-3
