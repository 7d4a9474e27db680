"""VAE latents of stitched six-view panoramas, the way the pipeline's latents are scaled.

    enc = LatentEncoder.from_model(model_dir)          # the model folder's vae/ only, frozen
    z = enc.encode(images)                             # (V, H, W, 3) uint8 -> (C, H/f, V*W/f) float32

The latent is the posterior mean, shifted and scaled as the pipeline's `decode_latents` undoes it:
z = (mean - shift_factor) * scaling_factor (deterministic, so cached and on-the-fly latents agree).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from numpy.typing import NDArray

if TYPE_CHECKING:
    from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL  # the class, not diffusers' lazy alias


def stitch_images(images: NDArray[np.uint8] | torch.Tensor) -> torch.Tensor:
    """(B, V, H, W, 3) or (V, H, W, 3) uint8 -> (B, 3, H, V*W) float32 in [-1, 1], views side by side."""
    x = torch.as_tensor(np.asarray(images) if not isinstance(images, torch.Tensor) else images)
    if x.ndim == 4:
        x = x[None]
    b, v, h, w, c = x.shape
    x = x.to(torch.float32) / 127.5 - 1.0
    return x.permute(0, 4, 2, 1, 3).reshape(b, c, h, v * w)


def vae_encode(vae: AutoencoderKL, pixels: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) in [-1, 1] -> (B, C, H/f, W/f) scaled latents (posterior mean), no grad."""
    with torch.no_grad():
        mean: torch.Tensor = vae.encode(pixels.to(vae.device, vae.dtype)).latent_dist.mean
    shift = _shift_factor(vae)
    return (mean.float() - shift) * float(vae.config["scaling_factor"])


def _shift_factor(vae: AutoencoderKL) -> float:
    """The VAE config's shift_factor (SD 3 / Flux VAEs), 0 when absent or null (SD 1.x)."""
    return float(vae.config.get("shift_factor") or 0.0)


def vae_decode(vae: AutoencoderKL, latents: torch.Tensor) -> torch.Tensor:
    """(B, C, h, w) scaled latents -> (B, 3, h*f, w*f) float32 in [-1, 1] (the pipeline's decode, batched)."""
    z = latents / float(vae.config["scaling_factor"])
    shift = _shift_factor(vae)
    with torch.no_grad():
        img: torch.Tensor = vae.decode((z + shift).to(vae.device, vae.dtype), return_dict=False)[0]
    return img.float().clamp(-1, 1)


class LatentEncoder:
    """A frozen VAE that encodes panoramas (see the module docstring)."""

    def __init__(self, vae: AutoencoderKL, device: str | torch.device = "cpu") -> None:
        vae.to(device)  # type: ignore[arg-type]  # functools.wraps on diffusers' ModelMixin.to hides the bound self
        self.vae = vae.eval().requires_grad_(False)

    @classmethod
    def from_model(cls, model_dir: str | os.PathLike[str], device: str = "cpu") -> "LatentEncoder":
        from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL

        path = Path(model_dir).expanduser() / "vae"
        if not path.is_dir():
            raise FileNotFoundError(f"{model_dir}: no vae/ subfolder (not a pipeline folder)")
        vae = AutoencoderKL.from_pretrained(str(path), local_files_only=True)
        return cls(vae, device)

    def encode(self, images: NDArray[np.uint8]) -> NDArray[np.float32]:
        """(V, H, W, 3) uint8 -> (C, H/f, V*W/f) float32 latent of the stitched panorama."""
        return vae_encode(self.vae, stitch_images(images))[0].cpu().numpy()
