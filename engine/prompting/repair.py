"""Deterministic repair of a script whose result does not match its prompt.

From the problems of a `Review` this derives a bounded list of variants of the script, each a
small edit of one call's arguments (`engine.prompting.scriptedit`), then the same script with seeds
derived from the user's; it runs them in order in the sandbox, reviews each, and keeps the first
that matches the prompt, else the one with the fewest problems (the original when none does
better). Edits, by problem:

- a collision the prompt did not ask for: take out the call's `contact=True`; move the later of
  the two agents in time (its `start` / `enter_time` / `pass_time`) or further away (`gap`, `ahead`);
- an asked contact or near miss with a crossing pedestrian or cyclist that did not happen: place
  the crossing (`ahead`) and time it (`start`) so that, from the first result's own trajectories,
  the ego reaches the crossing while the crosser is in its lane (contact), just after the clip
  ends (time to collision below the threshold at the last frame) or just after the crosser has
  cleared its lane (a gap of about half a metre); `contact=True` is added where contact is asked;
- an asked near miss with a cut-in: the tightest allowed gap, then a cutter slower than the
  target (so that the gap closes: a finite time to collision);
- an asked contact with a cut-in or overtake: `contact=True` and other start times;
- an infeasible manoeuvre: a lower `speed`.

Everything is a pure function of (script, options, asks): the same inputs give the same repair.
"""
from __future__ import annotations

import time
import zlib
from collections import deque
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Callable, Iterable, Sequence, TypeGuard

import numpy as np
from numpy.typing import NDArray

from engine.checks import CheckConfig, Finding
from engine.prompting.asks import CONTACT, Ask
from engine.prompting.review import Review, review_scenario
from engine.prompting.scriptedit import CallSite, agents_by_call, call_sites, with_keywords
from engine.sandbox.errors import ScriptError
from engine.sandbox.executor import ScriptCancelled, run_bounded
from engine.sandbox.policy import SandboxLimits
from engine.sandbox.runner import RunOptions
from engine.scenario.model import EGO_ID, Agent, Scenario

MAX_TRIES = 12          # variants run after the first result, at most
REPAIR_BUDGET_S = 30.0  # wall-clock seconds for all variants together (each runs in the bounded executor)
SEED_TRIES = 3          # of them kept for seeds derived from the user's (the unedited script)
CROSSING_FUNCTIONS = frozenset({"pedestrian_crossing", "jaywalk", "cyclist_crossing", "run_out"})
CONTACT_FUNCTIONS = CROSSING_FUNCTIONS | {"cut_in", "overtake"}
TIME_PARAMS: dict[str, float | None] = {"start": 0.0, "enter_time": None, "pass_time": 0.0}   # name -> lowest value
_TIME_SHIFTS = (0.5, -0.5, 1.0)


@dataclass(frozen=True)
class Variant:
    """A candidate: the script to run, the seed to run it with, and what was changed, in words."""

    script: str
    seed: int
    label: str
    refine: Callable[["Variant", Scenario], "Variant | None"] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class RepairOutcome:
    """The result kept: scenario, script, seed and review; `label` says what was changed (None:
    the original was kept); `tries` counts the variants run."""

    scenario: Scenario
    script: str
    review: Review
    seed: int
    label: str | None = None
    tries: int = 0

    @property
    def repaired(self) -> bool:
        return self.label is not None and self.review.ok


def derived_seed(seed: int, k: int) -> int:
    """The k-th seed derived from `seed` (k >= 1), deterministic and in [0, 10^6)."""
    return zlib.crc32(f"{int(seed)}/{int(k)}".encode("ascii")) % 1_000_000


