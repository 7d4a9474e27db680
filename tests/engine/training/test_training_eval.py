"""`train eval`: the metrics against analytic values, the sampler against the pipeline's own, the CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from main import main


# ---- PSNR / SSIM -----------------------------------------------------------------------------
def test_psnr_of_a_uniform_error_is_analytic():
    from engine.training.metrics import psnr

    a = np.full((20, 30, 3), 100, np.uint8)
    b = a + np.uint8(5)
    assert psnr(a, b) == pytest.approx(20 * np.log10(255 / 5), abs=1e-9)
    assert psnr(a, a) == float("inf")


def test_ssim_of_constant_images_is_the_luminance_term():
    """Two constant images a, b: variances and covariance vanish, so SSIM = (2ab + C1) / (a^2 + b^2 + C1)."""
    from engine.training.metrics import ssim

    c1 = (0.01 * 255) ** 2
    for a, b in ((100.0, 100.0), (100.0, 140.0), (10.0, 200.0)):
        x = np.full((32, 40), a)
        y = np.full((32, 40), b)
        assert ssim(x, y) == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1), abs=1e-9)


def test_ssim_of_a_shifted_image_is_the_luminance_term_per_window():
    """y = x + d: sigma_y = sigma_x and sigma_xy = sigma_x^2, so the contrast-structure term is 1 and SSIM
    is the mean over windows of (2 mx my + C1) / (mx^2 + my^2 + C1); for a constant-mean image that is analytic."""
    from engine.training.metrics import ssim

    rng = np.random.default_rng(0)
    x = 100.0 + rng.choice([-20.0, 20.0], size=(40, 40))
    d = 30.0
    s = ssim(x, x + d)
    c1 = (0.01 * 255) ** 2
    # local means vary a little around 100; bound the analytic term over the plausible range of local means
    vals = [(2 * m * (m + d) + c1) / (m * m + (m + d) ** 2 + c1) for m in (90.0, 100.0, 110.0)]
    assert min(vals) - 1e-3 <= s <= max(vals) + 1e-3
    assert ssim(x, x) == pytest.approx(1.0, abs=1e-12)
    assert ssim(x, 200.0 - x) < 0                     # inverted structure: negative correlation
    assert ssim(x, x + d) == pytest.approx(ssim(x + d, x), abs=1e-12)   # symmetric


# ---- rays and the sampler ---------------------------------------------------------------------
def test_ray_map_matches_the_pipelines_camera_rays():
    from engine.rig import CameraRig
    from engine.training.data import ray_map
    from engine.worldmodel.diffusion.tensors import camera_ray_map

    rig = CameraRig.default(None).scaled(64, 32)
    K = np.stack([c.K for c in rig]).astype(np.float32)
    E = np.stack([c.ego_from_camera for c in rig]).astype(np.float32)
    assert np.allclose(ray_map(K, E, 64, 32), camera_ray_map(rig), atol=1e-5)


@pytest.mark.parametrize("guidance", [1.0, 3.0])
def test_eval_sampler_reproduces_the_pipelines_first_frame(tiny_model, prepared, guidance):
    """Without a previous frame, `sample_latent` gives the latent `WorldModelPipeline.iter_frames` gives."""
    from engine.training.cache import read_index
    from engine.training.data import CacheDataset, collate
    from engine.training.evaluate import sample_latent
    from engine.training.model import TrainableWorldModel
    from engine.training.trainer import _TextEmbeddings, model_inputs, sample_prompt
    from engine.worldmodel.diffusion.backend import load_pipeline
    from engine.worldmodel.diffusion.pipeline import FrameControl, PipelineFrame

    cache, _ = prepared
    pipe = load_pipeline(tiny_model)
    ds = CacheDataset(read_index(cache), "val")
    batch = collate([ds[0]])
    texts = _TextEmbeddings(pipe, torch.device("cpu"), torch.float32)
    x = model_inputs(batch, pipe, texts, torch.device("cpu"))
    prompt = sample_prompt(batch["text"][0], batch["env"][0])
    ctrl = FrameControl(batch["dense"], batch["layout"], batch["env"])
    gen = torch.Generator().manual_seed(4)
    ref = [ev for ev in pipe.iter_frames([ctrl], prompt, 3, guidance, gen, preview_every=0)
           if isinstance(ev, PipelineFrame)][0].latents
    gen = torch.Generator().manual_seed(4)
    shape = x.latent.shape
    torch.randn(shape, generator=gen)                 # the pipeline draws the clip's shared noise first
    noise = torch.randn(shape, generator=gen)
    context = torch.zeros(1, shape[1] + 1, *shape[2:])
    ours = sample_latent(TrainableWorldModel(pipe), pipe.scheduler, x.dense, x.layout, x.env, x.cond_text,
                         x.uncond_text, context, noise, 3, guidance)
    assert torch.allclose(ours, ref, atol=1e-5)


def test_cli_eval_reports_psnr_ssim_and_skips_fid_without_weights(tiny_model, prepared, tmp_path, capsys):
    cache, _ = prepared
    out = tmp_path / "eval.json"
    rc = main(["train", "eval", "--model", str(tiny_model), "--cache", str(cache), "--steps", "2",
               "--max-samples", "2", "--device", "cpu", "--json", str(out), "-q"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert "PSNR" in cap.out and "SSIM" in cap.out
    assert "FID skipped" in cap.err
    doc = json.loads(out.read_text())
    assert doc["num_samples"] == 2 and doc["split"] == "val"
    assert 0 < doc["psnr"] < 60 and -1 <= doc["ssim"] <= 1 and doc["fid"] is None
    # missing Inception weights: said, not downloaded
    rc = main(["train", "eval", "--model", str(tiny_model), "--cache", str(cache), "--steps", "1", "--max-samples", "1",
               "--device", "cpu", "--inception", str(tmp_path / "none.pth"), "-q"])
    assert rc == 0
    assert "FID skipped" in capsys.readouterr().err


def test_cli_eval_refuses_a_missing_cache(tiny_model, tmp_path, capsys):
    assert main(["train", "eval", "--model", str(tiny_model), "--cache", str(tmp_path / "x"), "-q"]) == 2
    assert "does not exist" in capsys.readouterr().err
