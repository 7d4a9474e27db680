"""Naive insertion matched to the footage: each step checked against an independent property."""
from __future__ import annotations

import numpy as np
import pytest

from engine.worldmodel.naive.insertion import (
    InsertionMatcher, contact_shadow, feather, match_colour, motion_blur, noise_sigma,
)

H, W = 96, 160


def _scene(level: float, cast=(1.0, 1.0, 1.0), sigma: float = 0.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.full((H, W, 3), level, np.float64) * np.asarray(cast)
    img += rng.normal(0, sigma, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _box_mask(y0=30, y1=70, x0=50, x1=110) -> np.ndarray:
    m = np.zeros((H, W), bool)
    m[y0:y1, x0:x1] = True
    return m


@pytest.mark.parametrize("sigma", [2.0, 5.0, 9.0])
def test_noise_estimate_recovers_the_added_gaussian_noise(sigma):
    flat = _scene(120, sigma=sigma, seed=3)
    assert noise_sigma(flat) == pytest.approx(sigma, rel=0.15)
    assert noise_sigma(_scene(120)) < 0.3


def test_exposure_and_cast_move_half_way_towards_the_local_scene():
    mask = _box_mask()
    ring = np.zeros_like(mask)
    ring[20:80, 40:120] = True
    ring &= ~mask
    dark_blue_scene = _scene(60, cast=(0.8, 1.0, 1.3)).astype(np.float32)
    asset = np.zeros((H, W, 3), np.float32)
    asset[mask] = (200, 40, 40)                                   # a bright red car
    out = match_colour(asset, dark_blue_scene, mask, ring)
    luma = np.array([0.299, 0.587, 0.114])
    before, after = asset[mask] @ luma, out[mask] @ luma
    assert after.mean() < before.mean()                           # darker in a dim street ...
    assert after.mean() > 0.5 * before.mean()                     # ... but only part of the way (clamped)
    assert (out[mask][:, 2] / out[mask][:, 0]).mean() > (asset[mask][:, 2] / asset[mask][:, 0]).mean()  # bluer
    assert (out[mask][:, 0] > out[mask][:, 1]).all()              # still red
    assert np.array_equal(out[~mask], asset[~mask])               # nothing else changes


def test_contact_shadow_darkens_only_the_ground_below_and_beside_the_asset():
    mask = _box_mask()
    real = _scene(150).astype(np.float32)
    out = contact_shadow(real, mask, np.array([20.0, 4.0]))
    darker = out.mean(-1) < real.mean(-1) - 1
    assert darker.any() and not darker[mask].any()
    ys, xs = np.nonzero(darker)
    assert ys.mean() > 65                                         # at the asset's foot
    assert xs.mean() > 80 + 5                                     # shifted along the light offset (+u)
    assert out.min() >= real.min() * 0.5                          # soft, not black


def test_motion_blur_spreads_along_the_motion_only():
    asset = np.zeros((H, W, 3), np.float32)
    mask = _box_mask(40, 60, 70, 90)
    asset[mask] = 200
    colour, alpha = motion_blur(asset, mask.astype(np.float32), np.array([8.0, 0.0]))
    assert alpha[50, 66] > 0 and alpha[50, 94] > 0                 # smeared left and right
    assert alpha[36, 80] < 1e-6 and alpha[64, 80] < 1e-6           # not up or down
    assert alpha.sum() == pytest.approx(mask.sum(), rel=1e-3)      # coverage is kept
    same, a = motion_blur(asset, mask.astype(np.float32), np.array([0.2, 0.1]))
    assert np.array_equal(a, mask.astype(np.float32))


def test_feathered_edges_are_anti_aliased_and_the_inside_stays_opaque():
    alpha = feather(_box_mask().astype(np.float32))
    assert alpha[50, 80] == pytest.approx(1.0) and alpha[5, 5] == 0
    edge = alpha[50, 49:52]
    assert 0 < edge.min() < 1 or 0 < alpha[50, 110] < 1


def test_matcher_changes_only_pixels_near_the_asset_and_adds_the_footages_noise():
    bg = np.stack([_scene(110, sigma=4.0, seed=s) for s in range(2)])
    comp = bg.copy()
    mask = np.zeros((2, H, W), bool)
    mask[0, 30:70, 50:110] = True                               # an asset in camera 0 only
    comp[0][mask[0]] = (30, 60, 200)
    out = InsertionMatcher(seed=1).apply(comp, bg, mask)
    assert np.array_equal(out[1], comp[1])                        # no asset: untouched
    far = np.ones((H, W), bool)
    far[10:90, 30:130] = False
    assert np.array_equal(out[0][far], comp[0][far])
    inner = out[0][35:65, 55:105].astype(float)
    assert inner.std(axis=(0, 1)).mean() == pytest.approx(4.0, rel=0.35)   # the footage's noise level
    again = InsertionMatcher(seed=1).apply(comp, bg, mask)
    assert np.array_equal(out, again)                             # deterministic per seed
