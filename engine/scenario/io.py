"""Reading and writing scenario documents (versioned JSON, validated against the shipped schema).

`load_scenario` never raises anything but `ScenarioFormatError`, which lists every problem with
its JSON path; `save_scenario` writes atomically.
"""
from __future__ import annotations

import json
import math
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine.fileio import atomic_write_text
from engine.paths import SCENARIO_SCHEMA
from engine.scenario.errors import Problem, ScenarioFormatError, format_path
from engine.scenario.limits import LIMITS, limit_problems
from engine.scenario.model import EGO_ID, Agent, Environment, Intent, Maneuver, Scenario, SceneSource, default_ego
from engine.scenario.map_elements import Crossing, Lane, Polyline, RoadMap, SignalPhase, TrafficSignal
from engine.scenario.trajectory import Trajectory, Waypoint

FORMAT_VERSION = 2
#: Versions this studio reads; older ones are upgraded by `migrate_document` before validation.
READABLE_VERSIONS = (1, 2)
MAX_FILE_BYTES = LIMITS.max_file_bytes


# ---------------------------------------------------------------------------------- writing
def _num(v: float) -> float | int:
    """Floats as they are, but integral values stay short in the file."""
    return v


def _trajectory_to_list(traj: Trajectory) -> list[dict[str, Any]]:
    out = []
    for p in traj.points:
        d: dict[str, Any] = {"t": p.t, "x": p.x, "y": p.y, "yaw": p.yaw}
        if p.v is not None:
            d["v"] = p.v
        out.append(d)
    return out


def _agent_to_dict(a: Agent, is_ego: bool = False) -> dict[str, Any]:
    d: dict[str, Any] = {} if is_ego else {"id": a.id, "class": a.cls}
    d["size"] = list(a.size)
    d["asset"] = a.asset
    d["trajectory"] = _trajectory_to_list(a.trajectory)
    d["behavior"] = a.behavior
    if a.behavior_params:
        d["behavior_params"] = dict(a.behavior_params)
    if a.locked and not is_ego:
        d["locked"] = True
    if a.maneuvers:
        d["maneuvers"] = [_maneuver_to_dict(m) for m in a.maneuvers]
    if a.category and not is_ego:
        d["category"] = a.category
    return d


def _maneuver_to_dict(m: Maneuver) -> dict[str, Any]:
    d: dict[str, Any] = {"function": m.function, "params": dict(m.params), "start": m.start,
                         "trigger": dict(m.trigger)}
    if m.end is not None:
        d["end"] = m.end
    return d


def _signal_to_dict(sg: TrafficSignal) -> dict[str, Any]:
    return {"id": sg.id, "kind": sg.kind, "position": list(sg.position), "yaw": sg.yaw,
            "stop_line": [list(p) for p in sg.stop_line], "controls": sg.controls,
            "phases": [{"t": ph.t, "state": ph.state} for ph in sg.phases]}


def _map_to_dict(m: RoadMap) -> dict[str, Any]:
    return {
        "lanes": [{"id": l.id, "centerline": [list(p) for p in l.centerline], "width": l.width} for l in m.lanes],
        "lane_boundaries": [{"id": b.id, "points": [list(p) for p in b.points], "style": b.style} for b in m.lane_boundaries],
        "lane_dividers": [{"id": b.id, "points": [list(p) for p in b.points], "style": b.style} for b in m.lane_dividers],
        "ped_crossings": [{"id": c.id, "polygon": [list(p) for p in c.polygon]} for c in m.ped_crossings],
        "drivable_area": [[list(p) for p in poly] for poly in m.drivable_area],
        **({"signals": [_signal_to_dict(sg) for sg in m.signals]} if m.signals else {}),
    }


def to_document(s: Scenario) -> dict[str, Any]:
    """The scenario as a JSON-ready dict in the published format."""
    return {
        "format_version": FORMAT_VERSION,
        "name": s.name,
        "description": s.description,
        "seed": s.seed,
        "fps": s.fps,
        "duration": s.duration,
        "environment": {"time_of_day": s.environment.time_of_day, "weather": s.environment.weather},
        "ego": _agent_to_dict(s.ego, is_ego=True),
        "agents": [_agent_to_dict(a) for a in s.agents],
        "map": _map_to_dict(s.map),
        "prompt": s.prompt,
        "script": s.script,
        "source": None if s.source is None else {
            "kind": s.source.kind, "dataroot": s.source.dataroot, "version": s.source.version, "scene": s.source.scene,
            **({"start": s.source.start} if s.source.start else {})},
        "intents": [{"kind": i.kind, "agents": list(i.agents), "params": dict(i.params)} for i in s.intents],
    }


