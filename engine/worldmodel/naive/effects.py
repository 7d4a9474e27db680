"""The environment pass of the naive backend: grade, sky, wet or snowy ground, headlights, fog, rain, snow.

Per pixel, with x the shaded colour after grading and desaturation (one 3x3 colour matrix):
    out = x * S * f + (snow + rain) + fog_color * (1 - f) + glows
S is per pixel (contact shadows, wet road, snow cover, and headlight / street-lamp light, which is
warm white against the scene's ambient colour cast), f = exp(-depth / visibility) the fog transmittance. Lights and shadows are looked up in ego-centred
bird's-eye rasters at each pixel's ego-frame (x, y), from depth and the rig's per-pixel rays.
Cameras are processed in parallel threads (numpy and OpenCV release the GIL); everything that does
not change between frames (rays, sky gradients, the ego beam raster, precipitation layers) is
computed once per clip.
"""
from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.worldmodel.conditions import FrameConditions
from engine.worldmodel.naive.geometry import RigGeometry
from engine.worldmodel.naive.lights import (
    RASTER_RES,
    RASTER_X,
    RASTER_Y,
    BEAM_COLOR,
    Lamp,
    add_lamp_glows,
    agents_beam_raster,
    contact_shadow_raster,
    ego_beam_raster,
    street_lamp_raster,
    street_lamps,
    vehicle_lamps,
)
from engine.worldmodel.naive.look import Look
from engine.worldmodel.naive.precipitation import PrecipitationLayers

SKY_DEPTH = 1.0e4  # metres standing in for "nothing hit" in the point maths
GROUND_Z = 0.2     # points below this height (ego frame, metres) count as ground
SHADOW_STRENGTH = 0.55
SNOW_LEVEL = 0.82
RAIN_LEVEL = 0.9

_EXECUTOR: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _EXECUTOR
    if _EXECUTOR is None:
        _EXECUTOR = ThreadPoolExecutor(max_workers=max(1, min(6, os.cpu_count() or 1)),
                                       thread_name_prefix="naive-env")
    return _EXECUTOR


def colour_matrix(look: Look) -> NDArray[np.float32]:
    """(3, 3) float32 matrix taking uint8-valued RGB to graded, desaturated RGB in 0..1."""
    gain = np.diag(np.asarray(look.tint, np.float64) * look.exposure)
    d = look.desaturate
    desat = (1.0 - d) * np.eye(3) + d / 3.0 * np.ones((3, 3))
    return (desat @ gain / 255.0).astype(np.float32)


