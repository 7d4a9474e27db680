"""What the checks report: findings with a severity, a time range, the agents, a sentence and a place."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any, Iterable, Mapping


class Severity(IntEnum):
    """Ordered severities: INFO < WARNING < ERROR. JSON spells them in lower case."""

    INFO = 0
    WARNING = 1
    ERROR = 2

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: "Severity | str") -> "Severity":
        """'info' | 'warning' | 'error' (any case) or a Severity; ValueError naming the bad value."""
        if isinstance(value, Severity):
            return value
        try:
            return cls[str(value).strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {value!r}; expected info, warning or error") from None


class FindingCode(StrEnum):
    """Every code a check can report (`Finding.code` stores the plain string value, so saved reports and
    comparisons with strings are unchanged). ``infeasible_<quantity>`` for each `ClassLimits` field."""

    COLLISION = "collision"
    OVERLAP = "overlap"
    CLOSE_PASS = "close_pass"
    NEAR_MISS = "near_miss"
    SHORT_HEADWAY = "short_headway"
    PET = "pet"
    OFF_ROAD = "off_road"
    JAYWALKING = "jaywalking"
    WRONG_WAY = "wrong_way"
    MAP_INCOMPLETE = "map_incomplete"
    TELEPORT = "teleport"
    NO_LIMITS = "no_limits"
    INTENT_MET = "intent_met"
    INTENT_UNMET = "intent_unmet"
    EGO_AVOIDED = "ego_avoided"
    EGO_COLLIDED = "ego_collided"
    RED_LIGHT = "red_light"
    INFEASIBLE_SPEED = "infeasible_speed"
    INFEASIBLE_ACCEL = "infeasible_accel"
    INFEASIBLE_DECEL = "infeasible_decel"
    INFEASIBLE_JERK = "infeasible_jerk"
    INFEASIBLE_YAW_RATE = "infeasible_yaw_rate"
    INFEASIBLE_CURVATURE = "infeasible_curvature"
    INFEASIBLE_LAT_ACCEL = "infeasible_lat_accel"
    INFEASIBLE_REVERSE_SPEED = "infeasible_reverse_speed"
    INFEASIBLE_SLIP = "infeasible_slip"

    @classmethod
    def infeasible(cls, quantity: str) -> "FindingCode":
        """The code for a class limit exceeded (`quantity` a `ClassLimits` field); ValueError otherwise."""
        return cls(f"infeasible_{quantity}")


def _json_number(v: float) -> float | None:
    """Finite floats as they are; inf/NaN become None (JSON has no infinity)."""
    v = float(v)
    return v if math.isfinite(v) else None


@dataclass(frozen=True)
class Finding:
    """One thing the checks found.

    code: machine name (``collision``, ``near_miss``, ``off_road`` ...); severity; t_start, t_end: the
    time range in seconds (equal for an instant); agents: the ids involved (ego is ``ego``);
    message: one plain sentence; where: (x, y) in the world frame when meaningful; metrics: the
    numbers behind the sentence (``min_ttc``, ``pet``, ``limit`` ...), inf allowed.
    """

    code: str
    severity: Severity
    t_start: float
    t_end: float
    agents: tuple[str, ...]
    message: str
    where: tuple[float, float] | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        put = object.__setattr__
        if type(self.code) is not str:
            put(self, "code", str(self.code))      # a FindingCode is stored as its plain value
        if type(self.severity) is not Severity:
            put(self, "severity", Severity.parse(self.severity))
        if type(self.agents) is not tuple:
            put(self, "agents", tuple(self.agents))
        put(self, "t_start", float(self.t_start))
        put(self, "t_end", float(self.t_end))
        if self.where is not None:
            put(self, "where", (float(self.where[0]), float(self.where[1])))
        put(self, "metrics", {k: float(v) for k, v in self.metrics.items()})

    def covers(self, t: float, tolerance: float = 0.0) -> bool:
        """Whether time t falls in [t_start, t_end] (widened by `tolerance` on both sides)."""
        return self.t_start - tolerance <= t <= self.t_end + tolerance

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (non-finite metrics become null)."""
        return {
            "code": self.code,
            "severity": self.severity.label,
            "t_start": self.t_start,
            "t_end": self.t_end,
            "agents": list(self.agents),
            "message": self.message,
            "where": None if self.where is None else list(self.where),
            "metrics": {k: _json_number(v) for k, v in self.metrics.items()},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Finding":
        """Inverse of `to_dict` (null metrics come back as inf)."""
        return cls(
            code=d["code"], severity=Severity.parse(d["severity"]), t_start=d["t_start"], t_end=d["t_end"],
            agents=tuple(d.get("agents", ())), message=d.get("message", ""),
            where=None if d.get("where") is None else tuple(d["where"]),
            metrics={k: (math.inf if v is None else v) for k, v in d.get("metrics", {}).items()},
        )

    def __str__(self) -> str:
        span = f"{self.t_start:.2f} s" if self.t_end - self.t_start < 1e-9 else f"{self.t_start:.2f}-{self.t_end:.2f} s"
        return f"{self.severity.label.upper():7s} {span:>13s}  {self.code:16s} {self.message}"


@dataclass
class CheckReport:
    """All findings for one scenario, in time order, and a summary of the key numbers.

    summary (JSON-ready, inf as null in `to_dict`): ``min_ttc`` / ``min_ttc_agent`` (least TTC to the
    ego), ``min_distance`` / ``min_distance_agent`` (least footprint gap to the ego), ``min_thw``,
    ``min_pet`` / ``min_pet_agents``, ``contacts`` (box contacts, intended or not), ``collisions``
    (unintended ones), ``intents_met``, ``intents_unmet``, and ``per_agent``: {id: {min_ttc,
    min_distance, min_thw}} relative to the ego.
    """

    scenario: str
    duration: float
    fps: float
    num_frames: int
    findings: list[Finding] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    checks_run: tuple[str, ...] = ()

    @property
    def max_severity(self) -> Severity | None:
        """The highest severity among the findings; None when there are none."""
        return max((f.severity for f in self.findings), default=None)

    @property
    def has_errors(self) -> bool:
        return any(f.severity >= Severity.ERROR for f in self.findings)

    def counts(self) -> dict[str, int]:
        """Number of findings per severity label."""
        out = {s.label: 0 for s in Severity}
        for f in self.findings:
            out[f.severity.label] += 1
        return out

    def at_least(self, level: Severity | str) -> list[Finding]:
        """Findings at `level` or above."""
        lv = Severity.parse(level)
        return [f for f in self.findings if f.severity >= lv]

    def with_code(self, *codes: str) -> list[Finding]:
        return [f for f in self.findings if f.code in codes]

    def for_agent(self, agent_id: str) -> list[Finding]:
        return [f for f in self.findings if agent_id in f.agents]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; `json.dumps(report.to_dict(), allow_nan=False)` works."""
        return {
            "scenario": self.scenario,
            "duration": self.duration,
            "fps": self.fps,
            "num_frames": self.num_frames,
            "checks_run": list(self.checks_run),
            "max_severity": None if self.max_severity is None else self.max_severity.label,
            "counts": self.counts(),
            "summary": _jsonable(self.summary),
            "findings": [f.to_dict() for f in self.findings],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "CheckReport":
        """Inverse of `to_dict` (null summary numbers come back as None, not inf)."""
        return cls(
            scenario=d.get("scenario", ""), duration=float(d.get("duration", 0.0)), fps=float(d.get("fps", 0.0)),
            num_frames=int(d.get("num_frames", 0)),
            findings=[Finding.from_dict(f) for f in d.get("findings", [])],
            summary=dict(d.get("summary", {})), checks_run=tuple(d.get("checks_run", ())),
        )


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, (int,)) and not isinstance(obj, bool):
        return int(obj)
    try:
        return _json_number(obj)
    except (TypeError, ValueError):
        return str(obj)


def name_of(agent_id: str, start: bool = False) -> str:
    """How a sentence names an agent: its id verbatim, or "the ego" ("The ego" to start a sentence)."""
    if agent_id == "ego":
        return "The ego" if start else "the ego"
    return agent_id


def pair_names(a: str, b: str) -> str:
    """'car_1 and the ego' (the ego last), else 'a and b'."""
    if a == "ego":
        a, b = b, a
    return f"{name_of(a, start=True)} and {name_of(b)}"


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Time order; at equal times the more severe first, then by code and agents."""
    return sorted(findings, key=lambda f: (round(f.t_start, 9), -int(f.severity), f.code, f.agents))
