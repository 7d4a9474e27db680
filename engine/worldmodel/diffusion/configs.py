"""Seeded random-weight pipelines from configs: `tiny` for tests and demos, `realistic` (SD-1.5-sized) for
GPU benchmarks. Nothing is downloaded: the tokenizer is a byte-level vocabulary built here.

Random weights make noise-like pictures; they exist to exercise the wiring (shapes, save/load, speed).
ControlNet's zero-initialised output convolutions get seeded random values, and its condition encoder
a He-normal init, so that the conditions visibly reach the output of an untrained model too.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from diffusers import AutoencoderKL, ControlNetModel, DDIMScheduler, DPMSolverMultistepScheduler, UNet2DConditionModel

from engine.worldmodel.diffusion.pipeline import (
    ENV_DIM,
    GUIDANCE_CONTROL_CHANNELS,
    LAYOUT_CONTROL_CHANNELS,
    WorldModelPipeline,
)

KINDS = ("tiny", "realistic")


def byte_level_tokenizer(max_length: int):
    """A CLIPTokenizer over single bytes (514 tokens: BOS, EOS, 256 bytes, 256 word-final bytes), no files needed."""
    from transformers import CLIPTokenizer
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    chars = list(bytes_to_unicode().values())
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for ch in chars:
        vocab[ch] = len(vocab)
    for ch in chars:
        vocab[ch + "</w>"] = len(vocab)
    tok = CLIPTokenizer(vocab=vocab, merges=[])
    tok.model_max_length = max_length
    return tok


def _configs(kind: str) -> dict[str, dict[str, Any]]:
    if kind == "tiny":
        return {
            # attention only at 1/4 of the latent resolution (and none in the VAE): a 2688x256 panorama
            # stays cheap on a CPU
            "vae": dict(in_channels=3, out_channels=3, latent_channels=4, layers_per_block=1, norm_num_groups=4,
                        block_out_channels=(8, 8, 16, 16), sample_size=256, mid_block_add_attention=False,
                        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4),
            "unet": dict(sample_size=8, in_channels=9, out_channels=4, layers_per_block=1, norm_num_groups=8,
                         block_out_channels=(16, 32, 32),
                         down_block_types=("DownBlock2D", "DownBlock2D", "CrossAttnDownBlock2D"),
                         up_block_types=("CrossAttnUpBlock2D", "UpBlock2D", "UpBlock2D"), cross_attention_dim=16,
                         attention_head_dim=8, class_embed_type="projection",
                         projection_class_embeddings_input_dim=ENV_DIM),
            "controlnet_embedding": dict(conditioning_embedding_out_channels=(8, 8, 8, 16)),
            "text": dict(vocab_size=514, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                         num_attention_heads=2, max_position_embeddings=32, projection_dim=16,
                         bos_token_id=0, eos_token_id=1, pad_token_id=1),
            "scheduler": dict(cls="DDIM"),
        }
    if kind == "realistic":
        return {
            "vae": dict(in_channels=3, out_channels=3, latent_channels=4, layers_per_block=2, norm_num_groups=32,
                        block_out_channels=(128, 256, 512, 512), sample_size=512,
                        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4),
            "unet": dict(sample_size=64, in_channels=9, out_channels=4, layers_per_block=2, norm_num_groups=32,
                         block_out_channels=(320, 640, 1280, 1280),
                         down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
                         up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3, cross_attention_dim=768,
                         attention_head_dim=8, class_embed_type="projection",
                         projection_class_embeddings_input_dim=ENV_DIM),
            "controlnet_embedding": dict(conditioning_embedding_out_channels=(16, 32, 96, 256)),
            "text": dict(vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                         num_attention_heads=12, max_position_embeddings=77, projection_dim=768,
                         bos_token_id=0, eos_token_id=1, pad_token_id=1),
            "scheduler": dict(cls="DPM"),
        }
    raise ValueError(f"unknown pipeline kind {kind!r}; expected one of {', '.join(KINDS)}")


def _scheduler(name: str):
    common = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                  steps_offset=1, prediction_type="epsilon")
    if name == "DDIM":
        return DDIMScheduler(clip_sample=False, set_alpha_to_one=False, **common)
    return DPMSolverMultistepScheduler(algorithm_type="dpmsolver++", solver_order=2, **common)


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


def build_pipeline(kind: str = "tiny", seed: int = 0, with_text_encoder: bool = True,
                   with_layout_controlnet: bool = True) -> WorldModelPipeline:
    """A WorldModelPipeline with seeded random weights (float32, CPU)."""
    from transformers import CLIPTextConfig, CLIPTextModel

    cfg = _configs(kind)
    torch.manual_seed(seed)
    gen = torch.Generator("cpu").manual_seed(seed)
    vae = AutoencoderKL(**cfg["vae"])
    unet = UNet2DConditionModel(**cfg["unet"])
    controlnet = ControlNetModel.from_unet(unet, conditioning_channels=GUIDANCE_CONTROL_CHANNELS,
                                           **cfg["controlnet_embedding"])
    _randomise_for_untrained_use(controlnet, gen)
    layout = None
    if with_layout_controlnet:
        layout = ControlNetModel.from_unet(unet, conditioning_channels=LAYOUT_CONTROL_CHANNELS,
                                           **cfg["controlnet_embedding"])
        _randomise_for_untrained_use(layout, gen)
    text_encoder = tokenizer = None
    if with_text_encoder:
        tcfg = CLIPTextConfig(**cfg["text"])
        text_encoder = CLIPTextModel(tcfg)
        tokenizer = byte_level_tokenizer(tcfg.max_position_embeddings)
    with torch.device("cpu"):  # schedulers keep CPU tables, whatever the default device of the caller
        scheduler = _scheduler(cfg["scheduler"]["cls"])
    pipe = WorldModelPipeline(vae=vae, unet=unet, controlnet=controlnet, scheduler=scheduler,
                              layout_controlnet=layout, text_encoder=text_encoder, tokenizer=tokenizer)
    pipe.check_components(f"{kind} pipeline")
    return pipe


def write_pipeline_folder(path, kind: str = "tiny", seed: int = 0, overwrite: bool = False, **options) -> Path:
    """Build a seeded random-weight pipeline and save it to `path` (written beside it, then renamed into place).

    FileExistsError when `path` exists and `overwrite` is false; options go to `build_pipeline`.
    """
    import shutil
    import tempfile
    from pathlib import Path

    import diffusers
    import transformers

    target = Path(path)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; choose another folder or allow overwriting")
    target.parent.mkdir(parents=True, exist_ok=True)
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.disable_progress_bar()
    pipe = build_pipeline(kind, seed, **options)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        pipe.save_pretrained(stage)
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
