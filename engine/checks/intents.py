"""Declared intents: the checks confirm them instead of flagging what was meant.

`Scenario.intents` holds `Intent(kind, agents, params)`. Supported kinds (agents: one id means
"with the ego"; times in s, distances in m; every intent also takes ``t_start`` / ``t_end`` to
limit the time window in which it must happen):

=============  =========  ==========================================================================
kind           agents     met when (params)
=============  =========  ==========================================================================
contact        1 or 2     the two boxes touch in the window.
near_miss      1 or 2     no contact and, in the window, the least TTC is below ``max_ttc`` and/or
                          the least footprint gap is at most ``max_distance``; with neither given,
                          ``max_ttc`` is the config's ``ttc_warning`` (1.5 s). ``min_distance``
                          (default 0): the gap must never drop below it.
min_ttc        1 or 2     the least TTC in the window lies in [``min``, ``max``] (either optional).
min_distance   1 or 2     the least footprint gap in the window lies in [``min``, ``max``].
pet            1 or 2     the post-encroachment time of their crossing lies in [``min``, ``max``].
off_road       1 or more  every listed agent leaves the drivable area in the window.
wrong_way      1 or more  every listed agent drives against a lane in the window.
=============  =========  ==========================================================================

A met intent gives an ``intent_met`` info finding and removes the findings it explains (for a
contact: the collision, near miss, close pass, PET and headway findings of that pair; for a near
miss: the near miss, close pass, PET and headway findings; for off_road / wrong_way: those
findings of the agents). An unmet or malformed intent is an ``intent_unmet`` error, and nothing
is removed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Callable, Mapping

import numpy as np

from engine.checks.collisions import contact_events
from engine.checks.config import CheckConfig
from engine.checks.findings import Finding, FindingCode, Severity
from engine.checks.lanes import wrong_way_findings
from engine.checks.offroad import offroad_findings
from engine.checks.pairs import PairGrid, pair_grid
from engine.checks.pet import pair_pet
from engine.checks.relations import ttc_between
from engine.checks.sampling import BoolArray, FloatArray, SampledScene
from engine.scenario.map_elements import RoadMap
from engine.scenario.model import EGO_ID, Intent, Scenario



class IntentKind(StrEnum):
    """The supported `Intent.kind` values (equal to the strings the scenario files hold)."""

    CONTACT = "contact"
    NEAR_MISS = "near_miss"
    MIN_TTC = "min_ttc"
    MIN_DISTANCE = "min_distance"
    PET = "pet"
    OFF_ROAD = "off_road"
    WRONG_WAY = "wrong_way"


PAIR_KINDS: tuple[str, ...] = tuple(k.value for k in (IntentKind.CONTACT, IntentKind.NEAR_MISS, IntentKind.MIN_TTC,
                                                      IntentKind.MIN_DISTANCE, IntentKind.PET))
AGENT_KINDS: tuple[str, ...] = (IntentKind.OFF_ROAD.value, IntentKind.WRONG_WAY.value)
INTENT_KINDS = PAIR_KINDS + AGENT_KINDS

_WINDOW = ("t_start", "t_end")
_PARAMS: dict[str, tuple[str, ...]] = {
    IntentKind.CONTACT: _WINDOW,
    IntentKind.NEAR_MISS: _WINDOW + ("max_ttc", "max_distance", "min_distance"),
    IntentKind.MIN_TTC: _WINDOW + ("min", "max"),
    IntentKind.MIN_DISTANCE: _WINDOW + ("min", "max"),
    IntentKind.PET: _WINDOW + ("min", "max"),
    IntentKind.OFF_ROAD: _WINDOW,
    IntentKind.WRONG_WAY: _WINDOW,
}
_C = FindingCode
_EXPLAINS: dict[str, tuple[FindingCode, ...]] = {
    IntentKind.CONTACT: (_C.COLLISION, _C.OVERLAP, _C.NEAR_MISS, _C.CLOSE_PASS, _C.PET, _C.SHORT_HEADWAY),
    IntentKind.NEAR_MISS: (_C.NEAR_MISS, _C.CLOSE_PASS, _C.PET, _C.SHORT_HEADWAY),
    IntentKind.MIN_TTC: (_C.NEAR_MISS,),
    IntentKind.MIN_DISTANCE: (_C.CLOSE_PASS,),
    IntentKind.PET: (_C.PET,),
    IntentKind.OFF_ROAD: (_C.OFF_ROAD,),
    IntentKind.WRONG_WAY: (_C.WRONG_WAY,),
}


@dataclass
class IntentResult:
    """Outcome of one intent: its finding and which findings it explains (code, agent set)."""

    finding: Finding
    explains: list[tuple[str, frozenset[str]]] = field(default_factory=list)


class IntentError(ValueError):
    """A malformed intent (the message names what is wrong)."""


# (index, kind, agent ids, params, scenario, sampled scene, config) -> result
Handler = Callable[[int, str, tuple[str, ...], Mapping[str, float], Scenario, SampledScene, CheckConfig], IntentResult]


def _params(i: int, intent: Intent) -> dict[str, float]:
    allowed = _PARAMS[intent.kind]
    out: dict[str, float] = {}
    for k, v in dict(intent.params).items():
        if k not in allowed:
            raise IntentError(f"intents[{i}].params.{k}: unknown parameter for {intent.kind!r}; "
                              f"expected some of {', '.join(allowed)}")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise IntentError(f"intents[{i}].params.{k}: must be a number >= 0 (got {v!r})")
        out[k] = float(v)
    for lo, hi in (("t_start", "t_end"), ("min", "max"), ("min_distance", "max_distance")):
        if lo in out and hi in out and out[lo] > out[hi]:
            raise IntentError(f"intents[{i}].params: {lo} ({out[lo]:g}) is larger than {hi} ({out[hi]:g})")
    return out


def _agents(i: int, intent: Intent, scene: SampledScene) -> tuple[str, ...]:
    ids = tuple(intent.agents)
    for j, a in enumerate(ids):
        if a not in scene.ids:
            raise IntentError(f"intents[{i}].agents[{j}]: no agent with id {a!r}")
    if intent.kind in PAIR_KINDS:
        if len(ids) == 1:
            if ids[0] == EGO_ID:
                raise IntentError(f"intents[{i}].agents: {intent.kind!r} needs an agent other than the ego")
            ids = (ids[0], EGO_ID)
        if len(ids) != 2 or ids[0] == ids[1]:
            raise IntentError(f"intents[{i}].agents: {intent.kind!r} takes one agent (with the ego) or two "
                              f"different agents (got {list(intent.agents)})")
    elif not ids:
        raise IntentError(f"intents[{i}].agents: {intent.kind!r} needs at least one agent")
    return ids


def _window(p: Mapping[str, float], times: FloatArray) -> tuple[float, float, BoolArray]:
    t0, t1 = p.get("t_start", float(times[0])), p.get("t_end", float(times[-1]))
    return t0, t1, (times >= t0 - 1e-9) & (times <= t1 + 1e-9)


def _describe(kind: str, ids: tuple[str, ...], p: Mapping[str, float]) -> str:
    bits = [f"{k}={v:g}" for k, v in p.items()]
    return f"{kind} {' / '.join(ids)}" + (f" ({', '.join(bits)})" if bits else "")


def evaluate_intents(scenario: Scenario, scene: SampledScene, cfg: CheckConfig) -> list[IntentResult]:
    """One result per intent of the scenario, in order."""
    results = []
    for i, intent in enumerate(scenario.intents):
        t0, t1 = float(scene.times[0]), float(scene.times[-1])
        try:
            if intent.kind not in INTENT_KINDS:
                raise IntentError(f"intents[{i}].kind: unknown intent {intent.kind!r}; "
                                  f"supported: {', '.join(INTENT_KINDS)}")
            params = _params(i, intent)
            ids = _agents(i, intent, scene)
            handler: Handler = _HANDLERS[intent.kind]
            results.append(handler(i, intent.kind, ids, params, scenario, scene, cfg))
        except IntentError as e:
            results.append(IntentResult(Finding(FindingCode.INTENT_UNMET, Severity.ERROR, t0, t1, tuple(intent.agents),
                                                f"Intent cannot be checked: {e}.", metrics={"intent": i})))
    return results


def _result(i: int, met: bool, kind: str, ids: tuple[str, ...], p: Mapping[str, float], why: str,
            t0: float, t1: float, where: tuple[float, float] | None = None, metrics: Mapping[str, float] | None = None,
            explains_agents: list[frozenset[str]] | None = None) -> IntentResult:
    head = f"Intent {i} ({_describe(kind, ids, p)})"
    m = {"intent": i, **(metrics or {})}
    if met:
        f = Finding(FindingCode.INTENT_MET, Severity.INFO, t0, t1, ids, f"{head} is met: {why}.", where, m)
        groups = explains_agents if explains_agents is not None else [frozenset(ids)]
        return IntentResult(f, [(code, g) for g in groups for code in _EXPLAINS[kind]])
    return IntentResult(Finding(FindingCode.INTENT_UNMET, Severity.ERROR, t0, t1, ids, f"{head} is not met: {why}.", where, m))


def _both(sub: SampledScene) -> BoolArray:
    """(T,) frames at which both agents of a two-row scene exist."""
    out: BoolArray = sub.present[0] & sub.present[1]
    return out


def _pair_view(scene: SampledScene, ids: tuple[str, ...], cfg: CheckConfig) -> tuple[SampledScene, PairGrid]:
    sub = scene.subset([scene.index(ids[0]), scene.index(ids[1])])
    grid = pair_grid(sub, cfg.contact_tolerance, gap_reach=np.inf)
    return sub, grid


def _contact(i: int, kind: str, ids: tuple[str, ...], p: Mapping[str, float], scenario: Scenario,
             scene: SampledScene, cfg: CheckConfig) -> IntentResult:
    sub, grid = _pair_view(scene, ids, cfg)
    w0, w1, _ = _window(p, scene.times)
    evs = [e for e in contact_events(sub, grid, cfg) if e.t_contact <= w1 + 1e-9 and e.t_end >= w0 - 1e-9]
    if evs:
        e = evs[0]
        return _result(i, True, kind, ids, p, f"the boxes touch at {e.t_contact:.2f} s at {e.rel_speed:.1f} m/s "
                       f"relative speed", e.t_contact, e.t_end, e.where,
                       {"contact_time": e.t_contact, "relative_speed": e.rel_speed})
    _, _, win = _window(p, scene.times)
    g = np.where(win & _both(sub), grid.dense(grid.gap, np.nan)[0], np.nan)
    if np.all(np.isnan(g)):
        return _result(i, False, kind, ids, p, "the two agents never exist together in the window", w0, w1)
    k = int(np.nanargmin(g))
    return _result(i, False, kind, ids, p, f"the boxes never touch; the closest gap is {g[k]:.2f} m at "
                   f"{scene.times[k]:.2f} s", w0, w1, None, {"min_distance": float(g[k])})


def _pair_minima(sub: SampledScene, grid: PairGrid, cfg: CheckConfig, win: BoolArray) -> dict[str, float]:
    both = _both(sub) & win
    ttc = ttc_between(sub, 0, 1, horizon=cfg.ttc_horizon)
    ttc = np.where(both & ~grid.overlap[0], ttc, np.inf)
    gap = np.where(both, grid.dense(grid.gap, np.inf)[0], np.inf)
    kt, kg = int(np.argmin(ttc)), int(np.argmin(gap))
    return {"min_ttc": float(ttc[kt]), "t_min_ttc": float(sub.times[kt]), "min_distance": float(gap[kg]),
            "t_min_distance": float(sub.times[kg]), "contact": float((grid.overlap[0] & win).any()),
            "exists": float(both.any())}


def _near_miss(i: int, kind: str, ids: tuple[str, ...], p: Mapping[str, float], scenario: Scenario,
               scene: SampledScene, cfg: CheckConfig) -> IntentResult:
    sub, grid = _pair_view(scene, ids, cfg)
    w0, w1, win = _window(p, scene.times)
    m = _pair_minima(sub, grid, cfg, win)
    max_ttc = p.get("max_ttc", cfg.ttc_warning if "max_distance" not in p else None)
    max_d, min_d = p.get("max_distance"), p.get("min_distance", 0.0)
    metrics = {k: m[k] for k in ("min_ttc", "t_min_ttc", "min_distance", "t_min_distance")}
    if not m["exists"]:
        return _result(i, False, kind, ids, p, "the two agents never exist together in the window", w0, w1)
    problems = []
    if m["contact"]:
        problems.append(f"the boxes touch (closest gap 0 at {m['t_min_distance']:.2f} s)")
    if max_ttc is not None and not m["min_ttc"] < max_ttc:
        problems.append(f"the least TTC is {m['min_ttc']:.2f} s, not below {max_ttc:g} s")
    if max_d is not None and not m["min_distance"] <= max_d:
        problems.append(f"the closest gap is {m['min_distance']:.2f} m, more than {max_d:g} m")
    if min_d > 0 and m["min_distance"] < min_d and not m["contact"]:
        problems.append(f"the gap drops to {m['min_distance']:.2f} m, below {min_d:g} m")
    t_ev = m["t_min_ttc"] if math.isfinite(m["min_ttc"]) else m["t_min_distance"]
    if problems:
        return _result(i, False, kind, ids, p, "; ".join(problems), w0, w1, None, metrics)
    return _result(i, True, kind, ids, p, f"the least TTC is {m['min_ttc']:.2f} s at {m['t_min_ttc']:.2f} s and the "
                   f"closest gap {m['min_distance']:.2f} m at {m['t_min_distance']:.2f} s, without contact",
                   t_ev, t_ev, None, metrics)


def _in_range(v: float, p: Mapping[str, float]) -> bool:
    return p.get("min", -math.inf) <= v <= p.get("max", math.inf)


def _range_text(p: Mapping[str, float], unit: str) -> str:
    lo, hi = p.get("min"), p.get("max")
    if lo is not None and hi is not None:
        return f"between {lo:g} and {hi:g} {unit}"
    if hi is not None:
        return f"at most {hi:g} {unit}"
    if lo is not None:
        return f"at least {lo:g} {unit}"
    return "any value"


def _min_ttc(i: int, kind: str, ids: tuple[str, ...], p: Mapping[str, float], scenario: Scenario,
             scene: SampledScene, cfg: CheckConfig) -> IntentResult:
    sub, grid = _pair_view(scene, ids, cfg)
    w0, w1, win = _window(p, scene.times)
    m = _pair_minima(sub, grid, cfg, win)
    v, t = m["min_ttc"], m["t_min_ttc"]
    ok = _in_range(v, p) and bool(m["exists"])
    why = f"the least TTC is {v:.2f} s" + (f" at {t:.2f} s" if math.isfinite(v) else "") + \
        f" (wanted {_range_text(p, 's')})"
    return _result(i, ok, kind, ids, p, why, t if ok else w0, t if ok else w1, None, {"min_ttc": v, "t_min_ttc": t})


def _min_distance(i: int, kind: str, ids: tuple[str, ...], p: Mapping[str, float], scenario: Scenario,
                  scene: SampledScene, cfg: CheckConfig) -> IntentResult:
    sub, grid = _pair_view(scene, ids, cfg)
    w0, w1, win = _window(p, scene.times)
    m = _pair_minima(sub, grid, cfg, win)
    v, t = m["min_distance"], m["t_min_distance"]
    ok = _in_range(v, p) and bool(m["exists"])
    why = f"the closest gap is {v:.2f} m at {t:.2f} s (wanted {_range_text(p, 'm')})"
    return _result(i, ok, kind, ids, p, why, t if ok else w0, t if ok else w1, None,
                   {"min_distance": v, "t_min_distance": t})


def _pet(i: int, kind: str, ids: tuple[str, ...], p: Mapping[str, float], scenario: Scenario,
         scene: SampledScene, cfg: CheckConfig) -> IntentResult:
    sub = scene.subset([scene.index(ids[0]), scene.index(ids[1])])
    w0, w1, _ = _window(p, scene.times)
    wide = replace(cfg, pet_max=max(cfg.pet_max, p.get("max", 0.0), 60.0))
    ev = pair_pet(sub, 0, 1, wide)
    if ev is None or ev.t_second_enters < w0 - 1e-9 or ev.t_first_leaves > w1 + 1e-9:
        return _result(i, False, kind, ids, p, "their paths do not cross in the window", w0, w1)
    ok = _in_range(ev.pet, p)
    why = (f"{sub.ids[ev.second]} enters the conflict area {ev.pet:.2f} s after {sub.ids[ev.first]} leaves it "
           f"(wanted {_range_text(p, 's')})")
    return _result(i, ok, kind, ids, p, why, ev.t_first_leaves, ev.t_second_enters, ev.where, {"pet": ev.pet})


def _per_agent(check: Callable[[SampledScene, RoadMap, CheckConfig], list[Finding]], code: FindingCode,
               verb: str) -> Handler:
    def handler(i: int, kind: str, ids: tuple[str, ...], p: Mapping[str, float], scenario: Scenario,
                scene: SampledScene, cfg: CheckConfig) -> IntentResult:
        w0, w1, _ = _window(p, scene.times)
        sub = scene.subset([scene.index(a) for a in ids])
        found = [f for f in check(sub, scenario.map, cfg)
                 if f.code == code and f.t_start <= w1 + 1e-9 and f.t_end >= w0 - 1e-9]
        missing = [a for a in ids if not any(a in f.agents for f in found)]
        if missing:
            return _result(i, False, kind, ids, p, f"{', '.join(missing)} never {verb} in the window", w0, w1)
        first = min(found, key=lambda f: f.t_start)
        return _result(i, True, kind, ids, p, f"{', '.join(ids)} {verb} (first at {first.t_start:.2f} s)",
                       first.t_start, max(f.t_end for f in found), first.where,
                       explains_agents=[frozenset((a,)) for a in ids])
    return handler


_HANDLERS: dict[str, Handler] = {
    IntentKind.CONTACT: _contact,
    IntentKind.NEAR_MISS: _near_miss,
    IntentKind.MIN_TTC: _min_ttc,
    IntentKind.MIN_DISTANCE: _min_distance,
    IntentKind.PET: _pet,
    IntentKind.OFF_ROAD: _per_agent(offroad_findings, FindingCode.OFF_ROAD, "leaves the drivable area"),
    IntentKind.WRONG_WAY: _per_agent(wrong_way_findings, FindingCode.WRONG_WAY, "drives against the lane direction"),
}


def apply_intents(findings: list[Finding], results: list[IntentResult]) -> list[Finding]:
    """Findings without those that met intents explain, plus one finding per intent."""
    explained = {(code, agents) for r in results for code, agents in r.explains}
    kept = [f for f in findings if (f.code, frozenset(f.agents)) not in explained]
    return kept + [r.finding for r in results]
