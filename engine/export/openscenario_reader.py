"""Read an OpenSCENARIO file back into scenario terms: entities, box sizes, trajectories, environment.

Only what `openscenario.py` writes (and the same constructs from other tools) is understood:
WorldPositions in Init TeleportActions and in FollowTrajectoryAction Polylines with vertex times.
Positions go back through `openscenario_frame.reference_to_centre` with the BoundingBox Center
found in the file. The round-trip test compares these trajectories with the scenario's.
"""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from engine.classes import default_size
from engine.export.openscenario import CLASS_PROPERTY, ROLE_PROPERTY
from engine.export.openscenario_environment import parse_environment
from engine.export.openscenario_frame import reference_to_centre, wrap_heading
from engine.scenario.model import EGO_ID, Agent, Environment, Scenario
from engine.scenario.trajectory import Trajectory, TrajectorySample

CATEGORY_CLASS = {
    "car": "car", "van": "car", "truck": "truck", "semitrailer": "trailer", "trailer": "trailer", "bus": "bus",
    "motorbike": "motorcycle", "bicycle": "bicycle", "pedestrian": "pedestrian", "wheelchair": "pedestrian",
    "obstacle": "traffic_cone", "barrier": "barrier",
}


class OpenScenarioReadError(ValueError):
    """The file is not an OpenSCENARIO document this reader understands; the message names the element."""


@dataclass(frozen=True)
class OscEntity:
    """One entity: class, box size [w, l, h], BoundingBox centre offset and its box-centre trajectory."""

    name: str
    cls: str
    size: tuple[float, float, float]
    centre_offset: tuple[float, float, float]
    trajectory: Trajectory
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OscTrigger:
    """A conditional start trigger read back and replayed: the entity whose event it starts, the
    condition kind ('ttc', 'distance', 'reach', 'signal'), its value, the triggering entity and the
    time (s) at which the condition first held when replayed on the file's own trajectories."""

    entity: str
    event: str
    kind: str
    value: float | None
    triggering_entity: str | None
    fired_at: float | None


@dataclass(frozen=True)
class OscDocument:
    """What was read: header, entities in file order, environment, stop time (None if absent), road file."""

    name: str
    minor_version: int
    entities: tuple[OscEntity, ...]
    environment: Environment
    stop_time: float | None
    road_file: str | None
    triggers: tuple[OscTrigger, ...] = ()
    signal_controllers: tuple[str, ...] = ()

    def entity(self, name: str) -> OscEntity:
        for e in self.entities:
            if e.name == name:
                return e
        raise KeyError(f"no entity named {name!r} in the OpenSCENARIO document")


def _float(el: ET.Element, attr: str, where: str) -> float:
    try:
        return float(el.attrib[attr])
    except KeyError:
        raise OpenScenarioReadError(f"{where}: missing attribute {attr!r}") from None
    except ValueError:
        raise OpenScenarioReadError(f"{where}: {attr}={el.attrib[attr]!r} is not a number "
                                    "(parameter references are not resolved)") from None


def _find(el: ET.Element, path: str, where: str) -> ET.Element:
    """The first element at `path` below `el`; OpenScenarioReadError naming `where` when there is none."""
    found = el.find(path)
    if found is None:
        raise OpenScenarioReadError(f"{where}: no {path} element")
    return found


def _attr(el: ET.Element, name: str, where: str) -> str:
    """Attribute `name` of `el`; OpenScenarioReadError naming `where` when it is missing."""
    try:
        return el.attrib[name]
    except KeyError:
        raise OpenScenarioReadError(f"{where}: missing attribute {name!r}") from None


def _world_position(pos: ET.Element | None, where: str) -> tuple[float, float, float]:
    wp = pos.find("WorldPosition") if pos is not None else None
    if wp is None:
        raise OpenScenarioReadError(f"{where}: only WorldPosition is understood")
    return _float(wp, "x", where), _float(wp, "y", where), float(wp.attrib.get("h", 0.0))


