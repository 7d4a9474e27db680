"""Does a script's result match its prompt? Run the scenario checks with the intents the prompt asks
for and say what does not match.

`review_scenario(scenario, asks)` gives the scenario the intents of `plan_intents`, runs
`check_scenario` and returns a `Review`: the scenario with those intents, the report, and the
*problems*: every error-level finding left once the asked intents have explained what was meant
(an unintended collision, an infeasible manoeuvre, a car off the road, an asked contact or near
miss that did not happen) plus asks no agent fits. A script intent that the prompt did not ask
for and that is not met is dropped (it claims nothing the prompt wants). A near miss the prompt
gave no numbers for is met by the checks' TTC criterion or, failing that, by a footprint gap of at
most `NEAR_MISS_GAP` without contact (a close pass between agents at constant speed never has a
finite TTC without touching). Two check runs at most.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Sequence

from engine.checks import CheckConfig, CheckReport, Finding, Severity, check_scenario
from engine.prompting.asks import NEAR_MISS, Ask
from engine.prompting.binding import IntentPlan, plan_intents
from engine.scenario.model import Intent, Scenario

NEAR_MISS_GAP = 1.0     # m: an unqualified near miss is also met by a gap this small without contact


@dataclass(frozen=True)
class Review:
    """A result checked against its prompt.

    scenario: the result with the intents the prompt asks for; report: the checks' report on it;
    problems: the error-level findings that say the result does not match the prompt (empty: it
    matches); notes: what was decided on the way (intents dropped or relaxed).
    """

    scenario: Scenario
    report: CheckReport
    problems: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()
    plan: IntentPlan = field(default_factory=IntentPlan)

    @property
    def ok(self) -> bool:
        return not self.problems

    def sentences(self) -> list[str]:
        """The problems as plain sentences (for a repair message, a log or a dialog)."""
        return problem_sentences(self.problems)


def problem_sentences(findings: Sequence[Finding]) -> list[str]:
    """One line per finding: 'collision (1.20-1.50 s): Car_1 and the ego collide ...'."""
    out = []
    for f in findings:
        span = f"{f.t_start:.2f} s" if f.t_end - f.t_start < 1e-9 else f"{f.t_start:.2f}-{f.t_end:.2f} s"
        out.append(f"{f.code} ({span}): {f.message}")
    return out


def review_scenario(scenario: Scenario, asks: Sequence[Ask], config: CheckConfig | None = None) -> Review:
    """Check `scenario` (a script's result) against what its prompt asks (`asks_of(prompt)`)."""
    plan = plan_intents(scenario, asks)
    intents = list(plan.intents)
    notes = list(plan.notes)
    checked = replace(scenario, intents=tuple(intents))
    report = check_scenario(checked, config)
    n_asked = len(plan.asked)
    drop: set[int] = set()
    for f in report.with_code("intent_unmet"):
        i = int(f.metrics.get("intent", -1))
        if i < 0 or i >= len(intents):
            continue
        if i >= n_asked:                                   # the script's own claim, not the prompt's
            drop.add(i)
            notes.append(f"dropped the script's unmet intent {_describe(intents[i])}")
        elif plan.defaults[i] and intents[i].kind == NEAR_MISS:
            gap = f.metrics.get("min_distance")
            if gap is not None and 0.0 < gap <= NEAR_MISS_GAP:
                intents[i] = Intent(NEAR_MISS, intents[i].agents, {"max_distance": NEAR_MISS_GAP})
                drop.add(-1)                               # re-check with the gap criterion
                notes.append(f"near miss {' / '.join(intents[i].agents)} confirmed by a {gap:.2f} m gap "
                             f"(its time to collision stays above the warning level)")
    if drop:
        intents = [it for k, it in enumerate(intents) if k not in drop]
        checked = replace(scenario, intents=tuple(intents))
        report = check_scenario(checked, config)
    problems = tuple(report.at_least(Severity.ERROR)) + plan.unbound
    return Review(checked, report, problems, tuple(notes), plan)


def _describe(intent: Intent) -> str:
    params = ", ".join(f"{k}={v:g}" if isinstance(v, (int, float)) else f"{k}={v}" for k, v in intent.params.items())
    return f"{intent.kind} {' / '.join(intent.agents)}" + (f" ({params})" if params else "")


__all__ = ["NEAR_MISS_GAP", "Review", "problem_sentences", "review_scenario"]
