"""The report: the demo's findings, JSON, highlights, timeline marks and batch filters."""
from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from engine.checks import (
    CheckConfig,
    CheckReport,
    Finding,
    Severity,
    check_scenario,
    ego_relations,
    flagged_agents,
    flagged_times,
    parse_match_spec,
    report_matches,
    timeline_marks,
)
from engine.demo import build_demo_scenario
from engine.scenario.model import Intent


def test_the_demo_has_no_error(demo_scenario):
    report = check_scenario(demo_scenario)
    assert not report.has_errors, [str(f) for f in report.at_least("error")]
    # the built demo and the shipped file agree
    assert [f.code for f in check_scenario(build_demo_scenario()).findings] == [f.code for f in report.findings]
    # what the demo does show: the crossing pedestrian comes within 1.5 s of the ego's path at the end
    assert {f.code for f in report.findings} <= {"near_miss", "intent_met", "jaywalking"}
    assert report.summary["min_ttc_agent"] == "pedestrian_1"


def test_report_json_round_trip(head_on):
    report = check_scenario(head_on)
    text = json.dumps(report.to_dict(), allow_nan=False)          # no inf/NaN leaks into the JSON
    back = CheckReport.from_dict(json.loads(text))
    assert [f.to_dict() for f in back.findings] == [f.to_dict() for f in report.findings]
    assert back.max_severity == Severity.ERROR and back.has_errors
    doc = json.loads(text)
    assert doc["max_severity"] == "error" and doc["counts"]["error"] == len(report.at_least("error"))
    assert doc["summary"]["per_agent"]["car_1"]["min_distance"] == 0.0


def test_severity_order_and_parsing():
    assert Severity.INFO < Severity.WARNING < Severity.ERROR
    assert Severity.parse("Warning") is Severity.WARNING
    with pytest.raises(ValueError, match="unknown severity 'fatal'"):
        Severity.parse("fatal")


def test_flagged_agents_and_timeline(head_on):
    report = check_scenario(head_on)
    t_c = report.with_code("collision")[0].t_start
    assert flagged_agents(report, t_c + 0.2) == {"ego", "car_1"}
    assert flagged_agents(report, 0.5) == {"car_1"}                 # it drives in the ego's lane, the wrong way
    assert flagged_agents(report, 0.5, level="error") == set()
    # an instant between frames lights up on the nearest frame (half a frame of tolerance)
    assert flagged_agents(report, math.floor(t_c * 12) / 12 + 1 / 12, level="error") == {"ego", "car_1"}
    marks = timeline_marks(report)
    assert [m.code for m in marks] == ["wrong_way", "collision"]
    assert [m.severity for m in marks] == [Severity.WARNING, Severity.ERROR]
    assert flagged_times(report, "ego") == [(marks[1].t_start, marks[1].t_end)]
    assert flagged_times(report, "car_1") == [(0.0, head_on.frame_times()[-1])]     # merged ranges
    assert flagged_times(report, "nobody") == []
    assert flagged_agents(CheckReport("x", 1.0, 12.0, 12), 0.3) == set()


def test_info_findings_are_not_highlighted_by_default(head_on):
    report = check_scenario(replace(head_on, intents=(Intent("contact", ("car_1",)), Intent("wrong_way", ("car_1",)))))
    t = next(f.t_start for f in report.with_code("intent_met") if "contact_time" in f.metrics)
    assert {f.severity for f in report.findings} == {Severity.INFO}
    assert flagged_agents(report, t) == set()
    assert flagged_agents(report, t, level="info") == {"ego", "car_1"}


