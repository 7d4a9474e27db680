"""Public checkpoints -> the product's pipeline folder (format 2, docs/world_model_diffusion.md).

    public = load_public(sd_dir, {"depth": cn_depth_dir, "canny": cn_canny_dir})   # checks, safetensors only
    pipe = assemble(public)                                                          # weight surgery
    convert_public(sd_dir, {...}, out_dir)                                           # both + atomic save

The surgery keeps every public tensor and adds only zero-initialised parts, so the product's noise
prediction equals StableDiffusionControlNetPipeline's with the extra inputs at zero:
    unet.conv_in      in_channels 4 -> 9; weights of channels 4..8 (previous latent, flag) = 0
    unet.class_embedding  projection 7 -> time-embed dim; linear_2 weight and bias = 0
    layout_controlnet optional, ControlNetModel.from_unet (its output convolutions are zero)
Weights are read from safetensors; a pickled .bin only through torch.load(weights_only=True).
Every problem is a ConversionError naming the folder and the mismatch.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, TypeVar

import torch

from engine.worldmodel.diffusion import selectors
from engine.worldmodel.diffusion.pipeline import (
    ENV_DIM,
    FORMAT_VERSION,
    LAYOUT_CONTROL_CHANNELS,
    WorldModelPipeline,
    disable_progress_bars,
)
from engine.worldmodel.extras import missing_extra_from

try:  # the [diffusion] extra (pipeline.py has imported it already; these name the classes for type checkers)
    import diffusers
    from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL
    from diffusers.models.controlnets.controlnet import ControlNetModel
    from diffusers.models.controlnets.multicontrolnet import MultiControlNetModel
    from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel
    from diffusers.schedulers.scheduling_ddim import DDIMScheduler
    from diffusers.schedulers.scheduling_dpmsolver_multistep import DPMSolverMultistepScheduler
    from diffusers.configuration_utils import ConfigMixin
    from diffusers.schedulers.scheduling_utils import SchedulerMixin
    from diffusers.utils import logging as diffusers_logging
    from transformers.models.clip.configuration_clip import CLIPTextConfig
    from transformers.models.clip.modeling_clip import CLIPTextModel
    from transformers.models.clip.tokenization_clip import CLIPTokenizer
    from transformers.tokenization_utils_base import PreTrainedTokenizerBase
except ImportError as e:
    raise missing_extra_from(e, "converting a model") from e

# the public model classes read by `_diffusers_model`
ModelT = TypeVar("ModelT", UNet2DConditionModel, AutoencoderKL, ControlNetModel)

SD_COMPONENTS = ("unet", "vae", "scheduler", "text_encoder", "tokenizer")
WEIGHT_NAMES = {
    "diffusers": ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors",
                  "diffusion_pytorch_model.bin", "diffusion_pytorch_model.fp16.bin"),
    "transformers": ("model.safetensors", "model.fp16.safetensors", "pytorch_model.bin", "pytorch_model.fp16.bin"),
}
# Hook for issue 14: engine/worldmodel/magicdrive/ may register a converter for `model convert --magicdrive`.
MAGICDRIVE_CONVERTER = "engine.worldmodel.magicdrive.convert"


class ConversionError(Exception):
    """A public folder cannot be converted; the message names the folder and the mismatch."""


@dataclass
class PublicModels:
    """Loaded public pieces: SD 1.x (unet, vae, scheduler, optional text encoder + tokenizer) and named ControlNets."""

    unet: UNet2DConditionModel
    vae: AutoencoderKL
    scheduler: SchedulerMixin
    controlnets: dict[str, ControlNetModel]
    text_encoder: CLIPTextModel | None = None
    tokenizer: PreTrainedTokenizerBase | None = None
    sources: dict[str, str] = field(default_factory=dict)


# ---- reading --------------------------------------------------------------------------------
def read_config(folder: Path, name: str = "config.json") -> dict[str, Any]:
    path = Path(folder) / name
    if not path.is_file():
        raise ConversionError(f"{folder}: {name} is missing")
    try:
        config: dict[str, Any] = json.loads(path.read_text())
        return config
    except (OSError, ValueError) as e:
        raise ConversionError(f"{path}: not readable JSON ({e})") from None


def weight_file(folder: Path, library: str = "diffusers") -> Path:
    """The weights file of a component folder: safetensors preferred, then .bin."""
    for name in WEIGHT_NAMES[library]:
        if (Path(folder) / name).is_file():
            return Path(folder) / name
    shards = sorted(Path(folder).glob("*.safetensors.index.json"))
    if shards:
        raise ConversionError(f"{folder}: sharded weights ({shards[0].name}) are not supported; save unsharded")
    raise ConversionError(f"{folder}: no weights file (expected one of {', '.join(WEIGHT_NAMES[library])})")


def load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors of a safetensors file, or of a pickled .bin read with torch.load(weights_only=True) (refused if unsafe)."""
    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except Exception as e:  # safetensors raises its own SafetensorError (an Exception) besides OSError/ValueError
            raise ConversionError(f"{path}: not a readable safetensors file ({type(e).__name__}: {e})") from None
    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as e:  # the weights-only unpickler refuses with UnpicklingError, RuntimeError, EOFError, ...
        raise ConversionError(f"{path}: refused: a pickled checkpoint that does not load with weights_only=True "
                              f"({type(e).__name__}); convert it to safetensors first") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ConversionError(f"{path}: not a plain state dict of tensors")
    return state


