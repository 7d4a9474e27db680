"""Channel selectors (what each public ControlNet is fed), run options, consistency figures."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.worldmodel.conditions import GUIDANCE_CHANNELS
from engine.worldmodel.diffusion import selectors
from engine.worldmodel.diffusion.consistency import cross_frame, cross_view
from engine.worldmodel.diffusion.options import DiffusionOptions, parse_scale_items


def _stack(**channels) -> torch.Tensor:
    g = torch.zeros(1, len(GUIDANCE_CHANNELS), 2, 2)
    for name, value in channels.items():
        g[:, GUIDANCE_CHANNELS.index(name)] = value
    return g


def test_depth_and_canny_are_grey_images_of_their_channel():
    g = _stack(depth=0.25, edge=1.0)
    assert torch.equal(selectors.select("depth", g), torch.full((1, 3, 2, 2), 0.25))
    assert torch.equal(selectors.select("canny", g), torch.ones(1, 3, 2, 2))


def test_normal_follows_the_normalbae_colour_protocol():
    """A wall facing the camera (n = -z in OpenCV camera axes) is blue; the ground (n = -y, up) is green;
    a surface facing left (n = -x) is red; pixels without a normal stay black."""
    enc = lambda n: (np.asarray(n, np.float32) + 1.0) / 2.0  # noqa: E731  (the product's N encoding)
    for n, rgb in (((0, 0, -1), (0.5, 0.5, 1.0)), ((0, -1, 0), (0.5, 1.0, 0.5)), ((-1, 0, 0), (1.0, 0.5, 0.5))):
        e = enc(n)
        g = _stack(normal_x=float(e[0]), normal_y=float(e[1]), normal_z=float(e[2]))
        assert torch.allclose(selectors.select("normal", g)[0, :, 0, 0], torch.tensor(rgb))
    assert torch.equal(selectors.select("normal", _stack()), torch.zeros(1, 3, 2, 2))


def test_seg_is_the_object_colouring_and_channel_picks_work():
    g = _stack(object_r=0.1, object_g=0.2, object_b=0.3, mask=1.0)
    assert torch.allclose(selectors.select("seg", g)[0, :, 0, 0], torch.tensor([0.1, 0.2, 0.3]))
    assert torch.allclose(selectors.select("ch:8,0,5", g)[0, :, 0, 0], torch.tensor([1.0, 0.0, 0.1]))
    for bad in ("lidar", "ch:1,2", "ch:0,0,9", "ch:a,b,c"):
        with pytest.raises(ValueError, match="selector"):
            selectors.check_selector(bad)
    with pytest.raises(ValueError, match="guidance must be"):
        selectors.select("depth", torch.zeros(1, 4, 2, 2))


def test_options_validate_and_parse():
    assert DiffusionOptions.from_mapping({"noise_sharing": 1.0}).noise_sharing == 1.0
    with pytest.raises(ValueError, match="unknown diffusion option"):
        DiffusionOptions.from_mapping({"noise": 1})
    with pytest.raises(ValueError, match="temporal_strength"):
        DiffusionOptions(temporal_strength=0.0)
    with pytest.raises(ValueError, match="noise_sharing"):
        DiffusionOptions(noise_sharing=1.5)
    assert parse_scale_items(["depth=0.8", "canny = 1.5"]) == {"depth": 0.8, "canny": 1.5}
    with pytest.raises(ValueError, match="NAME=SCALE"):
        parse_scale_items(["depth"])
    with pytest.raises(ValueError, match="not a number"):
        parse_scale_items(["depth=high"])


def test_consistency_figures_on_known_clips():
    rng = np.random.default_rng(0)
    still = np.repeat(rng.integers(0, 256, (1, 6, 8, 10, 3), dtype=np.uint8), 3, axis=0)
    assert cross_frame(still) == 0.0
    flip = still.copy()
    flip[1] = 255 - flip[1]
    assert cross_frame(flip) > 50
    # a panorama that is one smooth horizontal ramp across all views (wrapping): seams like any column step
    x = np.arange(6 * 10)
    ramp = (np.minimum(x, 60 - x) * 4).astype(np.uint8)  # rises then falls back: continuous across BL -> FL
    pano = np.broadcast_to(ramp[None, None, :, None], (2, 8, 60, 3))
    views = pano.reshape(2, 8, 6, 10, 3).transpose(0, 2, 1, 3, 4)
    assert cross_view(views) == pytest.approx(1.0, abs=0.1)
    shifted = views.copy()
    shifted[:, ::2] = 255 - shifted[:, ::2]  # every other view inverted: hard seams
    assert cross_view(shifted) > 5


def test_fixed_noise_and_previous_frame_start_reduce_flicker(tiny_pipeline_dir, one_torch_thread):
    """Fixed noise per clip and a previous-frame start both reduce the change between consecutive frames."""
    from engine.worldmodel import GenerationSettings, generate_clip
    from engine.worldmodel.diffusion.backend import DiffusionBackend
    from wm_helpers import SMALL, plane_conditions

    cond = plane_conditions(SMALL, 3)
    s = GenerationSettings(steps=3, guidance_scale=3.0, seed=0, device="cpu")
    free = generate_clip(DiffusionBackend(tiny_pipeline_dir), cond, s).frames
    fixed = generate_clip(DiffusionBackend(tiny_pipeline_dir, noise_sharing=1.0), cond, s).frames
    carried = generate_clip(DiffusionBackend(tiny_pipeline_dir, temporal_strength=0.5), cond, s).frames
    assert cross_frame(fixed) < 0.5 * cross_frame(free)
    assert cross_frame(carried) < cross_frame(free)