def _entity_info(obj: ET.Element) -> tuple[str, tuple[float, float, float], tuple[float, float, float], dict[str, str]]:
    name = obj.attrib.get("name", "?")
    where = f"Entities/ScenarioObject[@name={name!r}]"
    body = next((c for c in obj if c.tag in ("Vehicle", "Pedestrian", "MiscObject")), None)
    if body is None:
        raise OpenScenarioReadError(f"{where}: no Vehicle, Pedestrian or MiscObject (catalog references are not read)")
    props = {p.attrib.get("name", ""): p.attrib.get("value", "") for p in body.iter("Property")}
    category = body.attrib.get("vehicleCategory") or body.attrib.get("pedestrianCategory") \
        or body.attrib.get("miscObjectCategory") or ("pedestrian" if body.tag == "Pedestrian" else "obstacle")
    cls = props.get(CLASS_PROPERTY) or CATEGORY_CLASS.get(category, "car")
    bb = body.find("BoundingBox")
    c, d = (bb.find("Center"), bb.find("Dimensions")) if bb is not None else (None, None)
    if c is None or d is None:
        raise OpenScenarioReadError(f"{where}: BoundingBox with Center and Dimensions expected")
    size = (_float(d, "width", where), _float(d, "length", where), _float(d, "height", where))
    offset = (_float(c, "x", where), _float(c, "y", where), _float(c, "z", where))
    return cls, size, offset, props


def read_openscenario(path: str | os.PathLike[str], fps_replay: float = 12.0) -> OscDocument:
    """Parse an .xosc file; OpenScenarioReadError names what cannot be read.

    Conditional start triggers (TTC, distance, reach position, signal state) of events with
    relative-time trajectories are replayed on steps of 1/fps_replay s (`OscDocument.triggers`)."""
    try:
        root = ET.parse(str(path)).getroot()
    except (OSError, ET.ParseError) as e:
        raise OpenScenarioReadError(f"{path}: cannot parse XML: {e}") from None
    if root.tag != "OpenSCENARIO":
        raise OpenScenarioReadError(f"{path}: root element is {root.tag!r}, not OpenSCENARIO")
    header = root.find("FileHeader")
    name = header.attrib.get("description", "") if header is not None else ""
    minor = int(header.attrib.get("revMinor", 0)) if header is not None else 0
    logic = root.find("RoadNetwork/LogicFile")
    road_file = logic.attrib.get("filepath") if logic is not None else None

    teleports: dict[str, tuple[float, float, float]] = {}
    env_el = None
    init = root.find("Storyboard/Init/Actions")
    if init is not None:
        for g in init.iter("EnvironmentAction"):
            env_el = g.find("Environment")
        for priv in init.findall("Private"):
            ref = priv.attrib.get("entityRef", "")
            tp = priv.find("PrivateAction/TeleportAction/Position")
            if tp is not None:
                teleports[ref] = _world_position(tp, f"Init/Private[@entityRef={ref!r}]/TeleportAction")

    polylines: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
    pending: list[tuple[str, str, NDArray[np.float64], NDArray[np.float64], ET.Element]] = []
    for group in root.iter("ManeuverGroup"):
        actors = [e.attrib.get("entityRef", "") for e in group.findall("Actors/EntityRef")] or \
            [e.attrib.get("entityRef", "") for e in group.iter("EntityRef")]
        events = list(group.iter("Event")) or [group]
        for event in events:
            for fta in event.iter("FollowTrajectoryAction"):
                poly = fta.find(".//Trajectory/Shape/Polyline")
                if poly is None:
                    continue
                where = f"ManeuverGroup[@name={group.attrib.get('name')!r}]/FollowTrajectoryAction"
                timing = fta.find("TimeReference/Timing")
                scale = float(timing.attrib.get("scale", 1.0)) if timing is not None else 1.0
                t_offset = float(timing.attrib.get("offset", 0.0)) if timing is not None else 0.0
                relative = timing is not None and timing.attrib.get("domainAbsoluteRelative") == "relative"
                times: list[float] = []
                poses: list[tuple[float, float, float]] = []
                for k, v in enumerate(poly.findall("Vertex")):
                    if "time" not in v.attrib:
                        raise OpenScenarioReadError(f"{where}/Vertex[{k}]: untimed polylines are not read")
                    times.append(float(v.attrib["time"]) * scale + t_offset)
                    poses.append(_world_position(v.find("Position"), f"{where}/Vertex[{k}]"))
                t_arr, p_arr = np.asarray(times, np.float64), np.asarray(poses, dtype=np.float64).reshape(-1, 3)
                cond = event.find("StartTrigger/ConditionGroup/Condition")
                if relative and cond is not None:
                    for a in actors:
                        pending.append((a, event.attrib.get("name", ""), t_arr, p_arr, cond))
                    continue
                for a in actors:
                    polylines[a] = (t_arr, p_arr)

    entities: list[OscEntity] = []
    for obj in root.findall("Entities/ScenarioObject"):
        name_e = obj.attrib.get("name", "")
        cls, size, offset, props = _entity_info(obj)
        if name_e in polylines:
            t, p = polylines[name_e]
            x, y = reference_to_centre(p[:, 0], p[:, 1], p[:, 2], offset)
            traj = Trajectory.from_arrays(t, x, y, p[:, 2])
        elif name_e in teleports:
            xr, yr, h = teleports[name_e]
            x, y = reference_to_centre(xr, yr, h, offset)
            traj = Trajectory.static(float(x), float(y), wrap_heading(h))
        else:
            raise OpenScenarioReadError(f"Entities/ScenarioObject[@name={name_e!r}]: no initial position or trajectory")
        entities.append(OscEntity(name_e, cls, size, offset, traj, props))

    stop_time = None
    for cond in root.findall("Storyboard/StopTrigger//SimulationTimeCondition"):
        stop_time = float(cond.attrib.get("value", 0.0))
    controllers = tuple(c.attrib.get("name", "") for c in root.iter("TrafficSignalController"))
    signal_states = _signal_timelines(root)
    triggers = []
    for actor, ev_name, t_rel, p_rel, cond in pending:
        entities, trig = _replay(entities, actor, ev_name, t_rel, p_rel, cond, stop_time, fps_replay, signal_states)
        triggers.append(trig)
    return OscDocument(name, minor, tuple(entities), parse_environment(env_el), stop_time, road_file,
                       tuple(triggers), controllers)