def _load_into(model: torch.nn.Module, state: Mapping[str, torch.Tensor], where: Path) -> None:
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    extra = sorted(set(state) - set(own))
    bad = [f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}" for k in own if k in state and
           tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or extra or bad:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing tensors (e.g. {missing[0]})")
        if extra:
            parts.append(f"{len(extra)} unexpected tensors (e.g. {extra[0]})")
        if bad:
            parts.append(f"{len(bad)} shape mismatches (e.g. {bad[0]})")
        raise ConversionError(f"{where}: the weights do not match config.json: {'; '.join(parts)}")
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()}, strict=True)


def _diffusers_model(cls: type[ModelT], folder: Path) -> ModelT:
    cfg = read_config(folder)
    try:
        loaded = cls.from_config(cfg)
    except Exception as e:  # from_config raises many kinds (TypeError, ValueError, KeyError) for foreign configs
        raise ConversionError(f"{folder}: config.json does not describe a {cls.__name__} ({e})") from None
    model = loaded[0] if isinstance(loaded, tuple) else loaded   # (model, unused kwargs) only when asked for
    _load_into(model, load_state_dict(weight_file(folder)), folder)
    return model.eval()


def load_public(base: str | os.PathLike[str], controlnets: Mapping[str, str | os.PathLike[str]],
                require_text_encoder: bool = True) -> PublicModels:
    """Load and check an SD 1.x diffusers folder and ControlNet folders; ConversionError on any problem."""
    base = Path(base).expanduser()
    if not base.is_dir():
        raise ConversionError(f"{base}: the Stable Diffusion folder does not exist")
    if not controlnets:
        raise ConversionError("at least one --controlnet NAME=DIR is needed")
    needed = SD_COMPONENTS if require_text_encoder else ("unet", "vae", "scheduler")
    for part in needed:
        if not (base / part).is_dir():
            raise ConversionError(f"{base}: the '{part}' component is missing (expected a diffusers Stable Diffusion "
                                  f"folder with {', '.join(SD_COMPONENTS)})")
    ucfg = read_config(base / "unet")
    if ucfg.get("_class_name", "UNet2DConditionModel") != "UNet2DConditionModel":
        raise ConversionError(f"{base / 'unet'}: a {ucfg.get('_class_name')}, not a UNet2DConditionModel")
    if ucfg.get("in_channels") != 4 or ucfg.get("addition_embed_type"):
        raise ConversionError(f"{base / 'unet'}: in_channels {ucfg.get('in_channels')}, addition_embed_type "
                              f"{ucfg.get('addition_embed_type')}: not a Stable Diffusion 1.x text-to-image UNet")
    cn_cfgs: dict[str, Path] = {}
    for name, given in controlnets.items():
        folder = Path(given).expanduser()
        if name not in selectors.SELECTORS:
            raise ConversionError(f"--controlnet {name}={folder}: unknown name; use one of {', '.join(selectors.SELECTORS)}")
        if not folder.is_dir():
            raise ConversionError(f"{folder}: the {name} ControlNet folder does not exist")
        cfg = read_config(folder)
        if cfg.get("_class_name", "ControlNetModel") != "ControlNetModel":
            raise ConversionError(f"{folder}: a {cfg.get('_class_name')}, not a ControlNetModel")
        problems = compatibility_problems(ucfg, cfg)
        if problems:
            raise ConversionError(f"{folder}: the {name} ControlNet does not fit the UNet in {base / 'unet'}: "
                                  + "; ".join(problems))
        cn_cfgs[name] = folder
    text_encoder: CLIPTextModel | None = None
    tokenizer: PreTrainedTokenizerBase | None = None
    if (base / "text_encoder").is_dir():
        tcfg = read_config(base / "text_encoder")
        hid = tcfg.get("hidden_size", tcfg.get("text_config", {}).get("hidden_size"))
        if hid != ucfg.get("cross_attention_dim"):
            raise ConversionError(f"{base}: text_encoder hidden_size {hid} != unet cross_attention_dim "
                                  f"{ucfg.get('cross_attention_dim')} ({_family(hid)} text encoder, "
                                  f"{_family(ucfg.get('cross_attention_dim'))} UNet)")
        try:
            text_encoder = CLIPTextModel(CLIPTextConfig(**{k: v for k, v in tcfg.items() if not k.startswith("_")}))
        except Exception as e:  # transformers' config checks raise many kinds (TypeError, ValueError, KeyError)
            raise ConversionError(f"{base / 'text_encoder'}: not a CLIP text encoder config ({e})") from None
        _load_into(text_encoder, _text_state(load_state_dict(weight_file(base / "text_encoder", "transformers")),
                                             text_encoder), base / "text_encoder")
        text_encoder.train(False)   # eval mode (PreTrainedModel.eval is unannotated)
        try:
            tokenizer = CLIPTokenizer.from_pretrained(str(base / "tokenizer"), local_files_only=True)
        except Exception as e:  # tokenizer loading raises many kinds (OSError, ValueError, KeyError, tokenizers errors)
            raise ConversionError(f"{base / 'tokenizer'}: cannot load the CLIP tokenizer ({type(e).__name__}: {e})") from None
    scheduler = _scheduler(base / "scheduler")
    unet = _diffusers_model(UNet2DConditionModel, base / "unet")
    vae = _diffusers_model(AutoencoderKL, base / "vae")
    if vae.config["latent_channels"] != unet.config["in_channels"]:
        raise ConversionError(f"{base / 'vae'}: latent_channels {vae.config['latent_channels']} != unet in_channels "
                              f"{unet.config['in_channels']}")
    nets = {name: _diffusers_model(ControlNetModel, folder) for name, folder in cn_cfgs.items()}
    sources = {"base": str(base), **{f"controlnet.{k}": str(v) for k, v in cn_cfgs.items()}}
    return PublicModels(unet, vae, scheduler, nets, text_encoder, tokenizer, sources)