def test_report_matches_for_batch_filters(head_on, build):
    collision = check_scenario(head_on)
    intended = check_scenario(replace(head_on, intents=(Intent("contact", ("car_1",)),)))
    st, ag = build["straight"], build["agent"]
    calm = check_scenario(build["scenario"](st(0, -1.75, 0, 10, 3), [ag("car_1", "car", st(40, -1.75, 0, 10, 3))]))

    assert report_matches(collision, {"contact": True}) and report_matches(intended, {"contact": True})
    assert not report_matches(calm, {"contact": True}) and report_matches(calm, {"contact": False})
    assert report_matches(intended, {"max_severity": "warning", "intents_met": True})   # wrong way: a warning
    assert not report_matches(collision, {"max_severity": "warning"})
    assert report_matches(collision, {"min_ttc_below": 1.5}) and not report_matches(calm, {"min_ttc_below": 1.5})
    assert report_matches(calm, {"min_distance_above": 30.0})
    assert report_matches(collision, {"codes_present": ["collision"]})
    assert not report_matches(collision, {"codes_absent": ["collision"]})
    assert report_matches(calm, "min_thw<3.6, max_severity=info, no_contact")     # THW (40 - car length) / 10
    assert not report_matches(calm, "min_thw<3.5")


@pytest.mark.parametrize("spec, text", [
    ({"min_tcc_below": 1.0}, "unknown match spec key 'min_tcc_below'"),
    ({"contact": "yes"}, "contact: must be true or false"),
    ({"min_ttc_below": "1.5"}, "must be a number"),
    ({"max_severity": "fatal"}, "unknown severity"),
])
def test_bad_match_specs_name_the_problem(head_on, spec, text):
    report = CheckReport("x", 1.0, 12.0, 12)
    with pytest.raises(ValueError, match=text):
        report_matches(report, spec)


def test_parse_match_spec():
    assert parse_match_spec("min_ttc < 1.5 and max_severity=warning, contact, !code:off_road") == {
        "min_ttc_below": 1.5, "max_severity": Severity.WARNING, "contact": True, "codes_absent": ["off_road"]}
    with pytest.raises(ValueError, match="cannot read 'fast'"):
        parse_match_spec("fast")
    with pytest.raises(ValueError, match="is not a number"):
        parse_match_spec("min_ttc<soon")


def test_ego_relations_errors_and_absence(build):
    st, ag = build["straight"], build["agent"]
    from engine.scenario.trajectory import Trajectory

    t = np.array([1.0, 2.0])
    late = ag("car_1", "car", Trajectory.from_arrays(t, [30.0, 40.0], [-1.75, -1.75], [0.0, 0.0]))
    sc = build["scenario"](st(0, -1.75, 0, 5, 3), [late])
    rel = ego_relations(sc, "car_1")
    exists = (rel.time >= 1.0 - 1e-9) & (rel.time <= 2.0 + 1e-9)
    assert np.all(np.isnan(rel.distance[~exists])) and np.all(np.isfinite(rel.distance[exists]))
    with pytest.raises(KeyError, match="car_9"):
        ego_relations(sc, "car_9")
    with pytest.raises(ValueError):
        ego_relations(sc, "ego")


def test_config_validation_and_round_trip():
    cfg = CheckConfig(ttc_warning=2.0).with_checks("collision", "pet")
    assert CheckConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ValueError, match="unknown check"):
        CheckConfig(checks=("collisions",))
    with pytest.raises(ValueError, match="ttc_warning"):
        CheckConfig(ttc_warning=-1.0)
    with pytest.raises(ValueError, match="unknown config key"):
        CheckConfig.from_dict({"ttc": 1.0})
    lim = CheckConfig.from_dict({"class_limits": {"car": {"decel": 12.0}}}).limits_for("car")
    assert lim.decel == 12.0 and lim.accel == CheckConfig().limits_for("car").accel


def test_finding_sentence_and_dict():
    f = Finding("near_miss", "warning", 1.0, 1.5, ("ego", "car_1"), "Something.", (1.0, 2.0), {"min_ttc": math.inf})
    d = f.to_dict()
    assert d["severity"] == "warning" and d["metrics"]["min_ttc"] is None and d["where"] == [1.0, 2.0]
    assert Finding.from_dict(d).metrics["min_ttc"] == math.inf
    assert "near_miss" in str(f) and "1.00-1.50 s" in str(f)
