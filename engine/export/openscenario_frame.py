"""The one place where scenario poses become OpenSCENARIO positions and back.

Both worlds share the axes: x, y on the ground, z up, metres, heading in radians counter-clockwise
from +x. What differs is the point an entity's position refers to:

* scenario: the centre of the agent's box (on the ground; the box centre is at height h/2);
* OpenSCENARIO: the entity's reference point. For vehicles the standard puts it at the centre of
  the rear axle projected to the ground; the BoundingBox ``Center`` is then given relative to it.
  Pedestrians and miscellaneous objects keep the box centre as their reference point.

So a vehicle pose (x, y, yaw) is written at (x, y) - R(yaw) (cx, 0) with cx the box centre's
distance in front of the rear axle, and BoundingBox Center = (cx, 0, h/2). The reader inverts this
with the Center it finds in the file, so files from other tools read back correctly too.
Headings along a polyline are written unwrapped (continuous), because simulators interpolate them
linearly between vertices: a jump from +pi to -pi would spin the entity.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from engine.classes import VEHICLE_CLASSES
from engine.geometry import wrap_angle

REAR_AXLE_FRACTION = 0.3  # rear axle sits 0.3 * length behind the box centre (car: 1.38 m of 4.6 m)
WHEELBASE_FRACTION = 0.6  # front axle 0.6 * length ahead of the rear axle


def is_vehicle(cls: str) -> bool:
    """Whether a class is written as an OpenSCENARIO Vehicle (with axles and a rear-axle reference)."""
    return cls in VEHICLE_CLASSES or cls == "bicycle"


def centre_offset(cls: str, size: tuple[float, float, float]) -> tuple[float, float, float]:
    """Box centre relative to the OpenSCENARIO reference point, in the entity frame: (cx, cy, cz)."""
    w, l, h = size
    cx = REAR_AXLE_FRACTION * l if is_vehicle(cls) else 0.0
    return (cx, 0.0, h / 2.0)


def centre_to_reference(x: ArrayLike, y: ArrayLike, yaw: ArrayLike,
                        offset: tuple[float, float, float]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Reference-point positions (N,), (N,) of box centres (N,) with headings (N,)."""
    cx, cy, _ = offset
    c, s = np.cos(np.asarray(yaw, np.float64)), np.sin(np.asarray(yaw, np.float64))
    return np.asarray(x, np.float64) - (c * cx - s * cy), np.asarray(y, np.float64) - (s * cx + c * cy)


def reference_to_centre(x: ArrayLike, y: ArrayLike, heading: ArrayLike,
                        offset: tuple[float, float, float]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Box-centre positions (N,), (N,) of reference points (N,) with headings (N,); inverse of the above."""
    cx, cy, _ = offset
    c, s = np.cos(np.asarray(heading, np.float64)), np.sin(np.asarray(heading, np.float64))
    return np.asarray(x, np.float64) + (c * cx - s * cy), np.asarray(y, np.float64) + (s * cx + c * cy)


def wrap_heading(h: float) -> float:
    """A heading in [-pi, pi) (the scenario's convention for single poses)."""
    return float(wrap_angle(h))
