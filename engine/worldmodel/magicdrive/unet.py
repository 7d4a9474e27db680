"""MagicDrive's multi-view UNet: SD1.5's UNet with a cross-view attention block in every transformer block.

Re-implements `UNet2DConditionModelMultiview` + `BasicMultiviewTransformerBlock` (crossview_attn_type
'basic', neighboring_attn_type 'add', zero_module_type 'zero_linear') on the pinned diffusers. The
UNet is diffusers' own `UNet2DConditionModel` with each `BasicTransformerBlock` replaced by
`MultiviewTransformerBlock`, which adds `norm4`, `attn4` and `connector` - so the state-dict keys are
the released checkpoint's (`...transformer_blocks.0.attn4.to_q.weight`, `...connector.weight`, ...).

The UNet's batch is (B * V) with the V views of a scene consecutive, in MagicDrive's view order; the
cross-view block lets each view attend to its two neighbours (`neighboring_view_pair`) and sums them.
"""
from __future__ import annotations

import inspect
from typing import Any, Mapping

import torch
import torch.nn as nn
from diffusers.models.attention import BasicTransformerBlock
from diffusers.models.attention_processor import Attention
from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel  # the class, not diffusers' lazy alias

DEFAULT_VIEW_PAIRS: dict[int, list[int]] = {0: [5, 1], 1: [0, 2], 2: [1, 3], 3: [2, 4], 4: [3, 5], 5: [4, 0]}
MULTIVIEW_KEYS = ("trainable_state", "neighboring_view_pair", "neighboring_attn_type", "zero_module_type",
                  "crossview_attn_type", "img_size")


def view_pairs(raw: Mapping[Any, Any] | None) -> dict[int, list[int]]:
    """{view: [neighbour views]} with int keys (JSON configs store them as strings)."""
    if not raw:
        return dict(DEFAULT_VIEW_PAIRS)
    return {int(k): [int(x) for x in v] for k, v in raw.items()}