def _text_state(state: dict[str, torch.Tensor], model: torch.nn.Module) -> dict[str, torch.Tensor]:
    # older transformers checkpoints carry text_model.embeddings.position_ids; newer models have no such buffer
    own = model.state_dict()
    return {k: v for k, v in state.items() if k in own or not k.endswith("position_ids")}


def _scheduler(folder: Path) -> SchedulerMixin:
    cfg = read_config(folder, "scheduler_config.json")
    cls = getattr(diffusers, str(cfg.get("_class_name", "")), None)
    if not (isinstance(cls, type) and issubclass(cls, SchedulerMixin) and issubclass(cls, ConfigMixin)):
        raise ConversionError(f"{folder}: unknown scheduler class {cfg.get('_class_name')!r}")
    scheduler: SchedulerMixin = cls.from_config(cfg)
    return scheduler


_FAMILIES: dict[object, str] = {768: "Stable Diffusion 1.x", 1024: "Stable Diffusion 2.x", 2048: "SDXL"}


def _family(cross_dim: object) -> str:
    return _FAMILIES.get(cross_dim, f"width-{cross_dim}")


def compatibility_problems(unet_cfg: Mapping[str, Any], cn_cfg: Mapping[str, Any]) -> list[str]:
    """Why a ControlNet config cannot drive a UNet config (empty when it can)."""
    problems: list[str] = []
    u_dim, c_dim = unet_cfg.get("cross_attention_dim"), cn_cfg.get("cross_attention_dim")
    if u_dim != c_dim:
        problems.append(f"cross_attention_dim {c_dim} ({_family(c_dim)}) vs the UNet's {u_dim} ({_family(u_dim)})")
    for key, default in (("block_out_channels", None), ("layers_per_block", 2), ("down_block_types", None),
                         ("attention_head_dim", 8), ("use_linear_projection", False), ("norm_num_groups", 32),
                         ("in_channels", 4)):
        a, b = unet_cfg.get(key, default), cn_cfg.get(key, default)
        if isinstance(a, list) or isinstance(b, list):
            a, b = (list(a) if isinstance(a, (list, tuple)) else a), (list(b) if isinstance(b, (list, tuple)) else b)
        if a != b:
            problems.append(f"{key} {b} vs the UNet's {a}")
    if cn_cfg.get("conditioning_channels", 3) != 3:
        problems.append(f"conditioning_channels {cn_cfg.get('conditioning_channels')} (an RGB control image, 3, is needed)")
    if cn_cfg.get("class_embed_type") is not None:
        problems.append(f"class_embed_type {cn_cfg.get('class_embed_type')!r} (public SD ControlNets have none)")
    return problems


