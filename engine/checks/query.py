"""Reading a report: which agents to highlight at a time, timeline marks, and batch filters.

A batch filter spec is a dict (JSON-ready) whose keys are all required to hold:

=====================  ==================================================================
key                    holds when
=====================  ==================================================================
max_severity           no finding above this level ("info": no warnings or errors)
min_severity           some finding at or above this level
contact                (bool) some box contact happens (intended or not) / none does
collision              (bool) some unintended collision is reported / none is
intents_met            (bool) every declared intent is met (and there is at least one)
min_ttc_below          the least TTC to the ego is below this (s): a near miss
min_ttc_above          the least TTC to the ego is at least this (s)
min_distance_below     the least footprint gap to the ego is below this (m)
min_distance_above     the least gap to the ego is at least this (m)
min_thw_below          the least time headway of the ego is below this (s)
min_pet_below          some crossing has a post-encroachment time below this (s)
codes_present          every code in the list appears among the findings
codes_absent           no code in the list appears
=====================  ==================================================================

`parse_match_spec("min_ttc<1.5, max_severity=warning, contact")` builds one from text (for the
command line): ``<`` and ``>=`` map to ``_below`` / ``_above``, a bare name means true, ``no_X``
false, and ``code:NAME`` / ``!code:NAME`` add to codes_present / codes_absent.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Mapping

from engine.checks.findings import CheckReport, Severity

_NUMBER_KEYS = ("min_ttc_below", "min_ttc_above", "min_distance_below", "min_distance_above",
                "min_thw_below", "min_pet_below")
_BOOL_KEYS = ("contact", "collision", "intents_met")
_LEVEL_KEYS = ("max_severity", "min_severity")
_LIST_KEYS = ("codes_present", "codes_absent")
SPEC_KEYS = _LEVEL_KEYS + _BOOL_KEYS + _NUMBER_KEYS + _LIST_KEYS


def flagged_agents(report: CheckReport, t: float, level: Severity | str = Severity.WARNING,
                   tolerance: float | None = None) -> set[str]:
    """Ids of the agents with a finding at `level` or above whose time range contains t.

    tolerance (s) widens every range on both sides; default half a frame, so that an instant
    finding between two frames lights up on the nearest frame.
    """
    lv = Severity.parse(level)
    tol = (0.5 / report.fps if report.fps > 0 else 0.0) if tolerance is None else tolerance
    return {a for f in report.findings if f.severity >= lv and f.covers(t, tol) for a in f.agents}


@dataclass(frozen=True)
class TimelineMark:
    """One mark on the timeline: a time range, its severity, code, agents and sentence."""

    t_start: float
    t_end: float
    severity: Severity
    code: str
    agents: tuple[str, ...]
    message: str


def timeline_marks(report: CheckReport, level: Severity | str = Severity.WARNING) -> list[TimelineMark]:
    """Marks for the findings at `level` or above, in time order."""
    return [TimelineMark(f.t_start, f.t_end, f.severity, f.code, f.agents, f.message)
            for f in report.at_least(level)]


def flagged_times(report: CheckReport, agent_id: str | None = None,
                  level: Severity | str = Severity.WARNING) -> list[tuple[float, float]]:
    """Merged (t_start, t_end) ranges with findings at `level` or above (of one agent, or of any)."""
    spans = sorted((f.t_start, f.t_end) for f in report.at_least(level)
                   if agent_id is None or agent_id in f.agents)
    merged: list[tuple[float, float]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1] + 1e-9:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def validate_match_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A checked copy of a spec; ValueError naming the bad key or value."""
    if not isinstance(spec, Mapping):
        raise ValueError(f"a match spec must be a dict (got {type(spec).__name__})")
    out: dict[str, Any] = {}
    for k, v in spec.items():
        if k in _LEVEL_KEYS:
            out[k] = Severity.parse(v)
        elif k in _BOOL_KEYS:
            if not isinstance(v, bool):
                raise ValueError(f"match spec {k}: must be true or false (got {v!r})")
            out[k] = v
        elif k in _NUMBER_KEYS:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v):
                raise ValueError(f"match spec {k}: must be a number (got {v!r})")
            out[k] = float(v)
        elif k in _LIST_KEYS:
            if isinstance(v, str) or not all(isinstance(c, str) for c in v):
                raise ValueError(f"match spec {k}: must be a list of finding codes (got {v!r})")
            out[k] = list(v)
        else:
            raise ValueError(f"unknown match spec key {k!r}; expected some of {', '.join(SPEC_KEYS)}")
    return out


