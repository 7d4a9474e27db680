"""The prompt interpreters check their results against the prompt (engine.checks) and repair or
re-ask when they do not match: unintended collisions, asked contacts and near misses (as intents
the checks confirm), findings that no repair removes, the command line, determinism."""
from __future__ import annotations

import pytest

from engine.checks import CheckConfig, ClassLimits, check_scenario, ego_relations
from engine.checks.config import DEFAULT_CLASS_LIMITS
from engine.prompting import prompt_to_scenario
from engine.prompting.asks import asks_of
from engine.prompting.binding import plan_intents
from engine.prompting.llm import LLMError, LLMInterpreter
from engine.prompting.offline import OfflineInterpreter
from engine.prompting.pipeline import check_against_prompt, run_checked_script
from engine.prompting.repair import MAX_TRIES, derived_seed
from engine.prompting.scriptedit import EDIT_MARK, agents_by_call, call_sites, with_keywords
from engine.prompting.settings import LLMSettings
from engine.sandbox import run_script
from engine.sandbox.runner import RunOptions
from engine.scenario.model import Intent

COLLIDING = "```python\ntruck = cut_in(ego, side=\"left\", cls=\"truck\", contact=True)\n```"
CLEAN = "```python\ntruck = cut_in(ego, side=\"left\", cls=\"truck\")\n```"


def _settings(url: str, **kw) -> LLMSettings:
    base = dict(base_url=url, api_key="k", model="tiny-test", timeout_s=5.0, max_retries=0, max_repairs=2)
    base.update(kw)
    return LLMSettings(**base)


def _intents(scenario, kind: str) -> list[Intent]:
    return [i for i in scenario.intents if i.kind == kind]


def _independent_check(scenario):
    """The saved scenario checked afresh: no errors, and every intent met."""
    report = check_scenario(scenario)
    assert not report.has_errors, [str(f) for f in report.at_least("error")]
    assert report.summary["intents_met"] == len(scenario.intents) > 0
    return report


# ---- what a prompt asks for --------------------------------------------------------------------
@pytest.mark.parametrize("prompt,expected", [
    ("a truck crashes into us from the left", [("contact", "truck", "ego", {})]),
    ("a car t-bones us at the intersection", [("contact", "car", "ego", {})]),
    ("a cyclist rear-ends us", [("contact", "bicycle", "ego", {})]),
    ("a truck hits the car ahead", [("contact", "truck", "car", {})]),
    ("a kid runs out and is hit by the car", [("contact", "pedestrian", "car", {})]),
    ("a near miss with a cyclist crossing", [("near_miss", "bicycle", "ego", {})]),
    ("a close call: a car cuts in with TTC under 1.5 s", [("near_miss", "car", "ego", {"max_ttc": 1.5})]),
    ("a pedestrian barely avoids being hit", [("near_miss", "pedestrian", "ego", {})]),
    ("we almost crash into a truck", [("near_miss", "truck", "ego", {})]),
    ("a car passes within 30 cm of a cyclist", [("near_miss", "car", "bicycle", {"max_distance": 0.3})]),
    ("a bus crosses with a PET under 1 s", [("pet", "bus", "ego", {"max": 1.0})]),
    ("we keep TTC above 3 s behind a truck", [("min_ttc", "truck", "ego", {"min": 3.0})]),
    ("we hit the brakes as a car cuts in", []),
    ("a crashed car in our lane", []),
    ("a car cuts in without hitting us", []),
    ("a van runs into the road", []),
    ("a truck cuts in from the left", []),
])
def test_asks_read_contact_near_miss_numbers_and_negations(prompt, expected):
    got = [(a.kind, a.who, a.other, dict(a.params)) for a in asks_of(prompt)]
    assert got == expected


# ---- offline: asked contact and near misses are realised and confirmed ---------------------------
@pytest.mark.parametrize("prompt,cls", [
    ("a car crashes into us from the left", "car"),
    ("a motorbike cuts in and collides with us", "motorcycle"),
    ("we hit a pedestrian crossing at night", "pedestrian"),
    ("a kid runs out between parked cars and is hit", "pedestrian"),
])
@pytest.mark.parametrize("seed", [0, 3])
def test_contact_prompts_produce_contact_intents_the_checks_confirm(prompt, cls, seed):
    r = prompt_to_scenario(prompt, options=RunOptions(seed=seed))
    assert r.matches_prompt and r.findings == (), [str(f) for f in r.findings]
    (intent,) = _intents(r.scenario, "contact")
    agent = r.scenario.agent(intent.agents[0])
    assert agent.cls == cls and intent.agents[1] == "ego"
    report = _independent_check(r.scenario)
    assert report.summary["contacts"] >= 1 and report.summary["collisions"] == 0
    assert any(f.code == "intent_met" and set(f.agents) == {agent.id, "ego"} for f in report.findings)
    # the file records everything needed to reproduce it: the script with the recorded seed
    again = run_script(r.script, RunOptions(seed=r.scenario.seed, prompt=prompt))
    assert again.agents == r.scenario.agents