def repair_script(script: str, options: RunOptions, asks: Sequence[Ask], first: Review,
                  config: CheckConfig | None = None, max_tries: int = MAX_TRIES) -> RepairOutcome:
    """Try the variants of `script` for the problems of `first` (the review of its result) and
    return the best; `first.ok` returns the original at once. At most `max_tries` variants and
    REPAIR_BUDGET_S seconds in all, each in the bounded executor; a cancel propagates."""
    best = RepairOutcome(first.scenario, script, first, options.seed)
    if first.ok:
        return best
    sites = agents_by_call(script, first.scenario)
    fixed = {_key(f) for f in first.problems if not repairable(f, first.scenario, sites)}
    tries = 0
    queue = deque(variants(script, options, first, max_tries))
    deadline = time.monotonic() + REPAIR_BUDGET_S
    while queue and tries < max_tries:
        left = deadline - time.monotonic()
        if left < 0.5:
            break                                      # the repair budget is spent: keep the best so far
        v = queue.popleft()
        tries += 1
        limits = SandboxLimits()
        limits = replace(limits, max_seconds=min(limits.max_seconds, left))
        try:
            scenario = run_bounded(v.script, replace(options, seed=v.seed), limits)
        except ScriptCancelled:
            raise
        except ScriptError:
            continue
        review = review_scenario(scenario, asks, config)
        if len(review.problems) < len(best.review.problems):
            best = RepairOutcome(review.scenario, v.script, review, v.seed, v.label)
            if all(_key(f) in fixed for f in review.problems):
                break                                  # what is left, no variant can change
        if v.refine is not None and not review.ok:
            nxt = v.refine(v, scenario)                # a correction from the variant's own result
            if nxt is not None:
                queue.appendleft(nxt)
    return replace(best, tries=tries)


def _key(f: Finding) -> tuple[str, tuple[str, ...], Any]:
    return f.code, tuple(f.agents), f.metrics.get("intent")


def repairable(f: Finding, scenario: Scenario, sites: dict[str, CallSite]) -> bool:
    """Whether some variant could remove finding `f`: not an ask that no agent fits, not a contact
    asked of agents whose functions cannot make contact (the library keeps them apart)."""
    if f.code != "intent_unmet":
        return True
    i = int(f.metrics.get("intent", -1))
    if not 0 <= i < len(scenario.intents):
        return False
    intent = scenario.intents[i]
    if intent.kind != CONTACT:
        return True
    return any(a in sites and "contact" in _param_names(sites[a].func) for a in intent.agents if a != EGO_ID)


def variants(script: str, options: RunOptions, first: Review, max_tries: int = MAX_TRIES) -> list[Variant]:
    """The candidates for `first.problems`, edits first, then derived seeds; without repeats."""
    scenario = first.scenario
    sites = agents_by_call(script, scenario)
    todo = [f for f in first.problems if repairable(f, scenario, sites)]
    if not todo:
        return []
    out: list[Variant] = []
    for f in todo:
        out += _for_problem(script, options.seed, scenario, sites, f)
    seen: set[tuple[str, int]] = {(script, options.seed)}
    unique: list[Variant] = []
    edits_cap = max(max_tries - SEED_TRIES, 0)
    for v in out:
        if (v.script, v.seed) not in seen and len(unique) < edits_cap:
            seen.add((v.script, v.seed))
            unique.append(v)
    for k in range(1, max_tries - len(unique) + 1):
        s = derived_seed(options.seed, k)
        if (script, s) not in seen:
            seen.add((script, s))
            unique.append(Variant(script, s, f"seed {s} (derived from seed {options.seed})"))
    return unique[:max_tries]


# ---- per problem -------------------------------------------------------------------------------
def _for_problem(script: str, seed: int, scenario: Scenario, sites: dict[str, CallSite], f: Finding) -> list[Variant]:
    if f.code == "collision":
        return _unintended_contact(script, seed, scenario, sites, f)
    if f.code == "intent_unmet":
        i = int(f.metrics.get("intent", -1))
        if 0 <= i < len(scenario.intents):
            return _unmet_intent(script, seed, scenario, sites, i)
        return []
    if f.code.startswith("infeasible_"):
        return [v for a in f.agents for v in _slower(script, seed, scenario, sites, a)]
    return []


def _edit(script: str, seed: int, site: CallSite, changes: dict[str, Any], why: str,
          remove: tuple[str, ...] = ()) -> Variant | None:
    try:
        text = with_keywords(script, site, changes, remove)
    except (TypeError, ValueError):
        return None
    what = ", ".join([f"{k}={_fmt(v)}" for k, v in changes.items()] + [f"without {k}" for k in remove])
    return Variant(text, seed, f"line {site.line}: {site.func}({what}) {why}")


def _fmt(v: Any) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".") if isinstance(v, float) else repr(v)


def _later(sites: dict[str, CallSite], ids: Iterable[str]) -> list[str]:
    """The agents of `ids` that a call made, the last made first (the ego last)."""
    known = [a for a in ids if a in sites and a != EGO_ID]
    return sorted(known, key=lambda a: -sites[a].index) + ([EGO_ID] if EGO_ID in ids and EGO_ID in sites else [])


