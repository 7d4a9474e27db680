"""The scenario as an OpenSCENARIO 1.x file (built with `scenariogeneration`), validated before writing.

What is written:
  * one ScenarioObject per agent (the ego is named ``ego``): a Vehicle (car, truck, bus, trailer,
    construction vehicle, motorcycle, bicycle), Pedestrian, or MiscObject (traffic cone, barrier),
    with its bounding box and the nuScenes class in a ``cornercase:class`` property;
  * Init: every entity teleported to its first pose, moving ones given their initial speed, and the
    environment (time of day, weather) as an EnvironmentAction;
  * one ManeuverGroup per moving entity with a FollowTrajectoryAction: the trajectory as a
    Polyline of WorldPositions timed in absolute simulation time (TimeReference absolute, scale 1,
    offset 0), sampled at the scenario's frame rate over the trajectory's time range (and at its
    last key time), following mode ``position``;
  * a stop trigger at the scenario's duration; the road as a LogicFile when OpenDRIVE was written;
  * manoeuvres started by a condition (format-2 sequences) as a second event with that start trigger,
    and traffic signals as TrafficSignalControllers (see `openscenario_triggers`).
Poses go through `openscenario_frame` (the only place that converts them). The document is checked
against the ASAM XSD of the chosen version and written atomically only when it validates.
"""
from __future__ import annotations

import datetime as _dt
import io
import os
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scenariogeneration import xosc

from engine.export.openscenario_environment import build_environment
from engine.export.openscenario_frame import WHEELBASE_FRACTION, centre_offset, centre_to_reference, is_vehicle
from engine.export.openscenario_triggers import condition_trigger, first_conditioned, signal_controllers
from engine.export.xml_schemas import SchemaValidationError, validate_openscenario
from engine.fileio import atomic_write_bytes
from engine.scenario.model import Agent, Scenario

DEFAULT_MINOR_VERSION = 2
AUTHOR = "cornercase-studio"
CLASS_PROPERTY = "cornercase:class"
ROLE_PROPERTY = "cornercase:role"

VEHICLE_CATEGORY = {
    "car": xosc.VehicleCategory.car, "truck": xosc.VehicleCategory.truck, "bus": xosc.VehicleCategory.bus,
    "trailer": xosc.VehicleCategory.trailer, "construction_vehicle": xosc.VehicleCategory.truck,
    "motorcycle": xosc.VehicleCategory.motorbike, "bicycle": xosc.VehicleCategory.bicycle,
}
MISC_CATEGORY = {"traffic_cone": xosc.MiscObjectCategory.obstacle, "barrier": xosc.MiscObjectCategory.barrier}
# (max speed m/s, max acceleration, max deceleration m/s^2, wheel diameter m, mass kg) per vehicle class
VEHICLE_PERFORMANCE = {
    "car": (70.0, 7.0, 10.0, 0.65, 1500.0), "truck": (35.0, 3.0, 8.0, 1.0, 12000.0),
    "bus": (30.0, 2.5, 8.0, 1.0, 13000.0), "trailer": (30.0, 2.5, 8.0, 0.9, 8000.0),
    "construction_vehicle": (15.0, 2.0, 6.0, 1.2, 20000.0), "motorcycle": (60.0, 8.0, 9.0, 0.6, 200.0),
    "bicycle": (15.0, 2.5, 6.0, 0.7, 90.0),
}
MASS = {"pedestrian": 75.0, "traffic_cone": 3.0, "barrier": 60.0}
# scenariogeneration keeps the target version in a class attribute shared by every element: building
# and serialising a document hold this lock so that two exports of different versions cannot mix.
_VERSION_LOCK = threading.Lock()


class OpenScenarioExportError(ValueError):
    """The scenario cannot be expressed, or the built document does not validate (message says why)."""


@dataclass(frozen=True)
class OpenScenarioResult:
    """What `export_openscenario` wrote: the .xosc, the .xodr (None when the map cannot be expressed)."""

    xosc_path: Path
    xodr_path: Path | None
    road_note: str
    minor_version: int


# ---------------------------------------------------------------------------------- entities
def _entity(agent: Agent, minor_version: int) -> xosc.Vehicle | xosc.Pedestrian | xosc.MiscObject:
    w, l, h = agent.size
    cx, cy, cz = centre_offset(agent.cls, agent.size)
    bb = xosc.BoundingBox(w, l, h, cx, cy, cz)
    if is_vehicle(agent.cls):
        vmax, amax, dmax, wheel, mass = VEHICLE_PERFORMANCE[agent.cls]
        track = 0.0 if agent.cls in ("motorcycle", "bicycle") else 0.85 * w
        front = xosc.Axle(0.6, wheel, track, WHEELBASE_FRACTION * l, wheel / 2)
        rear = xosc.Axle(0.0, wheel, track, 0.0, wheel / 2)
        ent = xosc.Vehicle(agent.id, VEHICLE_CATEGORY[agent.cls], bb, front, rear, vmax, amax, dmax,
                           mass=mass if minor_version >= 1 else None)
    elif agent.cls == "pedestrian":
        ent = xosc.Pedestrian(agent.id, MASS["pedestrian"], xosc.PedestrianCategory.pedestrian, bb, model="pedestrian")
    elif agent.cls in MISC_CATEGORY:
        ent = xosc.MiscObject(agent.id, MASS[agent.cls], MISC_CATEGORY[agent.cls], bb)
    else:
        raise OpenScenarioExportError(f"agent {agent.id!r}: class {agent.cls!r} has no OpenSCENARIO entity type")
    ent.add_property(CLASS_PROPERTY, agent.cls)
    if agent.id == "ego":
        ent.add_property(ROLE_PROPERTY, "ego")
    return ent


