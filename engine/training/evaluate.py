"""`train eval`: how well a model folder reconstructs held-out real frames from their guidance.

    report = evaluate("run/final", "cache/", steps=20)
    report.psnr, report.ssim          # mean over held-out samples, generated vs. real panorama
    report.vae_psnr                   # the ceiling: the real frame through the model's own VAE

Each held-out sample is generated the way `generate` makes a frame that has a previous frame: from noise,
conditioned on its guidance, layout, environment, prompt and the *real* previous frame's latent, with
the pipeline's scheduler (`sample_latent` below runs `WorldModelPipeline.iter_frames`' loop for one frame
with a given previous latent, which iter_frames has no argument for; a test checks both agree without one),
decoded with the pipeline's VAE, and compared with the recorded frame.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

if TYPE_CHECKING:
    from engine.training.metrics import FidMetric

# one held-out sample's figures: scene, frame, PSNR (dB), SSIM
SampleRow = tuple[str, int, float, float]


@runtime_checkable
class SamplingScheduler(Protocol):
    """What `sample_latent` uses of a diffusers scheduler (the pipeline's own)."""

    init_noise_sigma: float
    timesteps: torch.Tensor

    def set_timesteps(self, num_inference_steps: int, device: torch.device) -> None: ...

    def scale_model_input(self, sample: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor: ...

    def step(self, model_output: torch.Tensor, timestep: torch.Tensor, sample: torch.Tensor,
             **kwargs: Any) -> Any: ...


def _finite_or_none(x: float | None) -> float | None:
    """JSON has no inf/nan: those (and None) become null."""
    return None if x is None or not math.isfinite(x) else x


@dataclass
class EvalReport:
    """Means over `num_samples` held-out samples; per_sample: (scene, frame, psnr, ssim) rows."""

    num_samples: int
    split: str
    psnr: float
    ssim: float
    vae_psnr: float
    vae_ssim: float
    fid: float | None
    notes: list[str] = field(default_factory=list)
    per_sample: list[SampleRow] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        num = _finite_or_none
        return {"num_samples": self.num_samples, "split": self.split, "psnr": num(self.psnr), "ssim": num(self.ssim),
                "vae_psnr": num(self.vae_psnr), "vae_ssim": num(self.vae_ssim), "fid": num(self.fid),
                "notes": self.notes}


def _require_diffusion(feature: str) -> None:
    """ModelLoadError naming the `[diffusion]` extra when diffusers, transformers or accelerate is missing."""
    from engine.training.trainer import TRAIN_PACKAGES
    from engine.worldmodel.errors import MissingExtraError, ModelLoadError
    from engine.worldmodel.extras import require_packages

    try:
        require_packages(TRAIN_PACKAGES, feature, "diffusion")
    except MissingExtraError as e:
        raise ModelLoadError(str(e)) from None


@torch.no_grad()
def sample_latent(net: nn.Module, scheduler: SamplingScheduler, dense: torch.Tensor, layout: torch.Tensor | None,
                  env: torch.Tensor, cond_text: torch.Tensor, uncond_text: torch.Tensor, context: torch.Tensor,
                  noise: torch.Tensor, steps: int = 20, guidance_scale: float = 4.0) -> torch.Tensor:
    """One frame's latent (1, C, h, w) by the pipeline's sampling loop (classifier-free guidance as diffusers:
    the unconditional half gets the empty prompt; controls, context and environment go to both halves).

    net: `TrainableWorldModel`; dense (1, 9, H, W); layout (1, 16, H, W) or None; env (1, 7); texts (1, L, D);
    context (1, C + 1, h, w); noise (1, C, h, w) the initial noise."""
    import inspect

    do_cfg = guidance_scale > 1.0
    scheduler.set_timesteps(steps, device=noise.device)
    latents = noise * scheduler.init_noise_sigma
    n = 2 if do_cfg else 1
    text = torch.cat([uncond_text, cond_text]) if do_cfg else cond_text

    def rep(x: torch.Tensor | None) -> torch.Tensor | None:
        return None if x is None else torch.cat([x] * n)

    kwargs: dict[str, Any] = {}
    if "generator" in inspect.signature(scheduler.step).parameters:
        kwargs["generator"] = None
    for t in scheduler.timesteps:
        x = rep(scheduler.scale_model_input(latents, t))
        pred = net(x, t, text, rep(context), rep(dense), rep(layout), rep(env))
        if do_cfg:
            p_uncond, p_cond = pred.chunk(2)
            pred = p_uncond + guidance_scale * (p_cond - p_uncond)
        latents = scheduler.step(pred, t, latents, **kwargs, return_dict=True).prev_sample
    out: torch.Tensor = latents
    return out


def _to_uint8(img: torch.Tensor) -> NDArray[np.uint8]:
    """(3, H, W) in [-1, 1] -> (H, W, 3) uint8 (the pipeline's rounding)."""
    return ((img.float().clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()


def evaluate(model_dir: str, cache: str, split: str = "val", steps: int = 20, guidance_scale: float = 4.0,
             seed: int = 0, max_samples: int | None = None, inception: str | None = None, device: str = "auto",
             progress: bool = True) -> EvalReport:
    """Reconstruction metrics of `split` samples of the cache (see the module docstring).

    ModelLoadError names the `[diffusion]` extra when its packages are not installed."""
    _require_diffusion("train eval")
    from engine.training.cache import read_index
    from engine.training.data import CacheDataset, collate
    from engine.training.latents import vae_decode, vae_encode
    from engine.training.metrics import FidUnavailable, fid_metric, psnr, ssim
    from engine.training.model import TrainableWorldModel
    from engine.training.progress import progress_bar
    from engine.training.trainer import _TextEmbeddings, model_inputs
    from engine.worldmodel.device import resolve_device
    from engine.worldmodel.diffusion.backend import load_pipeline
    from engine.worldmodel.errors import ModelLoadError

    notes: list[str] = []
    index = read_index(cache)
    have = {s.split for s in index.shards}
    if split not in have:
        notes.append(f"the cache has no '{split}' split; evaluating on all samples (they were trained on)")
        split = "all"
    ds = CacheDataset(index, split)
    dev, _ = resolve_device(device, "float32")
    pipe = load_pipeline(model_dir)
    pipe.to(dev)
    net = TrainableWorldModel(pipe).eval()
    scheduler = pipe.scheduler
    if not isinstance(scheduler, SamplingScheduler):
        raise ModelLoadError(f"{model_dir}: its scheduler {type(scheduler).__name__} has no diffusers sampling loop "
                             "(set_timesteps, scale_model_input, step)")
    texts = _TextEmbeddings(pipe, dev, torch.float32)
    fid: FidMetric | None = None
    if inception:
        try:
            fid = fid_metric(inception)
        except FidUnavailable as e:
            notes.append(f"FID skipped: {e}")
    else:
        notes.append("FID skipped: no --inception weights given (FID never downloads them)")
    n = len(ds) if max_samples is None else min(len(ds), int(max_samples))
    rows: list[tuple[float, float]] = []
    vae_rows: list[tuple[float, float]] = []
    with progress_bar(n, "eval", "samples", progress) as bar:
        for i in range(n):
            item = ds[i]
            batch = collate([item])
            x = model_inputs(batch, pipe, texts, dev)
            flag = x.has_prev.float()[:, None, None, None]
            context = torch.cat([x.prev_latent * flag, flag.expand(1, 1, *x.latent.shape[2:])], dim=1)
            gen = torch.Generator("cpu").manual_seed(seed + i)
            noise = torch.randn(x.latent.shape, generator=gen).to(dev)
            z = sample_latent(net, scheduler, x.dense, x.layout, x.env, x.cond_text, x.uncond_text, context,
                              noise, steps, guidance_scale)
            fake = _to_uint8(vae_decode(pipe.vae, z)[0])
            real = _to_uint8(batch["image"][0])
            recon = _to_uint8(vae_decode(pipe.vae, vae_encode(pipe.vae, batch["image"].to(dev)))[0])
            rows.append((psnr(fake, real), ssim(fake, real)))
            vae_rows.append((psnr(recon, real), ssim(recon, real)))
            if fid is not None:
                fid.update(torch.from_numpy(real).permute(2, 0, 1)[None], real=True)
                fid.update(torch.from_numpy(fake).permute(2, 0, 1)[None], real=False)
            bar.update(1)
    fid_value = None
    if fid is not None:
        if n < 2:
            notes.append("FID skipped: needs at least 2 samples")
        else:
            fid_value = float(fid.compute())
    per = [(ds.shards[ds.items[i][0]].scene, int(ds.items[i][1]), r[0], r[1]) for i, r in enumerate(rows)]
    arr = np.array(rows, np.float64)
    varr = np.array(vae_rows, np.float64)
    return EvalReport(n, split, float(arr[:, 0].mean()), float(arr[:, 1].mean()), float(varr[:, 0].mean()),
                      float(varr[:, 1].mean()), fid_value, notes, per)


@torch.no_grad()
def fixed_loss(model_dir: str, cache: str, split: str = "train", draws: int = 8, seed: int = 1234,
               max_samples: int | None = None, fg_weight: float = 1.0) -> float:
    """The training loss of a model folder averaged over `draws` fixed (seeded) noise/timestep draws per sample,
    without any dropout or previous-frame noise: the same number for two models means the same fit."""
    _require_diffusion("the fixed-noise training loss")
    from engine.training.cache import read_index
    from engine.training.data import CacheDataset, collate
    from engine.training.model import TrainableWorldModel
    from engine.training.objective import ObjectiveSettings, diffusion_loss
    from engine.training.trainer import _TextEmbeddings, model_inputs, scheduler_config
    from diffusers.schedulers.scheduling_ddpm import DDPMScheduler
    from engine.worldmodel.diffusion.backend import load_pipeline

    pipe = load_pipeline(model_dir)
    net = TrainableWorldModel(pipe).eval()
    sched = DDPMScheduler.from_config(scheduler_config(pipe))
    texts = _TextEmbeddings(pipe, torch.device("cpu"), torch.float32)
    ds = CacheDataset(read_index(cache), split)
    n = len(ds) if max_samples is None else min(len(ds), max_samples)
    obj = ObjectiveSettings(fg_weight=fg_weight, p_uncond=0.0, prev_noise=0.0, prev_drop=0.0)
    total = 0.0
    for i in range(n):
        x = model_inputs(collate([ds[i]]), pipe, texts, torch.device("cpu"))
        for d in range(draws):
            loss, _ = diffusion_loss(net, sched, x, obj, torch.Generator("cpu").manual_seed(seed + 1000 * i + d),
                                     pipe.vae_scale_factor)
            total += float(loss)
    return total / (n * draws)
