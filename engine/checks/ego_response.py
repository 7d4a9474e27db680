"""What the ego did about the threat: whether a reacting ego (the `ego_reacts` library manoeuvre)
avoided the collision it would have had without reacting, and red-light violations.

`ego_response(scenario)` reads the ego's `ego_reacts` manoeuvre (what the non-reacting ego would
have hit, recorded at authoring time) and measures the ego's actual closest approach to every
agent on the frame grid (footprint gap, separating-axis distance of the oriented boxes).
`ego_response_findings` turns it, and `engine.roadmap.signals.red_light_violations`, into findings:
``ego_avoided`` (info), ``ego_collided`` (error, a reacting ego that still hits),
``red_light`` (warning, an agent passes its stop line on red; an error for the ego).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from engine.checks.findings import Finding, FindingCode, Severity
from engine.scenario.model import Scenario


@dataclass(frozen=True)
class EgoResponse:
    """reacts: the ego has an `ego_reacts` manoeuvre; avoided: no contact with anyone (None when it does
    not react); unreacted_contact: (agent, t) the authored ego would have hit; contact: (agent, t) of
    the first actual contact; min_gap: least footprint gap (m) to any agent and with whom; aeb_at: s."""

    reacts: bool
    avoided: bool | None
    unreacted_contact: tuple[str, float] | None
    contact: tuple[str, float] | None
    min_gap: float
    min_gap_agent: str | None
    aeb_at: float | None


def _gap(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """(T,) distance between two (T, 4, 2) convex footprints (0 when they overlap)."""
    from engine.library.clearance import footprint_distances

    return footprint_distances(a, b)


def ego_response(scenario: Scenario) -> EgoResponse:
    times = scenario.frame_times()
    react = next((m for m in scenario.ego.maneuvers if m.function == "ego_reacts"), None)
    ego_fp = scenario.ego.box_corners_2d(times)
    best, best_id, contact = math.inf, None, None
    for a in scenario.agents:
        d = _gap(ego_fp, a.box_corners_2d(times))
        i = int(np.argmin(d))
        if d[i] < best:
            best, best_id = float(d[i]), a.id
        hit = np.flatnonzero(d <= 1e-6)
        if hit.size and (contact is None or times[hit[0]] < contact[1]):
            contact = (a.id, float(times[hit[0]]))
    unreacted = None
    aeb = None
    if react is not None:
        u = react.params.get("unreacted_contact")
        unreacted = (str(u["agent"]), float(u["t"])) if isinstance(u, dict) else None
        aeb = react.params.get("aeb_at")
    return EgoResponse(react is not None, None if react is None else contact is None, unreacted, contact,
                       best, best_id, None if aeb is None else float(aeb))


def ego_response_findings(scenario: Scenario) -> list[Finding]:
    """Findings for the ego's reaction and for red-light violations."""
    from engine.roadmap.signals import red_light_violations

    out: list[Finding] = []
    # H19: the per-agent gaps are only reported for a reacting ego; skip them otherwise (O(agents) work)
    reacts = any(m.function == "ego_reacts" for m in scenario.ego.maneuvers)
    r = ego_response(scenario) if reacts else None
    if r is not None and r.reacts and r.unreacted_contact is not None:
        who, t = r.unreacted_contact
        if r.avoided:
            out.append(Finding(FindingCode.EGO_AVOIDED, Severity.INFO, t, t, ("ego", who),
                               f"The reacting ego avoided the collision with {who} it would have had at {t:.2f} s "
                               f"(closest gap {r.min_gap:.2f} m).", metrics={"min_gap": r.min_gap}))
        elif r.contact is not None:
            out.append(Finding(FindingCode.EGO_COLLIDED, Severity.ERROR, r.contact[1], r.contact[1], ("ego", r.contact[0]),
                               f"The reacting ego still hits {r.contact[0]} at {r.contact[1]:.2f} s.",
                               metrics={"min_gap": 0.0}))
    for agent, signal, t in red_light_violations(scenario):
        sev = Severity.ERROR if agent == "ego" else Severity.WARNING
        out.append(Finding(FindingCode.RED_LIGHT, sev, t, t, (agent,), f"{agent} passes the stop line of {signal} on red "
                                                             f"at {t:.2f} s.", metrics={"t": t}))
    return out