# ---- surgery ------------------------------------------------------------------------------
def product_unet_config(public: Mapping[str, Any], env_dim: int = ENV_DIM) -> dict[str, Any]:
    """The product UNet's config from a public SD UNet config: in_channels 2C+1, projection class embedding."""
    cfg = {k: v for k, v in dict(public).items() if not k.startswith("_")}
    c = int(cfg.get("in_channels", 4))
    cfg.update(in_channels=2 * c + 1, class_embed_type="projection", projection_class_embeddings_input_dim=env_dim)
    return cfg


def extend_unet(unet: UNet2DConditionModel, env_dim: int = ENV_DIM) -> UNet2DConditionModel:
    """A copy of an SD UNet with in_channels 2C+1 and a projection class embedding, both zero-initialised."""
    c = unet.config["in_channels"]
    new: UNet2DConditionModel = UNet2DConditionModel.from_config(product_unet_config(dict(unet.config), env_dim))
    if unet.dtype != new.dtype:
        new = new.to(unet.dtype)  # type: ignore[arg-type]  # diffusers wraps ModelMixin.to; mypy cannot bind self
    old = unet.state_dict()
    own = new.state_dict()
    state: dict[str, torch.Tensor] = {}
    for k, v in own.items():
        if k == "conv_in.weight":
            w = torch.zeros_like(v)
            w[:, :c] = old[k]
            state[k] = w
        elif k.startswith("class_embedding."):
            state[k] = torch.zeros_like(v) if k.startswith("class_embedding.linear_2.") else v
        else:
            state[k] = old[k]
    extra = set(old) - set(own)
    if extra:
        raise ConversionError(f"unet: tensors without a place in the product's UNet: {sorted(extra)[:3]}")
    new.load_state_dict(state, strict=True)
    return new.eval()


