"""The trainable part of a `WorldModelPipeline` and the one noise-prediction call training and evaluation share.

    pipe = load_pipeline(model_dir)                       # engine.worldmodel.diffusion.backend
    params = set_trainable(pipe, ("controlnets", "unet-lora"), lora_rank=8)
    net = TrainableWorldModel(pipe)                        # nn.Module for accelerate / DDP
    eps = net(sample, t, text, context, dense, layout, env) # (B, C, h, w)

`TrainableWorldModel.forward` is `WorldModelPipeline.predict_noise` (docs/world_model_diffusion.md: the
function training and sampling share) with the sampler's circular panorama padding around it, so the
model is trained on exactly what it sees at generation time. Parameter groups (`--trainable`):

    controlnets   every ControlNet (the guidance nets and the layout net)
    layout        the layout ControlNet only
    unet          the whole UNet
    unet-lora     LoRA adapters (peft) on the UNet's attention projections (to_q, to_k, to_v, to_out.0)
    unet-inputs   the UNet's input convolution and environment embedding (the zero-initialised additions)
"""
from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Sequence, overload

import torch
from torch import nn

if TYPE_CHECKING:
    from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel  # the class, not diffusers' lazy alias

    from engine.worldmodel.diffusion.pipeline import WorldModelPipeline

TRAINABLE_GROUPS = ("controlnets", "layout", "unet", "unet-lora", "unet-inputs")
LORA_TARGETS = ["to_q", "to_k", "to_v", "to_out.0"]


@overload
def wrap_pad(x: torch.Tensor, cols: int) -> torch.Tensor: ...
@overload
def wrap_pad(x: torch.Tensor | None, cols: int) -> torch.Tensor | None: ...
def wrap_pad(x: torch.Tensor | None, cols: int) -> torch.Tensor | None:
    """Pad (B, C, H, W) circularly along W by `cols` on each side (the panorama wraps around), as the sampler does."""
    if x is None or cols <= 0:
        return x
    return torch.cat([x[..., -cols:], x, x[..., :cols]], dim=-1)


def wrap_columns(pipe: WorldModelPipeline) -> int:
    """Latent columns the pipeline's sampler borrows from the other end of the panorama (0 for one view)."""
    fn = getattr(pipe, "_wrap_columns", None)
    if fn is not None:
        return int(fn())
    return 2 ** (len(pipe.unet.config["block_out_channels"]) - 1) if pipe.config["num_views"] > 1 else 0


class TrainableWorldModel(nn.Module):
    """UNet + ControlNets of a pipeline as one module; forward = the pipeline's noise prediction."""

    _pipe: WorldModelPipeline
    pad: int

    def __init__(self, pipe: WorldModelPipeline) -> None:
        super().__init__()
        self.unet = pipe.unet
        self.controlnet = pipe.controlnet
        self.layout_controlnet = getattr(pipe, "layout_controlnet", None)
        object.__setattr__(self, "_pipe", pipe)   # not a submodule: the VAE and text encoder stay out
        self.pad = wrap_columns(pipe)

    @property
    def pipe(self) -> WorldModelPipeline:
        return self._pipe

    def forward(self, sample: torch.Tensor, t: torch.Tensor, text: torch.Tensor, context: torch.Tensor,
                dense: torch.Tensor, layout: torch.Tensor | None, env: torch.Tensor | None) -> torch.Tensor:
        """Noise prediction (B, C, h, w).

        sample (B, C, h, w) scheduler-scaled noisy latent; t (B,) timesteps; text (B, L, D); context
        (B, C + 1, h, w) previous clean latent + flag plane; dense (B, 9, H, W) guidance stack in [0, 1];
        layout (B, 16, H, W) or None; env (B, 7) or None. H = h * f, W = w * f.
        """
        pipe = self._pipe
        pad = self.pad
        f = int(pipe.vae_scale_factor)
        dtype = sample.dtype
        images = [wrap_pad(im.to(dtype), pad * f) for im in pipe.control_images(dense)]
        pred = pipe.predict_noise(wrap_pad(sample, pad), t, text.to(dtype), wrap_pad(context.to(dtype), pad), images,
                                  layout=wrap_pad(None if layout is None else layout.to(dtype), pad * f),
                                  env=None if env is None else env.to(dtype))
        return pred[..., pad:-pad] if pad else pred



def set_trainable(pipe: WorldModelPipeline, groups: Sequence[str], lora_rank: int = 8) -> list[nn.Parameter]:
    """Freeze the pipeline, then unfreeze (or add, for LoRA) the named groups; returns the trainable parameters.

    ValueError names an unknown group or one the model lacks (no layout ControlNet)."""
    unknown = [g for g in groups if g not in TRAINABLE_GROUPS]
    if unknown or not groups:
        raise ValueError(f"unknown trainable group(s) {', '.join(unknown) or '(none given)'}; "
                         f"choose from {', '.join(TRAINABLE_GROUPS)}")
    for part in ("vae", "text_encoder", "unet", "controlnet", "layout_controlnet"):
        mod = getattr(pipe, part, None)
        if mod is not None:
            mod.requires_grad_(False)
    layout = getattr(pipe, "layout_controlnet", None)
    for g in groups:
        if g == "controlnets":
            pipe.controlnet.requires_grad_(True)
            if layout is not None:
                layout.requires_grad_(True)
        elif g == "layout":
            if layout is None:
                raise ValueError("--trainable layout: this model has no layout ControlNet")
            layout.requires_grad_(True)
        elif g == "unet":
            pipe.unet.requires_grad_(True)
        elif g == "unet-inputs":
            pipe.unet.conv_in.requires_grad_(True)
            if getattr(pipe.unet, "class_embedding", None) is not None:
                pipe.unet.class_embedding.requires_grad_(True)
        elif g == "unet-lora":
            add_lora(pipe.unet, lora_rank)
    params = [p for m in _trainable_modules(pipe) for p in m.parameters() if p.requires_grad]
    # a parameter shared by two modules is listed once
    seen: set[int] = set()
    out: list[nn.Parameter] = []
    for p in params:
        if id(p) not in seen:
            seen.add(id(p))
            out.append(p)
    return out


def _trainable_modules(pipe: WorldModelPipeline) -> list[nn.Module]:
    return [m for m in (pipe.unet, pipe.controlnet, getattr(pipe, "layout_controlnet", None)) if m is not None]


def add_lora(unet: UNet2DConditionModel, rank: int) -> None:
    """LoRA adapters (rank r, alpha r, B = 0 so the output is unchanged at start) on the attention projections."""
    from peft import LoraConfig

    if getattr(unet, "peft_config", None):
        return
    unet.add_adapter(LoraConfig(r=int(rank), lora_alpha=int(rank), init_lora_weights=True,
                                target_modules=list(LORA_TARGETS)))


def has_lora(unet: nn.Module) -> bool:
    return bool(getattr(unet, "peft_config", None))


def merged_unet(unet: UNet2DConditionModel) -> UNet2DConditionModel:
    """A copy of the UNet with its LoRA adapters folded into the weights and removed (plain diffusers UNet)."""
    out = copy.deepcopy(unet)
    if has_lora(out):
        out.fuse_lora()  # type: ignore[no-untyped-call]  # diffusers' LoRA mixin is unannotated
        out.unload_lora()  # type: ignore[no-untyped-call]  # as fuse_lora
    return out
