"""Headlights for the naive backend: beams as an ego-centred bird's-eye light raster, lamps as glows.

Beams: the ego's low beams (fixed in the ego frame, built once) and every vehicle's beams (per frame)
are painted into a ground raster around the ego, blurred, and read back per pixel at the pixel's
ego-frame (x, y): surfaces inside a beam and below lamp height get brighter.
Lamps: head lamps (warm white, facing the camera) and tail lamps (red, seen from behind) of the
vehicles are projected into each camera, hidden when something nearer covers them, and added as
soft glows whose size falls with distance.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.worldmodel.conditions import AgentState
from engine.worldmodel.naive.geometry import RigGeometry

RASTER_RES = 0.25                 # metres per raster cell
RASTER_X = (-45.0, 85.0)          # ego-frame extent of the light raster
RASTER_Y = (-55.0, 55.0)
BEAM_COLOR = np.array([1.0, 0.94, 0.82], dtype=np.float32)
HEAD_COLOR = np.array([1.0, 0.96, 0.85], dtype=np.float32)
TAIL_COLOR = np.array([1.0, 0.12, 0.08], dtype=np.float32)
LAMP_HEIGHT = 0.75
HEADLIGHT_CLASSES = {"car": 2, "truck": 2, "bus": 2, "construction_vehicle": 2, "motorcycle": 1, "bicycle": 1}
TAILLIGHT_CLASSES = {"car", "truck", "bus", "construction_vehicle", "trailer", "motorcycle"}
# beam segments: (start m, end m, half angle rad, intensity), painted far to near
_BEAM = ((22.0, 40.0, 0.30, 0.22), (10.0, 22.0, 0.34, 0.5), (3.0, 10.0, 0.42, 1.0))


def _raster_shape() -> tuple[int, int]:
    return (int(round((RASTER_Y[1] - RASTER_Y[0]) / RASTER_RES)), int(round((RASTER_X[1] - RASTER_X[0]) / RASTER_RES)))


def _to_cells(xy: NDArray[np.float64]) -> NDArray[np.int32]:
    """(N, 2) ego-frame metres -> (N, 2) int32 raster (col, row) cells."""
    cells: NDArray[np.int32] = np.round(np.stack([(xy[:, 0] - RASTER_X[0]) / RASTER_RES,
                                                  (xy[:, 1] - RASTER_Y[0]) / RASTER_RES], -1)).astype(np.int32)
    return cells


def _paint_beam(raster: NDArray[np.float32], origin: NDArray[np.float64], heading: float, scale: float) -> None:
    c, s = math.cos(heading), math.sin(heading)
    fwd, left = np.array([c, s]), np.array([-s, c])
    for r0, r1, half, inten in _BEAM:
        w0, w1 = 0.9 + r0 * math.tan(half), 0.9 + r1 * math.tan(half)
        quad = np.array([origin + fwd * r0 + left * w0, origin + fwd * r1 + left * w1,
                         origin + fwd * r1 - left * w1, origin + fwd * r0 - left * w0])
        cv2.fillConvexPoly(raster, _to_cells(quad), (float(inten * scale),), lineType=cv2.LINE_AA)


def ego_beam_raster() -> NDArray[np.float32]:
    """(Hr, Wr) float32 light raster of the ego's low beams (ego frame), blurred."""
    r = np.zeros(_raster_shape(), np.float32)
    _paint_beam(r, np.array([2.2, 0.0]), 0.0, 1.0)
    return np.asarray(cv2.GaussianBlur(r, (0, 0), 1.2 / RASTER_RES), np.float32)