def layout_controlnet_for(unet: UNet2DConditionModel) -> ControlNetModel:
    """A layout ControlNet (16 condition channels) copied from the SD UNet; output convolutions zero (exact)."""
    net: ControlNetModel = ControlNetModel.from_unet(unet, conditioning_channels=LAYOUT_CONTROL_CHANNELS)
    return net.eval()


def assemble(public: PublicModels, layout: bool = False, num_views: int = 6,
             scales: Mapping[str, float] | None = None) -> WorldModelPipeline:
    """The product pipeline from public pieces (ControlNets in the order given, each with its named selector)."""
    scales = dict(scales or {})
    names = list(public.controlnets)
    controls = [{"name": n, "selector": n, "scale": float(scales.get(n, 1.0))} for n in names]
    pipe = WorldModelPipeline(
        vae=public.vae, unet=extend_unet(public.unet),
        controlnet=MultiControlNetModel([public.controlnets[n] for n in names]), scheduler=public.scheduler,
        layout_controlnet=layout_controlnet_for(public.unet) if layout else None,
        text_encoder=public.text_encoder, tokenizer=public.tokenizer, num_views=num_views, controls=controls,
        format_version=FORMAT_VERSION, objects_in_controls=True)  # public nets never learnt O/M
    pipe.check_components("converted pipeline")
    return pipe


def save_atomically(pipe: WorldModelPipeline, out: str | os.PathLike[str], overwrite: bool = False,
                    extra: Mapping[str, Any] | None = None) -> Path:
    """save_pretrained into a staging folder beside `out`, then rename into place (safetensors)."""
    target = Path(out).expanduser()
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; choose another folder or allow overwriting")
    target.parent.mkdir(parents=True, exist_ok=True)
    disable_progress_bars()
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        pipe.save_pretrained(stage, safe_serialization=True)
        if extra is not None:
            (stage / "conversion.json").write_text(json.dumps(extra, indent=2))
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            target.rename(old)
            stage.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            stage.rename(target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return target


def convert_public(base: str | os.PathLike[str], controlnets: Mapping[str, str | os.PathLike[str]], out: str | os.PathLike[str],
                   layout: bool = False, dtype: str | None = None, overwrite: bool = False,
                   scales: Mapping[str, float] | None = None, scheduler: str = "keep") -> Path:
    """Load, check, assemble and save; returns the output folder. ConversionError / FileExistsError."""
    public = load_public(base, controlnets)
    if scheduler != "keep":
        cls = {"ddim": DDIMScheduler, "dpm": DPMSolverMultistepScheduler}[scheduler]
        old = public.scheduler
        assert isinstance(old, ConfigMixin)  # every diffusers scheduler is configurable (`_scheduler` checks it)
        public.scheduler = cls.from_config(old.config)
    pipe = assemble(public, layout=layout, scales=scales)
    if dtype:
        level = diffusers_logging.get_verbosity()
        diffusers_logging.set_verbosity_error()  # "modules that should be kept in float32: []" is noise here
        try:
            pipe.to(dtype={"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}[dtype])
        finally:
            diffusers_logging.set_verbosity(level)
    extra = {"format_version": FORMAT_VERSION, "sources": public.sources, "dtype": dtype or "float32",
             "zero_initialised": ["unet.conv_in.weight[:, 4:9] (previous-frame latent, flag)",
                                  "unet.class_embedding.linear_2 (environment)"]
             + (["layout_controlnet output convolutions"] if layout else []),
             "controls": pipe.config["controls"], "scheduler": type(pipe.scheduler).__name__}
    return save_atomically(pipe, out, overwrite=overwrite, extra=extra)
