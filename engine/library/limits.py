"""Per-class kinematic limits (one table) and the check every generated trajectory passes.

Limits are what the class can physically do (emergency manoeuvres included); `comfort_*` values
are what the library uses when a function is not asked for more.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from engine.scenario.trajectory import Trajectory


@dataclass(frozen=True)
class KinematicLimits:
    """Physical limits of one class. Speeds m/s, accelerations m/s^2, jerk m/s^3, radius m."""

    max_speed: float
    max_accel: float
    max_decel: float
    max_jerk: float
    max_lat_accel: float
    min_turn_radius: float          # 0: can turn on the spot
    comfort_accel: float
    comfort_decel: float
    comfort_lat_accel: float
    typical_speed: tuple[float, float]   # range a default speed is drawn from

    @property
    def max_curvature(self) -> float:
        """1/m; infinite for classes that turn on the spot."""
        return float("inf") if self.min_turn_radius <= 0 else 1.0 / self.min_turn_radius


def _L(vmax: float, acc: float, dec: float, jerk: float, lat: float, radius: float, c_acc: float, c_dec: float,
       c_lat: float, typical: tuple[float, float]) -> KinematicLimits:
    return KinematicLimits(vmax, acc, dec, jerk, lat, radius, c_acc, c_dec, c_lat, typical)


#: The one table of kinematic limits, keyed by class name.
LIMITS: dict[str, KinematicLimits] = {
    "car":                  _L(45.0, 4.5, 9.5, 18.0, 7.0, 5.0, 2.0, 3.0, 3.0, (8.0, 12.0)),
    "truck":                _L(33.0, 2.5, 7.5, 14.0, 4.5, 8.0, 1.2, 2.5, 2.5, (7.0, 10.0)),
    "bus":                  _L(30.0, 2.0, 7.0, 14.0, 4.0, 9.0, 1.0, 2.0, 2.0, (6.0, 9.0)),
    "trailer":              _L(30.0, 2.0, 6.5, 14.0, 4.0, 10.0, 1.0, 2.0, 2.0, (6.0, 9.0)),
    "construction_vehicle": _L(15.0, 2.0, 6.5, 14.0, 3.5, 7.0, 1.0, 2.0, 2.0, (3.0, 6.0)),
    "motorcycle":           _L(50.0, 6.0, 9.5, 18.0, 8.0, 2.5, 2.5, 3.5, 3.5, (9.0, 14.0)),
    "bicycle":              _L(14.0, 2.5, 5.5, 15.0, 4.0, 2.0, 1.0, 2.0, 2.5, (4.0, 6.0)),
    "pedestrian":           _L(7.0, 3.5, 4.5, 25.0, 4.0, 0.0, 1.0, 1.5, 2.0, (1.2, 1.6)),
    "traffic_cone":         _L(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, (0.0, 0.0)),
    "barrier":              _L(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, (0.0, 0.0)),
}

# finite differences of a trajectory sampled at the frame rate blur sharp jerk ramps a little
NUMERIC_SLACK = 1.15


def limits_for(cls: str) -> KinematicLimits:
    """The limits of a class; KeyError names an unknown class."""
    try:
        return LIMITS[cls]
    except KeyError:
        raise KeyError(f"no kinematic limits for class {cls!r}; known: {', '.join(LIMITS)}") from None


@dataclass(frozen=True)
class LimitViolation:
    """One quantity over its limit: the largest value found and when."""

    quantity: str
    value: float
    limit: float
    t: float

    def __str__(self) -> str:
        return f"{self.quantity} {self.value:.2f} exceeds {self.limit:.2f} at t={self.t:.2f} s"


def kinematic_violations(traj: Trajectory, cls: str, times: NDArray[np.float64], slack: float = NUMERIC_SLACK) -> list[LimitViolation]:
    """Every limit of `cls` that `traj` exceeds on the (T,) time grid (empty when within limits).

    Uses `Trajectory.kinematics` (what a downstream check sees). Accelerations, jerk and lateral
    acceleration get `slack` for finite-difference error; speed and curvature are exact.
    Curvature counts only above 1 m/s (below that the heading is set by the path, not by steering).
    """
    lim = limits_for(cls)
    times = np.asarray(times, dtype=np.float64)
    k = traj.kinematics(times)
    out: list[LimitViolation] = []

    def worst(name: str, values: NDArray[np.float64], limit: float) -> None:
        if not np.isfinite(limit) or values.size == 0:
            return
        i = int(np.argmax(values))
        if values[i] > limit + 1e-6:
            out.append(LimitViolation(name, float(values[i]), float(limit), float(times[i])))

    worst("speed (m/s)", k["speed"], lim.max_speed + 0.05)
    if len(times) >= 3:
        worst("acceleration (m/s^2)", k["accel"], lim.max_accel * slack)
        worst("deceleration (m/s^2)", -k["accel"], lim.max_decel * slack)
        worst("jerk (m/s^3)", np.abs(k["jerk"]), lim.max_jerk * slack)
        moving = k["speed"] > 1.0
        worst("lateral acceleration (m/s^2)", np.where(moving, np.abs(k["lat_accel"]), 0.0), lim.max_lat_accel * slack)
        worst("curvature (1/m)", np.where(moving, np.abs(k["curvature"]), 0.0), lim.max_curvature * slack)
    return out
