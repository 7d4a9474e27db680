"""Write resources/manifests/magicdrive_<variant>.json: the state-dict keys and shapes of MagicDrive's
released checkpoints (224x400: SDv1.5mv-rawbox_2023-09-07_18-39_224x400; 272x736 and 424x800: the
Hugging Face releases, configs/exp/272x736.yaml and 424x800abox0.1_nockpt.yaml), derived at development time
from the ORIGINAL module definitions with the released config (configs/model/SDv1.5mv_rawbox.yaml,
configs/dataset/Nuscenes.yaml, SD1.5's UNet config), instantiated on the meta device (no weights).

    /work/md_env/bin/python tools/magicdrive_golden/make_manifest.py --magicdrive MAGICDRIVE \
        --variant 224x400 --out resources/manifests/magicdrive_224x400.json

(see make_golden.py for the environment). The configs it records are what the original code's
`save_pretrained` writes as unet/config.json and controlnet/config.json.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

# stable-diffusion-v1-5/unet/config.json (diffusers format), the base MagicDrive starts from
SD15_UNET = {
    "act_fn": "silu", "attention_head_dim": 8, "block_out_channels": [320, 640, 1280, 1280],
    "center_input_sample": False, "cross_attention_dim": 768,
    "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    "downsample_padding": 1, "flip_sin_to_cos": True, "freq_shift": 0, "in_channels": 4, "layers_per_block": 2,
    "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": 32, "out_channels": 4, "sample_size": 64,
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
}
# configs/model/SDv1.5mv_rawbox.yaml with the dataset's interpolations resolved (Nuscenes.yaml)
UNET_EXTRA = {
    "trainable_state": "only_new",
    "neighboring_view_pair": {0: [5, 1], 1: [0, 2], 2: [1, 3], 3: [2, 4], 4: [3, 5], 5: [4, 0]},
    "neighboring_attn_type": "add", "zero_module_type": "zero_linear", "crossview_attn_type": "basic",
    "img_size": [224, 400],
}
CONTROLNET_EXTRA = {
    "camera_in_dim": 189, "camera_out_dim": 768, "map_size": [8, 200, 200],
    "conditioning_embedding_out_channels": [16, 32, 96, 256], "uncond_cam_in_dim": [3, 7],
    "use_uncond_map": None, "drop_cond_ratio": 0.25, "drop_cam_num": 6, "drop_cam_with_box": False,
    "cam_embedder_param": {"input_dims": 3, "num_freqs": 4, "include_input": True, "log_sampling": True},
    "bbox_embedder_cls": "magicdrive.networks.bbox_embedder.ContinuousBBoxWithTextEmbedding",
    "bbox_embedder_param": {"n_classes": 10, "class_token_dim": 768, "trainable_class_token": False,
                            "use_text_encoder_init": True, "embedder_num_freq": 4,
                            "proj_dims": [768, 512, 512, 768], "mode": "all-xyz", "minmax_normalize": False},
}


# what configs/exp/<variant>.yaml changes on top of the model config
VARIANTS = {
    "224x400": ("SDv1.5mv-rawbox_2023-09-07_18-39_224x400", [224, 400], {}),
    "272x736": ("flymin/MagicDrive-272x736-400ep", [272, 736], {
        "map_size": None,
        "map_embedder_cls": "magicdrive.networks.map_embedder.BEVControlNetConditioningEmbeddingPlus",
        "map_embedder_param": {"conditioning_embedding_size": [34, 92], "conditioning_size": [8, 200, 200],
                               "block_out_channels": [16, 32, 96, 256]}}),
    "424x800": ("flymin/MagicDrive-424x800-450ep", [424, 800], {"map_size": [8, 400, 400]}),
}


def jsonable(cfg) -> dict:
    return json.loads(json.dumps({k: v for k, v in dict(cfg).items() if not k.startswith("_")}, default=list))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--magicdrive", required=True)
    ap.add_argument("--variant", choices=sorted(VARIANTS), default="224x400")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    sys.path.insert(0, str(Path(args.magicdrive).resolve()))
    import diffusers
    from diffusers import UNet2DConditionModel
    from magicdrive.networks.unet_2d_condition_multiview import UNet2DConditionModelMultiview
    from magicdrive.networks.unet_addon_rawbox import BEVControlNetModel

    name, size, cn_changes = VARIANTS[args.variant]
    with torch.device("meta"):
        base = UNet2DConditionModel(**SD15_UNET)
        unet = UNet2DConditionModelMultiview.from_unet_2d_condition(
            base, load_weights_from_unet=False, **{**UNET_EXTRA, "img_size": size})
        controlnet = BEVControlNetModel.from_unet(base, load_weights_from_unet=False,
                                                  **{**CONTROLNET_EXTRA, **cn_changes})
    manifest = {
        "checkpoint": name,
        "derived_from": "github.com/cure-lab/MagicDrive main (original module definitions, diffusers "
                        f"{diffusers.__version__} fork), tools/magicdrive_golden/make_manifest.py",
        "image_size": size,
        "unet_config": jsonable(unet.config),
        "controlnet_config": jsonable(controlnet.config),
        "unet": {k: list(v.shape) for k, v in unet.state_dict().items()},
        "controlnet": {k: list(v.shape) for k, v in controlnet.state_dict().items()},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(manifest, indent=0, sort_keys=False) + "\n")
    print(f"wrote {args.out}: unet {len(manifest['unet'])} keys, controlnet {len(manifest['controlnet'])} keys")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
