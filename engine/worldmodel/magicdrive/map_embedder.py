"""The BEV map encoder: (B, C_map, 200, 200) -> (B, 320, h, w), the latent grid of the UNet input.

Re-implements MagicDrive's `BEVControlNetConditioningEmbedding` (224x400 model: 200x200 -> 28x50) and
`BEVControlNetConditioningEmbeddingPlus` (adaptive pooling to any latent size, used by its higher
resolution configs). Keys: conv_in, blocks.{i}, conv_out (zero-initialised in training).
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F


class BEVMapEmbedding(nn.Module):
    """A conv stack with SiLU after every conv; `plus` selects the Plus variant (padding 1, stride 1
    in the first down block, then an adaptive average pool to `pooled_size`)."""

    def __init__(self, conditioning_embedding_channels: int = 320,
                 conditioning_size: Sequence[int] = (8, 200, 200),
                 block_out_channels: Sequence[int] = (16, 32, 96, 256), plus: bool = False,
                 conditioning_embedding_size: Sequence[int] | None = None) -> None:
        super().__init__()
        ch = list(block_out_channels)
        self.conv_in = nn.Conv2d(int(conditioning_size[0]), ch[0], kernel_size=3, padding=1)
        blocks: list[nn.Module] = []
        for i in range(len(ch) - 2):
            if plus:
                blocks.append(nn.Conv2d(ch[i], ch[i], kernel_size=3, padding=(1, 1)))
                blocks.append(nn.Conv2d(ch[i], ch[i + 1], kernel_size=3, padding=(1, 1), stride=1 if i == 0 else 2))
            else:
                blocks.append(nn.Conv2d(ch[i], ch[i], kernel_size=3, padding=1))
                blocks.append(nn.Conv2d(ch[i], ch[i + 1], kernel_size=3, padding=(2, 1), stride=2))
        pad = (1, 1) if plus else (2, 1)
        blocks.append(nn.Conv2d(ch[-2], ch[-2], kernel_size=3, padding=pad))
        blocks.append(nn.Conv2d(ch[-2], ch[-1], kernel_size=3, padding=pad, stride=(2, 1)))
        if plus:
            if conditioning_embedding_size is None:
                raise ValueError("the Plus map embedder needs conditioning_embedding_size (latent h, w)")
            blocks.append(nn.AdaptiveAvgPool2d(tuple(int(s) for s in conditioning_embedding_size)))
        self.blocks = nn.ModuleList(blocks)
        self.conv_out = nn.Conv2d(ch[-1], conditioning_embedding_channels, kernel_size=3, padding=1)

    def forward(self, conditioning: torch.Tensor) -> torch.Tensor:
        x = F.silu(self.conv_in(conditioning))
        for block in self.blocks:
            x = F.silu(block(x))
        out: torch.Tensor = self.conv_out(x)
        return out
