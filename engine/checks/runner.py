"""`check_scenario`: sample once, run every enabled check, apply the intents, summarise."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from engine.checks.collisions import close_pass_findings, collision_findings, contact_events
from engine.checks.config import CheckConfig
from engine.checks.ego_checks import near_miss_findings, tailgating_findings
from engine.checks.findings import CheckReport, Finding, Severity, sort_findings
from engine.checks.intents import apply_intents, evaluate_intents
from engine.checks.kinematics import feasibility_findings, teleport_findings
from engine.checks.lanes import wrong_way_findings
from engine.checks.offroad import offroad_findings
from engine.checks.pairs import pair_grid
from engine.checks.pet import pet_events, pet_findings
from engine.checks.relations import ego_relation_arrays
from engine.checks.sampling import SampledScene
from engine.scenario.model import Scenario


def check_scenario(scenario: Scenario, config: CheckConfig | None = None) -> CheckReport:
    """Check a scenario over the whole clip at its frame rate; see the package docstring."""
    cfg = config or CheckConfig()
    scene = SampledScene.from_scenario(scenario)
    findings: list[Finding] = []
    summary: dict = {}

    need_pairs = cfg.enabled("collision") or cfg.enabled("proximity")
    contacts = []
    contact_pairs: set[tuple[int, int]] = set()
    if need_pairs:
        grid = pair_grid(scene, cfg.contact_tolerance, gap_reach=cfg.min_gap_warning)
        contacts = contact_events(scene, grid, cfg)
        contact_pairs = {(e.a, e.b) for e in contacts if not e.static}
        if cfg.enabled("collision"):
            findings += collision_findings(scene, contacts)
        if cfg.enabled("proximity"):
            findings += close_pass_findings(scene, grid, cfg, contact_pairs)

    if cfg.enabled("ego"):
        rel = ego_relation_arrays(scene, 0, cfg.ttc_horizon, cfg.moving_speed, exact_distance=False)
        touching = {b for a, b in contact_pairs if a == 0}
        findings += near_miss_findings(scene, rel, cfg, touching)
        findings += tailgating_findings(scene, rel, cfg, touching)
        summary.update(_ego_summary(scene, rel))

    if cfg.enabled("pet"):
        pets = pet_events(scene, cfg, contact_pairs)
        findings += pet_findings(scene, pets, cfg)
        best = min(pets, key=lambda e: e.pet, default=None)
        summary["min_pet"] = math.inf if best is None else best.pet
        summary["min_pet_agents"] = [] if best is None else [scene.ids[best.first], scene.ids[best.second]]

    if cfg.enabled("offroad"):
        findings += offroad_findings(scene, scenario.map, cfg)
    if cfg.enabled("lane_direction"):
        findings += wrong_way_findings(scene, scenario.map, cfg)
    if cfg.enabled("kinematics"):
        findings += feasibility_findings(scene, cfg)
    if cfg.enabled("teleport"):
        findings += teleport_findings(scene, cfg)

    from engine.checks.ego_response import ego_response_findings   # H16: reacting ego, red lights

    findings += ego_response_findings(scenario)
    findings = _cap_recorded(findings, scenario, cfg)
    results = evaluate_intents(scenario, scene, cfg)
    findings = sort_findings(apply_intents(findings, results))
    summary["contacts"] = len([e for e in contacts if not e.static]) if need_pairs else None
    summary["collisions"] = sum(f.code == "collision" for f in findings)
    summary["intents_met"] = sum(r.finding.code == "intent_met" for r in results)
    summary["intents_unmet"] = sum(r.finding.code == "intent_unmet" for r in results)
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


def _ego_summary(scene: SampledScene, rel: dict[str, np.ndarray]) -> dict:
    """Least TTC, gap and headway to the ego, overall and per agent."""
    per_agent = {}
    best = {"min_ttc": (math.inf, None), "min_distance": (math.inf, None), "min_thw": (math.inf, None)}
    for r in range(1, scene.num_agents):
        row = {}
        for key, arr in (("min_ttc", rel["ttc"][r]), ("min_distance", rel["distance"][r]), ("min_thw", rel["thw"][r])):
            v = math.inf if np.isnan(arr).all() else float(np.nanmin(arr))   # all NaN: never together
            row[key] = v
            if v < best[key][0]:
                best[key] = (v, scene.ids[r])
        per_agent[scene.ids[r]] = row
    out = {}
    for key, (v, who) in best.items():
        out[key] = v
        out[key + "_agent"] = who
    out["per_agent"] = per_agent
    return out