def _signal_timelines(root: ET.Element) -> dict[str, list[tuple[float, str]]]:
    """signal id -> [(phase start time, state)] from the TrafficSignalControllers (phases run in order)."""
    out: dict[str, list[tuple[float, str]]] = {}
    for ctrl in root.iter("TrafficSignalController"):
        t = float(ctrl.attrib.get("delay", 0.0) or 0.0)
        for ph in ctrl.findall("Phase"):
            for st in ph.findall("TrafficSignalState"):
                out.setdefault(st.attrib.get("trafficSignalId", ""), []).append((t, st.attrib.get("state", "")))
            t += float(ph.attrib.get("duration", 0.0))
    return out


def _longitudinal_ttc(a: Trajectory, la: float, b: Trajectory, lb: float, t: NDArray[np.float64]) -> NDArray[np.float64]:
    """TTC (s) from a to b along a's heading with freespace (bounding-box) gaps; inf when not closing."""
    eps = 1e-3
    sa0, sb0 = a.sample(t), b.sample(t)
    sa1, sb1 = a.sample(t + eps), b.sample(t + eps)
    def gap(sa: TrajectorySample, sb: TrajectorySample) -> NDArray[np.float64]:
        along = (sb.x - sa.x) * np.cos(sa.yaw) + (sb.y - sa.y) * np.sin(sa.yaw)
        return np.asarray(np.abs(along) - (la + lb) / 2, np.float64)
    g0, g1 = gap(sa0, sb0), gap(sa1, sb1)
    closing = (g0 - g1) / eps
    out = np.full_like(t, np.inf)
    ok = closing > 1e-6
    out[ok] = np.maximum(g0[ok], 0.0) / closing[ok]
    return out