def test_crossing_contact_is_repaired_from_a_first_result_that_misses():
    prompt = "we hit a pedestrian crossing at night"
    interp = OfflineInterpreter().interpret(prompt)
    first = check_against_prompt(run_script(interp.script, RunOptions(seed=0, prompt=prompt)), prompt)
    assert [f.code for f in first.problems] == ["intent_unmet"]
    assert "never touch" in first.problems[0].message
    r = prompt_to_scenario(prompt, options=RunOptions(seed=0))
    assert r.matches_prompt and r.scenario.seed == 0          # repaired by editing the call, not the seed
    changed = [b for a, b in zip(interp.script.splitlines(), r.script.splitlines()) if a != b]
    assert len(changed) == 1 and "pedestrian_crossing(" in changed[0] and EDIT_MARK in changed[0]
    assert "ahead=" in changed[0] and "start=" in changed[0] and "contact=True" in changed[0]
    assert any("repaired" in n for n in r.notes)


@pytest.mark.parametrize("prompt,cls,max_ttc", [
    ("a car cuts in and almost hits us", "car", None),
    ("a close call: a car cuts in with TTC under 1.5 s", "car", 1.5),
    ("a near miss with a cyclist crossing", "bicycle", None),
    ("a cyclist crosses and we nearly hit them", "bicycle", None),
])
@pytest.mark.parametrize("seed", [0, 1])
def test_near_miss_prompts_produce_near_miss_intents_the_checks_confirm(prompt, cls, max_ttc, seed):
    r = prompt_to_scenario(prompt, options=RunOptions(seed=seed))
    assert r.matches_prompt, [str(f) for f in r.findings]
    (intent,) = _intents(r.scenario, "near_miss")
    agent_id = intent.agents[0]
    assert r.scenario.agent(agent_id).cls == cls and intent.agents[1] == "ego"
    report = _independent_check(r.scenario)
    assert report.summary["contacts"] == 0
    rel = ego_relations(r.scenario, agent_id)
    if max_ttc is not None:
        assert intent.params == {"max_ttc": max_ttc}
    # a near miss: the least TTC below the threshold, or (unqualified) a gap of at most 1 m
    ok_ttc = float(min(rel.ttc)) < (max_ttc or 1.5)
    assert ok_ttc or (max_ttc is None and 0.0 < float(min(rel.distance)) <= 1.0)
    assert not any(f.code in ("near_miss", "close_pass") and agent_id in f.agents for f in report.findings)


def test_the_script_declares_no_contact_the_prompt_did_not_ask_for():
    """'almost hits' is a near miss: no contact=True in the script, no contact in the result."""
    r = prompt_to_scenario("a car cuts in and almost hits us", options=RunOptions(seed=1))
    assert "contact=True" not in r.script and not _intents(r.scenario, "contact")
    assert check_scenario(r.scenario).summary["contacts"] == 0


# ---- unintended collisions ---------------------------------------------------------------------------
def test_unintended_collision_in_a_script_is_repaired_offline():
    prompt = "a truck cuts in from the left"
    script = 'truck = cut_in(ego, side="left", cls="truck", contact=True)\n'
    options = RunOptions(seed=0, prompt=prompt)
    first = check_against_prompt(run_script(script, options), prompt)
    assert [f.code for f in first.problems] == ["collision"]          # the library's contact intent is dropped
    assert "contact between" in " ".join(first.notes)
    r = run_checked_script(script, options)
    assert r.matches_prompt and "contact=True" not in r.script and EDIT_MARK in r.script
    assert check_scenario(r.scenario).summary["contacts"] == 0
    assert any("collision" in n and "repaired" in n for n in r.notes)


