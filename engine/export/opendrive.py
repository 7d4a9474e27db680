"""The scenario's road map as OpenDRIVE 1.7 (built with `scenariogeneration.xodr`), where it can be expressed.

`road_layout.analyse_layout` decides what the map is (a straight road, or two straight roads meeting
at a junction); each arm becomes a road whose reference line is the centre between its two driving
directions (right lanes drive along it), placed absolutely in the scenario's world frame (same axes
as OpenDRIVE's inertial frame). A junction gets its connecting roads from scenariogeneration's
`CommonJunctionCreator`, which links every lane of every arm to every other arm.
"""
from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ET

from scenariogeneration import xodr

from engine.export.road_layout import Arm, RoadLayout, UnsupportedLayout, analyse_layout
from engine.export.xml_schemas import SchemaValidationError, validate_opendrive
from engine.scenario.map_elements import RoadMap

JUNCTION_ID = 100


def _road(road_id: int, arm: Arm) -> xodr.Road:
    c = arm.corridor
    centre_mark = xodr.std_roadmark_solid_solid() if (c.n_left and c.n_right) else xodr.std_roadmark_solid()
    road = xodr.create_road([xodr.Line(arm.length)], road_id, left_lanes=c.n_left, right_lanes=c.n_right,
                            lane_width=c.lane_width, center_road_mark=centre_mark)
    pv = xodr.PlanView(arm.start[0], arm.start[1], arm.heading)
    pv.add_geometry(xodr.Line(arm.length))
    road.planview = pv
    return road


def build_opendrive(layout: RoadLayout, name: str) -> xodr.OpenDrive:
    """The scenariogeneration OpenDrive for a recognised layout (not yet validated)."""
    odr = xodr.OpenDrive(name, revMinor="7")
    roads = [_road(i + 1, arm) for i, arm in enumerate(layout.arms)]
    for r in roads:
        odr.add_road(r)
    if layout.junction_centre is not None:
        jc = xodr.CommonJunctionCreator(JUNCTION_ID, "junction", startnum=JUNCTION_ID)
        cx, cy = layout.junction_centre
        for road, arm in zip(roads, layout.arms):
            if arm.junction_end == "successor":
                ex = arm.start[0] + arm.length * math.cos(arm.heading)
                ey = arm.start[1] + arm.length * math.sin(arm.heading)
                heading_in = arm.heading
            else:
                ex, ey = arm.start
                heading_in = arm.heading + math.pi
            jc.add_incoming_road_cartesian_geometry(road, ex - cx, ey - cy, heading_in, arm.junction_end)
        for i in range(len(roads)):
            for j in range(i + 1, len(roads)):
                jc.add_connection(i + 1, j + 1)
        odr.add_junction_creator(jc)
    odr.adjust_roads_and_lanes()
    return odr


def opendrive_bytes(road_map: RoadMap, name: str = "road") -> tuple[bytes | None, str]:
    """The validated .xodr document and a note, or (None, the reason) when the map cannot be expressed."""
    if any(lane.id.startswith("ring_") for lane in road_map.lanes):
        return None, ("OpenDRIVE not written: this writer has no roundabout (its circular ring lanes and curved "
                      "entries cannot be expressed as straight arms and a junction); the OpenSCENARIO file "
                      "still carries every agent's trajectory in world coordinates")
    try:
        layout = analyse_layout(road_map)
    except UnsupportedLayout as e:
        return None, f"OpenDRIVE not written: {e}"
    try:
        element = build_opendrive(layout, name).get_element()
    except Exception as e:  # scenariogeneration raises its own types for impossible connections
        return None, f"OpenDRIVE not written: scenariogeneration could not build the {layout.note}: {e}"
    ET.indent(element)
    buf = io.BytesIO()
    ET.ElementTree(element).write(buf, encoding="utf-8", xml_declaration=True)
    data = buf.getvalue()
    problems = validate_opendrive(data)
    if problems:
        raise SchemaValidationError(f"OpenDRIVE document {name!r}", problems)
    return data, f"OpenDRIVE 1.7: {layout.note}"
