"""The scenario file format: validation messages with paths, atomic writes, versioning, round trips."""
from __future__ import annotations

import json
import os

import pytest

from engine.paths import DEMO_SCENARIO
from engine.scenario.errors import ScenarioFormatError
from engine.scenario.io import (
    FORMAT_VERSION,
    dumps_scenario,
    load_scenario,
    loads_scenario,
    save_scenario,
)


@pytest.fixture()
def demo_doc() -> dict:
    return json.loads(DEMO_SCENARIO.read_text())


def _problems(doc_or_text) -> list[str]:
    text = doc_or_text if isinstance(doc_or_text, (str, bytes)) else json.dumps(doc_or_text)
    with pytest.raises(ScenarioFormatError) as exc:
        loads_scenario(text)
    return [str(p) for p in exc.value.problems]


def test_demo_loads_and_has_what_the_issue_asks(demo_scenario):
    s = demo_scenario
    assert s.fps == 12.0 and s.num_frames == 33
    assert len(s.agents) >= 6
    assert len({a.cls for a in s.agents}) >= 6
    assert len({a.behavior for a in s.agents}) >= 4
    assert len(s.map.ped_crossings) >= 4
    eastbound = [l for l in s.map.lanes if l.id.startswith("EB_") and l.id[3:].isdigit()]
    westbound = [l for l in s.map.lanes if l.id.startswith("WB_") and l.id[3:].isdigit()]
    assert len(eastbound) >= 2 and len(westbound) >= 2


def test_broken_time_sequence_names_the_waypoint(demo_doc):
    demo_doc["agents"][2]["trajectory"][5]["t"] = demo_doc["agents"][2]["trajectory"][4]["t"]
    probs = _problems(demo_doc)
    assert any(p.startswith("agents[2].trajectory[5].t:") and "increase" in p for p in probs), probs


def test_unknown_class_is_reported_with_allowed_values(demo_doc):
    demo_doc["agents"][1]["class"] = "spaceship"
    probs = _problems(demo_doc)
    assert any(p.startswith("agents[1].class:") and "spaceship" in p and "pedestrian" in p for p in probs), probs


def test_negative_size_is_reported(demo_doc):
    demo_doc["agents"][0]["size"][1] = -4.0
    probs = _problems(demo_doc)
    assert any(p.startswith("agents[0].size[1]:") and "greater than 0" in p for p in probs), probs


def test_invalid_json_reports_line_and_column():
    probs = _problems('{"format_version": 1,\n "name": "x",,}')
    assert len(probs) == 1 and "line 2" in probs[0] and "column" in probs[0]


def test_every_problem_is_reported_at_once(demo_doc):
    demo_doc["agents"][0]["class"] = "ufo"
    demo_doc["agents"][3]["size"] = [1, 2]
    demo_doc["environment"]["weather"] = "hail"
    del demo_doc["ego"]["trajectory"]
    probs = _problems(demo_doc)
    paths = {p.split(":")[0] for p in probs}
    assert {"agents[0].class", "agents[3].size", "environment.weather", "ego"} <= paths, probs


def test_future_version_is_refused_clearly(demo_doc):
    demo_doc["format_version"] = FORMAT_VERSION + 1
    probs = _problems(demo_doc)
    assert len(probs) == 1 and "newer" in probs[0] and probs[0].startswith("format_version")


def test_not_a_scenario_and_nonfinite_numbers():
    assert "format_version" in _problems("[1, 2, 3]")[0] or "object" in _problems("[1, 2, 3]")[0]
    assert any("finite" in p for p in _problems('{"format_version": 1, "fps": NaN}'.replace("NaN", "1e999")))
    assert _problems('{"format_version": 1, "fps": NaN}')


def test_duplicate_and_reserved_ids(demo_doc):
    demo_doc["agents"][1]["id"] = demo_doc["agents"][0]["id"]
    demo_doc["agents"][2]["id"] = "ego"
    probs = _problems(demo_doc)
    assert any(p.startswith("agents[1].id:") and "duplicate" in p for p in probs)
    assert any(p.startswith("agents[2].id:") and "reserved" in p for p in probs)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ScenarioFormatError, match="not found"):
        load_scenario(tmp_path / "nope.json")
    with pytest.raises(ScenarioFormatError, match="folder"):
        load_scenario(tmp_path)


def test_save_is_atomic_and_keeps_old_file_on_failure(tmp_path, demo_scenario, monkeypatch):
    target = tmp_path / "s.json"
    save_scenario(demo_scenario, target)
    before = target.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        save_scenario(demo_scenario.with_agent(demo_scenario.agents[0].__class__(
            id="new_car", cls="car", size=(2, 4.5, 1.6), trajectory=demo_scenario.agents[0].trajectory)), target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"], "temporary file left behind"


def test_round_trip_of_demo_is_exact(tmp_path, demo_scenario):
    path = save_scenario(demo_scenario, tmp_path / "demo.json")
    again = load_scenario(path)
    assert again == demo_scenario
    assert dumps_scenario(again) == dumps_scenario(demo_scenario)


def test_schema_enum_matches_class_file():
    from engine.classes import class_names
    from engine.paths import SCENARIO_SCHEMA

    schema = json.loads(SCENARIO_SCHEMA.read_text())
    assert schema["$defs"]["agent"]["properties"]["class"]["enum"] == class_names()
