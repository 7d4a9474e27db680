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

from engine.classes import default_size
from engine.export.openscenario import CLASS_PROPERTY, ROLE_PROPERTY
from engine.export.openscenario_environment import parse_environment
from engine.export.openscenario_frame import reference_to_centre, wrap_heading
from engine.scenario.model import EGO_ID, Agent, Environment, Scenario
from engine.scenario.trajectory import Trajectory

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
class OscDocument:
    """What was read: header, entities in file order, environment, stop time (None if absent), road file."""

    name: str
    minor_version: int
    entities: tuple[OscEntity, ...]
    environment: Environment
    stop_time: float | None
    road_file: str | None

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


def _world_position(pos: ET.Element | None, where: str) -> tuple[float, float, float]:
    wp = pos.find("WorldPosition") if pos is not None else None
    if wp is None:
        raise OpenScenarioReadError(f"{where}: only WorldPosition is understood")
    return _float(wp, "x", where), _float(wp, "y", where), float(wp.attrib.get("h", 0.0))


def _entity_info(obj: ET.Element) -> tuple[str, tuple[float, float, float], tuple[float, float, float], dict]:
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
    if bb is None or bb.find("Center") is None or bb.find("Dimensions") is None:
        raise OpenScenarioReadError(f"{where}: BoundingBox with Center and Dimensions expected")
    c, d = bb.find("Center"), bb.find("Dimensions")
    size = (_float(d, "width", where), _float(d, "length", where), _float(d, "height", where))
    offset = (_float(c, "x", where), _float(c, "y", where), _float(c, "z", where))
    return cls, size, offset, props


def read_openscenario(path: str | os.PathLike) -> OscDocument:
    """Parse an .xosc file; OpenScenarioReadError names what cannot be read."""
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

    polylines: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for group in root.iter("ManeuverGroup"):
        actors = [e.attrib.get("entityRef", "") for e in group.iter("EntityRef")]
        for fta in group.iter("FollowTrajectoryAction"):
            poly = fta.find(".//Trajectory/Shape/Polyline")
            if poly is None:
                continue
            where = f"ManeuverGroup[@name={group.attrib.get('name')!r}]/FollowTrajectoryAction"
            timing = fta.find("TimeReference/Timing")
            scale = float(timing.attrib.get("scale", 1.0)) if timing is not None else 1.0
            offset = float(timing.attrib.get("offset", 0.0)) if timing is not None else 0.0
            times, poses = [], []
            for k, v in enumerate(poly.findall("Vertex")):
                if "time" not in v.attrib:
                    raise OpenScenarioReadError(f"{where}/Vertex[{k}]: untimed polylines are not read")
                times.append(float(v.attrib["time"]) * scale + offset)
                poses.append(_world_position(v.find("Position"), f"{where}/Vertex[{k}]"))
            for a in actors:
                polylines[a] = (np.asarray(times), np.asarray(poses, dtype=np.float64).reshape(-1, 3))

    entities = []
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
    return OscDocument(name, minor, tuple(entities), parse_environment(env_el), stop_time, road_file)


def scenario_from_openscenario(path: str | os.PathLike, fps: float = 12.0) -> Scenario:
    """A Scenario (no road map) from an .xosc: the entity with role ego (or named ``ego``) is the ego."""
    doc = read_openscenario(path)
    ego_name = next((e.name for e in doc.entities if e.properties.get(ROLE_PROPERTY) == "ego"), None)
    ego_name = ego_name or next((e.name for e in doc.entities if e.name == EGO_ID), None)
    if ego_name is None:
        raise OpenScenarioReadError(f"{path}: no ego entity (property {ROLE_PROPERTY}=ego or name 'ego')")
    agents = []
    ego = None
    for e in doc.entities:
        size = e.size if all(s > 0 for s in e.size) else default_size(e.cls)
        if e.name == ego_name:
            ego = Agent(EGO_ID, e.cls, size, e.trajectory)
        else:
            agents.append(Agent(e.name, e.cls, size, e.trajectory))
    end = max(a.trajectory.end_time for a in [ego, *agents])
    duration = doc.stop_time if doc.stop_time else max(end, 1.0 / fps)
    return Scenario(name=doc.name or "openscenario", fps=fps, duration=duration, environment=doc.environment,
                    ego=ego, agents=tuple(agents))