def agents_beam_raster(agents: tuple[AgentState, ...]) -> NDArray[np.float32] | None:
    """(Hr, Wr) float32 light raster of the vehicles' beams, or None when no vehicle has head lamps."""
    cars = [a for a in agents if a.cls in HEADLIGHT_CLASSES]
    if not cars:
        return None
    r = np.zeros(_raster_shape(), np.float32)
    for a in cars:
        c, s = math.cos(a.yaw), math.sin(a.yaw)
        front = np.array(a.center[:2]) + np.array([c, s]) * (a.size[1] / 2)
        _paint_beam(r, front, a.yaw, 0.8 if HEADLIGHT_CLASSES[a.cls] == 2 else 0.35)
    return np.asarray(cv2.GaussianBlur(r, (0, 0), 1.2 / RASTER_RES), np.float32)


STREET_LAMP_COLOR = np.array([1.0, 0.78, 0.5], dtype=np.float32)  # sodium-ish warm light
STREET_POOL_RADIUS = 9.0


def _pool_sprite() -> NDArray[np.float32]:
    """A soft light pool of radius STREET_POOL_RADIUS in raster cells (the blurred disc, made once)."""
    radius = int(round(STREET_POOL_RADIUS / RASTER_RES))
    pad = int(round(3 * 3.0 / RASTER_RES))
    size = 2 * (radius + pad) + 1
    disc = np.zeros((size, size), np.float32)
    cv2.circle(disc, (size // 2, size // 2), radius, (0.55,), -1, cv2.LINE_AA)
    return np.asarray(cv2.GaussianBlur(disc, (0, 0), 3.0 / RASTER_RES), np.float32)


_POOL = _pool_sprite()


def street_lamp_raster(lamps: NDArray[np.float64]) -> NDArray[np.float32] | None:
    """(Hr, Wr) float32 light pools under street lamps at ego-frame points (N, 3), or None without lamps."""
    if len(lamps) == 0:
        return None
    r = np.zeros(_raster_shape(), np.float32)
    hr, wr = r.shape
    half = _POOL.shape[0] // 2
    for cx, cy in _to_cells(np.asarray(lamps, np.float64)[:, :2]):
        x0, y0, x1, y1 = cx - half, cy - half, cx + half + 1, cy + half + 1
        if x1 <= 0 or y1 <= 0 or x0 >= wr or y0 >= hr:
            continue
        sx, sy = max(0, -x0), max(0, -y0)
        patch = _POOL[sy:sy + min(y1, hr) - max(y0, 0), sx:sx + min(x1, wr) - max(x0, 0)]
        region = r[max(y0, 0):min(y1, hr), max(x0, 0):min(x1, wr)]
        np.maximum(region, patch, out=region)
    return r


def contact_shadow_raster(agents: tuple[AgentState, ...], reach: float = 0.7) -> NDArray[np.float32] | None:
    """(Hr, Wr) float32 in [0, 1]: soft ground occlusion under the inserted agents' footprints, or None."""
    ins = [a for a in agents if a.inserted]
    if not ins:
        return None
    r = np.zeros(_raster_shape(), np.float32)
    for a in ins:
        c, s = math.cos(a.yaw), math.sin(a.yaw)
        hl, hw = a.size[1] / 2 + reach * 0.3, a.size[0] / 2 + reach * 0.3
        corners = np.array([[hl, hw], [-hl, hw], [-hl, -hw], [hl, -hw]]) @ np.array([[c, s], [-s, c]])
        cv2.fillConvexPoly(r, _to_cells(corners + np.array(a.center[:2])), (1.0,), lineType=cv2.LINE_AA)
    return np.asarray(cv2.GaussianBlur(r, (0, 0), reach / RASTER_RES * 0.6), np.float32)


@dataclass(frozen=True)
class Lamp:
    """A lamp in the ego frame: position (3,), the direction it shines (3,) or None (all around), colour, intensity."""

    position: NDArray[np.float64]
    facing: NDArray[np.float64] | None
    color: NDArray[np.float32]
    intensity: float


def street_lamps(points: NDArray[np.float64]) -> list[Lamp]:
    """Glowing heads of street lamps at ego-frame points (N, 3)."""
    return [Lamp(np.asarray(p, np.float64), None, STREET_LAMP_COLOR, 0.8) for p in np.asarray(points).reshape(-1, 3)]


def vehicle_lamps(agents: tuple[AgentState, ...]) -> list[Lamp]:
    """Head and tail lamps of the vehicles among `agents` (ego frame)."""
    lamps: list[Lamp] = []
    for a in agents:
        c, s = math.cos(a.yaw), math.sin(a.yaw)
        fwd = np.array([c, s, 0.0])
        left = np.array([-s, c, 0.0])
        w, l, h = a.size
        z = min(LAMP_HEIGHT, 0.45 * h) if a.cls not in ("bus", "truck") else 0.9
        base = np.array([a.center[0], a.center[1], z])
        n_head = HEADLIGHT_CLASSES.get(a.cls, 0)
        offsets = [0.0] if n_head == 1 else [w / 2 - 0.3, -(w / 2 - 0.3)]
        if n_head:
            for o in offsets:
                lamps.append(Lamp(base + fwd * (l / 2) + left * o, fwd, HEAD_COLOR, 1.0))
        if a.cls in TAILLIGHT_CLASSES:
            tail_offsets = [0.0] if a.cls == "motorcycle" else [w / 2 - 0.25, -(w / 2 - 0.25)]
            for o in tail_offsets:
                lamps.append(Lamp(base - fwd * (l / 2) + left * o, -fwd, TAIL_COLOR, 0.55))
    return lamps


def _sprite(size: int = 65) -> NDArray[np.float32]:
    r = np.linspace(-1, 1, size, dtype=np.float32)
    d2 = r[None, :] ** 2 + r[:, None] ** 2
    sprite: NDArray[np.float32] = (np.exp(-d2 * 9.0) + 0.25 * np.exp(-d2 * 2.5)).astype(np.float32)
    return sprite


_SPRITE = _sprite()


def add_lamp_glows(image: NDArray[np.float32], depth: NDArray[np.float32], geometry: RigGeometry, k: int, lamps: list[Lamp],
                   gain: float, fog: bool = False) -> None:
    """Add the lamps visible in camera k to its image (H, W, 3) float32 in place; `depth` (H, W) metres."""
    if not lamps or gain <= 0:
        return
    pos = np.stack([lp.position for lp in lamps], axis=1)  # (3, N)
    h, w, _ = image.shape
    uv, z = geometry.project(pos, k)
    cam_origin = geometry.origins[k]
    for i, lp in enumerate(lamps):
        if not (z[i] > 0.5) or not np.all(np.isfinite(uv[:, i])):
            continue
        u, v = float(uv[0, i]), float(uv[1, i])
        if u < -40 or v < -40 or u > w + 40 or v > h + 40:
            continue
        to_cam = cam_origin - lp.position
        dist = float(np.linalg.norm(to_cam))
        facing = 1.0 if lp.facing is None else float(np.dot(lp.facing, to_cam) / max(dist, 1e-6))
        if facing <= 0.05:
            continue
        ui, vi = int(round(u)), int(round(v))
        if 0 <= ui < w and 0 <= vi < h and depth[vi, ui] + 0.8 < z[i]:
            continue  # something nearer covers the lamp
        radius = float(np.clip(gain * (1.6 if fog else 1.0) * 60.0 / max(z[i], 1.0), 2.0, 60.0))
        size = int(2 * radius) | 1
        sprite = cv2.resize(_SPRITE, (size, size), interpolation=cv2.INTER_AREA)
        amp = lp.intensity * gain * facing ** 0.5 * (1.0 if z[i] < 60 else 60.0 / z[i])
        x0, y0 = ui - size // 2, vi - size // 2
        sx0, sy0 = max(0, -x0), max(0, -y0)
        x1, y1 = min(w, x0 + size), min(h, y0 + size)
        if x1 <= max(x0, 0) or y1 <= max(y0, 0):
            continue
        patch = sprite[sy0:sy0 + (y1 - max(y0, 0)), sx0:sx0 + (x1 - max(x0, 0))]
        image[max(y0, 0):y1, max(x0, 0):x1] += (amp * patch)[..., None] * lp.color
