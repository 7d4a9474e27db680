"""Make the MagicDrive golden files by running the ORIGINAL MagicDrive code (development time only).

Run in a separate environment with MagicDrive's pinned diffusers (its fork of 0.17.1, in the
MagicDrive checkout at third_party/diffusers), never in the studio's venv:

    python -m venv /work/md_env
    /work/md_env/bin/pip install torch "numpy<2" "setuptools<70" huggingface_hub==0.16.4 \
        transformers==4.27.4 einops==0.3.2 accelerate==0.20.3 safetensors
    /work/md_env/bin/pip install --no-deps MAGICDRIVE/third_party/diffusers
    /work/md_env/bin/python tools/magicdrive_golden/make_golden.py --magicdrive MAGICDRIVE \
        --out tests/engine/worldmodel/magicdrive/golden

It builds tiny, seeded MagicDrive modules from the original classes (UNet2DConditionModelMultiview,
BEVControlNetModel with ContinuousBBoxWithTextEmbedding, StableDiffusionBEVControlNetPipeline),
saves their weights with the original `save_pretrained` (unet/, controlnet/: config.json +
safetensors, the released checkpoints' layout) and the inputs and outputs of: the box embedder, the
ControlNet forward, the UNet forward, the adaptive-pool map encoder (weights in the npz), and the pipeline (1 and 3 UniPC steps with classifier-free
guidance) in golden.npz. The test (tests/engine/worldmodel/magicdrive/test_golden.py) loads the
same weights into the port and compares. The original code itself is not committed.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

SEED = 1234


def tiny_unet_config() -> dict:
    return dict(
        sample_size=None, in_channels=4, out_channels=4, block_out_channels=(16, 32),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        layers_per_block=1, cross_attention_dim=16, attention_head_dim=2, norm_num_groups=4,
    )


def randomise(module: torch.nn.Module, gen: torch.Generator, scale: float = 0.15) -> None:
    """Every parameter and float buffer ~ N(0, scale) (norm weights 1 + N): zero-initialised convs
    and connectors would otherwise hide half of the computation."""
    with torch.no_grad():
        for name, p in list(module.named_parameters()) + list(module.named_buffers()):
            if not p.dtype.is_floating_point:
                continue
            noise = torch.randn(p.shape, generator=gen) * scale
            if name.endswith("norm.weight") or ".norm" in name and name.endswith("weight") or "norm1" in name \
                    and name.endswith("weight"):
                p.copy_(1.0 + noise)
            else:
                p.copy_(noise)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--magicdrive", required=True, help="a checkout of github.com/cure-lab/MagicDrive")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    sys.path.insert(0, str(Path(args.magicdrive).resolve()))

    import diffusers
    from diffusers import AutoencoderKL, UNet2DConditionModel, UniPCMultistepScheduler
    from transformers import CLIPTextConfig, CLIPTextModel
    from magicdrive.networks.unet_2d_condition_multiview import UNet2DConditionModelMultiview
    from magicdrive.networks.unet_addon_rawbox import BEVControlNetModel
    from magicdrive.pipeline.pipeline_bev_controlnet import StableDiffusionBEVControlNetPipeline

    assert diffusers.__version__ == "0.17.1", diffusers.__version__
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(SEED)
    torch.manual_seed(SEED)

    # ---- modules (the released config, scaled down) -------------------------------------
    base = UNet2DConditionModel(**tiny_unet_config())
    pairs = {0: [5, 1], 1: [0, 2], 2: [1, 3], 3: [2, 4], 4: [3, 5], 5: [4, 0]}
    unet = UNet2DConditionModelMultiview.from_unet_2d_condition(
        base, trainable_state="only_new", neighboring_view_pair=pairs, neighboring_attn_type="add",
        zero_module_type="zero_linear", crossview_attn_type="basic", img_size=[224, 400])
    controlnet = BEVControlNetModel.from_unet(
        base, camera_in_dim=189, camera_out_dim=16, map_size=[8, 200, 200],
        conditioning_embedding_out_channels=[4, 8, 8, 16], uncond_cam_in_dim=[3, 7], use_uncond_map=None,
        drop_cond_ratio=0.25, drop_cam_num=6, drop_cam_with_box=False,
        cam_embedder_param=dict(input_dims=3, num_freqs=4, include_input=True, log_sampling=True),
        bbox_embedder_cls="magicdrive.networks.bbox_embedder.ContinuousBBoxWithTextEmbedding",
        bbox_embedder_param=dict(n_classes=10, class_token_dim=16, trainable_class_token=False,
                                 use_text_encoder_init=True, embedder_num_freq=4, proj_dims=[16, 12, 12, 16],
                                 mode="all-xyz", minmax_normalize=False))
    randomise(unet, gen)
    randomise(controlnet, gen)
    controlnet.bbox_embedder._class_tokens_set_or_warned = True
    unet.eval()
    controlnet.eval()
    unet.save_pretrained(out / "unet", safe_serialization=True)
    controlnet.save_pretrained(out / "controlnet", safe_serialization=True)

    # ---- inputs ------------------------------------------------------------------------
    B, V, M, L, D = 1, 6, 5, 7, 16
    g = torch.Generator().manual_seed(SEED + 1)
    bboxes = torch.randn(B, V, M, 8, 3, generator=g) * 10.0
    classes = torch.randint(0, 10, (B, V, M), generator=g)
    masks = torch.rand(B, V, M, generator=g) > 0.3
    classes[~masks] = -1  # padding as MagicDrive's collate makes it
    camera_param = torch.randn(B, V, 3, 7, generator=g)
    bev_map = (torch.rand(B, 8, 200, 200, generator=g) > 0.6).float()
    prompt = torch.randn(B, L, D, generator=g)
    negative = torch.randn(B, L, D, generator=g)
    latents = torch.randn(B, 4, 28, 50, generator=g)
    t = torch.tensor(637)
    arrays: dict[str, np.ndarray] = {
        "bboxes": bboxes.numpy(), "classes": classes.numpy(), "masks": masks.numpy(),
        "camera_param": camera_param.numpy(), "bev_map": bev_map.numpy().astype(np.uint8), "prompt_embeds": prompt.numpy(),
        "negative_prompt_embeds": negative.numpy(), "latents": latents.numpy(), "timestep": t.numpy(),
    }
    box_data = {"bboxes": bboxes, "classes": classes, "masks": masks}

    with torch.no_grad():
        # 1. box embedder on the flattened (B*V, M) boxes
        emb = controlnet.bbox_embedder(bboxes.flatten(0, 1), classes.flatten(0, 1), masks.flatten(0, 1))
        arrays["out_bbox_emb"] = emb.numpy()
        arrays["out_bbox_null"] = controlnet.bbox_embedder.forward_feature(
            controlnet.bbox_embedder.null_pos_feature[None], controlnet.bbox_embedder.null_class_feature[None]).numpy()
        # 2. ControlNet forward
        sample = torch.stack([latents] * V, dim=1)
        down, mid, ctx = controlnet(sample, t.repeat(B), camera_param, box_data, prompt, bev_map,
                                    conditioning_scale=1.0, return_dict=False)
        for i, d in enumerate(down):
            arrays[f"out_cn_down_{i}"] = d.numpy()
        arrays["out_cn_mid"] = mid.numpy()
        arrays["out_cn_context"] = ctx.numpy()
        arrays["out_cn_uncond_cam"] = controlnet.uncond_cam_param([B, V]).numpy()
        # 3. UNet forward with the ControlNet residuals
        noise = unet(sample.flatten(0, 1), t, encoder_hidden_states=ctx, down_block_additional_residuals=down,
                     mid_block_additional_residual=mid).sample
        arrays["out_unet"] = noise.numpy()
        # 3b. UNet alone (no residuals)
        arrays["out_unet_plain"] = unet(sample.flatten(0, 1), t, encoder_hidden_states=ctx).sample.numpy()

    # ---- 3c. the adaptive-pool map encoder of the 272x736 release -----------------------
    from magicdrive.networks.map_embedder import BEVControlNetConditioningEmbeddingPlus

    plus = BEVControlNetConditioningEmbeddingPlus((8, 14), 16, (8, 200, 200), (4, 8, 8, 16))
    randomise(plus, gen)
    with torch.no_grad():
        arrays["out_map_plus"] = plus(bev_map).numpy()
    for k, v in plus.state_dict().items():
        arrays[f"plus_weights/{k}"] = v.numpy()

    # ---- 4. the pipeline ----------------------------------------------------------------
    vae = AutoencoderKL(block_out_channels=(4, 4, 4, 4), down_block_types=("DownEncoderBlock2D",) * 4,
                        up_block_types=("UpDecoderBlock2D",) * 4, latent_channels=4, norm_num_groups=2,
                        layers_per_block=1)
    text_encoder = CLIPTextModel(CLIPTextConfig(hidden_size=D, intermediate_size=32, num_attention_heads=2,
                                                num_hidden_layers=1, vocab_size=100, max_position_embeddings=16))
    sched_cfg = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                     prediction_type="epsilon", set_alpha_to_one=False, steps_offset=1, clip_sample=False)
    (out / "scheduler_config.json").write_text(json.dumps(sched_cfg, indent=1))
    # MagicDrive's pipeline refuses samplers that take a generator (DDIM, DDPM); it samples with UniPC.
    for name, sched, steps in (("unipc1", UniPCMultistepScheduler.from_config(sched_cfg), 1),
                               ("unipc3", UniPCMultistepScheduler.from_config(sched_cfg), 3)):
        pipe = StableDiffusionBEVControlNetPipeline(vae=vae, text_encoder=text_encoder, tokenizer=None, unet=unet,
                                                    controlnet=controlnet, scheduler=sched)
        pipe.set_progress_bar_config(disable=True)
        res = pipe(prompt=None, image=bev_map, camera_param=camera_param, height=224, width=400,
                   num_inference_steps=steps, guidance_scale=2.0, latents=latents.clone(), prompt_embeds=prompt,
                   negative_prompt_embeds=negative, output_type="latent",
                   bev_controlnet_kwargs={"bboxes_3d_data": box_data}, bbox_max_length=None)
        arrays[f"out_pipe_{name}"] = res.images.numpy()
        arrays[f"steps_pipe_{name}"] = np.array(steps)
    np.savez_compressed(out / "golden.npz", **arrays)
    print(f"wrote {out} with {len(arrays)} arrays; diffusers {diffusers.__version__}, torch {torch.__version__}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