def _unintended_contact(script: str, seed: int, scenario: Scenario, sites: dict[str, CallSite],
                        f: Finding) -> list[Variant]:
    out: list[Variant] = []
    for a in f.agents:
        site = sites.get(a)
        if site is not None and site.literal("contact") is True:
            v = _edit(script, seed, site, {}, "(the prompt does not ask for contact)", remove=("contact",))
            out += [v] if v else []
    for a in _later(sites, f.agents):
        out += _moved_away(script, seed, scenario.agent(a) if a != EGO_ID else scenario.ego, sites[a])
    return out


def _moved_away(script: str, seed: int, agent: Agent, site: CallSite) -> list[Variant]:
    out: list[Variant] = []
    bp = agent.behavior_params
    names = _param_names(site.func)
    for name, step in (("gap", 3.0), ("ahead", 10.0)):
        now = bp.get(name)
        if name not in names or not isinstance(now, (int, float)) or isinstance(now, bool):
            continue
        if name == "ahead" and site.func in CROSSING_FUNCTIONS:
            continue                                   # a crossing's `ahead` moves the crosswalk
        v = _edit(script, seed, site, {name: round(float(now) + step, 2)}, "(further from the agent it collided with)")
        out += [v] if v else []
    out += _time_shifts(script, seed, agent, site, "(away from the collision)")
    return out


def _time_shifts(script: str, seed: int, agent: Agent, site: CallSite, why: str,
                 shifts: Sequence[float] = _TIME_SHIFTS) -> list[Variant]:
    names = _param_names(site.func)
    name = next((n for n in TIME_PARAMS if n in names), None)
    if name is None:
        return []
    now = agent.behavior_params.get(name)
    if not isinstance(now, (int, float)) or isinstance(now, bool):
        return []
    lo = TIME_PARAMS[name]
    out = []
    for d in shifts:
        value = float(now) + d
        if lo is not None and value < lo:
            continue
        v = _edit(script, seed, site, {name: round(value, 2)}, why)
        out += [v] if v else []
    return out


def _slower(script: str, seed: int, scenario: Scenario, sites: dict[str, CallSite], agent_id: str) -> list[Variant]:
    site = sites.get(agent_id)
    if site is None or "speed" not in _param_names(site.func):
        return []
    agent = scenario.ego if agent_id == EGO_ID else scenario.agent(agent_id)
    v0 = agent.behavior_params.get("speed")
    if not isinstance(v0, (int, float)) or isinstance(v0, bool) or v0 <= 0:
        v0 = float(agent.trajectory.sample(np.array([0.0])).speed[0])
    out = []
    for k in (0.8, 0.65):
        if v0 * k > 0.5:
            v = _edit(script, seed, site, {"speed": round(v0 * k, 2)}, "(slower, within the class limits)")
            out += [v] if v else []
    return out


def _unmet_intent(script: str, seed: int, scenario: Scenario, sites: dict[str, CallSite], i: int) -> list[Variant]:
    intent = scenario.intents[i]
    ids = tuple(intent.agents) if len(intent.agents) > 1 else (*intent.agents, EGO_ID)
    out: list[Variant] = []
    for a in _later(sites, ids):
        if a == EGO_ID:
            continue
        other = next(x for x in ids if x != a)
        agent, site = scenario.agent(a), sites[a]
        if site.func in CROSSING_FUNCTIONS and other == EGO_ID and site.argument("ref") in (None, "None", EGO_ID):
            out += _aligned_crossings(script, seed, scenario, agent, site, intent.kind, dict(intent.params))
        elif site.func == "cut_in" and intent.kind != CONTACT:
            out += _tighter_cut_in(script, seed, scenario, agent, site, dict(intent.params))
        elif intent.kind == CONTACT and site.func in CONTACT_FUNCTIONS and site.literal("contact") is not True:
            v = _edit(script, seed, site, {"contact": True}, "(the prompt asks for contact)")
            out += [v] if v else []
        out += _time_shifts(script, seed, agent, site, "(to meet the intent)")
    return out


