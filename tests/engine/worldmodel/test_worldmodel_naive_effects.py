"""The naive backend's environment pass against plain reference formulas (guards the fast cv2 / per-plane code)."""
from __future__ import annotations

import numpy as np
import pytest

from engine.scenario.model import Environment
from engine.worldmodel.naive.effects import EnvironmentPass, colour_matrix
from engine.worldmodel.naive.geometry import RigGeometry
from engine.worldmodel.naive.look import look_for
from engine.worldmodel.naive.precipitation import PrecipitationLayers
from wm_helpers import plane_frames


@pytest.mark.parametrize("kind", ["rain", "snow"])
@pytest.mark.parametrize("time", [0.0, 1 / 12, 0.37, 2.5])
def test_scrolled_layer_is_the_rolled_blend(kind, time):
    p = PrecipitationLayers(kind, 2, 40, 24, seed=3)
    h = 24
    fallen = time * p.speed * h
    whole, frac = int(np.floor(fallen)), fallen - np.floor(fallen)
    ref = np.roll(p.layers[1], whole, axis=0) * (1 - frac) + np.roll(p.layers[1], whole + 1, axis=0) * frac
    got = p.at_camera(1, time, gain=0.5)
    assert got.shape == (24, 40) and got.dtype == np.float32
    np.testing.assert_allclose(got, 0.5 * ref, atol=1e-5)
    got += 1.0   # a fresh array: changing it leaves the stored layers alone
    np.testing.assert_allclose(p.at_camera(1, time, gain=0.5), 0.5 * ref, atol=1e-5)


def test_day_fog_is_the_transmittance_blend_per_channel(small_rig):
    """day/fog has no lights or ground terms: out = (M x) * f + fog * (1 - f), f = exp(-depth / visibility)."""
    frame = plane_frames(small_rig, 1)[0]
    shaded = frame.shaded.copy()
    shaded[..., 1] = 180            # distinct channels so a channel mix-up shows
    shaded[..., 2] //= 2
    look = look_for(Environment("day", "fog"), "day")
    out = EnvironmentPass(RigGeometry.of(small_rig), look).apply(frame, shaded, frame.depth)
    d = np.where(np.isfinite(frame.depth), frame.depth, 1.0e4).astype(np.float64)[..., None]
    f = np.exp(-d / look.fog_visibility)
    x = shaded.astype(np.float64) @ colour_matrix(look).astype(np.float64).T
    ref = np.clip((x * f + np.asarray(look.fog_color) * (1 - f)) * 255.0, 0, 255)
    assert np.isfinite(frame.depth).any() and not np.isfinite(frame.depth).all()   # road and sky both present
    assert np.abs(out.astype(np.float64) - ref).max() <= 1.0
