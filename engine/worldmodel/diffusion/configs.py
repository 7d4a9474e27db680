"""Seeded random-weight pipelines from configs: `tiny` for tests and demos, `realistic` (SD-1.5-sized) for
GPU benchmarks. Nothing is downloaded: the tokenizer is a byte-level vocabulary built here.

Random weights make noise-like pictures; they exist to exercise the wiring (shapes, save/load, speed).
ControlNet's zero-initialised output convolutions get seeded random values, and its condition encoder
a He-normal init, so that the conditions visibly reach the output of an untrained model too.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from engine.worldmodel.diffusion.pipeline import WorldModelPipeline, disable_progress_bars
from engine.worldmodel.extras import missing_extra_from

try:  # the [diffusion] extra, from the defining modules (diffusers' top level is a lazy module)
    from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL
    from diffusers.models.controlnets.controlnet import ControlNetModel
    from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel
    from diffusers.schedulers.scheduling_ddim import DDIMScheduler
    from diffusers.schedulers.scheduling_dpmsolver_multistep import DPMSolverMultistepScheduler
    from diffusers.schedulers.scheduling_utils import SchedulerMixin
    from transformers.models.clip.tokenization_clip import CLIPTokenizer
    from transformers.tokenization_utils_base import PreTrainedTokenizerBase
except ImportError as e:
    raise missing_extra_from(e, "building a diffusion pipeline") from e

if TYPE_CHECKING:
    from transformers.models.clip.modeling_clip import CLIPTextModel

    from engine.worldmodel.diffusion.convert import PublicModels

KINDS = ("tiny", "realistic")


def byte_level_tokenizer(max_length: int) -> CLIPTokenizer:
    """A CLIPTokenizer over single bytes (514 tokens: BOS, EOS, 256 bytes, 256 word-final bytes), no files needed."""
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    byte_chars: dict[int, str] = bytes_to_unicode()  # type: ignore[no-untyped-call]  # transformers leaves it unannotated
    chars = list(byte_chars.values())
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for ch in chars:
        vocab[ch] = len(vocab)
    for ch in chars:
        vocab[ch + "</w>"] = len(vocab)
    tok = CLIPTokenizer(vocab=vocab, merges=[])
    tok.model_max_length = max_length
    return tok


MANIFEST_CONFIGS = Path(__file__).resolve().parents[3] / "resources" / "manifests" / "configs"
DEFAULT_CONTROLNETS = ("depth", "canny")


def published_config(name: str) -> dict[str, Any]:
    """A published config written down in resources/manifests/configs/NAME.json (keys starting '_' dropped)."""
    data = json.loads((MANIFEST_CONFIGS / f"{name}.json").read_text())
    return {k: v for k, v in data.items() if not k.startswith("_")}


def _configs(kind: str) -> dict[str, dict[str, Any]]:
    """Configs of the PUBLIC pieces (SD 1.x unet with 4 input channels, no class embedding)."""
    if kind == "tiny":
        return {
            # attention only at 1/4 of the latent resolution (and none in the VAE): a 2688x256 panorama
            # stays cheap on a CPU
            "vae": dict(in_channels=3, out_channels=3, latent_channels=4, layers_per_block=1, norm_num_groups=4,
                        block_out_channels=(8, 8, 16, 16), sample_size=256, mid_block_add_attention=False,
                        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4),
            "unet": dict(sample_size=8, in_channels=4, out_channels=4, layers_per_block=1, norm_num_groups=8,
                         block_out_channels=(16, 32, 32),
                         down_block_types=("DownBlock2D", "DownBlock2D", "CrossAttnDownBlock2D"),
                         up_block_types=("CrossAttnUpBlock2D", "UpBlock2D", "UpBlock2D"), cross_attention_dim=16,
                         attention_head_dim=8),
            "controlnet_embedding": dict(conditioning_embedding_out_channels=(8, 8, 8, 16)),
            "text": dict(vocab_size=514, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                         num_attention_heads=2, max_position_embeddings=32, projection_dim=16,
                         bos_token_id=0, eos_token_id=1, pad_token_id=1),
            "scheduler": dict(cls="DDIM"),
        }
    if kind == "realistic":
        cn = published_config("controlnet_v11_sd15")
        return {
            "vae": published_config("sd15_vae"),
            "unet": published_config("sd15_unet"),
            "controlnet_embedding": dict(conditioning_embedding_out_channels=tuple(cn["conditioning_embedding_out_channels"])),
            "text": {**published_config("sd15_text_encoder"), "bos_token_id": 0, "eos_token_id": 1, "pad_token_id": 1},
            "scheduler": dict(cls="DPM"),
        }
    raise ValueError(f"unknown pipeline kind {kind!r}; expected one of {', '.join(KINDS)}")


def _scheduler(name: str) -> SchedulerMixin:
    common = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                  steps_offset=1, prediction_type="epsilon")
    scheduler: SchedulerMixin
    if name == "DDIM":
        scheduler = DDIMScheduler(clip_sample=False, set_alpha_to_one=False, **common)
    else:
        scheduler = DPMSolverMultistepScheduler(algorithm_type="dpmsolver++", solver_order=2, **common)
    return scheduler


def _randomise_for_untrained_use(net: ControlNetModel, generator: torch.Generator, std: float = 0.3) -> None:
    """Make an untrained ControlNet pass its condition on: He-normal weights in the condition encoder
    (the default init shrinks the signal layer by layer) and small random weights instead of zeros in
    the output projections (which ControlNet zero-initialises for fine-tuning)."""
    emb = net.controlnet_cond_embedding
    with torch.no_grad():
        for conv in [emb.conv_in, *emb.blocks]:
            fan_in = conv.weight[0].numel()
            conv.weight.copy_(torch.randn(conv.weight.shape, generator=generator, device="cpu") * (2.0 / fan_in) ** 0.5)
        for conv in list(net.controlnet_down_blocks) + [net.controlnet_mid_block, emb.conv_out]:
            conv.weight.copy_(torch.randn(conv.weight.shape, generator=generator, device="cpu") * std)


def build_public(kind: str = "tiny", seed: int = 0, controlnets: tuple[str, ...] = DEFAULT_CONTROLNETS,
                 with_text_encoder: bool = True, meta: bool = False) -> PublicModels:
    """Seeded random-weight PUBLIC-layout pieces (SD 1.x + stock ControlNets), as `convert.PublicModels`.

    The ControlNets' zero convolutions get random values so that, like trained nets, they affect the output.
    meta: build on the meta device (shapes only, for manifests)."""
    from transformers.models.clip.configuration_clip import CLIPTextConfig
    from transformers.models.clip.modeling_clip import CLIPTextModel

    from engine.worldmodel.diffusion.convert import PublicModels

    cfg = _configs(kind)
    torch.manual_seed(seed)
    gen = torch.Generator("cpu").manual_seed(seed)
    ctx = torch.device("meta") if meta else torch.device("cpu")
    with ctx:
        vae = AutoencoderKL(**cfg["vae"])
        unet = UNet2DConditionModel(**cfg["unet"])
    nets: dict[str, ControlNetModel] = {}
    for name in controlnets:
        with ctx:
            net: ControlNetModel = ControlNetModel.from_unet(unet, conditioning_channels=3, load_weights_from_unet=not meta,
                                            **cfg["controlnet_embedding"])
        if not meta:
            _randomise_for_untrained_use(net, gen)
        nets[name] = net
    text_encoder: CLIPTextModel | None = None
    tokenizer: PreTrainedTokenizerBase | None = None
    if with_text_encoder:
        tcfg = CLIPTextConfig(**cfg["text"])
        with ctx:
            text_encoder = CLIPTextModel(tcfg)
        tokenizer = byte_level_tokenizer(tcfg.max_position_embeddings)
    with torch.device("cpu"):  # schedulers keep CPU tables, whatever the default device of the caller
        scheduler = _scheduler(cfg["scheduler"]["cls"])
    return PublicModels(unet.eval(), vae.eval(), scheduler, nets, text_encoder, tokenizer, {"built": f"{kind} seed {seed}"})


def write_public_folders(root: str | os.PathLike[str], kind: str = "tiny", seed: int = 0,
                         controlnets: tuple[str, ...] = DEFAULT_CONTROLNETS) -> tuple[Path, dict[str, Path]]:
    """Write seeded public-layout folders: ROOT/sd (StableDiffusionPipeline.save_pretrained) and
    ROOT/controlnet_NAME (ControlNetModel.save_pretrained). Returns (sd_dir, {name: dir})."""
    from diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion import StableDiffusionPipeline

    disable_progress_bars()
    root = Path(root)
    public = build_public(kind, seed, controlnets)
    # passed as a mapping: diffusers annotates the scheduler as the KarrasDiffusionSchedulers enum and the
    # safety checker / feature extractor as required, although None is documented for both
    parts: dict[str, Any] = dict(vae=public.vae, text_encoder=public.text_encoder, tokenizer=public.tokenizer,
                                 unet=public.unet, scheduler=public.scheduler, safety_checker=None,
                                 feature_extractor=None, requires_safety_checker=False)
    sd = StableDiffusionPipeline(**parts)
    sd.save_pretrained(root / "sd", safe_serialization=True)
    dirs: dict[str, Path] = {}
    for name, net in public.controlnets.items():
        net.save_pretrained(root / f"controlnet_{name}", safe_serialization=True)
        dirs[name] = root / f"controlnet_{name}"
    return root / "sd", dirs


def build_pipeline(kind: str = "tiny", seed: int = 0, with_text_encoder: bool = True,
                   with_layout_controlnet: bool = True,
                   controlnets: tuple[str, ...] = DEFAULT_CONTROLNETS) -> WorldModelPipeline:
    """A product WorldModelPipeline converted (in memory) from seeded random public pieces (float32, CPU)."""
    from engine.worldmodel.diffusion.convert import assemble

    public = build_public(kind, seed, controlnets, with_text_encoder)
    pipe = assemble(public, layout=with_layout_controlnet)
    if pipe.layout_controlnet is not None:  # random output convolutions so that the layout reaches an untrained model too
        _randomise_for_untrained_use(pipe.layout_controlnet, torch.Generator("cpu").manual_seed(seed + 1))
    return pipe


def write_pipeline_folder(path: str | os.PathLike[str], kind: str = "tiny", seed: int = 0, overwrite: bool = False,
                          **options: Any) -> Path:
    """Build a seeded random-weight pipeline and save it to `path` (written beside it, then renamed into place).

    FileExistsError when `path` exists and `overwrite` is false; options go to `build_pipeline`.
    """
    from engine.worldmodel.diffusion.convert import save_atomically

    target = Path(path)
    if target.exists() and not overwrite:   # before building: a refused write costs nothing
        raise FileExistsError(f"{target} exists; choose another folder or allow overwriting")
    return save_atomically(build_pipeline(kind, seed, **options), target, overwrite=overwrite)
