"""Thresholds of the checks and the per-class table of kinematic limits.

The limits say what is physically possible for a class (tyre friction, power, turning circle), not
what is comfortable: a trajectory beyond them is an error, the video model would be asked to show
something no vehicle can do. Jerk is the exception (warning only): a step in acceleration sampled
at 12 Hz shows as a large jerk even when the authored motion is otherwise sound.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from enum import StrEnum
from typing import Any, Mapping

INF = math.inf

class CheckName(StrEnum):
    """The checks `CheckConfig.checks` can enable (members compare equal to the plain strings)."""

    COLLISION = "collision"            # box overlaps between any two agents (when, who, where)
    PROXIMITY = "proximity"            # close passes (small footprint gap without contact)
    EGO = "ego"                        # time-to-collision and time headway to the ego
    PET = "pet"                        # post-encroachment time where paths cross
    OFFROAD = "offroad"                # boxes leaving the drivable area; pedestrians on the roadway
    LANE_DIRECTION = "lane_direction"  # driving against the lane direction
    KINEMATICS = "kinematics"          # per-class feasibility: speed, accel, jerk, yaw rate, curvature, lateral accel, slip
    TELEPORT = "teleport"              # position jumps inconsistent with the speed


CHECK_NAMES: tuple[str, ...] = tuple(c.value for c in CheckName)     # plain strings, in this order


@dataclass(frozen=True)
class ClassLimits:
    """Physical limits of one class. All positive; inf = not checked.

    speed (m/s), accel / decel (m/s^2, rate of change of ground speed), jerk (m/s^3), yaw_rate (rad/s),
    curvature (1/m: yaw rate over speed, i.e. the inverse of the turning radius), lat_accel (m/s^2),
    reverse_speed (m/s backwards along the heading), slip (rad: angle between the direction of
    travel and the heading, forwards or backwards; vehicles cannot move sideways).
    """

    speed: float = INF
    accel: float = INF
    decel: float = INF
    jerk: float = INF
    yaw_rate: float = INF
    curvature: float = INF
    lat_accel: float = INF
    reverse_speed: float = INF
    slip: float = INF

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if not (isinstance(v, (int, float)) and v > 0):
                raise ValueError(f"ClassLimits.{f.name} must be a positive number or inf (got {v!r})")


# Sources for orders of magnitude: tyre friction ~1 g for cars (dry asphalt), less for heavy vehicles;
# minimum turning radius of the box centre's path ~5 m (car), ~8-10 m (rigid truck, bus; their kerb-to-kerb
# turning circles are larger), ~10 m (articulated); the library's own table (engine.library.limits) must stay
# inside these (tests/engine/checks/test_limits_agree.py); sprint speed of a
# fast runner ~10 m/s. Static classes may not move at all.
DEFAULT_CLASS_LIMITS: Mapping[str, ClassLimits] = {
    "car": ClassLimits(speed=70.0, accel=7.0, decel=10.0, jerk=60.0, yaw_rate=1.5, curvature=0.2,
                       lat_accel=9.0, reverse_speed=10.0, slip=0.5),
    "truck": ClassLimits(speed=40.0, accel=3.5, decel=8.0, jerk=50.0, yaw_rate=1.0, curvature=0.125,
                         lat_accel=6.0, reverse_speed=6.0, slip=0.5),
    "bus": ClassLimits(speed=35.0, accel=3.0, decel=8.0, jerk=50.0, yaw_rate=1.0, curvature=0.112,
                       lat_accel=5.0, reverse_speed=5.0, slip=0.5),
    "trailer": ClassLimits(speed=35.0, accel=3.0, decel=8.0, jerk=50.0, yaw_rate=0.8, curvature=0.1,
                           lat_accel=5.0, reverse_speed=4.0, slip=0.5),
    "construction_vehicle": ClassLimits(speed=25.0, accel=3.0, decel=7.0, jerk=50.0, yaw_rate=1.0,
                                        curvature=0.15, lat_accel=5.0, reverse_speed=6.0, slip=0.5),
    "motorcycle": ClassLimits(speed=80.0, accel=9.0, decel=10.0, jerk=80.0, yaw_rate=2.0, curvature=0.4,
                              lat_accel=10.0, reverse_speed=2.0, slip=0.5),
    "bicycle": ClassLimits(speed=20.0, accel=4.0, decel=7.0, jerk=80.0, yaw_rate=3.0, curvature=1.0,
                           lat_accel=7.0, reverse_speed=2.0, slip=0.6),
    "pedestrian": ClassLimits(speed=10.0, accel=5.0, decel=7.0),
    "traffic_cone": ClassLimits(speed=0.2),
    "barrier": ClassLimits(speed=0.2),
}

# How each class is treated by the map checks.
VEHICLE_LIKE = frozenset({"car", "truck", "bus", "trailer", "construction_vehicle", "motorcycle"})
OFFROAD_ERROR_CLASSES = VEHICLE_LIKE                       # centre off the road: error; a corner: warning
OFFROAD_WARNING_CLASSES = frozenset({"bicycle"})           # may use a cycle path or pavement: warning
LANE_DIRECTION_CLASSES = VEHICLE_LIKE | {"bicycle"}        # pedestrians and static objects are not checked
STATIC_CLASSES = frozenset({"traffic_cone", "barrier"})


@dataclass(frozen=True)
class CheckConfig:
    """Every threshold of the checks (seconds, metres, radians). Frozen; `replace` to vary.

    checks: which checks run (names in CHECK_NAMES); intents are always evaluated.
    ttc_warning: a TTC to the ego below it is a near miss. ttc_horizon: TTCs beyond it are not
    looked for (reported inf). min_gap_warning: a footprint gap to the ego below it, without
    contact, is a close pass. thw_warning: time headway of the ego below it is tailgating.
    pet_warning: PET below it is a crossing conflict; pet_max: PETs above it are ignored.
    pet_min_angle: paths crossing at less than this (or more than pi minus this) count as following
    or opposing, not crossing. contact_tolerance: penetration depth below which boxes only touch.
    offroad_tolerance: how far (m) a corner may stick out of the drivable area. moving_speed: below
    it an agent stands. lane_min_speed / wrong_way_angle / wrong_way_min_duration: an agent faster
    than lane_min_speed whose heading differs by more than wrong_way_angle from every lane it is in,
    for at least wrong_way_min_duration, drives the wrong way. limit_tolerance: relative slack on
    the class limits. background_severity: severity of near misses, close passes and PET between
    two agents neither of which is the ego ("info" or "warning"). recorded_severity: the most a
    finding about recorded agents only (`Agent.locked`, from a real scene) can be: what a log
    shows is a fact of the scene, not an authoring mistake ("info", "warning" or "error").
    """

    checks: tuple[str, ...] = CHECK_NAMES
    ttc_warning: float = 1.5
    ttc_horizon: float = 10.0
    min_gap_warning: float = 0.5
    thw_warning: float = 0.6
    pet_warning: float = 1.0
    pet_max: float = 3.0
    pet_min_angle: float = math.radians(30.0)
    contact_tolerance: float = 0.02
    offroad_tolerance: float = 0.3
    moving_speed: float = 0.5
    lane_min_speed: float = 1.0
    wrong_way_angle: float = math.radians(120.0)
    wrong_way_min_duration: float = 0.5
    limit_tolerance: float = 0.03
    background_severity: str = "info"
    recorded_severity: str = "info"
    class_limits: Mapping[str, ClassLimits] = field(default_factory=lambda: dict(DEFAULT_CLASS_LIMITS))

    def __post_init__(self) -> None:
        object.__setattr__(self, "checks", tuple(self.checks))
        unknown = [c for c in self.checks if c not in CHECK_NAMES]
        if unknown:
            raise ValueError(f"unknown check(s) {', '.join(map(repr, unknown))}; expected some of {', '.join(CHECK_NAMES)}")
        for f in fields(self):
            if f.name in ("checks", "class_limits", "background_severity", "recorded_severity"):
                continue
            v = getattr(self, f.name)
            if not (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0):
                raise ValueError(f"CheckConfig.{f.name} must be a finite number >= 0 (got {v!r})")
        if self.background_severity not in ("info", "warning"):
            raise ValueError(f"CheckConfig.background_severity must be 'info' or 'warning' (got {self.background_severity!r})")
        if self.recorded_severity not in ("info", "warning", "error"):
            raise ValueError(f"CheckConfig.recorded_severity must be 'info', 'warning' or 'error' "
                             f"(got {self.recorded_severity!r})")
        if not 0 < self.pet_min_angle <= math.pi / 2:
            raise ValueError(f"CheckConfig.pet_min_angle must lie in (0, pi/2] (got {self.pet_min_angle!r})")
        if not math.pi / 2 < self.wrong_way_angle <= math.pi:
            raise ValueError(f"CheckConfig.wrong_way_angle must lie in (pi/2, pi] (got {self.wrong_way_angle!r})")
        bad = [k for k, v in self.class_limits.items() if not isinstance(v, ClassLimits)]
        if bad:
            raise ValueError(f"CheckConfig.class_limits[{bad[0]!r}] must be a ClassLimits")

    def limits_for(self, cls: str) -> ClassLimits | None:
        """The limits of a class, or None when the table has none for it."""
        return self.class_limits.get(cls)

    def enabled(self, name: str) -> bool:
        return name in self.checks

    def with_checks(self, *names: str) -> "CheckConfig":
        """A copy running only the named checks."""
        return replace(self, checks=tuple(names))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (inf limits as None)."""
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "class_limits"}
        d["checks"] = list(self.checks)
        d["class_limits"] = {
            k: {n: (None if math.isinf(v) else v) for n, v in asdict(lim).items()} for k, lim in self.class_limits.items()
        }
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "CheckConfig":
        """Build from a (partial) dict such as `to_dict` writes; ValueError names unknown keys."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown config key(s) {', '.join(unknown)}; expected some of {', '.join(sorted(known))}")
        kw = dict(d)
        if "class_limits" in kw:
            limits = dict(DEFAULT_CLASS_LIMITS)
            for name, lim in kw["class_limits"].items():
                if not isinstance(lim, Mapping):
                    raise ValueError(f"class_limits.{name} must be an object")
                bad = sorted(set(lim) - {f.name for f in fields(ClassLimits)})
                if bad:
                    raise ValueError(f"class_limits.{name}: unknown limit(s) {', '.join(bad)}")
                base = asdict(limits.get(name, ClassLimits()))
                base.update({k: (INF if v is None else v) for k, v in lim.items()})
                limits[name] = ClassLimits(**base)
            kw["class_limits"] = limits
        return cls(**kw)