class MultiviewTransformerBlock(BasicTransformerBlock):
    """A BasicTransformerBlock (layer-norm type) plus cross-view attention between self/cross attention
    and the feed-forward: hidden (B*V, HW, C) -> (B*V, HW, C)."""

    def __init__(self, dim: int, num_attention_heads: int, attention_head_dim: int,
                 cross_attention_dim: int | None, view_pairs_: Mapping[int, list[int]], *,
                 activation_fn: str = "geglu", attention_bias: bool = False, only_cross_attention: bool = False,
                 double_self_attention: bool = False, upcast_attention: bool = False,
                 norm_elementwise_affine: bool = True, neighboring_attn_type: str = "add",
                 zero_module_type: str = "zero_linear") -> None:
        super().__init__(dim, num_attention_heads, attention_head_dim, cross_attention_dim=cross_attention_dim,
                         activation_fn=activation_fn, attention_bias=attention_bias,
                         only_cross_attention=only_cross_attention, double_self_attention=double_self_attention,
                         upcast_attention=upcast_attention, norm_elementwise_affine=norm_elementwise_affine,
                         norm_type="layer_norm")
        if neighboring_attn_type != "add":
            raise ValueError(f"neighboring_attn_type {neighboring_attn_type!r} is not supported (released: 'add')")
        self.view_pairs = dict(view_pairs_)
        self.norm4 = nn.LayerNorm(dim, elementwise_affine=norm_elementwise_affine)
        self.connector: nn.Module
        self.attn4 = Attention(query_dim=dim, cross_attention_dim=dim, heads=num_attention_heads,
                               dim_head=attention_head_dim, bias=attention_bias, upcast_attention=upcast_attention)
        if zero_module_type == "zero_linear":
            self.connector = nn.Linear(dim, dim)
        elif zero_module_type == "none":
            self.connector = nn.Identity()
        else:
            raise ValueError(f"zero_module_type {zero_module_type!r} is not supported")
        # query view and key/value view of every (view, neighbour) pair, in the original's order
        self._q_views = [k for k, vs in self.view_pairs.items() for _ in vs]
        self._kv_views = [v for _, vs in self.view_pairs.items() for v in vs]

    @property
    def n_cam(self) -> int:
        return len(self.view_pairs)

    @classmethod
    def replacing(cls, block: BasicTransformerBlock, pairs: Mapping[int, list[int]], attn_type: str,
                  zero_type: str) -> "MultiviewTransformerBlock":
        """A multi-view block with the same settings as `block` (its weights are not copied)."""
        return cls(block.dim, block.num_attention_heads, block.attention_head_dim,
                   block.cross_attention_dim if block.attn2 is not None else None, pairs,
                   activation_fn=block.activation_fn, attention_bias=block.attention_bias,
                   only_cross_attention=block.only_cross_attention,
                   double_self_attention=block.double_self_attention,
                   upcast_attention=bool(block.attn1.upcast_attention),
                   norm_elementwise_affine=block.norm_elementwise_affine,
                   neighboring_attn_type=attn_type, zero_module_type=zero_type)

    def cross_view(self, norm_hidden: torch.Tensor) -> torch.Tensor:
        """(B*V, L, C) normalised states -> (B*V, L, C): per view, the sum over its neighbours of
        attention(query = this view, key/value = the neighbour)."""
        n = self.n_cam
        x = norm_hidden.reshape(-1, n, *norm_hidden.shape[1:])  # B, V, L, C
        b = x.shape[0]
        q = torch.cat([x[:, k] for k in self._q_views], dim=0)   # (P*B, L, C), pair-major
        kv = torch.cat([x[:, v] for v in self._kv_views], dim=0)
        out = self.attn4(q, encoder_hidden_states=kv).reshape(len(self._q_views), b, *x.shape[2:])
        result = torch.zeros_like(x)
        for p, k in enumerate(self._q_views):
            result[:, k] = result[:, k] + out[p]
        return result.reshape(norm_hidden.shape)

    def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor | None = None,
                encoder_hidden_states: torch.Tensor | None = None,
                encoder_attention_mask: torch.Tensor | None = None, timestep: torch.Tensor | None = None,
                cross_attention_kwargs: dict[str, Any] | None = None, class_labels: torch.Tensor | None = None,
                added_cond_kwargs: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        # timestep, class_labels, added_cond_kwargs: BasicTransformerBlock's signature (unused by the layer-norm type)
        kwargs = dict(cross_attention_kwargs or {})
        kwargs.pop("scale", None)
        norm = self.norm1(hidden_states)
        hidden_states = self.attn1(norm, encoder_hidden_states=encoder_hidden_states if self.only_cross_attention
                                   else None, attention_mask=attention_mask, **kwargs) + hidden_states
        if self.attn2 is not None:
            norm = self.norm2(hidden_states)
            hidden_states = self.attn2(norm, encoder_hidden_states=encoder_hidden_states,
                                       attention_mask=encoder_attention_mask, **kwargs) + hidden_states
        hidden_states = self.connector(self.cross_view(self.norm4(hidden_states))) + hidden_states
        out: torch.Tensor = self.ff(self.norm3(hidden_states)) + hidden_states
        return out


def unet_init_kwargs(config: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of a MagicDrive unet config that diffusers' UNet2DConditionModel takes."""
    accepted = set(inspect.signature(UNet2DConditionModel.__init__).parameters) - {"self"}
    return {k: v for k, v in config.items() if k in accepted and not k.startswith("_")}


def build_multiview_unet(config: Mapping[str, Any]) -> UNet2DConditionModel:
    """A UNet2DConditionModel with multi-view blocks from MagicDrive's `unet/config.json` dict."""
    if str(config.get("crossview_attn_type", "basic")) != "basic":
        raise ValueError(f"crossview_attn_type {config.get('crossview_attn_type')!r} is not supported (released: 'basic')")
    unet: UNet2DConditionModel = UNet2DConditionModel(**unet_init_kwargs(config))
    pairs = view_pairs(config.get("neighboring_view_pair"))
    attn_type = str(config.get("neighboring_attn_type", "add"))
    zero_type = str(config.get("zero_module_type", "zero_linear"))
    for name, module in list(unet.named_modules()):
        if isinstance(module, BasicTransformerBlock) and not isinstance(module, MultiviewTransformerBlock):
            parent_name, _, child = name.rpartition(".")
            parent = unet.get_submodule(parent_name)
            new = MultiviewTransformerBlock.replacing(module, pairs, attn_type, zero_type)
            ref = module.norm1.weight
            assert isinstance(ref, torch.Tensor), "the layer-norm block's norm1 has a weight"
            new.to(device=ref.device, dtype=ref.dtype)
            parent._modules[child] = new
    return unet
