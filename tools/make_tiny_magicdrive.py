"""Write a tiny, seeded, random-weight MagicDrive folder (the studio's layout) for tests and trying
the `magicdrive` backend on a CPU without downloading anything:

    python tools/make_tiny_magicdrive.py DIR [--seed 0] [--size 224x400]

The UNet and ControlNet use MagicDrive's config format (the released one, scaled down); the VAE,
text encoder (byte-level tokenizer) and scheduler stand in for Stable Diffusion 1.5's. Images are
noise-like: it exercises the code path, not the quality.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SCHEDULER = {"_class_name": "PNDMScheduler", "num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
             "beta_schedule": "scaled_linear", "prediction_type": "epsilon", "set_alpha_to_one": False,
             "steps_offset": 1, "clip_sample": False, "skip_prk_steps": True}


def tiny_configs(image_size: tuple[int, int]) -> tuple[dict, dict]:
    """(unet config, controlnet config) in MagicDrive's config.json format, tiny."""
    unet = {"_class_name": "UNet2DConditionModelMultiview", "in_channels": 4, "out_channels": 4,
            "block_out_channels": [16, 32], "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
            "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"], "layers_per_block": 1, "cross_attention_dim": 16,
            "attention_head_dim": 2, "norm_num_groups": 4, "flip_sin_to_cos": True, "freq_shift": 0,
            "trainable_state": "only_new",
            "neighboring_view_pair": {"0": [5, 1], "1": [0, 2], "2": [1, 3], "3": [2, 4], "4": [3, 5], "5": [4, 0]},
            "neighboring_attn_type": "add", "zero_module_type": "zero_linear", "crossview_attn_type": "basic",
            "img_size": list(image_size)}
    h, w = image_size
    plus = (h, w) != (224, 400)
    controlnet = {"_class_name": "BEVControlNetModel", "in_channels": 4, "block_out_channels": [16, 32],
                  "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"], "layers_per_block": 1,
                  "cross_attention_dim": 16, "attention_head_dim": 2, "norm_num_groups": 4,
                  "camera_in_dim": 189, "camera_out_dim": 16, "map_size": [8, 200, 200],
                  "conditioning_embedding_out_channels": [4, 8, 8, 16], "uncond_cam_in_dim": [3, 7],
                  "use_uncond_map": None, "drop_cond_ratio": 0.25, "drop_cam_num": 6, "drop_cam_with_box": False,
                  "cam_embedder_param": {"input_dims": 3, "num_freqs": 4, "include_input": True, "log_sampling": True},
                  "map_embedder_cls": ("magicdrive.networks.map_embedder.BEVControlNetConditioningEmbeddingPlus"
                                       if plus else None),
                  "map_embedder_param": ({"conditioning_size": [8, 200, 200], "block_out_channels": [4, 8, 8, 16],
                                          "conditioning_embedding_size": [h // 8, w // 8]} if plus else None),
                  "bbox_embedder_cls": "magicdrive.networks.bbox_embedder.ContinuousBBoxWithTextEmbedding",
                  "bbox_embedder_param": {"n_classes": 10, "class_token_dim": 16, "trainable_class_token": False,
                                          "use_text_encoder_init": True, "embedder_num_freq": 4,
                                          "proj_dims": [16, 12, 12, 16], "mode": "all-xyz",
                                          "minmax_normalize": False}}
    return unet, controlnet


def byte_tokenizer(max_length: int = 32):
    """A CLIPTokenizer over single bytes; needs no vocabulary files."""
    from transformers import CLIPTokenizer
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    chars = list(bytes_to_unicode().values())
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for suffix in ("", "</w>"):
        for ch in chars:
            vocab[ch + suffix] = len(vocab)
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "vocab.json").write_text(json.dumps(vocab))
        (Path(d) / "merges.txt").write_text("#version: 0.2\n")
        tok = CLIPTokenizer(str(Path(d) / "vocab.json"), str(Path(d) / "merges.txt"))
    tok.model_max_length = max_length
    return tok


def write_tiny(out: Path, seed: int = 0, image_size: tuple[int, int] = (224, 400)) -> Path:
    """Write the folder atomically; returns it."""
    import torch
    from diffusers import AutoencoderKL
    from safetensors.torch import save_file
    from transformers import CLIPTextConfig, CLIPTextModel

    from engine.worldmodel.magicdrive.controlnet import BEVControlNet
    from engine.worldmodel.magicdrive.unet import build_multiview_unet

    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} already exists")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        torch.manual_seed(seed)
        unet_cfg, cn_cfg = tiny_configs(image_size)
        unet = build_multiview_unet(unet_cfg)
        controlnet = BEVControlNet(cn_cfg, latent_size=(image_size[0] // 8, image_size[1] // 8))
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for module in (unet, controlnet):  # non-zero everywhere (training zero-initialises some layers)
                for name, p in module.state_dict(keep_vars=True).items():
                    if p.dtype.is_floating_point and ("connector" in name or "controlnet_" in name
                                                      or "conv_out" in name or "_class_tokens" in name):
                        p.copy_(torch.randn(p.shape, generator=g) * 0.05)
        for part, module, cfg in (("unet", unet, unet_cfg), ("controlnet", controlnet, cn_cfg)):
            (tmp / part).mkdir()
            (tmp / part / "config.json").write_text(json.dumps(cfg, indent=1))
            save_file({k: v.contiguous() for k, v in module.state_dict().items()},
                      str(tmp / part / "diffusion_pytorch_model.safetensors"))
        AutoencoderKL(block_out_channels=(8, 8, 16, 16), down_block_types=("DownEncoderBlock2D",) * 4,
                      up_block_types=("UpDecoderBlock2D",) * 4, latent_channels=4, norm_num_groups=4,
                      layers_per_block=1, mid_block_add_attention=False).save_pretrained(tmp / "vae")
        text = CLIPTextModel(CLIPTextConfig(vocab_size=514, hidden_size=16, intermediate_size=32,
                                            num_hidden_layers=1, num_attention_heads=2, max_position_embeddings=160,
                                            bos_token_id=0, eos_token_id=1, pad_token_id=1))
        text.save_pretrained(tmp / "text_encoder", safe_serialization=True)
        byte_tokenizer(160).save_pretrained(tmp / "tokenizer")
        (tmp / "scheduler").mkdir()
        (tmp / "scheduler" / "scheduler_config.json").write_text(json.dumps(SCHEDULER, indent=1))
        (tmp / "magicdrive.json").write_text(json.dumps(
            {"format": "magicdrive", "checkpoint": f"tiny-random-seed{seed}", "image_size": list(image_size)},
            indent=1) + "\n")
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Write a tiny random-weight MagicDrive folder.")
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--size", default="224x400", help="HxW the model generates (multiples of 8)")
    args = ap.parse_args(argv)
    try:
        h, w = (int(v) for v in args.size.lower().split("x"))
        if h <= 0 or w <= 0 or h % 8 or w % 8:
            raise ValueError
    except ValueError:
        print(f"error: --size must be HxW with multiples of 8, got {args.size!r}", file=sys.stderr)
        return 2
    try:
        path = write_tiny(Path(args.out), args.seed, (h, w))
    except FileExistsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote a tiny MagicDrive folder to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