def trajectory_vertices(agent: Agent, fps: float) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                                           NDArray[np.float64], NDArray[np.float64]]:
    """Polyline vertices of a moving agent: times (N,), reference x (N,), y (N,), heading (N,) unwrapped.

    Times run from the trajectory's first to its last key time in steps of 1/fps (the last key time
    always included), so every frame of the clip is a vertex.
    """
    traj = agent.trajectory
    t0, t1 = traj.start_time, traj.end_time
    n = int(np.floor((t1 - t0) * fps + 1e-6))
    times = t0 + np.arange(n + 1) / fps
    if t1 - times[-1] > 1e-6:
        times = np.append(times, t1)
    s = traj.sample(times)
    x, y = centre_to_reference(s.x, s.y, s.yaw, centre_offset(agent.cls, agent.size))
    return times, x, y, np.asarray(s.yaw, np.float64)


def _follow_trajectory(agent: Agent, fps: float, window: tuple[float, float] | None = None,
                       relative: bool = False, suffix: str = "") -> xosc.FollowTrajectoryAction:
    """The agent's trajectory as a timed polyline; `window` (t_from, t_to) keeps part of it (the window
    ends are vertices); `relative` writes vertex times relative to t_from (an event started by a
    condition)."""
    times, x, y, yaw = trajectory_vertices(agent, fps)
    if window is not None:
        lo, hi = window
        keep = times[(times > lo + 1e-9) & (times < hi - 1e-9)]
        times = np.concatenate([[lo], keep, [hi]])
        s = agent.trajectory.sample(times)
        x, y = centre_to_reference(s.x, s.y, s.yaw, centre_offset(agent.cls, agent.size))
        yaw = np.asarray(s.yaw, np.float64)
    t_out = times - times[0] if relative else times
    positions = [xosc.WorldPosition(float(px), float(py), 0.0, float(h)) for px, py, h in zip(x, y, yaw)]
    traj = xosc.Trajectory(f"{agent.id}_trajectory{suffix}", False)
    traj.add_shape(xosc.Polyline([float(t) for t in t_out], positions))
    ctx = xosc.ReferenceContext.relative if relative else xosc.ReferenceContext.absolute
    return xosc.FollowTrajectoryAction(traj, xosc.FollowingMode.position, ctx, 1.0, 0.0)


def _time_trigger(name: str, t: float, rule: xosc.Rule = xosc.Rule.greaterThan,
                  edge: xosc.ConditionEdge = xosc.ConditionEdge.none, kind: str = "start") -> xosc.ValueTrigger:
    return xosc.ValueTrigger(name, 0, edge, xosc.SimulationTimeCondition(float(t), rule), kind)


