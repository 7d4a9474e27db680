"""Relations to the ego over time: footprint gap, time-to-collision (TTC) and time headway (THW).

Definitions (all per frame, from the sampled poses and velocities):

* distance: the exact gap between the two footprints (0 when they overlap), not between centres.
* TTC: the time until the two footprints would first touch if both kept their current velocity
  and heading (Hayward's definition, evaluated exactly for oriented boxes by a continuous
  separating-axis test). When the agents move along the line joining them this is the gap between
  the footprints divided by the closing speed along that line of sight; when they are not on a
  collision course (diverging, or passing side by side) it is +inf. 0 while the boxes overlap.
  Values beyond the horizon are reported as +inf.
* THW: the time the ego needs at its current speed to cover the gap to the rear of an agent that
  is ahead of it in its corridor (the ego's own width, straight ahead along its heading) and does
  not come towards it (a lead vehicle, or a standing one); +inf when there is no such agent ahead
  or the ego does not move forward.

Frames where the agent (or the ego) does not exist are NaN.
"""
from __future__ import annotations

import math

from typing import NamedTuple

import numpy as np

from engine.checks.geometry import obb_gap, obb_penetration, time_to_overlap
from engine.checks.sampling import FloatArray, IntArray, SampledScene
from engine.scenario.model import EGO_ID, Scenario

DEFAULT_TTC_HORIZON = 10.0
DEFAULT_MOVING_SPEED = 0.5
TTC_PRUNE_MARGIN = 1e-3   # m of slack on the bounding-circle reach test of `ttc_between`


class EgoRelations(NamedTuple):
    """One agent's relation to the ego: four (T,) float64 arrays (see the module docstring)."""

    time: FloatArray
    distance: FloatArray
    ttc: FloatArray
    thw: FloatArray


def _per_agent(values: FloatArray, rows: int | IntArray) -> FloatArray:
    """Per-agent scalars for rows (int or (R,) array), shaped to broadcast with (R, T) frame arrays."""
    v: FloatArray = values[rows]
    return v[..., None] if np.ndim(rows) else v


def ttc_between(scene: SampledScene, a: int | IntArray, b: int | IntArray,
                horizon: float = DEFAULT_TTC_HORIZON) -> FloatArray:
    """TTC (s) between rows a and b on every frame: (T,) for two ints, (R, T) when one is an (R,) array.

    inf beyond `horizon` and where not on a collision course; 0 while overlapping (see module docstring).
    The continuous SAT runs only where the boxes can meet within the horizon: their bounding circles
    must touch at the closest approach of the centres within it (elsewhere the TTC exceeds the
    horizon, and is inf, anyway; `TTC_PRUNE_MARGIN` covers rounding).
    """
    s = scene
    dx, dy = s.x[b] - s.x[a], s.y[b] - s.y[a]
    rvx, rvy = s.vx[b] - s.vx[a], s.vy[b] - s.vy[a]
    hl_a, hw_a = _per_agent(s.half_length, a), _per_agent(s.half_width, a)
    hl_b, hw_b = _per_agent(s.half_length, b), _per_agent(s.half_width, b)
    trig = (s.cos_yaw[a], s.sin_yaw[a], s.cos_yaw[b], s.sin_yaw[b])
    shape = np.broadcast_shapes(dx.shape, dy.shape, rvx.shape, rvy.shape, np.shape(hl_a), np.shape(hl_b),
                                *(np.shape(v) for v in trig))
    rsum = np.hypot(hl_a, hw_a) + np.hypot(hl_b, hw_b)                        # circumradii
    if math.isfinite(horizon):
        # closest approach of the centres within the horizon (relative motion at constant velocity)
        v2 = rvx * rvx + rvy * rvy
        with np.errstate(invalid="ignore"):
            t_close = np.minimum(np.maximum(-(dx * rvx + dy * rvy) / np.where(v2 > 0.0, v2, 1.0), 0.0), horizon)
        near = np.broadcast_to(np.hypot(dx + rvx * t_close, dy + rvy * t_close) - rsum <= TTC_PRUNE_MARGIN, shape)
    else:       # the bound the centres can close by (|v| inf: as before, no pair at rest is looked at)
        with np.errstate(invalid="ignore"):
            near = np.broadcast_to(np.hypot(dx, dy) - rsum <= np.hypot(rvx, rvy) * horizon + TTC_PRUNE_MARGIN, shape)
    out: FloatArray = np.full(shape, np.inf)
    idx = np.flatnonzero(near)
    if idx.size:
        at = np.unravel_index(idx, shape)

        def pick(val: FloatArray | float) -> FloatArray:
            """val (broadcastable to `shape`) at the near entries, (N,)."""
            v = np.asarray(val)
            if v.shape == shape:
                flat: FloatArray = v.ravel()[idx]
                return flat
            got: FloatArray = np.broadcast_to(v, shape)[at]
            return got

        ttc = time_to_overlap(pick(dx), pick(dy), pick(rvx), pick(rvy), None, pick(hl_a), pick(hw_a), None,
                              pick(hl_b), pick(hw_b), trig=(pick(trig[0]), pick(trig[1]), pick(trig[2]), pick(trig[3])))
        out.ravel()[idx] = np.where(ttc > horizon, np.inf, ttc)
    return out


