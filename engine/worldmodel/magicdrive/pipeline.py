"""MagicDrive's sampling loop (StableDiffusionBEVControlNetPipeline) one denoising step at a time.

Same order of operations as the original: classifier-free guidance with the unconditional half first
([negative prompt, learnt 'no camera' parameters, no boxes, the same map] then the conditional half),
one noise latent shared by all views, ControlNet residuals added to the UNet, then the scheduler step
(UniPC, as MagicDrive samples). Generators let a caller report progress and cancel between steps.

Shapes: B scenes, V views, latents (B, V, 4, H/8, W/8); prompt embeddings (B, L, D); bev_map
(B, C_map, 200, 200) float in {0, 1}; camera_param (B, V, 3, 7); boxes: {"bboxes": (B, V, M, 8, 3),
"classes": (B, V, M), "masks": (B, V, M)} or None.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator, Mapping

import torch

if TYPE_CHECKING:
    # the classes themselves, not diffusers' / transformers' lazy top-level aliases
    from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL
    from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel
    from diffusers.schedulers.scheduling_unipc_multistep import UniPCMultistepScheduler
    from transformers.models.clip.modeling_clip import CLIPTextModel
    from transformers.models.clip.tokenization_clip import CLIPTokenizer

    from engine.worldmodel.magicdrive.controlnet import BEVControlNet


@dataclass
class SamplerInputs:
    """The conditions of one sampling run (tensors already on the device; see the module docstring)."""

    prompt_embeds: torch.Tensor
    negative_prompt_embeds: torch.Tensor
    bev_map: torch.Tensor
    camera_param: torch.Tensor
    boxes: Mapping[str, torch.Tensor] | None


class MagicDriveSampler:
    """unet: the multi-view UNet; controlnet: BEVControlNet; scheduler: a diffusers scheduler;
    vae / text_encoder / tokenizer: SD1.5's (optional for latent-only use)."""

    def __init__(self, unet: UNet2DConditionModel, controlnet: BEVControlNet, scheduler: UniPCMultistepScheduler,
                 vae: AutoencoderKL | None = None, text_encoder: CLIPTextModel | None = None,
                 tokenizer: CLIPTokenizer | None = None) -> None:
        self.unet = unet
        self.controlnet = controlnet
        self.scheduler = scheduler
        self.vae = vae
        self.text_encoder = text_encoder
        self.tokenizer = tokenizer

    # ---- text ------------------------------------------------------------------------------
    @torch.no_grad()
    def encode_prompts(self, prompts: list[str], negative: str = "") -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 77, 768) prompt and (B, 77, 768) negative-prompt embeddings, SD1.5's way (max-length padding)."""
        tokenizer, text_encoder = self.tokenizer, self.text_encoder
        if tokenizer is None or text_encoder is None:
            raise RuntimeError("this sampler has no text encoder")
        device = text_encoder.device

        def encode(texts: list[str], length: int) -> torch.Tensor:
            ids = tokenizer(texts, padding="max_length", max_length=length, truncation=True,
                            return_tensors="pt").input_ids.to(device)
            mask = None
            if getattr(text_encoder.config, "use_attention_mask", False):
                mask = (ids != tokenizer.pad_token_id).long()
            emb: torch.Tensor = text_encoder(ids, attention_mask=mask)[0]
            return emb

        cond = encode(list(prompts), int(tokenizer.model_max_length))
        uncond = encode([negative] * len(prompts), cond.shape[1])
        return cond, uncond

    # ---- sampling ----------------------------------------------------------------------------
    def _with_uncond(self, inputs: SamplerInputs) -> dict[str, Any]:
        b, v = inputs.camera_param.shape[:2]
        cam = torch.cat([self.controlnet.uncond_cam_param(b, v).to(inputs.camera_param.dtype), inputs.camera_param])
        boxes = None
        if inputs.boxes is not None:
            boxes = {k: torch.cat([torch.zeros_like(t), t]) for k, t in inputs.boxes.items()}
        return {"camera_param": cam, "bboxes_3d_data": boxes,
                "prompt": torch.cat([inputs.negative_prompt_embeds, inputs.prompt_embeds]),
                "image": torch.cat([inputs.bev_map] * 2)}

    @torch.no_grad()
    def sample(self, inputs: SamplerInputs, latents: torch.Tensor, num_steps: int, guidance_scale: float = 2.0,
               conditioning_scale: float = 1.0) -> Iterator[tuple[int, torch.Tensor]]:
        """Yield (step index, latents (B, V, 4, h, w)) after every step; `latents` (B, 4, h, w) is the
        initial noise, shared by the V views (as MagicDrive does)."""
        cfg = guidance_scale > 1.0
        v = inputs.camera_param.shape[1]
        self.scheduler.set_timesteps(num_steps, device=latents.device)
        latents = latents * self.scheduler.init_noise_sigma
        latents = torch.stack([latents] * v, dim=1)
        if cfg:
            cond = self._with_uncond(inputs)
        else:
            cond = {"camera_param": inputs.camera_param, "bboxes_3d_data": inputs.boxes,
                    "prompt": inputs.prompt_embeds, "image": inputs.bev_map}
        for i, t in enumerate(self.scheduler.timesteps):
            model_in = torch.cat([latents] * 2) if cfg else latents
            model_in = self.scheduler.scale_model_input(model_in, t)
            down, mid, context = self.controlnet(
                model_in, t.unsqueeze(0).repeat(len(model_in)), cond["camera_param"], cond["bboxes_3d_data"],
                cond["prompt"], cond["image"], conditioning_scale=conditioning_scale)
            flat_in = model_in.reshape(-1, *model_in.shape[2:])
            noise = self.unet(flat_in, t, encoder_hidden_states=context, down_block_additional_residuals=down,
                              mid_block_additional_residual=mid).sample
            if cfg:
                uncond, text = noise.chunk(2)
                noise = uncond + guidance_scale * (text - uncond)
            flat = latents.reshape(-1, *latents.shape[2:])
            flat = self.scheduler.step(noise, t, flat, return_dict=False)[0]   # the prev_sample
            latents = flat.reshape(latents.shape)
            yield i, latents

    @torch.no_grad()
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """(B, V, 4, h, w) latents -> (B, V, 3, 8h, 8w) float images in [0, 1]."""
        if self.vae is None:
            raise RuntimeError("this sampler has no VAE")
        b, v = latents.shape[:2]
        flat = latents.reshape(b * v, *latents.shape[2:]) / self.vae.config["scaling_factor"]
        images = []
        for chunk in flat.split(1):  # one view at a time keeps the decoder's memory low
            images.append(self.vae.decode(chunk.to(self.vae.dtype)).sample.float())
        img = (torch.cat(images) / 2 + 0.5).clamp(0, 1)
        return img.reshape(b, v, *img.shape[1:])


def magicdrive_scheduler(config: Mapping[str, Any]) -> UniPCMultistepScheduler:
    """MagicDrive's sampler: UniPC from SD1.5's scheduler config. Its pinned diffusers (0.17.1) ends the
    last step at the noise level of t = 0, which today's UniPC calls final_sigmas_type='sigma_min'
    (its default, 'zero', gives slightly different images)."""
    from diffusers.schedulers.scheduling_unipc_multistep import UniPCMultistepScheduler

    cfg = {k: v for k, v in dict(config).items() if not k.startswith("_")}
    cfg["final_sigmas_type"] = "sigma_min"
    scheduler: UniPCMultistepScheduler = UniPCMultistepScheduler.from_config(cfg)
    return scheduler