def build_openscenario(scenario: Scenario, road_file: str | None = None,
                       minor_version: int = DEFAULT_MINOR_VERSION,
                       creation_date: _dt.datetime | None = None) -> xosc.Scenario:
    """The scenariogeneration Scenario object for `scenario` (not yet validated or written).

    Call `get_element` on it before building another version (see `openscenario_bytes`).
    """
    if minor_version not in (0, 1, 2, 3):
        raise OpenScenarioExportError(f"OpenSCENARIO version 1.{minor_version} is not supported (1.0 to 1.3)")
    xosc.VersionBase().setVersion(1, minor_version)
    entities = xosc.Entities()
    init = xosc.Init()
    init.add_global_action(xosc.EnvironmentAction(build_environment(scenario.environment, minor_version)))
    act = xosc.Act("trajectories", _time_trigger("act_start", 0.0))
    priority = xosc.Priority.override if minor_version >= 2 else xosc.Priority.overwrite
    n_groups = 0
    for agent in scenario.all_agents:
        entities.add_scenario_object(agent.id, _entity(agent, minor_version))
        traj = agent.trajectory
        if len(traj.points) > 1:
            _, x0, y0, h0 = trajectory_vertices(agent, scenario.fps)
            init.add_init_action(agent.id, xosc.TeleportAction(xosc.WorldPosition(float(x0[0]), float(y0[0]), 0.0, float(h0[0]))))
            v0 = traj.speed_at(traj.start_time)
            dyn = xosc.TransitionDynamics(xosc.DynamicsShapes.step, xosc.DynamicsDimension.time, 0.0)
            init.add_init_action(agent.id, xosc.AbsoluteSpeedAction(float(v0), dyn))
            maneuver = xosc.Maneuver(f"{agent.id}_maneuver")
            cond = first_conditioned(agent)
            t_first, t_last = traj.start_time, traj.end_time
            if cond is not None and t_first + 1e-6 < cond.start < t_last - 1e-6:
                # the part before the condition holds, then the rest started by the condition
                event = xosc.Event(f"{agent.id}_follow_event", priority)
                event.add_action(f"{agent.id}_follow_trajectory",
                                 _follow_trajectory(agent, scenario.fps, (t_first, cond.start)))
                event.add_trigger(_time_trigger(f"{agent.id}_start", 0.0))
                maneuver.add_event(event)
                event2 = xosc.Event(f"{agent.id}_{cond.function}_event", priority)
                event2.add_action(f"{agent.id}_{cond.function}_trajectory",
                                  _follow_trajectory(agent, scenario.fps, (cond.start, t_last), relative=True,
                                                     suffix=f"_{cond.function}"))
                event2.add_trigger(condition_trigger(f"{agent.id}_{cond.function}_trigger", agent, cond, scenario))
                maneuver.add_event(event2)
            else:
                event = xosc.Event(f"{agent.id}_follow_event", priority)
                event.add_action(f"{agent.id}_follow_trajectory", _follow_trajectory(agent, scenario.fps))
                event.add_trigger(_time_trigger(f"{agent.id}_start", 0.0))
                maneuver.add_event(event)
            group = xosc.ManeuverGroup(f"{agent.id}_group")
            group.add_actor(agent.id)
            group.add_maneuver(maneuver)
            act.add_maneuver_group(group)
            n_groups += 1
        else:
            p = traj.points[0]
            (xr,), (yr,) = centre_to_reference(np.array([p.x]), np.array([p.y]), np.array([p.yaw]),
                                               centre_offset(agent.cls, agent.size))
            init.add_init_action(agent.id, xosc.TeleportAction(xosc.WorldPosition(float(xr), float(yr), 0.0, float(p.yaw))))
    story = xosc.Story("scenario")
    if n_groups:
        story.add_act(act)
    stop = _time_trigger("stop", scenario.duration, edge=xosc.ConditionEdge.rising, kind="stop")
    storyboard = xosc.StoryBoard(init, stop)
    if n_groups:
        storyboard.add_story(story)
    road_network = xosc.RoadNetwork(roadfile=road_file)
    signal_controllers(scenario, road_network)
    return xosc.Scenario(
        scenario.name or "scenario", AUTHOR, xosc.ParameterDeclarations(), entities, storyboard,
        road_network, xosc.Catalog(), osc_minor_version=minor_version,
        creation_date=creation_date,
    )


def openscenario_bytes(scenario: Scenario, road_file: str | None = None,
                       minor_version: int = DEFAULT_MINOR_VERSION,
                       creation_date: _dt.datetime | None = None) -> bytes:
    """The validated .xosc document as UTF-8 bytes; SchemaValidationError lists every violation.

    The bytes are parsed back and that parse is validated, so what is checked is exactly what is written.
    """
    with _VERSION_LOCK:
        element = build_openscenario(scenario, road_file, minor_version, creation_date).get_element()
    ET.indent(element)
    buf = io.BytesIO()
    ET.ElementTree(element).write(buf, encoding="utf-8", xml_declaration=True)
    data = buf.getvalue()
    problems = validate_openscenario(data, minor_version)
    if problems:
        raise SchemaValidationError(f"OpenSCENARIO 1.{minor_version} document for {scenario.name!r}", problems)
    return data


def export_openscenario(scenario: Scenario, out_dir: str | os.PathLike[str], *, stem: str | None = None,
                        minor_version: int = DEFAULT_MINOR_VERSION, write_road: bool = True) -> OpenScenarioResult:
    """Write ``<stem>.xosc`` (and ``<stem>.xodr`` where the map can be expressed) into `out_dir`.

    Both documents are validated against their ASAM schemas first; nothing is written when either fails.
    """
    from engine.export.opendrive import opendrive_bytes

    out = Path(out_dir)
    stem = stem or _safe_stem(scenario.name)
    xodr_data, note = (None, "road not written (disabled)")
    if write_road:
        xodr_data, note = opendrive_bytes(scenario.map, name=stem)
    road_file = f"{stem}.xodr" if xodr_data is not None else None
    xosc_data = openscenario_bytes(scenario, road_file, minor_version)
    out.mkdir(parents=True, exist_ok=True)
    xodr_path = None
    if xodr_data is not None and road_file is not None:
        xodr_path = atomic_write_bytes(out / road_file, xodr_data)
    xosc_path = atomic_write_bytes(out / f"{stem}.xosc", xosc_data)
    return OpenScenarioResult(xosc_path, xodr_path, note, minor_version)


def _safe_stem(name: str) -> str:
    keep = "".join(c if (c.isalnum() or c in "-_.") else "_" for c in (name or "scenario")).strip("._")
    return keep or "scenario"