def test_llm_is_reasked_with_the_collision_sentence_and_the_second_answer_fixes_it(fake_llm):
    srv = fake_llm([COLLIDING, CLEAN])
    result = LLMInterpreter(_settings(srv.url)).interpret("a truck cuts in from the left", RunOptions(seed=0))
    assert len(srv.requests) == 2 and len(result.attempts) == 2
    (finding,) = result.attempts[0].findings
    assert finding.code == "collision" and "collide" in finding.message
    repair_msg = srv.requests[1]["body"]["messages"][-1]
    assert repair_msg["role"] == "user" and finding.message in repair_msg["content"]
    assert "do not pass contact=True" in repair_msg["content"]
    assert srv.requests[1]["body"]["messages"][-2]["content"] == COLLIDING
    assert result.findings == () and result.script == 'truck = cut_in(ego, side="left", cls="truck")\n'
    assert result.attempts[1].problems == () and check_scenario(result.scenario).summary["contacts"] == 0


def test_llm_asked_contact_that_misses_is_reasked(fake_llm):
    miss = "```python\nkid = run_out(side=\"right\", contact=True)\n```"
    hit = "```python\nkid = run_out(side=\"right\", contact=True, ahead=13.9, start=0.51)\n```"
    srv = fake_llm([miss, hit])
    prompt = "a pedestrian runs out and we hit them"
    result = LLMInterpreter(_settings(srv.url)).interpret(prompt, RunOptions(seed=0, prompt=prompt))
    unmet = result.attempts[0].findings[0]
    assert unmet.code == "intent_unmet" and "never touch" in unmet.message
    msg = srv.requests[1]["body"]["messages"][-1]["content"]
    assert unmet.message in msg and "contact between a pedestrian and the ego" in msg
    assert result.findings == () and len(result.attempts) == 2
    assert _intents(result.scenario, "contact") and _independent_check(result.scenario)


def test_llm_out_of_rounds_falls_back_to_the_deterministic_repair(fake_llm):
    srv = fake_llm([COLLIDING])
    result = LLMInterpreter(_settings(srv.url, max_repairs=0)).interpret("a truck cuts in from the left",
                                                                          RunOptions(seed=0))
    assert len(srv.requests) == 1
    assert result.findings == () and "contact=True" not in result.script
    assert any("repaired" in n for n in result.notes)


def test_llm_answers_that_never_run_still_raise(fake_llm):
    srv = fake_llm(["```python\nimport os\n```"])
    with pytest.raises(LLMError, match="no runnable script"):
        LLMInterpreter(_settings(srv.url, max_repairs=1)).interpret("a truck cuts in")


# ---- what cannot be repaired is returned, never dropped ------------------------------------------------
def test_unrepairable_contact_returns_its_findings():
    r = prompt_to_scenario("a car runs a red light and t-bones us", options=RunOptions(seed=0))
    assert not r.matches_prompt
    (f,) = r.findings
    assert f.code == "intent_unmet" and f.severity.label == "error" and "never touch" in f.message
    assert r.report is not None and f in r.report.findings
    assert _intents(r.scenario, "contact")                       # the asked intent stays, unmet
    assert any("crossing_traffic" in n for n in r.notes)


def test_findings_no_variant_removes_come_back_after_bounded_tries():
    limits = dict(DEFAULT_CLASS_LIMITS)
    limits["truck"] = ClassLimits(speed=1.0)                    # no truck may drive faster than 1 m/s
    cfg = CheckConfig(class_limits=limits)
    r = prompt_to_scenario("a truck cuts in from the left", options=RunOptions(seed=0), check_config=cfg)
    assert r.findings and all(f.code == "infeasible_speed" for f in r.findings)
    assert any(f"in {MAX_TRIES} tries" in n for n in r.notes)
    assert r.scenario.agents                                     # the scenario is still returned


def test_ask_no_agent_fits_is_a_finding():
    """A script (an LLM's, an edited one) without the agent the prompt names cannot be repaired."""
    prompt = "a truck cuts in and nearly hits a bus"
    r = run_checked_script('t = cut_in(ego, side="left", cls="truck")\n', RunOptions(seed=0, prompt=prompt))
    (f,) = r.findings
    assert f.code == "intent_unmet" and "near miss between a truck and a bus" in f.message and "no bus" in f.message
    assert any("no repair applies" in n for n in r.notes)


