"""`check_scenario`: sample once, run every enabled check, apply the intents, summarise."""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from engine.checks.collisions import close_pass_findings, collision_findings, contact_events
from engine.checks.config import CheckConfig, CheckName
from engine.checks.ego_checks import near_miss_findings, tailgating_findings
from engine.checks.findings import CheckReport, Finding, FindingCode, Severity, sort_findings
from engine.checks.intents import apply_intents, evaluate_intents
from engine.checks.kinematics import feasibility_findings, teleport_findings
from engine.checks.lanes import wrong_way_findings
from engine.checks.offroad import offroad_findings
from engine.checks.pairs import pair_grid
from engine.checks.pet import pet_events, pet_findings
from engine.checks.relations import ego_relation_arrays
from engine.checks.sampling import FloatArray, SampledScene
from engine.scenario.model import Scenario


def check_scenario(scenario: Scenario, config: CheckConfig | None = None) -> CheckReport:
    """Check a scenario over the whole clip at its frame rate; see the package docstring."""
    cfg = config or CheckConfig()
    scene = SampledScene.from_scenario(scenario)
    findings: list[Finding] = []
    summary: dict[str, Any] = {}

    need_pairs = cfg.enabled(CheckName.COLLISION) or cfg.enabled(CheckName.PROXIMITY)
    contacts = []
    contact_pairs: set[tuple[int, int]] = set()
    if need_pairs:
        grid = pair_grid(scene, cfg.contact_tolerance, gap_reach=cfg.min_gap_warning)
        contacts = contact_events(scene, grid, cfg)
        contact_pairs = {(e.a, e.b) for e in contacts if not e.static}
        if cfg.enabled(CheckName.COLLISION):
            findings += collision_findings(scene, contacts)
        if cfg.enabled(CheckName.PROXIMITY):
            findings += close_pass_findings(scene, grid, cfg, contact_pairs)

    if cfg.enabled(CheckName.EGO):
        rel = ego_relation_arrays(scene, 0, cfg.ttc_horizon, cfg.moving_speed, exact_distance=False)
        touching = {b for a, b in contact_pairs if a == 0}
        findings += near_miss_findings(scene, rel, cfg, touching)
        findings += tailgating_findings(scene, rel, cfg, touching)
        summary.update(_ego_summary(scene, rel))

    if cfg.enabled(CheckName.PET):
        pets = pet_events(scene, cfg, contact_pairs)
        findings += pet_findings(scene, pets, cfg)
        best = min(pets, key=lambda e: e.pet, default=None)
        summary["min_pet"] = math.inf if best is None else best.pet
        summary["min_pet_agents"] = [] if best is None else [scene.ids[best.first], scene.ids[best.second]]

    if cfg.enabled(CheckName.OFFROAD):
        findings += offroad_findings(scene, scenario.map, cfg)
    if cfg.enabled(CheckName.LANE_DIRECTION):
        findings += wrong_way_findings(scene, scenario.map, cfg)
    if cfg.enabled(CheckName.KINEMATICS):
        findings += feasibility_findings(scene, cfg)
    if cfg.enabled(CheckName.TELEPORT):
        findings += teleport_findings(scene, cfg)

    from engine.checks.ego_response import ego_response_findings   # H16: reacting ego, red lights

    findings += ego_response_findings(scenario)
    findings = _cap_recorded(findings, scenario, cfg)
    results = evaluate_intents(scenario, scene, cfg)
    findings = sort_findings(apply_intents(findings, results))
    summary["contacts"] = len([e for e in contacts if not e.static]) if need_pairs else None
    summary["collisions"] = sum(f.code == FindingCode.COLLISION for f in findings)
    summary["intents_met"] = sum(r.finding.code == FindingCode.INTENT_MET for r in results)
    summary["intents_unmet"] = sum(r.finding.code == FindingCode.INTENT_UNMET for r in results)
    return CheckReport(scenario=scenario.name, duration=scenario.duration, fps=scenario.fps,
                       num_frames=scene.num_frames, findings=findings, summary=summary, checks_run=cfg.checks)


def _cap_recorded(findings: list[Finding], scenario: Scenario, cfg: CheckConfig) -> list[Finding]:
    """Findings that involve recorded (locked) agents only are capped at `recorded_severity`."""
    locked = {a.id for a in scenario.all_agents if a.locked}
    if not locked:
        return findings
    cap = Severity.parse(cfg.recorded_severity)
    out = []
    for f in findings:
        if f.agents and set(f.agents) <= locked and f.severity > cap:
            f = replace(f, severity=cap, message=f"{f.message} (recorded in the source scene)")
        out.append(f)
    return out


def _ego_summary(scene: SampledScene, rel: dict[str, FloatArray]) -> dict[str, Any]:
    """Least TTC, gap and headway to the ego, overall and per agent (inf when never together)."""
    rows = range(1, scene.num_agents)
    out: dict[str, Any] = {}
    per_key: dict[str, list[float]] = {}
    for key, name in (("min_ttc", "ttc"), ("min_distance", "distance"), ("min_thw", "thw")):
        arr = rel[name][1:]
        with np.errstate(invalid="ignore"):
            v = np.fmin.reduce(arr, axis=1) if arr.shape[1] else np.full(arr.shape[0], np.nan)   # NaN-skipping min
        v = np.where(np.isnan(v), np.inf, v)                                   # all NaN: never together
        per_key[key] = v.tolist()
        b = int(np.argmin(v)) if v.size else 0
        best = float(v[b]) if v.size and v[b] < math.inf else math.inf
        out[key] = best
        out[key + "_agent"] = scene.ids[b + 1] if best < math.inf else None
    out["per_agent"] = {scene.ids[r]: {key: per_key[key][r - 1] for key in per_key} for r in rows}
    return out
