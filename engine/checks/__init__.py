"""Scenario checks a safety engineer can trust: collisions, TTC, PET, off-road, wrong way, feasibility.

Everything is evaluated over the whole clip at the scenario's frame rate: every trajectory is
sampled once into (A, T) arrays (`SampledScene`, ego first); pairs go through block and
bounding-circle prefilters to the separating-axis test on oriented boxes (`engine.checks.pairs`);
contact starts and PETs are refined below the frame step from the same samples; off-road uses the
map's drivable geometry (shapely, behind a raster), lane direction a k-d tree of the lane centre lines.
A 20 s, 50-agent scenario checks in tens of milliseconds (benchmarks/bench_checks.py).

Definitions: TTC is the time until the two footprints would touch if both kept their velocity and
heading (for motion along the line of sight: the gap between the footprints over the closing
speed; inf when not on a collision course); THW, gap and presence in `engine.checks.relations`;
PET in `engine.checks.pet`; kinematic quantities in `engine.checks.kinematics`. Agents with one
waypoint exist for the whole clip, others from their first to their last key time.

Public API
----------
``check_scenario(scenario, config=None) -> CheckReport``
    Runs every check. ``report.findings`` is a time-ordered ``list[Finding]``; a Finding has
    ``code``, ``severity`` (Severity.INFO / WARNING / ERROR), ``t_start``, ``t_end`` (s),
    ``agents`` (ids, the ego is ``"ego"``), ``message`` (one plain sentence), ``where`` ((x, y) in
    the world frame or None) and ``metrics`` (the numbers). ``report.max_severity``,
    ``report.has_errors``, ``report.to_dict()`` (JSON-ready, ``CheckReport.from_dict`` reads it
    back) and ``report.summary`` (least TTC / gap / headway to the ego overall and per agent,
    least PET, contacts, intents met) serve callers.
``ego_relations(scenario, agent_id) -> EgoRelations(time, distance, ttc, thw)``
    Four (T,) arrays for plotting one agent against the ego: footprint gap (m), TTC (s, inf when
    not on a collision course), time headway (s, inf when the agent is not ahead). NaN where the
    agent does not exist. The definitions are in `engine.checks.relations`.
``flagged_agents(report, t, level="warning") -> set[str]``, ``timeline_marks(report)``,
``flagged_times(report, agent_id=None)``
    For the canvas highlight and the timeline marks.
``report_matches(report, spec) -> bool`` and ``parse_match_spec(text)``
    Batch filters, e.g. ``{"min_ttc_below": 1.5, "max_severity": "warning"}`` keeps near misses
    without errors; ``{"contact": True}`` keeps variants with a contact (see `engine.checks.query`).
``CheckConfig``
    Every threshold and the per-class ``ClassLimits`` table (`engine.checks.config`).

Finding codes
-------------
error:   ``collision`` (boxes overlap while something moves), ``off_road`` (a vehicle's centre leaves
         the drivable area), ``infeasible_<speed|accel|decel|yaw_rate|curvature|lat_accel|
         reverse_speed|slip>`` (beyond the class limits), ``teleport``, ``intent_unmet``.
warning: ``near_miss`` (TTC to the ego below 1.5 s), ``short_headway`` (ego THW below 0.6 s),
         ``close_pass`` (gap to the ego below 0.5 m), ``pet`` (PET below 1 s with the ego),
         ``off_road`` (only a corner out, or a bicycle), ``wrong_way``, ``infeasible_jerk``,
         ``overlap`` (two standing objects placed overlapping).
info:    ``intent_met``, ``jaywalking``, ``map_incomplete``, ``no_limits``, and close passes / PET
         between two agents neither of which is the ego.
Findings that involve recorded agents only (``Agent.locked``, from a real scene) are capped at
``CheckConfig.recorded_severity`` (info): a log's own quirks are facts, not authoring mistakes.

Intents (`Scenario.intents`): ``contact``, ``near_miss`` (``max_ttc``, ``max_distance``,
``min_distance``), ``min_ttc``, ``min_distance``, ``pet`` (``min`` / ``max``), ``off_road``,
``wrong_way``; all take ``t_start`` / ``t_end``. A met intent turns what it explains into one
``intent_met`` info finding; an unmet one is an error (see `engine.checks.intents`).
"""
from engine.checks.config import CHECK_NAMES, DEFAULT_CLASS_LIMITS, CheckConfig, CheckName, ClassLimits
from engine.checks.findings import CheckReport, Finding, FindingCode, Severity
from engine.checks.intents import INTENT_KINDS, IntentKind
from engine.checks.query import (
    TimelineMark,
    flagged_agents,
    flagged_times,
    parse_match_spec,
    report_matches,
    timeline_marks,
)
from engine.checks.relations import EgoRelations, ego_relations
from engine.checks.runner import check_scenario

__all__ = [
    "CHECK_NAMES", "DEFAULT_CLASS_LIMITS", "CheckConfig", "CheckName", "ClassLimits",
    "CheckReport", "Finding", "FindingCode", "Severity", "INTENT_KINDS", "IntentKind",
    "TimelineMark", "flagged_agents", "flagged_times", "parse_match_spec", "report_matches", "timeline_marks",
    "EgoRelations", "ego_relations", "check_scenario",
]
