"""Box tokens: the 8 corners of each 3-D box (Fourier-encoded) plus its class token -> one 768-d token.

Re-implements MagicDrive's `ContinuousBBoxWithTextEmbedding` (mode 'all-xyz', the released models'
setting) with the same state-dict keys: bbox_proj, second_linear.{0,2,4}, _class_tokens (a buffer:
the CLIP pooled text embedding of each class name, saved in the checkpoint), null_class_feature,
null_pos_feature.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from engine.worldmodel.magicdrive.embedder import FourierEmbedder

# Used only by the 'cxyz'/'all-xyz' min-max normalisation (off in the released models).
XYZ_MIN = (-200.0, -300.0, -20.0)
XYZ_RANGE = (350.0, 650.0, 80.0)


class BoxEmbedder(nn.Module):
    """bboxes (B, N, P, 3) box corners (P = 8 for 'all-xyz', 4 for 'cxyz') in the LiDAR frame, metres;
    classes (B, N) long in MagicDrive's class order; masks (B, N) bool/float (0 = padding, replaced by
    the learnt null token) -> (B, N, proj_dims[-1]) tokens."""

    def __init__(self, n_classes: int = 10, class_token_dim: int = 768, trainable_class_token: bool = False,
                 embedder_num_freq: int = 4, proj_dims: Sequence[int] = (768, 512, 512, 768),
                 mode: str = "all-xyz", minmax_normalize: bool = False, **_ignored: Any) -> None:
        super().__init__()
        if mode == "cxyz":
            points = 4
        elif mode == "all-xyz":
            points = 8
        else:
            raise ValueError(f"unsupported MagicDrive box mode {mode!r} (expected 'all-xyz' or 'cxyz')")
        self.mode = mode
        self.minmax_normalize = bool(minmax_normalize)
        self.fourier_embedder = FourierEmbedder(3, embedder_num_freq)
        pos_dim = self.fourier_embedder.out_dim * points
        self.bbox_proj = nn.Linear(pos_dim, proj_dims[0])
        self.second_linear = nn.Sequential(
            nn.Linear(proj_dims[0] + class_token_dim, proj_dims[1]), nn.SiLU(),
            nn.Linear(proj_dims[1], proj_dims[2]), nn.SiLU(),
            nn.Linear(proj_dims[2], proj_dims[3]),
        )
        tokens = torch.zeros(n_classes, class_token_dim)
        if trainable_class_token:
            self._class_tokens = nn.Parameter(tokens)
        else:
            self.register_buffer("_class_tokens", tokens)
        self.null_class_feature = nn.Parameter(torch.zeros(class_token_dim))
        self.null_pos_feature = nn.Parameter(torch.zeros(pos_dim))

    @property
    def class_tokens(self) -> torch.Tensor:
        """(n_classes, class_token_dim)."""
        return self._class_tokens

    def forward_feature(self, pos_emb: torch.Tensor, cls_emb: torch.Tensor) -> torch.Tensor:
        """(M, pos_dim), (M, class_token_dim) -> (M, out_dim)."""
        emb = F.silu(self.bbox_proj(pos_emb))
        out: torch.Tensor = self.second_linear(torch.cat([emb, cls_emb], dim=-1))
        return out

    def null_token(self) -> torch.Tensor:
        """(out_dim,) the token of an absent box (used to pad the unconditional branch)."""
        return self.forward_feature(self.null_pos_feature[None], self.null_class_feature[None])[0]

    def forward(self, bboxes: torch.Tensor, classes: torch.Tensor, masks: torch.Tensor | None = None,
                **_ignored: Any) -> torch.Tensor:
        b, n = classes.shape
        flat = bboxes.reshape(b * n, *bboxes.shape[2:])
        if masks is None:
            m = torch.ones(b * n, device=flat.device)
        else:
            m = masks.reshape(-1)
        m = m.unsqueeze(-1).type_as(self.null_pos_feature)
        if self.minmax_normalize:
            mins = torch.as_tensor(XYZ_MIN, dtype=flat.dtype, device=flat.device)
            rng = torch.as_tensor(XYZ_RANGE, dtype=flat.dtype, device=flat.device)
            flat = (flat - mins) / rng
        pos = self.fourier_embedder(flat).reshape(b * n, -1).type_as(self.null_pos_feature)
        pos = pos * m + self.null_pos_feature[None] * (1 - m)
        cls = self.class_tokens[classes.reshape(-1).long()]
        cls = cls * m + self.null_class_feature[None] * (1 - m)
        return self.forward_feature(pos, cls).reshape(b, n, -1)