class EnvironmentPass:
    """Turns shaded frames into the look of an environment (see `apply`)."""

    def __init__(self, geometry: RigGeometry, look: Look, seed: int = 0, contact_shadows: bool = False) -> None:
        """contact_shadows: darken the ground under inserted agents (for composites over real frames)."""
        self.geometry = geometry
        self.look = look
        self.contact_shadows = contact_shadows
        v = len(geometry.rig)
        w, h = geometry.rig.size
        self._matrix = colour_matrix(look)
        self._fog = not math.isinf(look.fog_visibility)
        self._sky: NDArray[np.float32] | None = None
        if look.sky is not None and not (self._fog and SKY_DEPTH / look.fog_visibility > 20):  # fog hides the sky
            horizon, zenith = (np.asarray(c, np.float32) for c in look.sky)
            e = np.clip(geometry.elevation / 0.45, 0.0, 1.0)[..., None]
            e = e * e * (3 - 2 * e)
            sky = horizon + (zenith - horizon) * e  # (V, H, W, 3)
            d = look.desaturate
            self._sky = (sky + (sky.mean(-1, keepdims=True) - sky) * d).astype(np.float32)
        self._ego_beams = ego_beam_raster() if look.light_gain > 0 else None
        self._precip = PrecipitationLayers(look.precipitation, v, w, h, seed) if look.precipitation else None
        # the layer's weight: rain adds light, snow flakes cover (see `_camera`)
        self._precip_gain = look.precipitation_gain * (RAIN_LEVEL if look.precipitation == "rain" else 1.0)
        self._fog_color = np.asarray(look.fog_color, np.float32)
        self._needs_points = look.light_gain > 0 or look.wet > 0 or look.snow_cover > 0 or contact_shadows
        # per-unit-depth rays with x, y in light-raster cells (z in metres) and the camera origins likewise,
        # so a pixel's raster cell is depth * ray + origin (two passes, no metre -> cell conversion per frame)
        cell = np.array([1.0 / RASTER_RES, 1.0 / RASTER_RES, 1.0], np.float32)
        self._raster_rays = geometry.rays * cell[None, :, None, None]                      # (V, 3, H, W)
        self._raster_origins = [((o[0] - RASTER_X[0]) / RASTER_RES, (o[1] - RASTER_Y[0]) / RASTER_RES, o[2])
                                for o in map(lambda v: [np.float32(c) for c in v], geometry.origins)]
        lamp = BEAM_COLOR / np.asarray(look.ambient_tint, np.float32)
        self._lamp_rgb = (lamp / lamp.mean()).astype(np.float32)

    def apply(self, frame: FrameConditions, shaded: NDArray[np.uint8] | None = None,
              depth: NDArray[np.float32] | None = None) -> NDArray[np.uint8]:
        """(V, H, W, 3) uint8 frames in the look's environment.

        shaded: (V, H, W, 3) uint8 input (default `frame.shaded`); depth: (V, H, W) metres, inf where
        nothing was hit (default `frame.depth`), places every pixel in 3-D. A clear-day look without
        contact shadows returns the input unchanged.
        """
        look = self.look
        src = frame.shaded if shaded is None else shaded
        depth_m = frame.depth if depth is None else depth
        if src is None:
            raise ValueError(f"frame {frame.index}: the naive backend needs the shaded pass")
        if look.is_identity and not self.contact_shadows:
            return src.copy()
        if depth_m is None:
            raise ValueError(f"frame {frame.index}: the naive backend needs depth for {look.time_of_day}/{look.weather}")

        light: NDArray[np.float32] | None = None
        if self._ego_beams is not None:   # built when look.light_gain > 0
            light = self._ego_beams
            extra = agents_beam_raster(frame.agents)
            if extra is not None:
                light = np.maximum(light, extra)
            pools = street_lamp_raster(frame.lamps) if look.street_lamps else None
            if pools is not None:
                light = light + pools
        shadow = contact_shadow_raster(frame.agents) if self.contact_shadows else None
        lamps: list[Lamp] = []
        if look.glow_gain > 0:
            lamps = vehicle_lamps(frame.agents) + (street_lamps(frame.lamps) if look.street_lamps else [])

        out = np.empty_like(src)

        def one(k: int) -> None:
            layer = self._precip.at_camera(k, frame.time, self._precip_gain) if self._precip is not None else None
            out[k] = self._camera(k, src[k], depth_m[k], frame.inserted[k], light, shadow, lamps, layer)

        list(_executor().map(one, range(src.shape[0])))
        return out

    def _camera(self, k: int, src: NDArray[np.uint8], depth_m: NDArray[np.float32], inserted: NDArray[np.bool_],
                light: NDArray[np.float32] | None, shadow: NDArray[np.float32] | None, lamps: list[Lamp],
                layer: NDArray[np.float32] | None) -> NDArray[np.uint8]:
        """One camera: src (H, W, 3) uint8, depth_m (H, W) metres -> (H, W, 3) uint8.

        Per-pixel factors are built as contiguous (H, W) float32 planes (fast SIMD loops) and only merged
        into (H, W, 3) at the end: numpy broadcasting of an (H, W, 1) plane over 3 channels is ~30x slower.
        """
        look = self.look
        h, w, _ = src.shape
        x = np.asarray(cv2.transform(src.astype(np.float32), self._matrix), np.float32)
        finite = np.isfinite(depth_m)
        depth = np.where(finite, depth_m, np.float32(SKY_DEPTH))
        if self._sky is not None:
            x = np.asarray(cv2.copyTo(self._sky[k], np.logical_not(finite).view(np.uint8), x), np.float32)

        scale: NDArray[np.float32] | None = None      # S, (H, W)
        lit: NDArray[np.float32] | None = None        # lamp light, (H, W)
        neutral: NDArray[np.float32] | None = None    # grey additive terms (snow, rain), (H, W)
        if self._needs_points:
            rays, (mx0, my0, pz0) = self._raster_rays[k], self._raster_origins[k]
            pz = rays[2] * depth
            pz += pz0
            cells: tuple[NDArray[np.float32], NDArray[np.float32]] | None = None
            if shadow is not None or light is not None:   # raster cell coordinates of each pixel's point
                mx = rays[0] * depth
                mx += mx0
                my = rays[1] * depth
                my += my0
                cells = (mx, my)
            scale = np.ones((h, w), np.float32)
            if shadow is not None and cells is not None:
                occ = _remap(shadow, *cells)
                occ *= _unit_ramp(1.0, -1.0 / 0.4, pz)
                occ[inserted] = 0.0
                scale -= np.float32(SHADOW_STRENGTH) * occ
            if look.wet > 0 or look.snow_cover > 0:
                ground = _unit_ramp(2.0, -1.0 / GROUND_Z, pz)
                ground *= finite
                if look.wet > 0:
                    scale *= 1.0 - np.float32(look.wet) * ground
                if look.snow_cover > 0:
                    ground *= np.float32(look.snow_cover)
                    scale *= 1.0 - ground
                    ground *= np.float32(SNOW_LEVEL * look.brightness)
                    neutral = ground
            if light is not None and cells is not None:
                lit = _remap(light, *cells)
                lit *= _unit_ramp(1.5, -1.0 / 2.5, pz)
                lit *= np.float32(look.light_gain)
        f: NDArray[np.float32] | None = None
        if self._fog:
            f = np.asarray(cv2.exp(depth * np.float32(-1.0 / look.fog_visibility)), np.float32)
            if scale is None:
                scale = f.copy()
            else:
                scale *= f
            if neutral is not None:
                neutral *= f
        if layer is not None:
            if look.precipitation == "rain":   # the layer comes from PrecipitationLayers(look.precipitation)
                neutral = layer if neutral is None else np.asarray(cv2.add(neutral, layer), np.float32)
            else:  # snow flakes cover what is behind them
                keep = 1.0 - layer
                scale = keep if scale is None else np.asarray(cv2.multiply(scale, keep), np.float32)
                layer *= np.float32(0.95 * max(look.brightness, 0.25))
                neutral = layer if neutral is None else np.asarray(cv2.add(neutral, layer), np.float32)
        if lit is not None:   # warm lamp light: per channel, against the scene's ambient colour cast
            base: NDArray[np.float32] | np.float32
            if scale is not None:   # S * (1 + lit * lamp_c) = S + (S * lit) * lamp_c
                lit *= scale
                base = scale
            else:
                base = np.float32(1.0)
            mul = cv2.merge([lit * c + base for c in self._lamp_rgb])
            np.multiply(x, mul, out=x)
        elif scale is not None:
            np.multiply(x, cv2.cvtColor(scale, cv2.COLOR_GRAY2RGB), out=x)
        if f is not None:     # + fog_c * (1 - f) (+ neutral): fog_c - fog_c * f
            add = cv2.merge([cv2.scaleAdd(f, -float(c), neutral) + c if neutral is not None
                             else f * np.float32(-c) + c for c in self._fog_color])
            np.add(x, add, out=x)
        elif neutral is not None:
            np.add(x, cv2.cvtColor(neutral, cv2.COLOR_GRAY2RGB), out=x)
        if lamps:
            add_lamp_glows(x, depth, self.geometry, k, lamps, look.glow_gain, fog=self._fog and look.fog_visibility < 100)
        return np.asarray(cv2.convertScaleAbs(x.reshape(h, w * 3), alpha=255.0), np.uint8).reshape(h, w, 3)


