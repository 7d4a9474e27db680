"""Planar (ground-plane) geometry shared by every layer: SE(2) poses, angle wrapping, footprints, frames.

Frames: world / ego ground plane, x forward (or east), y left (or north), metres; yaw in radians,
counter-clockwise from +x. Depends on numpy only, so any engine module may import it.
"""
from engine.geometry.planar import (
    CORNER_SIGNS,
    footprint_corners,
    footprint_corners_trig,
    lane_to_world,
    quaternion_to_yaw,
    se2_apply,
    se2_inverse,
    se2_matrix,
    wrap_angle,
    yaw_to_quaternion,
)

__all__ = [
    "CORNER_SIGNS", "footprint_corners", "footprint_corners_trig", "lane_to_world", "quaternion_to_yaw", "se2_apply", "se2_inverse",
    "se2_matrix", "wrap_angle", "yaw_to_quaternion",
]