def headway_to(scene: SampledScene, rows: IntArray, ego: int = 0,
               moving_speed: float = DEFAULT_MOVING_SPEED) -> FloatArray:
    """THW (s) of the ego behind each of `rows` (R,), shape (R, T); inf when not ahead in the corridor."""
    c, s = scene.cos_yaw[ego], scene.sin_yaw[ego]                          # (T,)
    dx, dy = scene.x[rows] - scene.x[ego], scene.y[rows] - scene.y[ego]    # (R, T)
    lon_c, lat_c = dx * c + dy * s, dy * c - dx * s                        # agent centre in the ego frame
    cr = scene.cos_yaw[rows] * c + scene.sin_yaw[rows] * s                 # cos of the relative yaw
    sr = scene.sin_yaw[rows] * c - scene.cos_yaw[rows] * s
    hl, hw = scene.half_length[rows][:, None], scene.half_width[rows][:, None]
    lon_ext = hl * np.abs(cr) + hw * np.abs(sr)                            # the agent's half extent along ...
    lat_ext = hl * np.abs(sr) + hw * np.abs(cr)                            # ... and across the ego's heading
    ahead = lon_c - lon_ext - scene.half_length[ego]
    hw_e = scene.half_width[ego]
    in_corridor = (lat_c + lat_ext > -hw_e) & (lat_c - lat_ext < hw_e)
    v_lon = scene.vx[ego] * c + scene.vy[ego] * s                          # (T,)
    lead_v = scene.vx[rows] * c + scene.vy[rows] * s                       # (R, T) along the ego's heading
    ok = in_corridor & (ahead > 0.0) & (v_lon > moving_speed)[None, :] & (lead_v > -moving_speed)
    out: FloatArray = np.where(ok, ahead / np.where(ok, v_lon[None, :], 1.0), np.inf)
    return out


def ego_relation_arrays(scene: SampledScene, ego: int = 0, horizon: float = DEFAULT_TTC_HORIZON,
                        moving_speed: float = DEFAULT_MOVING_SPEED, exact_distance: bool = True) -> dict[str, FloatArray]:
    """distance, ttc, thw, depth of every row to the ego row: (A, T) arrays, NaN on the ego row and where absent.

    depth is the SAT depth (`obb_penetration`). With exact_distance=False the exact gap is only
    computed at the frames that can hold an agent's least gap (where the SAT lower bound is below
    the least upper bound, centre distance minus the two inscribed radii) and is NaN elsewhere; the
    per-agent minimum over frames is then still exact.
    """
    A = scene.num_agents
    rows = np.array([r for r in range(A) if r != ego], dtype=int)
    out = {k: np.full((A, scene.num_frames), np.nan) for k in ("distance", "ttc", "thw", "depth")}
    if rows.size == 0:
        return out
    s = scene
    dx, dy = s.x[rows] - s.x[ego], s.y[rows] - s.y[ego]
    args = (dx, dy, s.yaw[ego], s.half_length[ego], s.half_width[ego],
            s.yaw[rows], s.half_length[rows][:, None], s.half_width[rows][:, None])
    trig = (s.cos_yaw[ego], s.sin_yaw[ego], s.cos_yaw[rows], s.sin_yaw[rows])
    depth = obb_penetration(*args, trig=trig)
    absent = ~(s.present[rows] & s.present[ego][None, :])
    if exact_distance:
        gap = obb_gap(*args, depth=depth, trig=trig)
    else:
        inscribed = np.minimum(s.half_length, s.half_width)
        upper = np.maximum(np.hypot(dx, dy) - inscribed[ego] - inscribed[rows][:, None], 0.0)   # the gap is at most this
        upper = np.where(absent, np.inf, upper)
        need = ~absent & (np.maximum(-depth, 0.0) <= upper.min(axis=1, keepdims=True))
        r, k = np.nonzero(need)
        gap = np.full(depth.shape, np.nan)
        b = rows[r]
        gap[r, k] = obb_gap(dx[r, k], dy[r, k], None, s.half_length[ego], s.half_width[ego], None,
                            s.half_length[b], s.half_width[b], depth=depth[r, k],
                            trig=(s.cos_yaw[ego, k], s.sin_yaw[ego, k], s.cos_yaw[b, k], s.sin_yaw[b, k]))
    ttc = ttc_between(s, ego, rows, horizon=horizon)
    thw = headway_to(s, rows, ego, moving_speed)
    for key, val in (("distance", gap), ("ttc", ttc), ("thw", thw), ("depth", depth)):
        out[key][rows] = np.where(absent, np.nan, val)
    return out


def gap_at(scene: SampledScene, a: int, b: int, k: int) -> float:
    """Exact footprint gap (m) between rows a and b at frame k."""
    s = scene
    return float(obb_gap(s.x[b, k] - s.x[a, k], s.y[b, k] - s.y[a, k], s.yaw[a, k], s.half_length[a],
                         s.half_width[a], s.yaw[b, k], s.half_length[b], s.half_width[b]))


def ego_relations(scenario: Scenario, agent_id: str, horizon: float = DEFAULT_TTC_HORIZON) -> EgoRelations:
    """(time, distance, ttc, thw) of one agent relative to the ego on the frame grid, for plotting.

    time (T,) s; distance (T,) m footprint gap; ttc (T,) s, inf where not closing; thw (T,) s, inf where
    the agent is not ahead of the ego. NaN where the agent does not exist. KeyError for an unknown id,
    ValueError for the ego itself.
    """
    if agent_id == EGO_ID:
        raise ValueError("ego_relations needs another agent than the ego")
    scene = SampledScene.from_scenario(scenario, agent_ids=(EGO_ID, agent_id))
    rel = ego_relation_arrays(scene, 0, horizon)
    return EgoRelations(scene.times.copy(), rel["distance"][1], rel["ttc"][1], rel["thw"][1])