def dumps_scenario(s: Scenario) -> str:
    """The document as JSON text."""
    return json.dumps(to_document(s), indent=2, allow_nan=False) + "\n"


def save_scenario(s: Scenario, path: str | os.PathLike[str]) -> Path:
    """Write the scenario to `path` atomically (temporary file, flush, rename)."""
    return atomic_write_text(path, dumps_scenario(s))


# ---------------------------------------------------------------------------------- reading
@lru_cache(maxsize=1)
def _validator() -> Any:
    """jsonschema's Draft 2020-12 validator of the shipped schema, with map points and waypoints checked
    in one pass when they are valid (`engine.scenario.fast_items`: the same errors, in less time)."""
    from engine.scenario.fast_items import scenario_validator

    return scenario_validator(json.loads(SCENARIO_SCHEMA.read_text()))


def _type_name(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return type(v).__name__


def _schema_problem(err: Any) -> Problem:
    path = format_path(err.absolute_path)
    v = err.validator
    inst = err.instance
    if v == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        return Problem(path, f"missing required key '{missing}'")
    if v == "enum":
        allowed = ", ".join(str(x) for x in err.validator_value)
        return Problem(path, f"{inst!r} is not allowed; expected one of: {allowed}")
    if v == "type":
        want = err.validator_value if isinstance(err.validator_value, str) else " or ".join(err.validator_value)
        return Problem(path, f"must be {want} (got {_type_name(inst)})")
    if v == "exclusiveMinimum":
        return Problem(path, f"must be greater than {err.validator_value} (got {inst})")
    if v == "minimum":
        return Problem(path, f"must be at least {err.validator_value} (got {inst})")
    if v == "maximum":
        return Problem(path, f"must be at most {err.validator_value} (got {inst})")
    if v == "minItems":
        return Problem(path, f"needs at least {err.validator_value} items (got {len(inst)})")
    if v == "maxItems":
        return Problem(path, f"takes at most {err.validator_value} items (got {len(inst)})")
    if v == "additionalProperties":
        return Problem(path, err.message.replace("Additional properties are not allowed", "unknown key(s) not allowed"))
    if v == "const":
        return Problem(path, f"must be {err.validator_value!r} (got {inst!r})")
    if v == "pattern":
        return Problem(path, f"{inst!r} may only contain letters, digits and _ . : -")
    if v in ("oneOf", "anyOf"):
        return Problem(path, "must be null or an object with the documented keys")
    return Problem(path, err.message)


def _nonfinite_numbers(obj: Any, parts: tuple[str | int, ...] = ()) -> list[Problem]:
    out: list[Problem] = []
    stack = [(obj, parts)]
    while stack:
        node, p = stack.pop()
        if isinstance(node, bool):
            continue
        if isinstance(node, (int, float)):
            try:
                ok = math.isfinite(float(node))
            except OverflowError:
                ok = False
            if not ok:
                out.append(Problem(format_path(p), "number must be finite"))
        elif isinstance(node, dict):
            stack.extend((v, p + (k,)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, p + (i,)) for i, v in enumerate(node))
    return out


def _semantic_problems(doc: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []

    def check_traj(traj: Any, base: str) -> None:
        if not isinstance(traj, list):
            return
        prev = None
        for i, wp in enumerate(traj):
            t = wp.get("t") if isinstance(wp, dict) else None
            if isinstance(t, (int, float)) and not isinstance(t, bool):
                if prev is not None and not t > prev:
                    problems.append(Problem(f"{base}[{i}].t", f"times must increase ({t} after {prev})"))
                prev = t

    ego = doc.get("ego")
    if isinstance(ego, dict):
        check_traj(ego.get("trajectory"), "ego.trajectory")
    agents = doc.get("agents")
    seen: dict[str, int] = {}
    if isinstance(agents, list):
        for i, a in enumerate(agents):
            if not isinstance(a, dict):
                continue
            check_traj(a.get("trajectory"), f"agents[{i}].trajectory")
            aid = a.get("id")
            if isinstance(aid, str):
                if aid == EGO_ID:
                    problems.append(Problem(f"agents[{i}].id", "'ego' is reserved for the ego vehicle"))
                elif aid in seen:
                    problems.append(Problem(f"agents[{i}].id", f"duplicate id {aid!r} (also agents[{seen[aid]}])"))
                else:
                    seen[aid] = i
    intents = doc.get("intents")
    if isinstance(intents, list):
        for i, it in enumerate(intents):
            if isinstance(it, dict) and isinstance(it.get("agents"), list):
                for j, aid in enumerate(it["agents"]):
                    if isinstance(aid, str) and aid != EGO_ID and aid not in seen:
                        problems.append(Problem(f"intents[{i}].agents[{j}]", f"no agent with id {aid!r}"))
    return problems


def _points(seq: list[Any]) -> tuple[tuple[float, float], ...]:
    return tuple((float(p[0]), float(p[1])) for p in seq)


def _trajectory_from_list(items: list[dict[str, Any]]) -> Trajectory:
    return Trajectory(tuple(
        Waypoint(float(w["t"]), float(w["x"]), float(w["y"]), float(w["yaw"]),
                 None if w.get("v") is None else float(w["v"]))
        for w in items
    ))


def migrate_document(doc: Any) -> Any:
    """Upgrade a parsed document to FORMAT_VERSION (returns a new dict; the input is not changed).

    Version 1 -> 2: nothing is removed or reinterpreted; agents keep their `behavior` and, having no
    stored manoeuvre sequence, read it as a single manoeuvre (`Agent.maneuver_sequence`). Maps have
    no signals. Documents that are not version-1 objects are returned as they are (validation then
    reports them).
    """
    if not isinstance(doc, dict) or doc.get("format_version") != 1:
        return doc
    out = dict(doc)
    out["format_version"] = 2
    return out


def _maneuvers_from(items: Any) -> tuple[Maneuver, ...]:
    return tuple(Maneuver(m["function"], dict(m.get("params", {})), float(m.get("start", 0.0)),
                          None if m.get("end") is None else float(m["end"]), dict(m.get("trigger", {"kind": "time"})))
                 for m in (items or []))


def _segment(pts: Any) -> tuple[tuple[float, float], tuple[float, float]]:
    """Two [x, y] points (the schema requires exactly two) as a pair of float pairs."""
    (x0, y0), (x1, y1) = pts
    return (float(x0), float(y0)), (float(x1), float(y1))


def _signals_from(items: Any) -> tuple[TrafficSignal, ...]:
    return tuple(TrafficSignal(
        sg["id"], (float(sg["position"][0]), float(sg["position"][1])), float(sg.get("yaw", 0.0)),
        _segment(sg["stop_line"]),
        tuple(SignalPhase(float(ph["t"]), ph["state"]) for ph in sg["phases"]),
        sg.get("kind", "light"), sg.get("controls", "")) for sg in (items or []))


def _build(doc: dict[str, Any]) -> Scenario:
    from engine.classes import default_size

    env = doc.get("environment", {})
    ego_d = doc["ego"]
    base_ego = default_ego()
    ego = Agent(
        id=EGO_ID, cls="car",
        size=tuple(ego_d.get("size", base_ego.size)),
        trajectory=_trajectory_from_list(ego_d["trajectory"]),
        asset=ego_d.get("asset", ""),
        behavior=ego_d.get("behavior", "manual"),
        behavior_params=dict(ego_d.get("behavior_params", {})),
        maneuvers=_maneuvers_from(ego_d.get("maneuvers")),
    )
    agents = tuple(
        Agent(
            id=a["id"], cls=a["class"],
            size=tuple(a.get("size") or default_size(a["class"])),
            trajectory=_trajectory_from_list(a["trajectory"]),
            asset=a.get("asset", ""),
            behavior=a.get("behavior", "manual"),
            behavior_params=dict(a.get("behavior_params", {})),
            locked=bool(a.get("locked", False)),
            maneuvers=_maneuvers_from(a.get("maneuvers")),
            category=a.get("category", ""),
        )
        for a in doc["agents"]
    )
    m = doc.get("map", {})
    road = RoadMap(
        lanes=tuple(Lane(l["id"], _points(l["centerline"]), float(l.get("width", 3.5))) for l in m.get("lanes", [])),
        lane_boundaries=tuple(Polyline(b["id"], _points(b["points"]), b.get("style", "solid")) for b in m.get("lane_boundaries", [])),
        lane_dividers=tuple(Polyline(b["id"], _points(b["points"]), b.get("style", "dashed")) for b in m.get("lane_dividers", [])),
        ped_crossings=tuple(Crossing(c["id"], _points(c["polygon"])) for c in m.get("ped_crossings", [])),
        drivable_area=tuple(_points(p) for p in m.get("drivable_area", [])),
        signals=_signals_from(m.get("signals")),
    )
    src = doc.get("source")
    return Scenario(
        name=doc["name"],
        description=doc.get("description", ""),
        seed=int(doc.get("seed", 0)),
        fps=float(doc["fps"]),
        duration=float(doc["duration"]),
        environment=Environment(env.get("time_of_day", "day"), env.get("weather", "clear")),
        ego=ego,
        agents=agents,
        map=road,
        prompt=doc.get("prompt"),
        script=doc.get("script"),
        source=None if src is None else SceneSource(src["kind"], src.get("dataroot", ""), src.get("version", ""), src.get("scene", ""),
                                                    float(src.get("start", 0.0))),
        intents=tuple(Intent(i["kind"], tuple(i.get("agents", [])), dict(i.get("params", {}))) for i in doc.get("intents", [])),
    )


def validate_document(doc: Any) -> list[Problem]:
    """Every problem with a parsed document (empty list when valid)."""
    if not isinstance(doc, dict):
        return [Problem("", f"the document must be a JSON object (got {_type_name(doc)})")]
    version = doc.get("format_version")
    if version is None:
        return [Problem("format_version", "missing; this is not a scenario file (expected format_version 1)")]
    if isinstance(version, bool) or not isinstance(version, int):
        return [Problem("format_version", f"must be an integer (got {_type_name(version)})")]
    if version > FORMAT_VERSION:
        return [Problem("format_version", f"version {version} is newer than this studio reads ({FORMAT_VERSION}); "
                                           "open it with a newer release")]
    if version not in READABLE_VERSIONS:
        return [Problem("format_version", f"version {version} is not a scenario format version "
                                           f"(this studio reads {', '.join(map(str, READABLE_VERSIONS))})")]
    limited = limit_problems(doc)            # input limits first: counts, then values (engine.scenario.limits)
    if limited:
        return limited
    doc = migrate_document(doc)
    problems = _nonfinite_numbers(doc)
    problems += [_schema_problem(e) for e in _validator().iter_errors(doc)]
    problems += _semantic_problems(doc)
    # stable, readable order; drop exact duplicates
    uniq = list(dict.fromkeys(problems))
    return sorted(uniq, key=lambda p: p.path)


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a valid JSON number")


def parse_document_text(text: str | bytes) -> Any:
    """Parse JSON text; raises ScenarioFormatError (not JSONDecodeError) on bad input."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8-sig")
        return json.loads(text, parse_constant=_reject_constant)
    except UnicodeDecodeError as e:
        raise ScenarioFormatError([Problem("", f"the file is not UTF-8 text (byte {e.start})")]) from None
    except json.JSONDecodeError as e:
        raise ScenarioFormatError([Problem("", f"invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}")]) from None
    except (ValueError, RecursionError) as e:
        msg = "the JSON nests too deeply" if isinstance(e, RecursionError) else f"invalid JSON: {e}"
        raise ScenarioFormatError([Problem("", msg)]) from None


def from_document(doc: Any, source: str | None = None) -> Scenario:
    """Build a Scenario from a parsed document; raises ScenarioFormatError listing every problem."""
    try:
        problems = validate_document(doc)
    except RecursionError:
        problems = [Problem("", "the document nests too deeply")]
    if problems:
        raise ScenarioFormatError(problems, source)
    try:
        return _build(migrate_document(doc))
    except (KeyError, TypeError, ValueError, IndexError, OverflowError) as e:  # defensive: schema should prevent it
        raise ScenarioFormatError([Problem("", f"could not build the scenario: {e}")], source) from None


def loads_scenario(text: str | bytes, source: str | None = None) -> Scenario:
    """Parse and validate JSON text."""
    try:
        doc = parse_document_text(text)
    except ScenarioFormatError as e:
        raise ScenarioFormatError(e.problems, source) from None
    return from_document(doc, source)


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read, validate and build a scenario file; only ever raises ScenarioFormatError."""
    p = Path(path)
    src = str(p)
    try:
        if not p.exists():
            raise ScenarioFormatError([Problem("", f"file not found: {p}")], src)
        if p.is_dir():
            raise ScenarioFormatError([Problem("", f"{p} is a folder, not a scenario file")], src)
        if p.stat().st_size > MAX_FILE_BYTES:
            raise ScenarioFormatError([Problem("", f"the file is larger than {MAX_FILE_BYTES // 2**20} MiB")], src)
        data = p.read_bytes()
    except OSError as e:
        raise ScenarioFormatError([Problem("", f"cannot read {p}: {e.strerror or e}")], src) from None
    return loads_scenario(data, src)
