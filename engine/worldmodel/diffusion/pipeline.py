"""`WorldModelPipeline`: a diffusers pipeline that generates a six-view clip one panorama frame at a time.

Format 2 (docs/world_model_diffusion.md): Stable Diffusion 1.x + N stock ControlNets, as diffusers'
StableDiffusionControlNetPipeline runs them, plus zero-initialised additions that keep a folder
converted from public checkpoints exact before any training.

Components (registered, saved with `save_pretrained`, one subfolder each, loaded with `from_pretrained`):
    vae               AutoencoderKL; slicing and tiling are enabled (the panorama is 6x as wide as a view)
    unet              UNet2DConditionModel with in_channels = 2 * latent + 1: the noisy latent, the previous
                      frame's clean latent and a "has previous frame" plane; environment (7-d one-hot) through
                      class_embed_type="projection"
    controlnet        MultiControlNetModel of stock ControlNetModels (in_channels = latent, 3-channel condition
                      images), each fed by a channel selector (`selectors.py`) named in the config `controls`
    layout_controlnet optional ControlNetModel over projected boxes, HD map and camera rays (16 channels)
    scheduler         any diffusers scheduler (DDIM, DPM-Solver, ...)
    text_encoder      optional CLIPTextModel, with its tokenizer

Panorama (DriveDreamer-2's UniMVM): the V views are stitched side by side into one latent of width
V * w, in the order FL, F, FR, BR, B, BL; the panorama also wraps around (BL's right edge meets FL's
left edge), which the pipeline honours by padding the latent circularly by a few columns.

Classifier-free guidance as diffusers: the unconditional half gets the empty prompt; ControlNets, the
previous frame and the environment go to both halves.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable, Generator, Iterable, Sequence

import numpy as np
import torch
from numpy.typing import NDArray

from engine.worldmodel.conditions import GUIDANCE_CHANNELS, LAYOUT_CHANNELS
from engine.worldmodel.diffusion import selectors
from engine.worldmodel.diffusion.options import DiffusionOptions
from engine.worldmodel.errors import GenerationCancelled, ModelLoadError
from engine.worldmodel.extras import missing_extra_from

try:  # the [diffusion] extra; imported from the defining modules (diffusers' top level is a lazy module)
    from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL
    from diffusers.models.controlnets.controlnet import ControlNetModel
    from diffusers.models.controlnets.multicontrolnet import MultiControlNetModel
    from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel
    from diffusers.pipelines.pipeline_utils import DiffusionPipeline
    from diffusers.schedulers.scheduling_utils import SchedulerMixin
    from diffusers.utils import logging as diffusers_logging
    from diffusers.utils.outputs import BaseOutput
    from transformers.models.clip.modeling_clip import CLIPTextModel
    from transformers.utils import logging as transformers_logging
    from transformers.tokenization_utils_base import PreTrainedTokenizerBase
except ImportError as e:
    raise missing_extra_from(e) from e

FORMAT_VERSION = 2
ENV_DIM = 7  # one-hot time of day (3) + weather (4)
GUIDANCE_CONTROL_CHANNELS = len(GUIDANCE_CHANNELS)  # 9: D, N, E, O, M (the stack selectors read)
LAYOUT_CONTROL_CHANNELS = len(LAYOUT_CHANNELS) + 3  # 16: boxes (10 classes), HD map (3), camera ray xyz (3)
CONTROL_IMAGE_CHANNELS = 3  # what every public SD-1.x ControlNet takes
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
    preview: NDArray[np.uint8] | None


@dataclass
class PipelineFrame:
    """A frame finished: image (H, V*W, 3) uint8 panorama; latents (1, C, h, V*w) the clean latent."""

    frame: int
    image: NDArray[np.uint8]
    latents: torch.Tensor | None = None


class WorldModelPipelineOutput(BaseOutput):
    """frames: (T, H, V*W, 3) uint8 panoramas."""

    frames: NDArray[np.uint8]


def disable_progress_bars() -> None:
    """No tqdm bars from diffusers and transformers while loading or saving (the product reports its own progress)."""
    diffusers_logging.disable_progress_bar()
    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # transformers leaves it unannotated


# callback_on_step_end(pipeline, global step, timestep, {"latents", "frame"}) -> {"latents": ...} or None
StepEndCallback = Callable[["WorldModelPipeline", int, torch.Tensor, dict[str, Any]], "dict[str, Any] | None"]


def _as_multi(controlnet: MultiControlNetModel | ControlNetModel | Sequence[ControlNetModel]) -> MultiControlNetModel:
    if isinstance(controlnet, MultiControlNetModel):
        return controlnet
    if isinstance(controlnet, ControlNetModel):
        return MultiControlNetModel([controlnet])
    if isinstance(controlnet, (list, tuple)):
        return MultiControlNetModel(list(controlnet))
    raise ModelLoadError(f"controlnet must be a ControlNetModel, a list of them or a MultiControlNetModel, "
                         f"got {type(controlnet).__name__}")


def default_controls(n: int) -> list[dict[str, Any]]:
    """Config entries for n nets without names: depth, canny, normal, seg, then ch:0,0,0."""
    names = list(selectors.SELECTORS)
    return [{"name": names[i] if i < len(names) else f"net{i}", "selector": names[i] if i < len(names) else "ch:0,0,0",
             "scale": 1.0} for i in range(n)]


class WorldModelPipeline(DiffusionPipeline):
    """Six-view panorama video diffusion: SD 1.x + N ControlNets + temporal/env inputs (see module doc)."""

    model_cpu_offload_seq = "text_encoder->controlnet->layout_controlnet->unet->vae"  # type: ignore[assignment]  # diffusers types the base's None
    _optional_components = ["layout_controlnet", "text_encoder", "tokenizer"]
    # the components `register_modules` sets (declared for type checkers; no class attributes)
    vae: AutoencoderKL
    unet: UNet2DConditionModel
    controlnet: MultiControlNetModel
    scheduler: SchedulerMixin
    layout_controlnet: ControlNetModel | None
    text_encoder: CLIPTextModel | None
    tokenizer: PreTrainedTokenizerBase | None

    def __init__(
        self,
        vae: AutoencoderKL,
        unet: UNet2DConditionModel,
        controlnet: MultiControlNetModel,
        scheduler: SchedulerMixin,
        layout_controlnet: ControlNetModel | None = None,
        text_encoder: CLIPTextModel | None = None,
        tokenizer: PreTrainedTokenizerBase | None = None,
        num_views: int = 6,
        controls: list[dict[str, Any]] | None = None,
        layout_scale: float = 1.0,
        format_version: int = FORMAT_VERSION,
        objects_in_controls: bool = False,
    ) -> None:
        super().__init__()
        controlnet = _as_multi(controlnet)
        controls = [dict(c) for c in (controls or default_controls(len(controlnet.nets)))]
        self.register_modules(  # type: ignore[no-untyped-call]  # diffusers leaves it unannotated
            vae=vae, unet=unet, controlnet=controlnet, scheduler=scheduler,
            layout_controlnet=layout_controlnet, text_encoder=text_encoder, tokenizer=tokenizer)
        # objects_in_controls: the ControlNets see inserted objects in D/N/E (public checkpoints that never
        # learnt O/M); False for models trained on Dream4Drive's blanked stack (`train run` writes False)
        self.register_to_config(  # type: ignore[no-untyped-call]  # diffusers leaves it unannotated
            num_views=num_views, controls=controls, layout_scale=float(layout_scale),
            format_version=int(format_version), objects_in_controls=bool(objects_in_controls))
        self.vae_scale_factor = 2 ** (len(vae.config["block_out_channels"]) - 1)
        vae.enable_slicing()  # type: ignore[no-untyped-call]  # diffusers leaves it unannotated
        vae.enable_tiling()  # type: ignore[no-untyped-call]  # diffusers leaves it unannotated

    # ---- description -------------------------------------------------------------------
    @property
    def latent_channels(self) -> int:
        return int(self.vae.config["latent_channels"])

    @property
    def unet_downsampling(self) -> int:
        """Total down-sampling of the UNet (2 per down block but the last)."""
        return int(2 ** (len(self.unet.config["block_out_channels"]) - 1))

    @property
    def control_names(self) -> list[str]:
        return [str(c["name"]) for c in self.config["controls"]]

    @property
    def control_selectors(self) -> list[str]:
        return [str(c["selector"]) for c in self.config["controls"]]

    @property
    def control_scales(self) -> list[float]:
        return [float(c.get("scale", 1.0)) for c in self.config["controls"]]

    def check_components(self, where: str = "pipeline") -> None:
        """Raise ModelLoadError naming the component and the mismatch when the parts do not fit together."""
        c = self.latent_channels
        problems: list[str] = []
        if int(self.config.get("format_version", FORMAT_VERSION)) != FORMAT_VERSION:
            problems.append(f"format_version is {self.config['format_version']}; this product reads {FORMAT_VERSION}")
        want_in = 2 * c + 1
        ucfg = self.unet.config
        if ucfg["in_channels"] != want_in:
            problems.append(f"unet.in_channels is {ucfg['in_channels']}; this pipeline needs {want_in} "
                            f"(noisy latent {c} + previous-frame latent {c} + 1 flag plane); convert public "
                            "checkpoints with `main.py model convert`")
        if ucfg["out_channels"] != c:
            problems.append(f"unet.out_channels is {ucfg['out_channels']}, the VAE latent has {c}")
        nets: list[tuple[str, ControlNetModel]] = []
        for i, (n, net) in enumerate(zip(self.control_names, self.controlnet.nets)):
            if isinstance(net, ControlNetModel):
                nets.append((f"controlnet[{i}] ({n})", net))
            else:
                problems.append(f"controlnet[{i}] ({n}) is a {type(net).__name__}, not a ControlNetModel")
        if len(self.config["controls"]) != len(self.controlnet.nets):
            problems.append(f"the config names {len(self.config['controls'])} controls but controlnet has "
                            f"{len(self.controlnet.nets)} nets")
        for spec in self.control_selectors:
            try:
                selectors.check_selector(spec)
            except ValueError as e:
                problems.append(str(e))
        if self.layout_controlnet is not None:
            nets.append(("layout_controlnet", self.layout_controlnet))
            lc = self.layout_controlnet.config["conditioning_channels"]
            if lc != LAYOUT_CONTROL_CHANNELS:
                problems.append(f"layout_controlnet.conditioning_channels is {lc}, expected {LAYOUT_CONTROL_CHANNELS}")
        for name, net in nets:
            cfg = net.config
            if cfg["in_channels"] != c:
                old = " (the old 9-channel format: rebuild the folder with `main.py model convert`)" \
                    if cfg["in_channels"] == want_in else ""
                problems.append(f"{name}.in_channels is {cfg['in_channels']}, expected the latent's {c}{old}")
            if name != "layout_controlnet" and cfg["conditioning_channels"] != CONTROL_IMAGE_CHANNELS:
                problems.append(f"{name}.conditioning_channels is {cfg['conditioning_channels']}, expected "
                                f"{CONTROL_IMAGE_CHANNELS} (an RGB control image)")
            f = 2 ** (len(cfg["conditioning_embedding_out_channels"]) - 1)
            if f != self.vae_scale_factor:
                problems.append(f"{name} down-samples its condition by {f}, the VAE by {self.vae_scale_factor}")
            if cfg["cross_attention_dim"] != ucfg["cross_attention_dim"]:
                problems.append(f"{name}.cross_attention_dim {cfg['cross_attention_dim']} != unet's "
                                f"{ucfg['cross_attention_dim']}")
            if list(cfg["block_out_channels"]) != list(ucfg["block_out_channels"]):
                problems.append(f"{name}.block_out_channels {list(cfg['block_out_channels'])} differ from the unet's "
                                f"{list(ucfg['block_out_channels'])}")
            if cfg["class_embed_type"] is not None:
                problems.append(f"{name} has a class embedding ({cfg['class_embed_type']}); ControlNets take none here")
        if self.text_encoder is not None:
            if self.tokenizer is None:
                problems.append("text_encoder is present but tokenizer is missing")
            hid = self.text_encoder.config.hidden_size
            if hid != ucfg["cross_attention_dim"]:
                problems.append(f"text_encoder.hidden_size {hid} != unet.cross_attention_dim {ucfg['cross_attention_dim']}")
        if ucfg["class_embed_type"] not in (None, "projection"):
            problems.append(f"unet.class_embed_type {ucfg['class_embed_type']!r} unsupported "
                            "(use 'projection' with projection_class_embeddings_input_dim=7, or none)")
        elif ucfg["class_embed_type"] == "projection" and ucfg["projection_class_embeddings_input_dim"] != ENV_DIM:
            problems.append(f"unet.projection_class_embeddings_input_dim must be {ENV_DIM} (environment one-hot)")
        if problems:
            raise ModelLoadError(f"{where}: incompatible components:\n  " + "\n  ".join(problems))

    # ---- conditioning -------------------------------------------------------------------
    @torch.no_grad()
    def encode_prompt(self, prompt: str, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """(cond, uncond) text embeddings, each (1, L, cross_attention_dim); zeros without a text encoder."""
        dim = self.unet.config["cross_attention_dim"]
        if self.text_encoder is None or self.tokenizer is None:   # check_components refuses an encoder without tokenizer
            z = torch.zeros(1, 1, dim, device=device, dtype=dtype)
            return z, z
        max_len = min(int(self.tokenizer.model_max_length), int(self.text_encoder.config.max_position_embeddings))
        ids = self.tokenizer([prompt, ""], padding="max_length", max_length=max_len, truncation=True,
                             return_tensors="pt").input_ids.to(device)
        emb = self.text_encoder(ids)[0].to(dtype)
        return emb[0:1], emb[1:2]  # tokenized as [prompt, ""]

    def control_images(self, dense: torch.Tensor) -> list[torch.Tensor]:
        """(B, 9, H, W) guidance stack in [0, 1] -> one (B, 3, H, W) image per ControlNet (its selector)."""
        return [selectors.select(spec, dense) for spec in self.control_selectors]

    def resolve_scales(self, options: DiffusionOptions | None = None) -> list[float]:
        """Per-ControlNet scales: the folder's, overridden by name, times the global multiplier."""
        options = options or DiffusionOptions()
        unknown = sorted(set(options.controlnet_scales) - set(self.control_names))
        if unknown:
            raise ValueError(f"no ControlNet named {', '.join(unknown)} in this model (it has "
                             f"{', '.join(self.control_names)})")
        return [options.controlnet_scales.get(n, s) * options.controlnet_conditioning_scale
                for n, s in zip(self.control_names, self.control_scales)]

    def predict_noise(self, sample: torch.Tensor, t: torch.Tensor, text: torch.Tensor, context: torch.Tensor | None,
                      images: Sequence[torch.Tensor], scales: Sequence[float] | None = None,
                      layout: torch.Tensor | None = None, env: torch.Tensor | None = None,
                      layout_scale: float | None = None) -> torch.Tensor:
        """The noise prediction (B, C, h, w), diffusers' StableDiffusionControlNetPipeline code path.

        sample: (B, C, h, w) scheduler-scaled noisy latent; t: timestep; text: (B, L, D) embeddings;
        context: (B, C + 1, h, w) previous clean latent + flag plane (None: zeros); images: one
        (B, 3, H, W) control image in [0, 1] per ControlNet; scales: per ControlNet (None: the folder's);
        layout: (B, 16, H, W) for the layout ControlNet (ignored without one); env: (B, 7) (None: zeros).
        """
        scales = list(self.control_scales if scales is None else scales)
        down, mid = self.controlnet(sample, t, encoder_hidden_states=text, controlnet_cond=list(images),
                                    conditioning_scale=scales, return_dict=False)
        if self.layout_controlnet is not None and layout is not None:
            ls = self.config["layout_scale"] if layout_scale is None else layout_scale
            l_down, l_mid = self.layout_controlnet(sample, t, encoder_hidden_states=text, controlnet_cond=layout,
                                                   conditioning_scale=float(ls), return_dict=False)
            down = [a + b for a, b in zip(down, l_down)]
            mid = mid + l_mid
        b, c, h, w = sample.shape
        if context is None:
            context = sample.new_zeros(b, self.unet.config["in_channels"] - c, h, w)
        labels = None
        if self.unet.config["class_embed_type"] is not None:
            labels = env if env is not None else sample.new_zeros(b, ENV_DIM)
            labels = labels.to(sample.dtype)
        noise: torch.Tensor = self.unet(torch.cat([sample, context], dim=1), t, encoder_hidden_states=text,
                                        class_labels=labels, down_block_additional_residuals=down,
                                        mid_block_additional_residual=mid, return_dict=False)[0]
        return noise

    # ---- sampling -------------------------------------------------------------------------
    def _noise(self, shape: tuple[int, int, int, int], generator: torch.Generator | None, device: torch.device,
               dtype: torch.dtype) -> torch.Tensor:
        # drawn on the generator's device (CPU by default) so a seed gives the same clip on any device
        gen_device = generator.device if generator is not None else torch.device("cpu")
        return torch.randn(shape, generator=generator, device=gen_device, dtype=torch.float32).to(device, dtype)

    def _wrap_columns(self) -> int:
        """Latent columns borrowed from the other end of the panorama on each side."""
        return self.unet_downsampling if self.config["num_views"] > 1 else 0

    def _initial_noise(self, shape: tuple[int, int, int, int], generator: torch.Generator | None, device: torch.device,
                       base_noise: torch.Tensor, options: DiffusionOptions) -> torch.Tensor:
        """Frame noise: mixed with the clip's shared noise and the views' shared tile (unit variance kept)."""
        fresh = self._noise(shape, generator, device, torch.float32)
        rv = float(options.view_noise_sharing)
        views = int(self.config["num_views"])
        if rv > 0 and views > 1 and shape[-1] % views == 0:
            tile = fresh[..., : shape[-1] // views].repeat(1, 1, 1, views)
            fresh = rv ** 0.5 * tile + (1.0 - rv) ** 0.5 * fresh
        rho = float(options.noise_sharing)
        mixed: torch.Tensor = rho ** 0.5 * base_noise + (1.0 - rho) ** 0.5 * fresh
        return mixed

    @torch.no_grad()
    def iter_frames(
        self,
        controls: Iterable[FrameControl],
        prompt: str = "",
        num_inference_steps: int = 20,
        guidance_scale: float = 4.0,
        generator: torch.Generator | None = None,
        options: DiffusionOptions | None = None,
        preview_every: int = 1,
        should_stop: Callable[[], bool] | None = None,
        callback_on_step_end: StepEndCallback | None = None,
        controlnet_conditioning_scale: float | None = None,
        noise_sharing: float | None = None,
    ) -> Generator[PipelineStep | PipelineFrame, None, None]:
        """Generate frame after frame; yields PipelineStep per step and PipelineFrame per frame.

        controls: one FrameControl per frame (consumed lazily); options: DiffusionOptions (scales and the
        consistency techniques; controlnet_conditioning_scale / noise_sharing override the same fields).
        Raises GenerationCancelled before the next step once `should_stop()` is true.
        """
        options = options or DiffusionOptions()
        over: dict[str, float] = {}
        if controlnet_conditioning_scale is not None:
            over["controlnet_conditioning_scale"] = float(controlnet_conditioning_scale)
        if noise_sharing is not None:
            over["noise_sharing"] = float(noise_sharing)
        if over:
            options = DiffusionOptions(**{**{f: getattr(options, f) for f in options.__dataclass_fields__}, **over})
        scales = self.resolve_scales(options)
        layout_scale = self.config["layout_scale"] if options.layout_scale is None else options.layout_scale
        device: torch.device = self._execution_device
        dtype = self.unet.dtype
        do_cfg = guidance_scale > 1.0
        cond_text, uncond_text = self.encode_prompt(prompt, device, dtype)
        text = torch.cat([uncond_text, cond_text]) if do_cfg else cond_text
        c = self.latent_channels
        f = self.vae_scale_factor
        pad = self._wrap_columns() if options.wrap else 0
        # diffusers' schedulers share no typed interface (SchedulerMixin declares none of step, set_timesteps,
        # add_noise, scale_model_input), so the scheduler is used untyped here
        scheduler: Any = self.scheduler
        step_kwargs: dict[str, Any] = {}
        if "generator" in inspect.signature(scheduler.step).parameters:
            step_kwargs["generator"] = generator
        base_noise: torch.Tensor | None = None
        prev: torch.Tensor | None = None
        global_step = 0
        for fi, ctrl in enumerate(controls):
            _, _, height, width = ctrl.dense.shape
            if height % f or width % f:
                raise ValueError(f"image size {width // self.config['num_views']}x{height} per view must be a multiple "
                                 f"of the VAE factor {f}")
            shape = (1, c, height // f, width // f)
            images = [_wrap_pad(im, pad * f) for im in self.control_images(ctrl.dense.to(device, dtype))]
            layout = None if ctrl.layout is None else _wrap_pad(ctrl.layout.to(device, dtype), pad * f)
            env = None if ctrl.env is None else ctrl.env.to(device, dtype)
            if base_noise is None:
                base_noise = self._noise(shape, generator, device, torch.float32)
            noise = self._initial_noise(shape, generator, device, base_noise, options)
            scheduler.set_timesteps(num_inference_steps, device=device)
            timesteps = scheduler.timesteps
            if prev is not None and options.temporal_strength < 1.0:
                order = getattr(scheduler, "order", 1)
                skip = min(int(round(num_inference_steps * (1.0 - options.temporal_strength))), num_inference_steps - 1)
                timesteps = timesteps[skip * order:]
                if hasattr(scheduler, "set_begin_index"):
                    scheduler.set_begin_index(skip * order)
                latents = scheduler.add_noise(prev.float(), noise, timesteps[:1]).to(dtype)
            else:
                latents = (noise * scheduler.init_noise_sigma).to(dtype)
            if prev is None:
                context = torch.zeros(1, c + 1, *shape[2:], device=device, dtype=dtype)
            else:
                context = torch.cat([prev, torch.ones(1, 1, *shape[2:], device=device, dtype=dtype)], dim=1)
            context = _wrap_pad(context, pad)
            n_batch = 2 if do_cfg else 1
            images_b = [im.repeat(n_batch, 1, 1, 1) for im in images]
            layout_b = None if layout is None else layout.repeat(n_batch, 1, 1, 1)
            env_b = None if env is None else env.repeat(n_batch, 1)
            context_b = context.repeat(n_batch, 1, 1, 1)
            for si, t in enumerate(timesteps):
                if should_stop is not None and should_stop():
                    raise GenerationCancelled(f"cancelled at frame {fi}, step {si}")
                x = _wrap_pad(scheduler.scale_model_input(latents, t), pad)
                x = torch.cat([x] * n_batch)
                pred = self.predict_noise(x, t, text, context_b, images_b, scales, layout_b, env_b, layout_scale)
                if pad:
                    pred = pred[..., pad:-pad]
                if do_cfg:
                    p_uncond, p_cond = pred.chunk(2)
                    pred = p_uncond + guidance_scale * (p_cond - p_uncond)
                out = scheduler.step(pred, t, latents, **step_kwargs, return_dict=True)
                latents = out.prev_sample.to(dtype)
                if prev is not None and options.prev_blend > 0:
                    if si + 1 < len(timesteps):
                        target = scheduler.add_noise(prev.float(), noise, timesteps[si + 1:si + 2]).to(dtype)
                    else:
                        target = prev
                    latents = latents + float(options.prev_blend) * (target - latents)
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
            yield PipelineFrame(fi, self.decode_latents(latents), latents)

    @torch.no_grad()
    def decode_latents(self, latents: torch.Tensor) -> NDArray[np.uint8]:
        """(1, C, h, w) latents -> (h*f, w*f, 3) uint8 through the VAE (upcast to float32 when it asks for it)."""
        vae = self.vae
        z = latents / vae.config["scaling_factor"]
        shift = getattr(vae.config, "shift_factor", None)
        if shift:
            z = z + shift
        if vae.dtype == torch.float16 and getattr(vae.config, "force_upcast", False):
            vae.to(torch.float32)  # type: ignore[arg-type]  # diffusers wraps ModelMixin.to; mypy cannot bind self
        image = vae.decode(z.to(vae.dtype), return_dict=False)[0]
        image = ((image.float().clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)
        out: NDArray[np.uint8] = image[0].permute(1, 2, 0).cpu().numpy()
        return out

    def __call__(self, controls: Iterable[FrameControl], prompt: str = "", num_inference_steps: int = 20,
                 guidance_scale: float = 4.0, generator: torch.Generator | None = None,
                 callback_on_step_end: StepEndCallback | None = None, **kwargs: Any) -> WorldModelPipelineOutput:
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


def latent_preview(latents: torch.Tensor) -> NDArray[np.uint8]:
    """(1, C, h, w) latents -> (h, w, 3) uint8 rough colour preview (linear map, no VAE decode)."""
    z = latents[0].float().cpu()
    if z.shape[0] == 4:
        rgb = torch.einsum("chw,cr->hwr", z, _SD_LATENT_RGB)
    else:
        rgb = z[:3].permute(1, 2, 0) if z.shape[0] >= 3 else z[:1].permute(1, 2, 0).repeat(1, 1, 3)
    rgb = ((rgb.clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)
    out: NDArray[np.uint8] = rgb.numpy()
    return out
