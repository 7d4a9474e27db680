"""Kinematic feasibility per class, and teleports.

Quantities per agent and frame, (A, T) arrays from the sampled poses (finite differences on the
frame grid, one-sided at the ends of an agent's existence, never across them):

* speed |v| (the trajectory's own derivative); accel / decel: d|v|/dt above / below zero, with v
  and a from central differences of the sampled positions (this filters the ripple that an
  interpolant's second derivative has between key points, as a vehicle's dynamics would);
* jerk: d(accel)/dt; yaw_rate: d(yaw)/dt; curvature: |yaw_rate| / max(|v|, 1 m/s), the inverse of
  the turning radius (a vehicle turning on the spot has a huge one);
* lat_accel: |v x a| / |v| from the path (above 1 m/s); reverse: speed backwards along the heading;
* slip: angle between the direction of travel and the heading (or its reverse), above 2 m/s.

A teleport is a frame step longer than the speeds at its two ends allow (1.5 x the faster one
times the step, plus 0.5 m): the trajectory jumps between samples.
"""
from __future__ import annotations

import math

import numpy as np

from engine.checks.config import CheckConfig, ClassLimits
from engine.checks.findings import Finding, FindingCode, Severity, name_of
from engine.checks.sampling import BoolArray, FloatArray, SampledScene, runs

SLIP_MIN_SPEED = 2.0        # m/s; below it the direction of travel is too uncertain to compare
CURVATURE_SPEED_FLOOR = 1.0  # m/s
LAT_MIN_SPEED = 1.0         # m/s
TELEPORT_FACTOR = 1.5
TELEPORT_SLACK = 0.5        # m


def masked_gradient(f: FloatArray, present: BoolArray, dt: float) -> FloatArray:
    """d f / dt of (A, T) samples: central inside an agent's existence, one-sided at its ends, 0 alone."""
    if f.shape[1] < 2:
        return np.zeros_like(f)
    valid = present[:, :-1] & present[:, 1:]
    fd = np.diff(f, axis=1) / dt
    left, right = np.zeros_like(f), np.zeros_like(f)
    lv, rv = np.zeros(f.shape, bool), np.zeros(f.shape, bool)
    left[:, 1:], lv[:, 1:] = fd, valid
    right[:, :-1], rv[:, :-1] = fd, valid
    out: FloatArray = np.where(lv & rv, (left + right) / 2, np.where(lv, left, np.where(rv, right, 0.0)))
    return out


def kinematic_arrays(scene: SampledScene) -> dict[str, FloatArray]:
    """speed, accel, decel, jerk, yaw_rate, curvature, lat_accel, reverse_speed, slip: (A, T) arrays, >= 0
    except accel (signed d|v|/dt). Zero where the agent is absent."""
    p, dt = scene.present, scene.dt
    speed = scene.speed                              # np.hypot(vx, vy), cached on the scene
    # velocity and acceleration from the sampled positions (central differences on the frame grid):
    # robust to the ripple an interpolant's own second derivative has between its key points
    vx, vy = masked_gradient(scene.x, p, dt), masked_gradient(scene.y, p, dt)
    ax, ay = masked_gradient(vx, p, dt), masked_gradient(vy, p, dt)
    v_fd = np.hypot(vx, vy)
    accel = masked_gradient(v_fd, p, dt)
    jerk = masked_gradient(accel, p, dt)
    yaw_rate = masked_gradient(scene.yaw, p, dt)
    fast = v_fd > LAT_MIN_SPEED
    lat = np.where(fast, np.abs(vx * ay - vy * ax) / np.where(fast, v_fd, 1.0), 0.0)
    c, s = scene.cos_yaw, scene.sin_yaw            # np.cos / np.sin of the yaw, cached on the scene
    v_lon = scene.vx * c + scene.vy * s
    v_lat = -scene.vx * s + scene.vy * c
    slip = np.where(speed > SLIP_MIN_SPEED, np.arctan2(np.abs(v_lat), np.abs(v_lon)), 0.0)
    out = {
        "speed": speed,
        "accel": accel,
        "decel": np.maximum(-accel, 0.0),
        "jerk": np.abs(jerk),
        "yaw_rate": np.abs(yaw_rate),
        "curvature": np.abs(yaw_rate) / np.maximum(speed, CURVATURE_SPEED_FLOOR),
        "lat_accel": lat,
        "reverse_speed": np.maximum(-v_lon, 0.0),
        "slip": slip,
    }
    return {k: np.where(p, v, 0.0) for k, v in out.items()}


