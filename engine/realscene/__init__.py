"""Guidance from real frames and help inserting assets into them (Dream4Drive's real-scene editing).

    from engine.realscene import real_rig, render_real_frame, propose_insertions, place_maneuver
    scene = engine.sources.open_nuscenes_scene(dataroot, version, name)
    rig = real_rig(scene, (448, 256))                  # the scene's own calibration, scaled
    frame = render_real_frame(renderer, scene, k)      # GuidanceRenderer(rig), set_scenario(edited)
    proposals = propose_insertions(scene.scenario, "car")            # straight, 2 / 5 / 8 m/s
    placed = place_maneuver(scene.scenario, "cut_in", side="right")  # a library manoeuvre
    conditions = engine.conditions.clip_conditions(edited_scenario, (448, 256))   # the one path, real scenes too
    labels = recorded_labels(edited_scenario, times)                 # original annotations, for the export
    frames = RealFrameCache()                                        # a live view: scene opened once, frames kept

Recorded (locked) agents are part of the footage: the guidance renderer does not draw them in
cameras with a real background, but keeps them in the boxes / BEV maps and the labels.

Depth per camera (`RealDepthSettings`): the LiDAR sweep projected into the camera and densified
(IP-Basic) only where returns support a value (sky and beyond range stay 0 = unknown, the validity
mask), the recorded objects' annotated boxes fused in (their returns replaced by the exact box
outline, `box_depth`), and, when configured, a monocular model aligned to the LiDAR filling what the
LiDAR did not reach. The guidance renderer depth-tests inserted assets against it, so real objects in
front hide them; normals come from that depth, edges from the real image, and D, N, E are blanked
inside the inserted mask.

Modules: lidar_depth (projection), densify (depth completion, support mask), box_depth (annotated
boxes in the depth), mono_depth (transformers model),
backgrounds (per-camera Background, conditions), proposals (free straight-line insertions),
ego_path (road frame along the real ego path), maneuvers (library functions in the real scene),
labels (the recorded annotations an export keeps), live (real frames for the editor's preview).
"""
from engine.realscene.backgrounds import (
    DepthOrigin, DepthSource, RealBackgroundSource, RealDepth, RealDepthSettings, RealFrameMaps, real_backgrounds,
    real_depth, real_frame_maps, real_rig, render_real_frame, without_recorded,
)
from engine.realscene.labels import RecordedAnnotation, RecordedInstance, RecordedLabels, recorded_labels
from engine.realscene.live import RealFrameCache
from engine.realscene.maneuvers import ManeuverPlacementError, PlacedManeuver, place_maneuver
from engine.realscene.proposals import Conflict, InsertionProposal, insertion_conflicts, propose_insertions

__all__ = [
    "DepthOrigin", "DepthSource", "RealBackgroundSource", "RealDepth", "RealDepthSettings", "RealFrameMaps",
    "real_backgrounds", "real_depth", "real_frame_maps", "real_rig", "render_real_frame", "without_recorded",
    "RecordedAnnotation", "RecordedInstance", "RecordedLabels", "recorded_labels", "RealFrameCache",
    "ManeuverPlacementError", "PlacedManeuver", "place_maneuver",
    "Conflict", "InsertionProposal", "insertion_conflicts", "propose_insertions",
]
