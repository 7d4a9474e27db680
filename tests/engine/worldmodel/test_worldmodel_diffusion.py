"""The diffusion backend on a tiny seeded pipeline: save / reload, shape, order, determinism, cancel, checks."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from engine.rig import PANORAMA_ORDER
from engine.scenario.model import Environment
from engine.worldmodel import (
    CancelToken,
    FrameReady,
    GenerationCancelled,
    GenerationSettings,
    ModelLoadError,
    StepProgress,
    create_backend,
    generate_clip,
)
from engine.worldmodel.conditions import ClipConditions
from engine.worldmodel.diffusion.pipeline import FrameControl, WorldModelPipeline, latent_preview
from engine.worldmodel.diffusion.tensors import (
    camera_ray_map,
    environment_vector,
    prompt_text,
    stitch_views,
    unstitch_panorama,
)
from wm_helpers import SMALL, plane_conditions, plane_frames

pytestmark = pytest.mark.usefixtures("one_torch_thread")
FAST = dict(steps=2, guidance_scale=3.0, device="cpu")


def test_tiny_pipeline_saves_reloads_and_generates_on_cpu(tiny_pipeline_dir):
    index = json.loads((tiny_pipeline_dir / "model_index.json").read_text())
    assert index["_class_name"] == "WorldModelPipeline"
    for part in ("vae", "unet", "controlnet", "layout_controlnet", "scheduler", "text_encoder", "tokenizer"):
        assert (tiny_pipeline_dir / part).is_dir(), part
    clip = generate_clip(create_backend("diffusion", tiny_pipeline_dir), plane_conditions(SMALL, 2),
                         GenerationSettings(seed=1, **FAST))
    assert clip.frames.shape == (2, 6, 32, 64, 3) and clip.frames.dtype == np.uint8
    assert clip.camera_names == PANORAMA_ORDER
    assert clip.frames.std() > 1.0                        # a picture, not a constant
    assert clip.metadata["steps"] == 2 and clip.backend == "diffusion"


def test_same_seed_same_clip_other_seed_other_clip(tiny_pipeline_dir):
    backend = create_backend("diffusion", tiny_pipeline_dir)
    run = lambda seed: generate_clip(backend, plane_conditions(SMALL, 2), GenerationSettings(seed=seed, **FAST)).frames
    a, b, c = run(3), run(3), run(4)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_conditions_reach_the_output(tiny_pipeline_dir, small_rig):
    backend = create_backend("diffusion", tiny_pipeline_dir)
    base = plane_frames(small_rig, 1)
    edged = [dataclasses.replace(base[0], edge=np.full_like(base[0].edge, 255), depth=np.full_like(base[0].depth, 2.0))]
    settings = GenerationSettings(seed=0, **FAST)
    a = generate_clip(backend, ClipConditions.from_frames(small_rig, base, 12.0), settings).frames
    b = generate_clip(backend, ClipConditions.from_frames(small_rig, edged, 12.0), settings).frames
    night = generate_clip(backend, ClipConditions.from_frames(small_rig, base, 12.0, Environment("night", "rain")),
                          settings).frames
    assert np.abs(a.astype(int) - b.astype(int)).mean() > 0.5      # guidance maps (ControlNet)
    assert np.abs(a.astype(int) - night.astype(int)).mean() > 0.05  # environment (the prompt; the class
    # embedding is zero-initialised by the converter, so only training gives it an effect)


def test_later_frames_are_conditioned_on_earlier_ones(tiny_pipeline_dir):
    """With previous-frame carry-over (temporal_strength < 1), frame 1 depends on frame 0's latent: change only
    frame 0's conditions and frame 1 changes. (The UNet's previous-frame input is zero-initialised.)"""
    from engine.worldmodel.diffusion.options import DiffusionOptions

    pipe = create_backend("diffusion", tiny_pipeline_dir).pipeline("cpu")
    h, w = 32, 6 * 64
    c0 = FrameControl(torch.zeros(1, 9, h, w), torch.zeros(1, 16, h, w), environment_vector(Environment()))
    c0b = FrameControl(torch.ones(1, 9, h, w), torch.zeros(1, 16, h, w), environment_vector(Environment()))
    run = lambda first: pipe([first, c0], "x", 2, 3.0, generator=torch.Generator().manual_seed(0),
                             options=DiffusionOptions(temporal_strength=0.5)).frames
    a, b = run(c0), run(c0b)
    assert not np.array_equal(a[0], b[0])
    assert not np.array_equal(a[1], b[1])


def test_cancel_takes_effect_within_one_step(tiny_pipeline_dir):
    backend = create_backend("diffusion", tiny_pipeline_dir)
    token = CancelToken()
    steps = []
    gen = backend.generate(plane_conditions(SMALL, 3), GenerationSettings(seed=0, steps=4, device="cpu"), token)
    with pytest.raises(GenerationCancelled):
        for ev in gen:
            if isinstance(ev, StepProgress):
                steps.append((ev.frame, ev.step))
                if (ev.frame, ev.step) == (0, 2):
                    token.cancel()
    assert steps == [(0, 1), (0, 2)]


def test_step_events_carry_previews_and_frames_arrive_in_order(tiny_pipeline_dir):
    events = list(create_backend("diffusion", tiny_pipeline_dir).generate(
        plane_conditions(SMALL, 2), GenerationSettings(seed=0, **FAST)))
    steps = [e for e in events if isinstance(e, StepProgress)]
    frames = [e for e in events if isinstance(e, FrameReady)]
    assert [(e.frame, e.step, e.num_steps) for e in steps] == [(0, 1, 2), (0, 2, 2), (1, 1, 2), (1, 2, 2)]
    assert steps[0].preview.shape == (6, 4, 8, 3)         # latent resolution, per camera
    assert [f.frame for f in frames] == [0, 1] and frames[0].images.shape == (6, 32, 64, 3)
    assert steps[-1].fraction == 1.0


def test_incompatible_folder_is_reported_with_the_part(tmp_path, tiny_pipeline_dir):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(tiny_pipeline_dir, bad)
    cfg_path = bad / "controlnet_1" / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["cross_attention_dim"] = 24  # an SD-2-like mismatch of the second ControlNet
    cfg_path.write_text(json.dumps(cfg))
    backend = create_backend("diffusion", bad)
    with pytest.raises(ModelLoadError, match="controlnet"):
        backend.pipeline("cpu")
    index = json.loads((bad / "model_index.json").read_text())
    index["controlnet"] = ["diffusers", "ControlNetModel"]
    (bad / "model_index.json").write_text(json.dumps(index))
    with pytest.raises(ModelLoadError, match="old single-ControlNet format"):
        create_backend("diffusion", bad)
    shutil.rmtree(bad / "unet")
    with pytest.raises(ModelLoadError, match="'unet' subfolder is missing"):
        create_backend("diffusion", bad)


def test_wrong_number_of_views_is_a_conditions_error(tiny_pipeline_dir, small_rig):
    rig = small_rig.subset(["CAM_FRONT", "CAM_BACK"])
    frames = plane_frames(rig, 1)
    with pytest.raises(Exception, match="6 views"):
        generate_clip(create_backend("diffusion", tiny_pipeline_dir), ClipConditions.from_frames(rig, frames, 12.0),
                      GenerationSettings(**FAST))


def test_panorama_stitch_order_and_round_trip():
    views = np.stack([np.full((2, 3, 1), k, np.float32) for k in range(6)])   # (6, 2, 3, 1)
    pano = stitch_views(views)
    assert pano.shape == (1, 1, 2, 18)
    assert pano[0, 0, 0].tolist() == [k for k in range(6) for _ in range(3)]   # FL | F | FR | BR | B | BL
    back = unstitch_panorama(pano[0].permute(1, 2, 0).numpy(), 6)
    assert np.array_equal(back, views)


def test_camera_rays_point_where_the_cameras_look(small_rig):
    rays = camera_ray_map(small_rig) * 2 - 1                  # back to unit vectors, ego frame
    centre = rays[:, SMALL[1] // 2, SMALL[0] // 2]
    front, back = PANORAMA_ORDER.index("CAM_FRONT"), PANORAMA_ORDER.index("CAM_BACK")
    assert centre[front, 0] > 0.95 and centre[back, 0] < -0.95
    assert centre[PANORAMA_ORDER.index("CAM_FRONT_LEFT"), 1] > 0.5      # +y is left
    assert np.allclose(np.linalg.norm(rays, axis=-1), 1, atol=1e-5)


def test_environment_vector_and_prompt():
    v = environment_vector(Environment("night", "fog"))
    assert v.shape == (1, 7) and v.sum() == 2 and v[0, 2] == 1 and v[0, 5] == 1
    assert prompt_text("  a truck\ncuts in ", Environment("dusk", "rain")) == "a truck cuts in. dusk, rain"


def test_latent_preview_is_an_image():
    img = latent_preview(torch.randn(1, 4, 5, 7))
    assert img.shape == (5, 7, 3) and img.dtype == np.uint8


def test_pipeline_without_text_encoder_or_layout_net_still_runs(tmp_path):
    from engine.worldmodel.diffusion.configs import write_pipeline_folder

    path = write_pipeline_folder(tmp_path / "bare", "tiny", seed=2, with_text_encoder=False,
                                 with_layout_controlnet=False)
    pipe = WorldModelPipeline.from_pretrained(str(path), local_files_only=True)
    assert pipe.text_encoder is None and pipe.layout_controlnet is None
    clip = generate_clip(create_backend("diffusion", path), plane_conditions(SMALL, 1), GenerationSettings(**FAST))
    assert clip.frames.shape == (1, 6, 32, 64, 3)