def _unit_ramp(offset: float, slope: float, z: NDArray[np.float32]) -> NDArray[np.float32]:
    """(H, W) float32 clip(offset + slope * z, 0, 1) for z (H, W) float32, in two passes."""
    r = z * np.float32(slope)
    r += np.float32(offset)
    np.clip(r, 0.0, 1.0, out=r)
    return r


def _remap(raster: NDArray[np.float32], mx: NDArray[np.float32], my: NDArray[np.float32]) -> NDArray[np.float32]:
    """(H, W) float32 raster values at raster cell coordinates mx, my (H, W); 0 outside (bilinear)."""
    return np.asarray(cv2.remap(raster, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0.0,)),
                      np.float32)


def composite_over_background(shaded: NDArray[np.uint8], depth: NDArray[np.float32], object_mask: NDArray[np.bool_],
                              background: NDArray[np.uint8], background_depth: NDArray[np.float32],
                              ) -> tuple[NDArray[np.uint8], NDArray[np.float32]]:
    """Paste rendered objects into real frames where they are nearer than the real scene.

    shaded (V, H, W, 3) uint8 and depth (V, H, W) metres of the render; object_mask (V, H, W) bool
    pixels of inserted objects; background (V, H, W, 3) uint8 and background_depth (V, H, W) metres
    (inf or 0 where unknown: the object wins). Returns the composite (V, H, W, 3) uint8 and its depth.
    """
    bg_d = np.where((background_depth > 0) & np.isfinite(background_depth), background_depth, np.inf)
    front = object_mask & (depth < bg_d)
    out = np.where(front[..., None], shaded, background)
    return out, np.where(front, depth, bg_d).astype(np.float32)
