"""Rain streaks and snow flakes: seeded per-camera layers, scrolled frame by frame (deterministic per seed)."""
from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
from numpy.typing import NDArray

Precipitation = Literal["rain", "snow"]  # the kinds of falling layer

RAIN_SPEED = 0.55   # image heights per second
SNOW_SPEED = 0.09


def rain_layer(width: int, height: int, rng: np.random.Generator, density: float = 0.6) -> NDArray[np.float32]:
    """(H, W) float32 in [0, 1]: slanted, motion-blurred streaks; tiles seamlessly in v."""
    layer = np.zeros((height, width), np.float32)
    n = int(density * width * height / 260)
    x = rng.uniform(0, width, n)
    y = rng.uniform(0, height, n)
    length = rng.uniform(0.04, 0.11, n) * height
    slant = rng.normal(0.12, 0.03, n)
    val = rng.uniform(0.35, 1.0, n)
    for xi, yi, li, si, vi in zip(x, y, length, slant, val):
        for dy in (0.0, -height):  # draw the wrapped copy too, so scrolling is seamless
            p0 = (int(xi), int(yi + dy))
            p1 = (int(xi + si * li), int(yi + dy + li))
            cv2.line(layer, p0, p1, (float(vi),), 1, cv2.LINE_AA)
    return np.asarray(cv2.GaussianBlur(layer, (0, 0), 0.6), np.float32)


def snow_layer(width: int, height: int, rng: np.random.Generator, density: float = 1.0) -> NDArray[np.float32]:
    """(H, W) float32 in [0, 1]: soft round flakes of mixed sizes; tiles seamlessly in v."""
    layer = np.zeros((height, width), np.float32)
    n = int(density * width * height / 700)
    x = rng.uniform(0, width, n)
    y = rng.uniform(0, height, n)
    r = rng.choice([1, 1, 1, 2, 2, 3], n)
    val = rng.uniform(0.5, 1.0, n)
    for xi, yi, ri, vi in zip(x, y, r, val):
        for dy in (0.0, -height):
            cv2.circle(layer, (int(xi), int(yi + dy)), int(ri), (float(vi),), -1, cv2.LINE_AA)
    return np.asarray(cv2.GaussianBlur(layer, (0, 0), 0.7), np.float32)


class PrecipitationLayers:
    """One seeded layer per camera; `at(time)` gives the (V, H, W) float32 layer scrolled to that time.

    The layers are stored stacked twice in v, (V, 2H, W), so a layer scrolled by s rows is the
    contiguous view rows [H - s, 2H - s) instead of an `np.roll` copy.
    """

    def __init__(self, kind: Precipitation, num_views: int, width: int, height: int, seed: int) -> None:
        if kind not in ("rain", "snow"):
            raise ValueError(f"unknown precipitation {kind!r}")
        rng = np.random.default_rng(seed)
        make = rain_layer if kind == "rain" else snow_layer
        self.kind = kind
        self.layers: NDArray[np.float32] = np.stack([make(width, height, rng) for _ in range(num_views)])
        self._tiled: NDArray[np.float32] = np.concatenate([self.layers, self.layers], axis=1)
        self.speed = RAIN_SPEED if kind == "rain" else SNOW_SPEED

    def at(self, time: float) -> NDArray[np.float32]:
        """(V, H, W) float32 layers shifted down by the distance fallen since t = 0 (sub-pixel: blended)."""
        return np.stack([self.at_camera(k, time) for k in range(self.layers.shape[0])])

    def at_camera(self, k: int, time: float, gain: float = 1.0) -> NDArray[np.float32]:
        """(H, W) float32 layer of camera k at `time` times `gain` (a new array the caller may modify)."""
        h = self.layers.shape[1]
        fallen = time * self.speed * h
        whole = int(np.floor(fallen))
        frac = float(fallen - whole)
        s = whole % h
        a = self._tiled[k, h - s:2 * h - s]          # == np.roll(layer, s, axis=0)
        if frac < 1e-3:
            return a * np.float32(gain)
        s1 = (whole + 1) % h
        b = self._tiled[k, h - s1:2 * h - s1]
        return np.asarray(cv2.addWeighted(a, gain * (1.0 - frac), b, gain * frac, 0.0), np.float32)