def _tighter_cut_in(script: str, seed: int, scenario: Scenario, agent: Agent, site: CallSite,
                    params: dict[str, Any]) -> list[Variant]:
    """A near miss with a cut-in: the tightest gap allowed without contact; a cutter slower than its
    target with a small gap, so that the gap closes (a finite TTC) within the clip."""
    out: list[Variant] = []
    own_gap = site.literal("gap") is not None                 # a gap the script (the prompt) set stays
    max_ttc = float(params.get("max_ttc", 1.5))
    if not own_gap and "max_ttc" not in params:
        v = _edit(script, seed, site, {"gap": 1.0}, "(the tightest gap without contact)")
        out += [v] if v else []
    target_id = str(agent.behavior_params.get("target", EGO_ID))
    target = scenario.agent(target_id) if target_id in scenario.agent_ids() + [EGO_ID] else scenario.ego
    v_t = float(target.trajectory.sample(np.array([0.0])).speed[0])
    for d in (2.0, 3.5, 5.0):
        if v_t - d < 1.0:
            continue
        changes: dict[str, Any] = {"speed": round(v_t - d, 2)}
        if not own_gap:
            changes["gap"] = round(max(1.5, 0.5 * max_ttc * d), 1)
        v = _edit(script, seed, site, changes, "(slower than the vehicle it cuts in front of, so the gap closes)")
        out += [v] if v else []
    return out


