"""Declared intents are confirmed (info) instead of flagged, or reported unmet (error)."""
from __future__ import annotations

import math
from dataclasses import replace

import pytest

from engine.checks import INTENT_KINDS, CheckConfig, Severity, check_scenario
from engine.classes import default_size
from engine.scenario.model import Intent

CAR_L = default_size("car")[1]


def _braking_behind_parked(build, intents=()):
    """Ego at 10 m/s brakes at 8 m/s^2 from 0.5 s behind a parked car 30 m ahead: least TTC 2.04 s at 0.5 s,
    closest gap 30 - 11.25 - car length at the stop."""
    st, ag = build["straight"], build["agent"]
    ego = st(0.0, -1.75, 0.0, 10.0, 4.0, accel=-8.0, t_brake=0.5)
    parked = ag("car_1", "car", st(30.0, -1.75, 0.0, 0.0, 4.0))
    return build["scenario"](ego, [parked], duration=4.0, intents=intents)


def test_intended_contact_is_confirmed_not_flagged(head_on):
    report = check_scenario(replace(head_on, intents=(Intent("contact", ("car_1",)),)))
    assert not report.with_code("collision") and not report.has_errors
    met = report.with_code("intent_met")
    assert len(met) == 1 and met[0].severity == Severity.INFO
    assert met[0].metrics["contact_time"] == pytest.approx((50.0 - CAR_L) / 20.0, abs=1e-3)
    assert set(met[0].agents) == {"car_1", "ego"}
    assert report.summary["contacts"] == 1 and report.summary["collisions"] == 0


def test_intended_contact_that_does_not_happen_is_an_error(build):
    report = check_scenario(_braking_behind_parked(build, (Intent("contact", ("ego", "car_1")),)))
    unmet = report.with_code("intent_unmet")
    assert len(unmet) == 1 and unmet[0].severity == Severity.ERROR
    assert "never touch" in unmet[0].message
    assert unmet[0].metrics["min_distance"] == pytest.approx(30.0 - 10.0 * 0.5 - 100 / 16 - CAR_L, abs=0.02)


def test_contact_intent_does_not_excuse_other_collisions(head_on, build):
    third = build["agent"]("car_2", "car", build["straight"](50.0, -1.75, math.pi, 10.0, 3.0))
    sc = replace(head_on, agents=head_on.agents + (third,), intents=(Intent("contact", ("car_1", "ego")),))
    report = check_scenario(sc)
    # car_2 is driven on top of car_1 and also hits the ego: both still collisions
    pairs = {frozenset(f.agents) for f in report.with_code("collision")}
    assert pairs == {frozenset({"car_1", "car_2"}), frozenset({"ego", "car_2"})}


@pytest.mark.parametrize("params, met", [
    ({"max_ttc": 2.5}, True),
    ({"max_ttc": 1.5}, False),
    ({"max_distance": 15.0}, True),
    ({"max_distance": 10.0}, False),
    ({"max_ttc": 2.5, "min_distance": 13.0}, True),     # closest gap 14.1 m
    ({"max_ttc": 2.5, "min_distance": 15.0}, False),
    ({}, True),                                         # max_ttc defaults to the config's ttc_warning (2.1 s)
])
def test_near_miss_intent(build, params, met):
    report = check_scenario(_braking_behind_parked(build, (Intent("near_miss", ("car_1",), params),)),
                            CheckConfig(ttc_warning=2.1))
    codes = [f.code for f in report.findings]
    assert ("intent_met" in codes) == met and ("intent_unmet" in codes) == (not met)
    # a met near miss explains the TTC warning; an unmet one leaves it
    assert ("near_miss" in codes) == (not met)


def test_min_ttc_and_min_distance_ranges(build):
    t_min = (25.0 - CAR_L) / 10.0
    gap = 30.0 - 11.25 - CAR_L
    intents = (Intent("min_ttc", ("car_1",), {"min": t_min - 0.05, "max": t_min + 0.05}),
               Intent("min_distance", ("car_1",), {"max": gap - 1.0}),
               Intent("min_ttc", ("car_1",), {"max": 1.0, "t_start": 1.0}))
    report = check_scenario(_braking_behind_parked(build, intents))
    by_intent = {int(f.metrics["intent"]): f for f in report.findings if f.code.startswith("intent_")}
    assert by_intent[0].code == "intent_met" and by_intent[0].metrics["min_ttc"] == pytest.approx(t_min, abs=0.02)
    assert by_intent[1].code == "intent_unmet" and by_intent[1].metrics["min_distance"] == pytest.approx(gap, abs=0.02)
    assert by_intent[2].code == "intent_unmet"      # after 1 s the ego is almost stopped: TTC stays high


def test_pet_intent(build):
    sc, _, _ = build["crossing_behind"](0.7)
    ok = check_scenario(replace(sc, intents=(Intent("pet", ("pedestrian_1",), {"max": 1.0}),)))
    assert [f.code for f in ok.findings if f.code != "jaywalking"] == ["intent_met"]   # the PET warning is explained
    assert ok.with_code("intent_met")[0].metrics["pet"] == pytest.approx(0.7, abs=0.003)
    too_close = check_scenario(replace(sc, intents=(Intent("pet", ("pedestrian_1",), {"min": 1.0}),)))
    assert {f.code for f in too_close.findings} == {"intent_unmet", "pet", "jaywalking"}


def test_off_road_and_wrong_way_intents(build):
    from engine.roadmap.procedural import straight_road_map

    st, ag = build["straight"], build["agent"]
    road = straight_road_map(-60.0, 200.0)
    veer = ag("car_1", "car", st(30.0, 0.0, math.pi / 2, 2.0, 5.0))
    ghost = ag("car_2", "car", st(100.0, -5.25, math.pi, 10.0, 5.0))
    base = build["scenario"](st(0.0, -1.75, 0.0, 0.0, 5.0), [veer, ghost], duration=5.0, road=road)
    flagged = check_scenario(base)
    assert {f.code for f in flagged.findings} >= {"off_road", "wrong_way"}
    meant = check_scenario(replace(base, intents=(Intent("off_road", ("car_1",)), Intent("wrong_way", ("car_2",)))))
    assert sorted(f.code for f in meant.findings) == ["intent_met", "intent_met"]
    wrong = check_scenario(replace(base, intents=(Intent("off_road", ("car_2",)),)))
    assert "intent_unmet" in {f.code for f in wrong.findings}


@pytest.mark.parametrize("intent, text", [
    (Intent("teleport", ("car_1",)), "unknown intent 'teleport'"),
    (Intent("near_miss", ("car_1",), {"max_tcc": 1.0}), "intents[0].params.max_tcc"),
    (Intent("near_miss", ("car_1",), {"max_ttc": "soon"}), "must be a number"),
    (Intent("contact", ("car_9",)), "intents[0].agents[0]: no agent with id 'car_9'"),
    (Intent("contact", ("ego",)), "needs an agent other than the ego"),
    (Intent("min_ttc", ("car_1",), {"min": 3.0, "max": 1.0}), "min (3) is larger than max (1)"),
    (Intent("off_road", ()), "needs at least one agent"),
])
def test_malformed_intents_are_errors_naming_the_problem(build, intent, text):
    report = check_scenario(_braking_behind_parked(build, (intent,)))
    unmet = report.with_code("intent_unmet")
    assert len(unmet) == 1 and text in unmet[0].message, unmet[0].message


def test_every_documented_kind_is_handled():
    from engine.checks import intents

    assert set(INTENT_KINDS) == set(intents._HANDLERS) == set(intents._PARAMS) == set(intents._EXPLAINS)
