"""Tie what a prompt asks for (`engine.prompting.asks.Ask`) to the agents of a script's result, and
decide which of the script's own intents stand.

The result's intents become: one intent per ask, on the pair of agents that fits it best (for
contact: a pair the script itself declared contact for, else the closest pair; for the rest: the
closest pair, by least footprint gap over the clip), plus the script's own intents that the prompt
did not contradict (e.g. the library's `near_miss` note on a deliberately tight cut-in gap). A
contact the script declared (`contact=True`) that the prompt did not ask for is dropped, so the
checks report that collision as the error it is.
An ask no agent fits becomes an error finding that says which class is missing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from numpy.typing import NDArray

from engine.checks import Finding, Severity
from engine.checks.config import STATIC_CLASSES
from engine.prompting.asks import CONTACT, NEAR_MISS, Ask
from engine.scenario.model import EGO_ID, Agent, Intent, Scenario

_STANDING_BEHAVIORS = frozenset({"parked", "static_object", "cone_row", "work_zone"})


@dataclass(frozen=True)
class IntentPlan:
    """The intents a result should carry for a prompt.

    asked: one per bound ask, in ask order (index i of `asked` is intent i of the scenario);
    defaults: per asked intent, whether it uses the checks' default thresholds (a near miss the
    prompt gave no numbers for); kept: the script's own intents that stand; dropped: the script's
    intents the prompt did not ask for (contacts); unbound: error findings for asks no agent fits.
    """

    asked: tuple[Intent, ...] = ()
    defaults: tuple[bool, ...] = ()
    asks: tuple[Ask, ...] = ()
    kept: tuple[Intent, ...] = ()
    dropped: tuple[Intent, ...] = ()
    unbound: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def intents(self) -> tuple[Intent, ...]:
        return self.asked + self.kept


def _moving(a: Agent) -> bool:
    return a.cls not in STATIC_CLASSES and a.behavior not in _STANDING_BEHAVIORS


def _candidates(scenario: Scenario, cls: str | None, exclude: str | None = None) -> list[Agent]:
    """Agents of class `cls` (None: every moving agent other than the ego). The ego stands in for
    its own class when no other agent has it ("a pedestrian is hit by a car")."""
    if cls == EGO_ID:
        return [scenario.ego]
    if cls is None:
        agents = [a for a in scenario.agents if _moving(a)] or list(scenario.agents)
    else:
        agents = [a for a in scenario.agents if a.cls == cls]
        if not agents and scenario.ego.cls == cls:
            agents = [scenario.ego]
    return [a for a in agents if a.id != exclude]


def _min_gaps(scenario: Scenario, pairs: list[tuple[Agent, Agent]]) -> list[float]:
    """Least footprint gap (m) over the clip for each pair; 0 where the boxes overlap."""
    from engine.library.clearance import footprint_distances

    times = scenario.frame_times()
    cache: dict[str, NDArray[np.float64]] = {}

    def corners(a: Agent) -> NDArray[np.float64]:
        if a.id not in cache:
            cache[a.id] = a.box_corners_2d(times)
        return cache[a.id]

    return [float(np.min(footprint_distances(corners(a), corners(b)))) for a, b in pairs]


def _bind(scenario: Scenario, ask: Ask, script_contacts: list[frozenset[str]]) -> tuple[str, str] | str:
    """The (agent, other) ids that fit `ask`, or a sentence saying why none does."""
    whos = _candidates(scenario, ask.who)
    if not whos:
        return f"the scenario has no {ask.who.replace('_', ' ')}" if ask.who else "the scenario has no other agent"
    pairs: list[tuple[Agent, Agent]] = []
    for w in whos:
        for o in _candidates(scenario, ask.other, exclude=w.id):
            if o.id != w.id and (o.id, w.id) not in {(p[0].id, p[1].id) for p in pairs}:
                pairs.append((w, o))
    if not pairs:
        if ask.other == EGO_ID:
            return "the ego is the only agent of that kind"
        return f"the scenario has no {ask.other.replace('_', ' ')}" + (
            f" besides the {ask.who.replace('_', ' ')}" if ask.who == ask.other else "")
    if ask.kind == CONTACT:
        for w, o in pairs:
            if frozenset((w.id, o.id)) in script_contacts:
                return w.id, o.id
    gaps = _min_gaps(scenario, pairs)
    k = int(np.argmin(gaps))
    return pairs[k][0].id, pairs[k][1].id


def plan_intents(scenario: Scenario, asks: Sequence[Ask]) -> IntentPlan:
    """The intents `scenario` (a script's result) should carry for a prompt that asks `asks`."""
    script_intents = list(scenario.intents)
    script_contacts = [frozenset(i.agents if len(i.agents) > 1 else (*i.agents, EGO_ID))
                       for i in script_intents if i.kind == CONTACT]
    asked: list[Intent] = []
    defaults: list[bool] = []
    bound_asks: list[Ask] = []
    unbound: list[Finding] = []
    t_end = float(scenario.frame_times()[-1])
    for ask in asks:
        got = _bind(scenario, ask, script_contacts)
        if isinstance(got, str):
            unbound.append(Finding("intent_unmet", Severity.ERROR, 0.0, t_end, (),
                                   f"The prompt asks for {ask.describe()} ('{ask.phrase}'), but {got}."))
            continue
        intent = Intent(ask.kind, got, dict(ask.params))
        if any(i.kind == intent.kind and frozenset(i.agents) == frozenset(got) for i in asked):
            continue
        asked.append(intent)
        defaults.append(ask.kind == NEAR_MISS and not ask.params)
        bound_asks.append(ask)
    asked_pairs = {(i.kind, frozenset(i.agents)) for i in asked}
    kept: list[Intent] = []
    dropped: list[Intent] = []
    notes: list[str] = []
    for i in script_intents:
        pair = frozenset(i.agents if len(i.agents) > 1 else (*i.agents, EGO_ID))
        if i.kind == CONTACT:
            if (CONTACT, pair) not in asked_pairs:
                dropped.append(i)
                notes.append(f"the script allows contact between {' and '.join(sorted(pair))}, which the prompt "
                             f"does not ask for")
            continue
        if (i.kind, pair) in asked_pairs or (i.kind == NEAR_MISS and (CONTACT, pair) in asked_pairs):
            continue
        kept.append(i)
    return IntentPlan(tuple(asked), tuple(defaults), tuple(bound_asks), tuple(kept), tuple(dropped),
                      tuple(unbound), tuple(notes))


__all__ = ["IntentPlan", "plan_intents"]