# ---- crossings: meet the ego ---------------------------------------------------------------------
def _front(agent: Agent, times: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """(front x, centre y, speed) of a vehicle at `times`."""
    s = agent.trajectory.sample(times)
    return s.x + agent.size[1] / 2 * np.cos(s.yaw), s.y, s.speed


def _crossing_time(agent: Agent, y: float, times: NDArray[np.float64], start: float, speed: float) -> float | None:
    """When the crosser's centre passes lateral position y: from its samples inside the clip, else
    extrapolated past the clip (still speeding up at its last acceleration to `speed`, then steady)."""
    s = agent.trajectory.sample(times)
    d = s.y - y
    k = np.flatnonzero(np.sign(d[:-1]) * np.sign(d[1:]) <= 0)
    if k.size:
        j = int(k[0])
        return float(times[j] if d[j + 1] == d[j] else times[j] + (times[j + 1] - times[j]) * d[j] / (d[j] - d[j + 1]))
    gap = abs(y - float(s.y[-1]))
    v = abs(float(s.vy[-1]))
    if v > 0.1 and (y - float(s.y[-1])) * float(s.vy[-1]) < 0:
        return None                                    # moving away from y
    t = float(times[-1])
    if v <= 0.1:                                       # still waiting at the kerb at the end
        t, v = max(float(start), t), 0.0
    accel = abs(float(s.vy[-1] - s.vy[-2])) / max(float(times[-1] - times[-2]), 1e-6) if len(times) > 1 else 0.0
    accel = accel if accel > 0.05 else 2.0
    dt = 0.02
    for _ in range(int(30.0 / dt)):
        if gap <= 0.0:
            return t
        v = min(v + accel * dt, speed)
        gap -= v * dt
        t += dt
    return None


def _aligned_crossings(script: str, seed: int, scenario: Scenario, agent: Agent, site: CallSite, kind: str,
                       params: dict[str, Any]) -> list[Variant]:
    """Crossings placed and timed against the ego's own motion (see the module docstring)."""
    times = scenario.frame_times()
    t_end = float(times[-1])
    bp = agent.behavior_params
    start, speed = bp.get("start"), bp.get("speed")
    if not isinstance(start, (int, float)) or not isinstance(speed, (int, float)) or speed <= 0:
        return []
    ego = scenario.ego
    front, ey, ev = _front(ego, times)
    if ev[-1] < 0.5:
        return []
    lane_y = float(ey[-1])
    t_cross = _crossing_time(agent, lane_y, times, float(start), float(speed))
    if t_cross is None:
        return []
    half_w = ego.size[0] / 2 + agent.size[0] / 2
    plans: list[tuple[float, float, str]] = []          # (when the ego's front reaches x, crossing time, why)
    if kind == CONTACT:
        for frac in (0.65, 0.5, 0.8):
            t_c = frac * t_end
            plans.append((t_c, t_c + 0.15, "(the ego reaches the crossing while it is in the lane)"))
    else:
        for late in (0.4, 0.8):
            t_c = t_end + late
            plans.append((t_c, t_c - 0.1, "(the ego closes in on it as the clip ends)"))
        t_c = 0.6 * t_end
        plans.append((t_c, t_c - (half_w + 0.6) / speed, "(it clears the ego's lane just in time)"))
    front0 = float(front[0])
    out: list[Variant] = []
    margin = 0.3 if kind == CONTACT else 0.2
    for t_c, want_cross, why in plans:
        x_front = _front_at(front, ev, times, t_c)
        ahead = x_front + margin - front0
        new_start = _start_in_range(site.func, float(start) + (want_cross - t_cross), t_end)
        if new_start is None or ahead < 1.0:
            continue
        changes: dict[str, Any] = {"ahead": round(ahead, 1), "start": round(new_start, 2)}
        if kind == CONTACT and site.literal("contact") is not True:
            changes["contact"] = True
        v = _edit(script, seed, site, changes, why)
        if v is not None:
            out.append(replace(v, refine=partial(_refine_crossing, agent.id, site.index, margin, want_cross - t_c,
                                                 why, 0)))
    return out


MAX_REFINE = 2      # corrections of one crossing variant from its own result


def _start_in_range(func: str, start: float, t_end: float) -> float | None:
    if not -t_end <= start <= t_end or (func == "run_out" and start < 0.0):
        return None
    return start


def _arrival(front: NDArray[np.float64], speed: NDArray[np.float64], times: NDArray[np.float64], x: float) -> float:
    """When the ego's front reaches x (after the clip: at its last speed)."""
    k = np.flatnonzero(front >= x)
    if k.size:
        j = int(k[0])
        if j == 0:
            return float(times[0])
        return float(np.interp(x, front[j - 1:j + 1], times[j - 1:j + 1]))
    return float(times[-1] + (x - front[-1]) / max(float(speed[-1]), 0.1))


def _is_number(v: object) -> TypeGuard[float]:
    """An int or float that is not a bool."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _refine_crossing(agent_id: str, site_index: int, margin: float, offset: float, why: str, depth: int,
                     variant: Variant, scenario: Scenario) -> Variant | None:
    """The crossing variant with its start corrected from its own result: a crosser that starts
    early or late does not keep the first result's speed profile, so one estimate is not exact."""
    if depth >= MAX_REFINE:
        return None
    try:
        agent = scenario.agent(agent_id)
    except KeyError:
        return None
    times = scenario.frame_times()
    bp = agent.behavior_params
    start, speed, x = bp.get("start"), bp.get("speed"), bp.get("x")
    if not (_is_number(start) and _is_number(speed) and _is_number(x)) or speed <= 0:
        return None
    front, ey, ev = _front(scenario.ego, times)
    want = _arrival(front, ev, times, float(x) - margin) + offset
    t_cross = _crossing_time(agent, float(ey[-1]), times, float(start), float(speed))
    if t_cross is None or abs(want - t_cross) < 0.03:
        return None
    sites = call_sites(variant.script)
    if site_index >= len(sites):
        return None
    site = sites[site_index]
    new_start = _start_in_range(site.func, float(start) + (want - t_cross), float(times[-1]))
    if new_start is None:
        return None
    v = _edit(variant.script, variant.seed, site, {"start": round(new_start, 2)}, why)
    if v is None:
        return None
    shown = {k: site.kwargs[k] for k in ("ahead", "contact") if k in site.kwargs}
    label = f"line {site.line}: {site.func}({', '.join(f'{k}={t}' for k, t in shown.items())}" \
            f"{', ' if shown else ''}start={_fmt(round(new_start, 2))}) {why}"
    return Variant(v.script, v.seed, label, partial(_refine_crossing, agent_id, site_index, margin, offset, why,
                                                    depth + 1))


def _front_at(front: NDArray[np.float64], speed: NDArray[np.float64], times: NDArray[np.float64], t: float) -> float:
    """The ego's front x at time t (after the clip: at its last speed)."""
    if t <= times[-1]:
        return float(np.interp(t, times, front))
    return float(front[-1] + speed[-1] * (t - times[-1]))


def _param_names(func: str) -> list[str]:
    from engine.library.registry import library_functions

    f = library_functions().get(func)
    return list(f.signature.parameters) if f is not None else []


__all__ = ["MAX_TRIES", "RepairOutcome", "Variant", "derived_seed", "repair_script", "variants"]
