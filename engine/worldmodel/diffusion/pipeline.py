"""`WorldModelPipeline`: a diffusers pipeline that generates a six-view clip one panorama frame at a time.

Components (registered, saved with `save_pretrained`, one subfolder each, loaded with `from_pretrained`):
    vae               AutoencoderKL; slicing and tiling are enabled (the panorama is 6x as wide as a view)
    unet              UNet2DConditionModel with in_channels = 2 * latent + 1: the noisy latent, the previous
                      frame's clean latent and a "has previous frame" plane (temporal conditioning)
    controlnet        ControlNetModel over the dense guidance maps (conditioning_channels = 9: D, N, E, O, M),
                      or over all 25 channels (guidance + layout) when there is no layout_controlnet
    layout_controlnet optional ControlNetModel over projected boxes, HD map and camera rays (16 channels)
    scheduler         any diffusers scheduler (DDIM, DPM-Solver, ...)
    text_encoder      optional CLIPTextModel, with its tokenizer
Environment (time of day, weather) enters as a 7-d one-hot through the UNet's and ControlNets'
``class_embed_type="projection"`` embedding when they have one.

Panorama (DriveDreamer-2's UniMVM): the V views are stitched side by side into one latent of width
V * w, in the order FL, F, FR, BR, B, BL; the panorama also wraps around (BL's right edge meets FL's
left edge), which the pipeline honours by padding the latent circularly by a few columns.

Classifier-free guidance: the unconditional branch drops the text, the environment and the control
residuals (the previous frame stays), so the guidance scale amplifies everything the user authored.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np
import torch
from diffusers import AutoencoderKL, ControlNetModel, DiffusionPipeline, UNet2DConditionModel
from diffusers.schedulers.scheduling_utils import SchedulerMixin
from diffusers.utils import BaseOutput

from engine.worldmodel.conditions import GUIDANCE_CHANNELS, LAYOUT_CHANNELS
from engine.worldmodel.errors import GenerationCancelled, ModelLoadError

ENV_DIM = 7  # one-hot time of day (3) + weather (4)
GUIDANCE_CONTROL_CHANNELS = len(GUIDANCE_CHANNELS)  # 9: D, N, E, O, M
LAYOUT_CONTROL_CHANNELS = len(LAYOUT_CHANNELS) + 3  # 16: boxes (10 classes), HD map (3), camera ray xyz (3)
# Approximate latent -> RGB map of the SD-1.x VAE, for cheap step previews (4-channel latents only).
_SD_LATENT_RGB = torch.tensor([
    [0.3512, 0.2297, 0.3227],
    [0.3250, 0.4974, 0.2350],
    [-0.2829, 0.1762, 0.2721],
    [-0.2120, -0.2616, -0.7177],
])


@dataclass
class FrameControl:
    """Control images of one frame, stitched: dense (1, 9, H, V*W), layout (1, 16, H, V*W) or None; env (1, 7)."""

    dense: torch.Tensor
    layout: torch.Tensor | None = None
    env: torch.Tensor | None = None


@dataclass
class PipelineStep:
    """A denoising step finished: preview is (h, V*w, 3) uint8 at latent resolution, or None."""

    frame: int
    step: int
    num_steps: int
    preview: np.ndarray | None


@dataclass
class PipelineFrame:
    """A frame finished: image (H, V*W, 3) uint8 panorama."""

    frame: int
    image: np.ndarray


class WorldModelPipelineOutput(BaseOutput):
    """frames: (T, H, V*W, 3) uint8 panoramas."""

    frames: np.ndarray


class WorldModelPipeline(DiffusionPipeline):
    """Six-view panorama video diffusion with ControlNet guidance and temporal conditioning (see module doc)."""

    model_cpu_offload_seq = "text_encoder->controlnet->layout_controlnet->unet->vae"
    _optional_components = ["layout_controlnet", "text_encoder", "tokenizer"]

    def __init__(
        self,
        vae: AutoencoderKL,
        unet: UNet2DConditionModel,
        controlnet: ControlNetModel,
        scheduler: SchedulerMixin,
        layout_controlnet: ControlNetModel | None = None,
        text_encoder=None,
        tokenizer=None,
        num_views: int = 6,
    ) -> None:
        super().__init__()
        self.register_modules(vae=vae, unet=unet, controlnet=controlnet, scheduler=scheduler,
                              layout_controlnet=layout_controlnet, text_encoder=text_encoder, tokenizer=tokenizer)
        self.register_to_config(num_views=num_views)
        self.vae_scale_factor = 2 ** (len(vae.config.block_out_channels) - 1)
        self._interrupt = False
        vae.enable_slicing()
        vae.enable_tiling()

    # ---- checks ------------------------------------------------------------------------
    @property
    def latent_channels(self) -> int:
        return int(self.vae.config.latent_channels)

    @property
    def unet_downsampling(self) -> int:
        """Total down-sampling of the UNet (2 per down block but the last)."""
        return 2 ** (len(self.unet.config.block_out_channels) - 1)

    def check_components(self, where: str = "pipeline") -> None:
        """Raise ModelLoadError naming the component and the mismatch when the parts do not fit together."""
        c = self.latent_channels
        problems = []
        want_in = 2 * c + 1
        if self.unet.config.in_channels != want_in:
            problems.append(f"unet.in_channels is {self.unet.config.in_channels}; this pipeline needs {want_in} "
                            f"(noisy latent {c} + previous-frame latent {c} + 1 flag plane)")
        if self.unet.config.out_channels != c:
            problems.append(f"unet.out_channels is {self.unet.config.out_channels}, the VAE latent has {c}")
        nets = [("controlnet", self.controlnet)]
        if self.layout_controlnet is not None:
            nets.append(("layout_controlnet", self.layout_controlnet))
        for name, net in nets:
            cfg = net.config
            if cfg.in_channels != self.unet.config.in_channels:
                problems.append(f"{name}.in_channels is {cfg.in_channels}, the unet takes {self.unet.config.in_channels}")
            f = 2 ** (len(cfg.conditioning_embedding_out_channels) - 1)
            if f != self.vae_scale_factor:
                problems.append(f"{name} down-samples its condition by {f}, the VAE by {self.vae_scale_factor}")
            if cfg.cross_attention_dim != self.unet.config.cross_attention_dim:
                problems.append(f"{name}.cross_attention_dim {cfg.cross_attention_dim} != unet's "
                                f"{self.unet.config.cross_attention_dim}")
            if list(cfg.block_out_channels) != list(self.unet.config.block_out_channels):
                problems.append(f"{name}.block_out_channels {list(cfg.block_out_channels)} differ from the unet's")
        dense_c = self.controlnet.config.conditioning_channels
        if self.layout_controlnet is None:
            if dense_c not in (GUIDANCE_CONTROL_CHANNELS, GUIDANCE_CONTROL_CHANNELS + LAYOUT_CONTROL_CHANNELS):
                problems.append(f"controlnet.conditioning_channels is {dense_c}; expected {GUIDANCE_CONTROL_CHANNELS} "
                                f"(guidance maps) or {GUIDANCE_CONTROL_CHANNELS + LAYOUT_CONTROL_CHANNELS} (with layout)")
        else:
            if dense_c != GUIDANCE_CONTROL_CHANNELS:
                problems.append(f"controlnet.conditioning_channels is {dense_c}, expected {GUIDANCE_CONTROL_CHANNELS}")
            lc = self.layout_controlnet.config.conditioning_channels
            if lc != LAYOUT_CONTROL_CHANNELS:
                problems.append(f"layout_controlnet.conditioning_channels is {lc}, expected {LAYOUT_CONTROL_CHANNELS}")
        if self.text_encoder is not None:
            if self.tokenizer is None:
                problems.append("text_encoder is present but tokenizer is missing")
            hid = self.text_encoder.config.hidden_size
            if hid != self.unet.config.cross_attention_dim:
                problems.append(f"text_encoder.hidden_size {hid} != unet.cross_attention_dim "
                                f"{self.unet.config.cross_attention_dim}")
        if self.unet.config.class_embed_type not in (None, "projection"):
            problems.append(f"unet.class_embed_type {self.unet.config.class_embed_type!r} unsupported "
                            "(use 'projection' with projection_class_embeddings_input_dim=7, or none)")
        elif self.unet.config.class_embed_type == "projection" and \
                self.unet.config.projection_class_embeddings_input_dim != ENV_DIM:
            problems.append(f"unet.projection_class_embeddings_input_dim must be {ENV_DIM} (environment one-hot)")
        if problems:
            raise ModelLoadError(f"{where}: incompatible components:\n  " + "\n  ".join(problems))

    # ---- control ---------------------------------------------------------------------------
    def interrupt(self) -> None:
        """Ask a running generation to stop before its next step (thread-safe flag)."""
        self._interrupt = True

    @property
    def interrupted(self) -> bool:
        return self._interrupt

    # ---- conditioning -------------------------------------------------------------------
    @torch.no_grad()
    def encode_prompt(self, prompt: str, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """(cond, uncond) text embeddings, each (1, L, cross_attention_dim); zeros without a text encoder."""
        dim = self.unet.config.cross_attention_dim
        if self.text_encoder is None:
            z = torch.zeros(1, 1, dim, device=device, dtype=dtype)
            return z, z
        max_len = min(int(self.tokenizer.model_max_length), int(self.text_encoder.config.max_position_embeddings))
        ids = self.tokenizer([prompt, ""], padding="max_length", max_length=max_len, truncation=True,
                             return_tensors="pt").input_ids.to(device)
        emb = self.text_encoder(ids)[0].to(dtype)
        return emb[1:2], emb[0:1]

    def _control_residuals(self, unet_in, t, text, ctrl: FrameControl, scale: float, pad_px: int):
        """Summed down/mid residuals of the ControlNet(s) for the conditional branch."""
        dense = ctrl.dense
        nets: list[tuple[ControlNetModel, torch.Tensor]] = []
        if self.layout_controlnet is None:
            if self.controlnet.config.conditioning_channels == dense.shape[1]:
                nets.append((self.controlnet, dense))
            else:
                if ctrl.layout is None:
                    raise ModelLoadError("this model's controlnet expects guidance and layout channels; no layout given")
                nets.append((self.controlnet, torch.cat([dense, ctrl.layout], dim=1)))
        else:
            nets.append((self.controlnet, dense))
            if ctrl.layout is not None:
                nets.append((self.layout_controlnet, ctrl.layout))
        down_sum, mid_sum = None, None
        for net, cond in nets:
            cond = _wrap_pad(cond, pad_px)
            labels = ctrl.env if net.config.class_embed_type is not None else None
            down, mid = net(unet_in, t, encoder_hidden_states=text, controlnet_cond=cond, conditioning_scale=scale,
                            class_labels=labels, return_dict=False)
            if down_sum is None:
                down_sum, mid_sum = list(down), mid
            else:
                down_sum = [a + b for a, b in zip(down_sum, down)]
                mid_sum = mid_sum + mid
        return down_sum, mid_sum

    # ---- sampling -------------------------------------------------------------------------
    def _noise(self, shape, generator: torch.Generator | None, device, dtype) -> torch.Tensor:
        # drawn on the generator's device (CPU by default) so a seed gives the same clip on any device
        gen_device = generator.device if generator is not None else torch.device("cpu")
        return torch.randn(shape, generator=generator, device=gen_device, dtype=torch.float32).to(device, dtype)

    def _wrap_columns(self) -> int:
        """Latent columns borrowed from the other end of the panorama on each side."""
        return self.unet_downsampling if self.config.num_views > 1 else 0

    @torch.no_grad()
    def iter_frames(
        self,
        controls: Iterable[FrameControl],
        prompt: str = "",
        num_inference_steps: int = 20,
        guidance_scale: float = 4.0,
        generator: torch.Generator | None = None,
        controlnet_conditioning_scale: float = 1.0,
        noise_sharing: float = 0.0,
        preview_every: int = 1,
        should_stop: Callable[[], bool] | None = None,
        callback_on_step_end: Callable | None = None,
    ) -> Iterator[PipelineStep | PipelineFrame]:
        """Generate frame after frame; yields PipelineStep per step and PipelineFrame per frame.

        controls: one FrameControl per frame (consumed lazily). noise_sharing in [0, 1): part of the
        initial noise shared by all frames (PYoCo-style mixed noise). Raises GenerationCancelled
        before the next step once `interrupt()` was called or `should_stop()` is true.
        """
        self._interrupt = False
        device = self._execution_device
        dtype = self.unet.dtype
        do_cfg = guidance_scale > 1.0
        cond_text, uncond_text = self.encode_prompt(prompt, device, dtype)
        c = self.latent_channels
        f = self.vae_scale_factor
        pad = self._wrap_columns()
        step_kwargs = {}
        if "generator" in inspect.signature(self.scheduler.step).parameters:
            step_kwargs["generator"] = generator
        base_noise = None
        prev = None
        global_step = 0
        for fi, ctrl in enumerate(controls):
            _, _, height, width = ctrl.dense.shape
            if height % f or width % f:
                raise ValueError(f"image size {width // self.config.num_views}x{height} per view must be a multiple "
                                 f"of the VAE factor {f}")
            shape = (1, c, height // f, width // f)
            ctrl = FrameControl(ctrl.dense.to(device, dtype),
                                None if ctrl.layout is None else ctrl.layout.to(device, dtype),
                                None if ctrl.env is None else ctrl.env.to(device, dtype))
            if base_noise is None:
                base_noise = self._noise(shape, generator, device, torch.float32)
            fresh = self._noise(shape, generator, device, torch.float32)
            rho = float(noise_sharing)
            noise = (rho ** 0.5) * base_noise + ((1.0 - rho) ** 0.5) * fresh
            self.scheduler.set_timesteps(num_inference_steps, device=device)
            timesteps = self.scheduler.timesteps
            latents = (noise * self.scheduler.init_noise_sigma).to(dtype)
            if prev is None:
                context = torch.zeros(1, c + 1, *shape[2:], device=device, dtype=dtype)
            else:
                context = torch.cat([prev, torch.ones(1, 1, *shape[2:], device=device, dtype=dtype)], dim=1)
            env = ctrl.env
            for si, t in enumerate(timesteps):
                if self._interrupt or (should_stop is not None and should_stop()):
                    raise GenerationCancelled(f"cancelled at frame {fi}, step {si}")
                x = self.scheduler.scale_model_input(latents, t)
                unet_in = _wrap_pad(torch.cat([x, context], dim=1), pad)
                down, mid = self._control_residuals(unet_in, t, cond_text, ctrl, controlnet_conditioning_scale, pad * f)
                labels = env if self.unet.config.class_embed_type is not None else None
                if do_cfg:
                    unet_in = torch.cat([unet_in, unet_in])
                    text = torch.cat([uncond_text, cond_text])
                    down = [torch.cat([torch.zeros_like(d), d]) for d in down]
                    mid = torch.cat([torch.zeros_like(mid), mid])
                    if labels is not None:
                        labels = torch.cat([torch.zeros_like(labels), labels])
                else:
                    text = cond_text
                pred = self.unet(unet_in, t, encoder_hidden_states=text, class_labels=labels,
                                 down_block_additional_residuals=down, mid_block_additional_residual=mid,
                                 return_dict=False)[0]
                if pad:
                    pred = pred[..., pad:-pad]
                if do_cfg:
                    p_uncond, p_cond = pred.chunk(2)
                    pred = p_uncond + guidance_scale * (p_cond - p_uncond)
                out = self.scheduler.step(pred, t, latents, **step_kwargs, return_dict=True)
                latents = out.prev_sample.to(dtype)
                if callback_on_step_end is not None:
                    res = callback_on_step_end(self, global_step, t, {"latents": latents, "frame": fi}) or {}
                    latents = res.get("latents", latents)
                global_step += 1
                preview = None
                if preview_every and ((si + 1) % preview_every == 0 or si + 1 == len(timesteps)):
                    x0 = getattr(out, "pred_original_sample", None)
                    preview = latent_preview(x0 if x0 is not None else latents)
                yield PipelineStep(fi, si + 1, len(timesteps), preview)
            prev = latents
            yield PipelineFrame(fi, self.decode_latents(latents))

    @torch.no_grad()
    def decode_latents(self, latents: torch.Tensor) -> np.ndarray:
        """(1, C, h, w) latents -> (h*f, w*f, 3) uint8 through the VAE (upcast to float32 when it asks for it)."""
        vae = self.vae
        z = latents / vae.config.scaling_factor
        shift = getattr(vae.config, "shift_factor", None)
        if shift:
            z = z + shift
        if vae.dtype == torch.float16 and getattr(vae.config, "force_upcast", False):
            vae.to(torch.float32)
        image = vae.decode(z.to(vae.dtype), return_dict=False)[0]
        image = ((image.float().clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)
        return image[0].permute(1, 2, 0).cpu().numpy()

    def __call__(self, controls: Iterable[FrameControl], prompt: str = "", num_inference_steps: int = 20,
                 guidance_scale: float = 4.0, generator: torch.Generator | None = None,
                 callback_on_step_end: Callable | None = None, **kwargs) -> WorldModelPipelineOutput:
        """Run `iter_frames` to the end; frames (T, H, V*W, 3) uint8."""
        frames = [ev.image for ev in self.iter_frames(controls, prompt, num_inference_steps, guidance_scale, generator,
                                                       callback_on_step_end=callback_on_step_end, preview_every=0,
                                                       **kwargs)
                  if isinstance(ev, PipelineFrame)]
        return WorldModelPipelineOutput(frames=np.stack(frames))


def _wrap_pad(x: torch.Tensor, cols: int) -> torch.Tensor:
    """Pad (B, C, H, W) circularly along W by `cols` columns on each side (the panorama wraps around)."""
    if cols <= 0:
        return x
    return torch.cat([x[..., -cols:], x, x[..., :cols]], dim=-1)


def latent_preview(latents: torch.Tensor) -> np.ndarray:
    """(1, C, h, w) latents -> (h, w, 3) uint8 rough colour preview (linear map, no VAE decode)."""
    z = latents[0].float().cpu()
    if z.shape[0] == 4:
        rgb = torch.einsum("chw,cr->hwr", z, _SD_LATENT_RGB)
    else:
        rgb = z[:3].permute(1, 2, 0) if z.shape[0] >= 3 else z[:1].permute(1, 2, 0).repeat(1, 1, 3)
    rgb = ((rgb.clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)
    return rgb.numpy()