def _describe(q: str, aid: str, cls: str, v: float, lim: float) -> str:
    a = "an" if cls[0] in "aeiou" else "a"
    if q == "speed":
        if lim < 1.0:
            return f"{name_of(aid, True)} moves at {v:.2f} m/s; {a} {cls} does not move on its own"
        return f"{name_of(aid, True)} reaches {v:.1f} m/s ({v * 3.6:.0f} km/h); {a} {cls} does at most {lim:g} m/s"
    if q == "accel":
        return f"{name_of(aid, True)} speeds up at {v:.1f} m/s^2; {a} {cls} manages at most {lim:g} m/s^2"
    if q == "decel":
        return f"{name_of(aid, True)} brakes at {v:.1f} m/s^2; {a} {cls} brakes at most at {lim:g} m/s^2"
    if q == "jerk":
        return f"{name_of(aid, True)} changes its acceleration at {v:.0f} m/s^3; above {lim:g} m/s^3 is implausible for {a} {cls}"
    if q == "yaw_rate":
        return f"{name_of(aid, True)} turns at {v:.2f} rad/s; {a} {cls} turns at most at {lim:g} rad/s"
    if q == "curvature":
        return f"{name_of(aid, True)} turns on a radius of {1.0 / v:.1f} m; {a} {cls} needs at least {1.0 / lim:.1f} m"
    if q == "lat_accel":
        return f"{name_of(aid, True)} corners at {v:.1f} m/s^2 lateral acceleration; {a} {cls} holds the road up to {lim:g} m/s^2"
    if q == "reverse_speed":
        return f"{name_of(aid, True)} reverses at {v:.1f} m/s; {a} {cls} reverses at most at {lim:g} m/s"
    if q == "slip":
        return (f"{name_of(aid, True)} moves {math.degrees(v):.0f} deg off its heading (sideways); {a} {cls} cannot slide more "
                f"than {math.degrees(lim):.0f} deg")
    return f"{name_of(aid, True)}: {q} {v:.3g} exceeds {lim:g}"


QUANTITIES = ("speed", "accel", "decel", "jerk", "yaw_rate", "curvature", "lat_accel", "reverse_speed", "slip")


def feasibility_findings(scene: SampledScene, cfg: CheckConfig) -> list[Finding]:
    """A finding per run of frames where an agent exceeds a limit of its class (jerk: warning, else error)."""
    kin = kinematic_arrays(scene)
    out: list[Finding] = []
    unknown: dict[str, list[str]] = {}
    by_class: dict[str, ClassLimits | None] = {cls: cfg.limits_for(cls) for cls in set(scene.classes)}
    limits = [by_class[cls] for cls in scene.classes]
    # (Q, A) thresholds (inf: not checked) and which rows exceed them anywhere, for all rows at once
    class_bound = {cls: [math.inf if lim is None or math.isinf(getattr(lim, q)) else getattr(lim, q) * (1.0 + cfg.limit_tolerance)
                         for q in QUANTITIES] for cls, lim in by_class.items()}
    bound = np.array([class_bound[cls] for cls in scene.classes]).reshape(scene.num_agents, len(QUANTITIES)).T
    exceeds = np.stack([(kin[q] > bound[n][:, None]).any(axis=1) for n, q in enumerate(QUANTITIES)]) \
        if scene.num_agents else np.zeros((len(QUANTITIES), 0), dtype=bool)
    for r, (aid, cls) in enumerate(zip(scene.ids, scene.classes)):
        lim = limits[r]
        if lim is None:
            unknown.setdefault(cls, []).append(aid)
            continue
        for n, q in enumerate(QUANTITIES):
            if not exceeds[n, r]:
                continue
            limit = getattr(lim, q)
            val = kin[q][r]
            over = val > limit * (1.0 + cfg.limit_tolerance)
            for k0, k1 in runs(over):
                km = k0 + int(np.argmax(val[k0:k1 + 1]))
                v = float(val[km])
                span = f" at {scene.times[km]:.2f} s" if k0 == k1 else \
                    f" (worst at {scene.times[km]:.2f} s, over the limit {scene.times[k0]:.2f}-{scene.times[k1]:.2f} s)"
                sev = Severity.WARNING if q == "jerk" else Severity.ERROR
                out.append(Finding(
                    FindingCode.infeasible(q), sev, scene.times[k0], scene.times[k1], (aid,),
                    _describe(q, aid, cls, v, limit) + span + ".",
                    (float(scene.x[r, km]), float(scene.y[r, km])), {"value": v, "limit": limit,
                                                                     "t_worst": float(scene.times[km])}))
    for cls, ids in unknown.items():
        out.append(Finding(FindingCode.NO_LIMITS, Severity.INFO, scene.times[0], scene.times[-1], tuple(ids),
                           f"No kinematic limits for class {cls!r}: {', '.join(ids)} not checked for feasibility."))
    return out


def teleport_findings(scene: SampledScene, cfg: CheckConfig) -> list[Finding]:
    """An error per frame step where an agent moves further than its speed allows."""
    if scene.num_frames < 2:
        return []
    dt = scene.dt
    step = np.hypot(np.diff(scene.x, axis=1), np.diff(scene.y, axis=1))        # (A, T-1)
    speed = scene.speed
    vmax = np.maximum(speed[:, :-1], speed[:, 1:])
    valid = scene.present[:, :-1] & scene.present[:, 1:]
    jump = valid & (step > TELEPORT_FACTOR * vmax * dt + TELEPORT_SLACK)
    out: list[Finding] = []
    for r in np.flatnonzero(jump.any(1)):
        aid = scene.ids[r]
        for k0, k1 in runs(jump[r]):
            km = k0 + int(np.argmax(step[r, k0:k1 + 1]))
            d = float(step[r, km])
            out.append(Finding(
                FindingCode.TELEPORT, Severity.ERROR, scene.times[k0], scene.times[k1 + 1], (aid,),
                f"{name_of(aid, True)} jumps {d:.1f} m between {scene.times[km]:.2f} and {scene.times[km + 1]:.2f} s while its "
                f"speed is at most {vmax[r, km]:.1f} m/s ({d / dt:.0f} m/s implied).",
                (float(scene.x[r, km + 1]), float(scene.y[r, km + 1])),
                {"jump": d, "implied_speed": d / dt, "speed": float(vmax[r, km])}))
    return out
