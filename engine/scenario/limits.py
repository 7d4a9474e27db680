"""Input limits of scenario documents, checked BEFORE the (expensive) schema and semantic validation.

A document that breaks a count limit (agents, points per trajectory, points in all, map elements)
is refused after looking only at list lengths, so 20,000 agents or a million trajectory points are
refused in milliseconds; coordinates, times and strings are then checked in one linear pass. The
same limits are stated in resources/scenario.schema.json (maxItems, maxLength, minimum/maximum).

Units: metres, seconds (ego/world frame of the scenario: x forward, y left).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from engine.scenario.errors import Problem


@dataclass(frozen=True)
class ScenarioLimits:
    """The limits; every value is stated in docs/limits.md and mirrored in the schema."""

    max_file_bytes: int = 64 * 1024 * 1024        # a scenario file on disk
    max_agents: int = 1_000                       # agents besides the ego
    max_points_per_trajectory: int = 20_000       # waypoints of one agent (600 s at 30 fps is 18,000)
    max_total_points: int = 200_000               # waypoints of all agents together
    max_map_elements: int = 20_000                # lanes + boundaries + dividers + crossings + areas
    max_points_per_polyline: int = 20_000         # points of one map polyline / polygon
    max_total_map_points: int = 1_000_000         # points of the whole map
    max_coordinate_m: float = 1.0e5               # |x|, |y| of waypoints and map points (100 km)
    max_time_s: float = 1.0e5                     # |t| of waypoints
    max_speed_mps: float = 1.0e3                  # |v| of waypoints
    max_yaw_rad: float = 1.0e3                    # |yaw| of waypoints
    max_name_chars: int = 256                     # name, ids, class, asset, behavior, any other string
    max_text_chars: int = 20_000                  # description, prompt, script
    max_intents: int = 1_000
    max_string_chars: int = 1_000                 # strings inside params objects and elsewhere
    max_param_nodes: int = 10_000                 # values inside behavior_params / maneuver params


LIMITS = ScenarioLimits()
_TEXT_KEYS = ("description", "prompt", "script")
_MAP_LISTS = ("lanes", "lane_boundaries", "lane_dividers", "ped_crossings", "drivable_area", "signals")


def _len(v: Any) -> int:
    return len(v) if isinstance(v, list) else 0


def _trajectories(doc: dict[str, Any]) -> list[tuple[str, list[Any]]]:
    out: list[tuple[str, list[Any]]] = []
    ego = doc.get("ego")
    if isinstance(ego, dict) and isinstance(ego.get("trajectory"), list):
        out.append(("ego.trajectory", ego["trajectory"]))
    agents = doc.get("agents")
    if isinstance(agents, list):
        for i, a in enumerate(agents):
            if isinstance(a, dict) and isinstance(a.get("trajectory"), list):
                out.append((f"agents[{i}].trajectory", a["trajectory"]))
    return out


def _map_point_lists(m: dict[str, Any]) -> list[tuple[str, list[Any]]]:
    """(path, list of [x, y]) for every polyline/polygon of the map."""
    out: list[tuple[str, list[Any]]] = []
    for key in _MAP_LISTS:
        items = m.get(key)
        if not isinstance(items, list):
            continue
        for i, it in enumerate(items):
            if isinstance(it, dict):
                for sub in ("centerline", "points", "polygon", "line", "stop_line"):
                    if isinstance(it.get(sub), list):
                        out.append((f"map.{key}[{i}].{sub}", it[sub]))
                if isinstance(it.get("position"), list):
                    out.append((f"map.{key}[{i}].position", [it["position"]]))
            elif isinstance(it, list):                # drivable_area: a list of polygons
                out.append((f"map.{key}[{i}]", it))
    return out


def count_problems(doc: dict[str, Any], limits: ScenarioLimits = LIMITS) -> list[Problem]:
    """Count limits only (list lengths): O(agents + map elements), never O(points)."""
    problems: list[Problem] = []
    n_agents = _len(doc.get("agents"))
    if n_agents > limits.max_agents:
        problems.append(Problem("agents", f"{n_agents} agents; at most {limits.max_agents} are allowed"))
        return problems                               # do not even look at them
    total = 0
    for path, traj in _trajectories(doc):
        n = len(traj)
        total += n
        if n > limits.max_points_per_trajectory:
            problems.append(Problem(path, f"{n} waypoints; at most {limits.max_points_per_trajectory} are allowed "
                                          f"per trajectory"))
    if total > limits.max_total_points:
        problems.append(Problem("agents", f"{total} waypoints in all; at most {limits.max_total_points} are allowed"))
    n_intents = _len(doc.get("intents"))
    if n_intents > limits.max_intents:
        problems.append(Problem("intents", f"{n_intents} intents; at most {limits.max_intents} are allowed"))
    m = doc.get("map")
    if isinstance(m, dict):
        n_elems = sum(_len(m.get(k)) for k in _MAP_LISTS)
        if n_elems > limits.max_map_elements:
            problems.append(Problem("map", f"{n_elems} map elements; at most {limits.max_map_elements} are allowed"))
            return problems
        map_total = 0
        for path, pts in _map_point_lists(m):
            map_total += len(pts)
            if len(pts) > limits.max_points_per_polyline:
                problems.append(Problem(path, f"{len(pts)} points; at most {limits.max_points_per_polyline} "
                                              f"are allowed"))
        if map_total > limits.max_total_map_points:
            problems.append(Problem("map", f"{map_total} map points; at most {limits.max_total_map_points} "
                                           f"are allowed"))
    return problems


def _bad_number(v: Any, bound: float) -> bool:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False                                  # the schema reports wrong types
    try:
        f = float(v)
    except OverflowError:
        return True
    return not math.isfinite(f) or abs(f) > bound


def value_problems(doc: dict[str, Any], limits: ScenarioLimits = LIMITS, max_problems: int = 50) -> list[Problem]:
    """Coordinate, time, speed and string limits: one linear pass (call after `count_problems`)."""
    problems: list[Problem] = []

    def add(path: str, reason: str) -> bool:
        problems.append(Problem(path, reason))
        return len(problems) >= max_problems

    for path, traj in _trajectories(doc):
        for i, wp in enumerate(traj):
            if not isinstance(wp, dict):
                continue
            for key, bound, what in (("x", limits.max_coordinate_m, "m"), ("y", limits.max_coordinate_m, "m"),
                                     ("t", limits.max_time_s, "s"), ("v", limits.max_speed_mps, "m/s"),
                                     ("yaw", limits.max_yaw_rad, "rad")):
                v = wp.get(key)
                if _bad_number(v, bound):
                    if add(f"{path}[{i}].{key}", f"{v!r} is outside +-{bound:g} {what} (or not finite)"):
                        return problems
    m = doc.get("map")
    if isinstance(m, dict):
        for path, pts in _map_point_lists(m):
            for i, p in enumerate(pts):
                if isinstance(p, list):
                    for j, v in enumerate(p[:2]):
                        if _bad_number(v, limits.max_coordinate_m):
                            if add(f"{path}[{i}][{j}]", f"{v!r} is outside +-{limits.max_coordinate_m:g} m "
                                                        f"(or not finite)"):
                                return problems
    for key in ("name",):
        v = doc.get(key)
        if isinstance(v, str) and len(v) > limits.max_name_chars:
            add(key, f"{len(v)} characters; at most {limits.max_name_chars} are allowed")
    for key in _TEXT_KEYS:
        v = doc.get(key)
        if isinstance(v, str) and len(v) > limits.max_text_chars:
            add(key, f"{len(v)} characters; at most {limits.max_text_chars} are allowed")
    raw_agents = doc.get("agents")
    agents: list[Any] = raw_agents if isinstance(raw_agents, list) else []
    owners = [("ego", doc.get("ego"))] + [(f"agents[{i}]", a) for i, a in enumerate(agents)]
    for base, a in owners:
        if not isinstance(a, dict):
            continue
        for key in ("id", "class", "asset", "behavior"):
            v = a.get(key)
            if isinstance(v, str) and len(v) > limits.max_name_chars:
                if add(f"{base}.{key}", f"{len(v)} characters; at most {limits.max_name_chars} are allowed"):
                    return problems
        params = [(f"{base}.behavior_params", a.get("behavior_params"))]
        mans = a.get("maneuvers")
        if isinstance(mans, list):
            params += [(f"{base}.maneuvers[{k}]", mv) for k, mv in enumerate(mans[:limits.max_param_nodes])]
        for path, obj in params:
            for p in _walk_strings(obj, path, limits):
                if add(p.path, p.message):
                    return problems
    return problems


def _walk_strings(obj: Any, path: str, limits: ScenarioLimits) -> list[Problem]:
    """Too-long strings and too many values inside a params object (bounded walk)."""
    out: list[Problem] = []
    stack = [(obj, path)]
    seen = 0
    while stack:
        node, p = stack.pop()
        seen += 1
        if seen > limits.max_param_nodes:
            return out + [Problem(path, f"more than {limits.max_param_nodes} values; not a scenario parameter set")]
        if isinstance(node, str):
            if len(node) > limits.max_string_chars:
                out.append(Problem(p, f"{len(node)} characters; at most {limits.max_string_chars} are allowed"))
        elif isinstance(node, dict):
            for k, v in node.items():
                if isinstance(k, str) and len(k) > limits.max_name_chars:
                    out.append(Problem(p, f"a key of {len(k)} characters; at most {limits.max_name_chars}"))
                stack.append((v, f"{p}.{k}"))
        elif isinstance(node, list):
            stack.extend((v, f"{p}[{i}]") for i, v in enumerate(node))
    return out


def limit_problems(doc: Any, limits: ScenarioLimits = LIMITS) -> list[Problem]:
    """Every limit a parsed document breaks (empty when within them): counts first (cheap), then
    values. Call before schema validation."""
    if not isinstance(doc, dict):
        return []
    problems = count_problems(doc, limits)
    if problems:
        return problems
    return value_problems(doc, limits)


__all__ = ["LIMITS", "ScenarioLimits", "count_problems", "limit_problems", "value_problems"]
