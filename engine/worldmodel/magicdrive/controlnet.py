"""MagicDrive's BEV ControlNet: the SD1.5 encoder half, fed with camera tokens, box tokens and the BEV map.

Re-implements `magicdrive.networks.unet_addon_rawbox.BEVControlNetModel` (inference path) on the pinned
diffusers, with identical state-dict keys: cam2token, uncond_cam, conv_in, time_embedding,
controlnet_cond_embedding, bbox_embedder, down_blocks, controlnet_down_blocks, controlnet_mid_block,
mid_block. Built from the checkpoint's `controlnet/config.json` (the original's registered config).

Shapes (B scenes, V cameras, L prompt tokens, M boxes per view):
    sample (B, V, 4, h, w) noisy latents; timestep (B,) or scalar;
    camera_param (B, V, 3, 7): [K (3x3, for the 1600x900 nuScenes image) | camera2lidar[:3, :4]];
    bboxes_3d_data: {"bboxes": (B, V, M, 8, 3) corners in the LiDAR frame, "classes": (B, V, M) long,
                     "masks": (B, V, M) bool} or None;
    encoder_hidden_states (B, L, 768) prompt embeddings; controlnet_cond (B, C_map, 200, 200).
Returns (down residuals (B*V, ...) x 12, mid residual (B*V, 1280, h/8, w/8),
encoder_hidden_states_with_cam (B*V, 1 + L + M, 768)) - the last is the UNet's cross-attention context.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn as nn
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from diffusers.models.unets.unet_2d_blocks import UNetMidBlock2DCrossAttn, get_down_block

from engine.worldmodel.magicdrive.bbox_embedder import BoxEmbedder
from engine.worldmodel.magicdrive.embedder import embedder_from_params
from engine.worldmodel.magicdrive.map_embedder import BEVMapEmbedding

SD15_ENCODER: dict[str, Any] = {
    "in_channels": 4, "flip_sin_to_cos": True, "freq_shift": 0,
    "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    "only_cross_attention": False, "block_out_channels": [320, 640, 1280, 1280], "layers_per_block": 2,
    "downsample_padding": 1, "mid_block_scale_factor": 1, "act_fn": "silu", "norm_num_groups": 32,
    "norm_eps": 1e-5, "cross_attention_dim": 768, "attention_head_dim": 8, "use_linear_projection": False,
    "upcast_attention": False, "resnet_time_scale_shift": "default",
    "controlnet_conditioning_channel_order": "rgb", "global_pool_conditions": False,
}


class BEVControlNet(nn.Module):
    """See the module docstring. `config` is the checkpoint's controlnet config dict."""

    def __init__(self, config: Mapping[str, Any], latent_size: Sequence[int] | None = None) -> None:
        super().__init__()
        cfg = {**SD15_ENCODER, **{k: v for k, v in dict(config).items() if not k.startswith("_")}}
        self.config = cfg
        if cfg.get("class_embed_type") or cfg.get("num_class_embeds"):
            raise ValueError("MagicDrive ControlNet with class embeddings is not supported")
        if cfg.get("use_uncond_map") and float(cfg.get("drop_cond_ratio", 0)) > 0:
            raise ValueError(f"use_uncond_map={cfg['use_uncond_map']!r} is not supported (the released models use none)")
        blocks = list(cfg["block_out_channels"])
        types = list(cfg["down_block_types"])
        heads = cfg["attention_head_dim"]
        heads = [heads] * len(types) if isinstance(heads, int) else list(heads)
        only_cross = cfg["only_cross_attention"]
        only_cross = [only_cross] * len(types) if isinstance(only_cross, bool) else list(only_cross)
        cam_out = int(cfg.get("camera_out_dim", 768))

        # camera tokens
        self.cam2token = nn.Linear(int(cfg.get("camera_in_dim", 189)), cam_out)
        uncond_dim = cfg.get("uncond_cam_in_dim", (3, 7))
        self.uncond_cam_num = int(uncond_dim[1]) if uncond_dim else None
        if uncond_dim:
            self.uncond_cam = nn.Embedding(1, int(uncond_dim[0]) * int(uncond_dim[1]))
        self.cam_embedder = embedder_from_params(cfg.get("cam_embedder_param"))

        self.conv_in = nn.Conv2d(int(cfg["in_channels"]), blocks[0], kernel_size=3, padding=1)
        time_dim = blocks[0] * 4
        self.time_proj = Timesteps(blocks[0], bool(cfg["flip_sin_to_cos"]), float(cfg["freq_shift"]))
        self.time_embedding = TimestepEmbedding(blocks[0], time_dim, act_fn=cfg["act_fn"])

        map_cls = str(cfg.get("map_embedder_cls") or "").rsplit(".", 1)[-1]
        if map_cls in ("", "BEVControlNetConditioningEmbedding"):
            self.controlnet_cond_embedding = BEVMapEmbedding(
                blocks[0], cfg.get("map_size") or (8, 200, 200),
                cfg.get("conditioning_embedding_out_channels") or (16, 32, 96, 256))
        elif map_cls == "BEVControlNetConditioningEmbeddingPlus":
            p = dict(cfg.get("map_embedder_param") or {})
            self.controlnet_cond_embedding = BEVMapEmbedding(
                blocks[0], p.get("conditioning_size", (8, 200, 200)), p.get("block_out_channels", (16, 32, 96, 256)),
                plus=True, conditioning_embedding_size=p.get("conditioning_embedding_size", latent_size))
        else:
            raise ValueError(f"unsupported MagicDrive map embedder {cfg.get('map_embedder_cls')!r}")

        box_cls = str(cfg.get("bbox_embedder_cls") or "ContinuousBBoxWithTextEmbedding").rsplit(".", 1)[-1]
        if box_cls != "ContinuousBBoxWithTextEmbedding":
            raise ValueError(f"unsupported MagicDrive box embedder {cfg.get('bbox_embedder_cls')!r}")
        self.bbox_embedder = BoxEmbedder(**dict(cfg.get("bbox_embedder_param") or {}))

        self.down_blocks = nn.ModuleList()
        self.controlnet_down_blocks = nn.ModuleList([nn.Conv2d(blocks[0], blocks[0], kernel_size=1)])
        out_ch = blocks[0]
        for i, block_type in enumerate(types):
            in_ch, out_ch = out_ch, blocks[i]
            final = i == len(blocks) - 1
            self.down_blocks.append(get_down_block(
                block_type, num_layers=int(cfg["layers_per_block"]), in_channels=in_ch, out_channels=out_ch,
                temb_channels=time_dim, add_downsample=not final, resnet_eps=float(cfg["norm_eps"]),
                resnet_act_fn=cfg["act_fn"], resnet_groups=int(cfg["norm_num_groups"]),
                cross_attention_dim=int(cfg["cross_attention_dim"]), num_attention_heads=int(heads[i]),
                attention_head_dim=out_ch // int(heads[i]), downsample_padding=int(cfg["downsample_padding"]),
                use_linear_projection=bool(cfg["use_linear_projection"]), only_cross_attention=bool(only_cross[i]),
                upcast_attention=bool(cfg["upcast_attention"]),
                resnet_time_scale_shift=cfg["resnet_time_scale_shift"]))
            for _ in range(int(cfg["layers_per_block"]) + (0 if final else 1)):
                self.controlnet_down_blocks.append(nn.Conv2d(out_ch, out_ch, kernel_size=1))
        self.controlnet_mid_block = nn.Conv2d(blocks[-1], blocks[-1], kernel_size=1)
        self.mid_block = UNetMidBlock2DCrossAttn(
            in_channels=blocks[-1], temb_channels=time_dim, resnet_eps=float(cfg["norm_eps"]),
            resnet_act_fn=cfg["act_fn"], output_scale_factor=float(cfg["mid_block_scale_factor"]),
            resnet_time_scale_shift=cfg["resnet_time_scale_shift"],
            cross_attention_dim=int(cfg["cross_attention_dim"]), num_attention_heads=int(heads[-1]),
            resnet_groups=int(cfg["norm_num_groups"]), use_linear_projection=bool(cfg["use_linear_projection"]),
            upcast_attention=bool(cfg["upcast_attention"]))

    # ---- helpers ---------------------------------------------------------------------------
    @property
    def dtype(self) -> torch.dtype:
        return self.conv_in.weight.dtype

    @property
    def device(self) -> torch.device:
        return self.conv_in.weight.device

    def embed_camera(self, camera_param: torch.Tensor) -> torch.Tensor:
        """(B, V, 3, 7) -> (B, V, 7 * embedder.out_dim): each 3-vector column Fourier-encoded."""
        b, v, d, c = camera_param.shape
        if d != 3:
            raise ValueError(f"camera_param must be (B, V, 3, 7), got {tuple(camera_param.shape)}")
        cols = camera_param.permute(0, 1, 3, 2).reshape(b * v * c, d)
        return self.cam_embedder(cols).reshape(b, v, c * self.cam_embedder.out_dim)

    def uncond_cam_param(self, batch: int, views: int) -> torch.Tensor:
        """(batch, views, 3, 7) the learnt 'no camera' parameters (classifier-free guidance)."""
        idx = torch.zeros(batch * views, dtype=torch.long, device=self.device)
        out: torch.Tensor = self.uncond_cam(idx).reshape(batch, views, -1, self.uncond_cam_num)
        return out

    def add_cam_states(self, encoder_hidden_states: torch.Tensor, camera_emb: torch.Tensor) -> torch.Tensor:
        """(B, L, D), (B, V, E) -> (B, V, 1 + L, D): the camera token before the prompt tokens."""
        cam = self.cam2token(camera_emb)
        v = cam.shape[1]
        text = encoder_hidden_states[:, None].expand(-1, v, -1, -1)
        return torch.cat([cam.unsqueeze(2), text], dim=2)

    # ---- forward ---------------------------------------------------------------------------
    def forward(self, sample: torch.Tensor, timestep: torch.Tensor | float | int, camera_param: torch.Tensor,
                bboxes_3d_data: Mapping[str, torch.Tensor] | None, encoder_hidden_states: torch.Tensor,
                controlnet_cond: torch.Tensor, conditioning_scale: float = 1.0, guess_mode: bool = False,
                **_ignored: Any) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
        if self.config["controlnet_conditioning_channel_order"] == "bgr":
            controlnet_cond = torch.flip(controlnet_cond, dims=[1])
        v = camera_param.shape[1]
        context = self.add_cam_states(encoder_hidden_states, self.embed_camera(camera_param))
        if bboxes_3d_data is not None:
            data = {k: t for k, t in bboxes_3d_data.items()}
            b_box, n_box = data["bboxes"].shape[:2]
            flat = {k: t.reshape(b_box * n_box, *t.shape[2:]) for k, t in data.items()}
            box_emb = self.bbox_embedder(**flat)
            box_emb = box_emb.reshape(b_box, n_box, *box_emb.shape[1:])
            if n_box != v:
                box_emb = box_emb.expand(-1, v, -1, -1)
            context = torch.cat([context, box_emb.to(context.dtype)], dim=2)

        timesteps = timestep
        if not torch.is_tensor(timesteps):
            timesteps = torch.tensor([timesteps], dtype=torch.float64 if isinstance(timestep, float) else torch.int64,
                                     device=sample.device)
        elif timesteps.ndim == 0:
            timesteps = timesteps[None].to(sample.device)
        t_emb = self.time_proj(timesteps.reshape(-1)).to(dtype=self.dtype)
        emb = self.time_embedding(t_emb)

        b = sample.shape[0]
        sample = sample.reshape(b * v, *sample.shape[2:])
        context = context.reshape(b * v, *context.shape[2:])
        if len(emb) < len(sample):
            emb = emb.repeat_interleave(v, dim=0)
        cond = controlnet_cond.repeat_interleave(v, dim=0)

        sample = self.conv_in(sample) + self.controlnet_cond_embedding(cond)
        res: tuple[torch.Tensor, ...] = (sample,)
        for block in self.down_blocks:
            if getattr(block, "has_cross_attention", False):
                sample, out = block(hidden_states=sample, temb=emb, encoder_hidden_states=context)
            else:
                sample, out = block(hidden_states=sample, temb=emb)
            res += out
        sample = self.mid_block(sample, emb, encoder_hidden_states=context)

        down = [blk(r) for r, blk in zip(res, self.controlnet_down_blocks)]
        mid = self.controlnet_mid_block(sample)
        if guess_mode:
            scales = torch.logspace(-1, 0, len(down) + 1) * conditioning_scale
            down = [d * s for d, s in zip(down, scales)]
            mid = mid * scales[-1]
        else:
            down = [d * conditioning_scale for d in down]
            mid = mid * conditioning_scale
        if self.config.get("global_pool_conditions"):
            down = [torch.mean(d, dim=(2, 3), keepdim=True) for d in down]
            mid = torch.mean(mid, dim=(2, 3), keepdim=True)
        return down, mid, context
