"""The training objective: noise prediction + Dream4Drive's foreground-weighted loss, with the conditioning
dropout the sampler's unconditional branch needs and noise on the previous-frame latent.

    loss, stats = diffusion_loss(net, noise_scheduler, inputs, ObjectiveSettings(), generator)

Per sample: z0 (the frame's latent), eps ~ N(0, I), t ~ U{0..T-1}, z_t = add_noise(z0, eps, t), target eps
(or the velocity for v-prediction schedulers);
    loss = mean( (1 + fg_weight * M) * (net(z_t, t, ...) - target)^2 )
with M the inserted-object mask averaged to latent resolution (Dream4Drive's foreground mask loss).
Conditioning dropout (classifier-free guidance): with probability p_uncond the text becomes the empty
prompt's embedding, which is exactly what the pipeline's unconditional half gets (its ControlNets,
previous frame and environment stay in both halves, see docs/world_model_diffusion.md); p_drop_controls /
p_drop_env additionally zero the guidance / environment (robustness; 0 by default, since the sampler never
drops them). The previous frame's latent gets Gaussian noise of a random std in [0, prev_noise] (the sampler
feeds back its own imperfect latent), and is dropped (flag 0, zeros: a first frame) with probability prev_drop.
Every random draw comes from the `generator` given, so a step is reproducible from (seed, step).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import torch
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:
    from diffusers.schedulers.scheduling_ddpm import DDPMScheduler  # the class, not diffusers' lazy alias


@dataclass(frozen=True)
class ObjectiveSettings:
    """Knobs of the loss (see the module docstring)."""

    fg_weight: float = 1.0
    p_uncond: float = 0.1
    p_drop_controls: float = 0.0
    p_drop_env: float = 0.0
    prev_noise: float = 0.1
    prev_drop: float = 0.1


@dataclass
class ModelInputs:
    """One batch on the training device: latent, prev_latent (B, C, h, w); has_prev (B,) bool; dense (B, 9, H, W);
    layout (B, 16, H, W) or None; env (B, 7); mask (B, 1, H, W); cond_text (B, L, D); uncond_text (1, L, D)."""

    latent: torch.Tensor
    prev_latent: torch.Tensor
    has_prev: torch.Tensor
    dense: torch.Tensor
    layout: torch.Tensor | None
    env: torch.Tensor
    mask: torch.Tensor
    cond_text: torch.Tensor
    uncond_text: torch.Tensor


def _rand(shape: Sequence[int], generator: torch.Generator, device: torch.device) -> torch.Tensor:
    return torch.rand(shape, generator=generator).to(device)


def _randn(shape: Sequence[int], generator: torch.Generator, device: torch.device) -> torch.Tensor:
    return torch.randn(shape, generator=generator).to(device)


def latent_mask(mask: torch.Tensor, factor: int) -> torch.Tensor:
    """(B, 1, H, W) pixel mask in [0, 1] -> (B, 1, H/f, W/f) share of each latent cell covered."""
    return F.avg_pool2d(mask.float(), factor) if factor > 1 else mask.float()


def diffusion_loss(net: nn.Module, noise_scheduler: DDPMScheduler, x: ModelInputs, s: ObjectiveSettings,
                   generator: torch.Generator, vae_factor: int = 8) -> tuple[torch.Tensor, dict[str, float]]:
    """The loss of one batch and a few statistics (see the module docstring).

    net: `TrainableWorldModel` (or its accelerate/DDP wrapper); noise_scheduler: the training scheduler
    (add_noise, get_velocity, config num_train_timesteps and prediction_type)."""
    z0 = x.latent.float()
    b = z0.shape[0]
    device = z0.device
    noise = _randn(z0.shape, generator, device)
    t = torch.randint(0, int(noise_scheduler.config["num_train_timesteps"]), (b,), generator=generator).to(device)
    zt = noise_scheduler.add_noise(z0, noise, t)  # type: ignore[arg-type]  # diffusers hints IntTensor; any int tensor
    if noise_scheduler.config["prediction_type"] == "v_prediction":
        target = noise_scheduler.get_velocity(z0, noise, t)  # type: ignore[arg-type]  # as add_noise
    else:
        target = noise
    # previous frame: dropped (first frame) or noised
    keep = x.has_prev.to(device).bool() & (_rand((b,), generator, device) >= s.prev_drop)
    sigma = _rand((b,), generator, device) * s.prev_noise
    prev = x.prev_latent.float() + sigma[:, None, None, None] * _randn(z0.shape, generator, device)
    flag = keep.float()[:, None, None, None]
    context = torch.cat([prev * flag, flag.expand(b, 1, *z0.shape[2:])], dim=1)
    # conditioning dropout
    drop_text = _rand((b,), generator, device) < s.p_uncond
    text = torch.where(drop_text[:, None, None], x.uncond_text.expand_as(x.cond_text), x.cond_text)
    keep_ctrl = (_rand((b,), generator, device) >= s.p_drop_controls).float()
    dense = x.dense * keep_ctrl[:, None, None, None]
    layout = None if x.layout is None else x.layout * keep_ctrl[:, None, None, None]
    env = x.env * (_rand((b,), generator, device) >= s.p_drop_env).float()[:, None]
    pred = net(zt, t, text, context, dense, layout, env)
    weight = 1.0 + s.fg_weight * latent_mask(x.mask, vae_factor)
    err = (pred.float() - target.float()) ** 2
    loss = (weight * err).mean()
    stats = {"mse": float(err.mean().detach()), "fg_share": float(latent_mask(x.mask, vae_factor).mean())}
    return loss, stats