def _replay(entities: list[OscEntity], actor: str, ev_name: str, t_rel: NDArray[np.float64], p_rel: NDArray[np.float64],
            cond: ET.Element, stop_time: float | None, fps: float,
            signals: dict[str, list[tuple[float, str]]]) -> tuple[list[OscEntity], OscTrigger]:
    """Evaluate a conditional start trigger on the read trajectories (steps of 1/fps from t = 0) and
    append the event's relative trajectory to `actor` from the time it fires."""
    by_name = {e.name: e for e in entities}
    horizon = stop_time if stop_time else max(e.trajectory.end_time for e in entities)
    grid = np.arange(0.0, horizon + 1e-9, 1.0 / fps)
    trig_ent = cond.find(".//TriggeringEntities/EntityRef")
    trig_name = trig_ent.attrib.get("entityRef") if trig_ent is not None else None
    kind: str = "unknown"
    value: float | None = None
    holds: NDArray[np.bool_] = np.zeros_like(grid, dtype=bool)
    where = f"Event[@name={ev_name!r}]/StartTrigger"

    def triggering() -> OscEntity:
        if trig_name is None or trig_name not in by_name:
            raise OpenScenarioReadError(f"{where}: triggering entity {trig_name!r} is not an entity of the file")
        return by_name[trig_name]

    def entity(name: str) -> OscEntity:
        if name not in by_name:
            raise OpenScenarioReadError(f"{where}: entity {name!r} is not an entity of the file")
        return by_name[name]

    if (c := cond.find(".//TimeToCollisionCondition")) is not None:
        kind, value = "ttc", float(_attr(c, "value", where))
        a, b = triggering(), entity(_attr(_find(c, ".//EntityRef", where), "entityRef", where))
        holds = _longitudinal_ttc(a.trajectory, a.size[1], b.trajectory, b.size[1], grid) < value
    elif (c := cond.find(".//RelativeDistanceCondition")) is not None:
        kind, value = "distance", float(_attr(c, "value", where))
        a, b = triggering(), entity(_attr(c, "entityRef", where))
        sa, sb = a.trajectory.sample(grid), b.trajectory.sample(grid)
        holds = np.hypot(sb.x - sa.x, sb.y - sa.y) < value
    elif (c := cond.find(".//ReachPositionCondition")) is not None:
        kind, value = "reach", float(_attr(c, "tolerance", where))
        px, py, _ = _world_position(c.find("Position"), "ReachPositionCondition")
        a = triggering()
        sa = a.trajectory.sample(grid)
        from engine.export.openscenario_frame import centre_to_reference
        xr, yr = centre_to_reference(sa.x, sa.y, sa.yaw, a.centre_offset)
        holds = np.hypot(xr - px, yr - py) <= value
    elif (c := cond.find(".//TrafficSignalCondition")) is not None:
        kind = "signal"
        phases = signals.get(c.attrib.get("name", ""), [])
        want = c.attrib.get("state", "")
        state = np.array([next((s for t0, s in reversed(phases) if t0 <= t + 1e-9), phases[0][1] if phases else "")
                          for t in grid])
        holds = state == want
    idx = np.flatnonzero(holds)
    fired = float(grid[idx[0]]) if idx.size else None
    ent = by_name[actor]
    if fired is not None:
        x, y = reference_to_centre(p_rel[:, 0], p_rel[:, 1], p_rel[:, 2], ent.centre_offset)
        before = ent.trajectory
        keep = before.times < fired - 1e-9
        t_all = np.concatenate([before.times[keep], t_rel + fired])
        x_all = np.concatenate([before.key_xy[keep, 0], x])
        y_all = np.concatenate([before.key_xy[keep, 1], y])
        yaw_all = np.concatenate([before.key_yaw_unwrapped[keep], p_rel[:, 2]])
        traj = Trajectory.from_arrays(t_all, x_all, y_all, yaw_all)
        entities = [OscEntity(e.name, e.cls, e.size, e.centre_offset, traj, e.properties) if e.name == actor else e
                    for e in entities]
    return entities, OscTrigger(actor, ev_name, kind, value, trig_name, fired)


def scenario_from_openscenario(path: str | os.PathLike[str], fps: float = 12.0) -> Scenario:
    """A Scenario (no road map) from an .xosc: the entity with role ego (or named ``ego``) is the ego."""
    doc = read_openscenario(path)
    ego_name = next((e.name for e in doc.entities if e.properties.get(ROLE_PROPERTY) == "ego"), None)
    ego_name = ego_name or next((e.name for e in doc.entities if e.name == EGO_ID), None)
    if ego_name is None:
        raise OpenScenarioReadError(f"{path}: no ego entity (property {ROLE_PROPERTY}=ego or name 'ego')")
    agents: list[Agent] = []
    ego: Agent | None = None
    for e in doc.entities:
        size = e.size if all(s > 0 for s in e.size) else default_size(e.cls)
        if e.name == ego_name:
            ego = Agent(EGO_ID, e.cls, size, e.trajectory)
        else:
            agents.append(Agent(e.name, e.cls, size, e.trajectory))
    assert ego is not None   # ego_name is the name of one of the entities
    end = max(a.trajectory.end_time for a in [ego, *agents])
    duration = doc.stop_time if doc.stop_time else max(end, 1.0 / fps)
    return Scenario(name=doc.name or "openscenario", fps=fps, duration=duration, environment=doc.environment,
                    ego=ego, agents=tuple(agents))
