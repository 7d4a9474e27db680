"""The scenario validator's one-pass `items` (engine.scenario.fast_items) reports exactly what plain
jsonschema reports (paths, messages, keywords, order) on the demo and on hundreds of seeded mutations
of it that break map points and waypoints in every way the schema knows, and valid documents pass."""
from __future__ import annotations

import copy
import json
import random

import pytest
from jsonschema import Draft202012Validator

from engine.paths import DEMO_SCENARIO
from engine.scenario.fast_items import compile_item_checks, scenario_validator
from engine.scenario.io import SCENARIO_SCHEMA, validate_document

SCHEMA = json.loads(SCENARIO_SCHEMA.read_text())
REFERENCE = Draft202012Validator(SCHEMA)
FAST = scenario_validator(SCHEMA)
DEMO = json.loads(DEMO_SCENARIO.read_text())

BAD_NUMBERS = [True, False, None, "1.0", [1.0], {"x": 1}, 1e6, -1e6, 100000.0001, -100000.5, float("nan")]
GOOD_NUMBERS = [0, -3, 2.5, 100000, -100000, 1e-9]


def _errors(validator, doc):
    return [(list(e.absolute_path), e.message, e.validator, list(e.relative_schema_path))
            for e in validator.iter_errors(doc)]


def _point_lists(doc):
    """Every list of map points in the document (lane centre lines, polylines, polygons, areas)."""
    m = doc["map"]
    out = [ln["centerline"] for ln in m.get("lanes", [])]
    out += [p["points"] for key in ("lane_boundaries", "lane_dividers") for p in m.get(key, [])]
    out += [c["polygon"] for c in m.get("ped_crossings", [])]
    out += list(m.get("drivable_area", []))
    return [p for p in out if p]


def _trajectories(doc):
    return [a["trajectory"] for a in [doc["ego"], *doc["agents"]]]


def _mutate(doc, rng: random.Random):
    doc = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.5:
            pts = rng.choice(_point_lists(doc))
            if not isinstance(pts, list) or not pts:
                continue
            i = rng.randrange(len(pts))
            kind = rng.randrange(6)
            if not isinstance(pts[i], list) or len(pts[i]) < 2:
                continue                                      # broken by an earlier mutation
            if kind == 0:
                pts[i][rng.randrange(2)] = rng.choice(BAD_NUMBERS + GOOD_NUMBERS)
            elif kind == 1:
                pts[i] = pts[i][:1]
            elif kind == 2:
                pts[i] = [*pts[i], 0.0]
            elif kind == 3:
                pts[i] = rng.choice([None, "p", 3.0, {"x": 1, "y": 2}, (1.0, 2.0), []])
            elif kind == 4:
                del pts[1:]                                   # below minItems
            else:
                pts.append([rng.choice(GOOD_NUMBERS), rng.choice(GOOD_NUMBERS)])   # still valid
        else:
            traj = rng.choice(_trajectories(doc))
            if not isinstance(traj, list) or not traj:
                continue
            i = rng.randrange(len(traj))
            w = traj[i]
            if not isinstance(w, dict):
                continue                                      # broken by an earlier mutation
            kind = rng.randrange(6)
            key = rng.choice(["t", "x", "y", "yaw", "v"])
            if kind == 0:
                w[key] = rng.choice(BAD_NUMBERS + GOOD_NUMBERS)
            elif kind == 1 and key in w:
                del w[key]
            elif kind == 2:
                w[rng.choice(["speed", "z", "T"])] = 1.0
            elif kind == 3:
                traj[i] = rng.choice([None, [1, 2, 3, 4], "w", 7])
            elif kind == 4:
                w["v"] = rng.choice([None, -1.0, 0.0, 999.0, 1001.0])
            else:
                traj.append(dict(w))                          # duplicate waypoint: schema-valid
    return doc


def test_the_demo_is_valid_both_ways():
    assert _errors(FAST, DEMO) == _errors(REFERENCE, DEMO) == []


@pytest.mark.parametrize("seed", range(300))
def test_errors_equal_plain_jsonschema_on_mutated_documents(seed):
    doc = _mutate(DEMO, random.Random(seed))
    assert _errors(FAST, doc) == _errors(REFERENCE, doc)


def test_the_mutations_do_reach_the_slow_path():
    """Most mutated documents are invalid (else the test above would prove little)."""
    invalid = sum(bool(_errors(REFERENCE, _mutate(DEMO, random.Random(s)))) for s in range(300))
    assert invalid > 150


def test_only_simple_definitions_get_a_fast_check_and_they_are_read_from_the_schema():
    checks = compile_item_checks(SCHEMA)
    assert set(checks) == {"#/$defs/point2", "#/$defs/waypoint"}
    point = checks["#/$defs/point2"]
    hi = SCHEMA["$defs"]["point2"]["items"]["maximum"]
    assert point([hi, -hi]) and not point([hi * 1.0001, 0]) and not point([True, 0]) and not point([0.0])
    tightened = copy.deepcopy(SCHEMA)
    tightened["$defs"]["point2"]["items"]["maximum"] = 10
    assert not compile_item_checks(tightened)["#/$defs/point2"]([11, 0])
    tightened["$defs"]["point2"]["items"]["multipleOf"] = 0.5        # a keyword it does not know
    assert "#/$defs/point2" not in compile_item_checks(tightened)


def test_validate_document_still_names_the_bad_point():
    doc = copy.deepcopy(DEMO)
    doc["map"]["lanes"][0]["centerline"][1][0] = "east"
    problems = validate_document(doc)
    assert [(p.path, p.message) for p in problems] == [("map.lanes[0].centerline[1][0]", "must be number (got string)")]