def _summary_number(report: CheckReport, key: str) -> float:
    v = report.summary.get(key)
    return math.inf if v is None else float(v)


def report_matches(report: CheckReport, spec: Mapping[str, Any] | str) -> bool:
    """Whether a report satisfies every condition of `spec` (a dict, or text for `parse_match_spec`)."""
    s = validate_match_spec(parse_match_spec(spec) if isinstance(spec, str) else spec)
    codes = {f.code for f in report.findings}
    top = report.max_severity
    if "max_severity" in s and top is not None and top > s["max_severity"]:
        return False
    if "min_severity" in s and (top is None or top < s["min_severity"]):
        return False
    if "contact" in s:
        contacts = report.summary.get("contacts")
        has = bool(contacts) if contacts is not None else bool(codes & {"collision"})
        has = has or any(f.code == "intent_met" and "contact_time" in f.metrics for f in report.findings)
        if has != s["contact"]:
            return False
    if "collision" in s and ("collision" in codes) != s["collision"]:
        return False
    if "intents_met" in s:
        met, unmet = report.summary.get("intents_met", 0), report.summary.get("intents_unmet", 0)
        if (met > 0 and unmet == 0) != s["intents_met"]:
            return False
    for key in _NUMBER_KEYS:
        if key not in s:
            continue
        metric, side = key.rsplit("_", 1)
        v = _summary_number(report, metric)
        if side == "below" and not v < s[key]:
            return False
        if side == "above" and not v >= s[key]:
            return False
    if any(c not in codes for c in s.get("codes_present", [])):
        return False
    if any(c in codes for c in s.get("codes_absent", [])):
        return False
    return True


_TERM = re.compile(r"^\s*(?P<name>[a-z_]+)\s*(?P<op><=|>=|<|>|=)\s*(?P<value>[^,]+?)\s*$")


def parse_match_spec(text: str) -> dict[str, Any]:
    """Text like ``min_ttc<1.5, max_severity=warning, contact, !code:off_road`` as a spec dict."""
    spec: dict[str, Any] = {}
    for raw in re.split(r",|\band\b", text):
        term = raw.strip()
        if not term:
            continue
        if term.startswith(("code:", "!code:")):
            key = "codes_absent" if term.startswith("!") else "codes_present"
            spec.setdefault(key, []).append(term.split(":", 1)[1].strip())
            continue
        m = _TERM.match(term)
        if m is None:
            name, val = (term[3:], False) if term.startswith("no_") else (term, True)
            if name not in _BOOL_KEYS:
                raise ValueError(f"cannot read {term!r} in match spec; flags are {', '.join(_BOOL_KEYS)} "
                                 f"(or no_<flag>)")
            spec[name] = val
            continue
        name, op, value = m["name"], m["op"], m["value"]
        if name in _LEVEL_KEYS and op == "=":
            spec[name] = value
        elif name in ("min_ttc", "min_distance", "min_thw", "min_pet") and op in ("<", "<=", ">", ">="):
            side = "below" if op.startswith("<") else "above"
            key = f"{name}_{side}"
            if key not in _NUMBER_KEYS:
                raise ValueError(f"{term!r}: {name} can only be compared with <")
            try:
                spec[key] = float(value)
            except ValueError:
                raise ValueError(f"{term!r}: {value!r} is not a number") from None
        else:
            raise ValueError(f"cannot read {term!r} in match spec; use e.g. min_ttc<1.5, max_severity=warning")
    return validate_match_spec(spec)