# ---- intents of the script ---------------------------------------------------------------------------
def test_library_gap_notes_become_checkable_intents():
    s = run_script('c = cut_in(ego, side="left", gap=2.0)\n', RunOptions(seed=0))
    assert dict(s.intents[0].params) == {"max_distance": 2.5}     # the library's own note: gap + slack
    plan = plan_intents(s, ())
    assert [dict(i.params) for i in plan.kept] == [{"max_distance": 2.5}]
    review = check_against_prompt(s, "a car cuts in")
    assert review.ok and review.report.summary["intents_met"] == 1


def test_unasked_contact_of_the_script_is_dropped_and_asked_one_kept():
    s = run_script('t = cut_in(ego, side="left", cls="truck", contact=True)\n', RunOptions(seed=0))
    assert [i.kind for i in plan_intents(s, asks_of("a truck cuts in")).intents] == []
    kept = plan_intents(s, asks_of("a truck cuts in and hits us"))
    assert [(i.kind, i.agents) for i in kept.intents] == [("contact", ("truck_1", "ego"))]


# ---- script edits ------------------------------------------------------------------------------------
def test_with_keywords_changes_only_the_call():
    script = '# head\nset_environment(time_of_day="night")\nkid = run_out(side="right")  # waits\nx = 1\n'
    site = call_sites(script)[1]
    out = with_keywords(script, site, {"ahead": 12.345, "contact": True}, remove=("side",))
    assert out.splitlines()[2] == f"kid = run_out(ahead=12.35, contact=True)  # waits; {EDIT_MARK}"
    assert out.splitlines()[:2] == script.splitlines()[:2] and out.endswith("x = 1\n")


def test_agents_are_matched_to_the_calls_that_made_them():
    script = ('brake(ego, to_speed=3.0)\nkid = run_out(side="right")\np = pedestrian_crossing()\n'
              'q = pedestrian_crossing(side="left")\ncars = parked("car", side="right", count=2)\n')
    s = run_script(script, RunOptions(seed=0))
    lines = {a: site.line for a, site in agents_by_call(script, s).items()}
    by = {a.id: a for a in s.agents}
    assert lines["ego"] == 1
    assert {a for a, ln in lines.items() if ln == 2} == {"pedestrian_1"} | {
        a for a in by if by[a].behavior_params.get("by") == "run_out"}
    assert [a for a, ln in lines.items() if ln == 3] == ["pedestrian_2"]
    assert [a for a, ln in lines.items() if ln == 4] == ["pedestrian_3"]
    assert len([a for a, ln in lines.items() if ln == 5]) == 2


# ---- command line, determinism -----------------------------------------------------------------------
def test_cli_prints_remaining_findings_and_exits_0(tmp_path, capsys):
    from main import main

    out = tmp_path / "t.json"
    assert main(["prompt", "a car runs a red light and t-bones us", "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert "crossing_traffic(" in captured.out and "finding:" not in captured.out
    assert "finding: ERROR" in captured.err and "intent_unmet" in captured.err
    assert "1 finding(s) contradict the prompt" in captured.err
    from engine.scenario.io import load_scenario

    assert [i.kind for i in load_scenario(out).intents] == ["contact"]


def test_cli_writes_the_repaired_scenario(tmp_path, capsys):
    from main import main
    from engine.scenario.io import load_scenario

    out = tmp_path / "k.json"
    assert main(["prompt", "a kid runs out between parked cars and is hit", "-o", str(out), "--seed", "2"]) == 0
    captured = capsys.readouterr()
    assert "matches the prompt" in captured.err and "finding:" not in captured.err
    s = load_scenario(out)
    assert s.script == captured.out and EDIT_MARK in s.script
    _independent_check(s)


def test_cli_writes_nothing_when_every_answer_is_refused(fake_llm, tmp_path, monkeypatch, capsys):
    from main import main

    srv = fake_llm(["```python\nimport os\n```"])
    monkeypatch.setenv("OPENAI_BASE_URL", srv.url)
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    out = tmp_path / "never.json"
    assert main(["prompt", "a truck cuts in", "--llm", "openai", "-o", str(out), "--timeout", "5"]) == 2
    assert not out.exists() and "imports are not allowed" in capsys.readouterr().err


def test_checked_results_are_deterministic_per_seed():
    prompt = "a near miss with a cyclist crossing while a truck cuts in"
    a = prompt_to_scenario(prompt, options=RunOptions(seed=4))
    b = prompt_to_scenario(prompt, options=RunOptions(seed=4))
    assert (a.scenario, a.script, a.notes, a.findings) == (b.scenario, b.script, b.notes, b.findings)
    assert derived_seed(4, 1) == derived_seed(4, 1) != derived_seed(4, 2)
