"""diffusers' Cosmos models resize their padding mask with torchvision, which this CPU environment lacks
(the published torchvision wheels are built against another torch). For tensors, torchvision's
`functional.resize(x, size, interpolation=NEAREST)` is `torch.nn.functional.interpolate(x, size,
mode="nearest")`; `ensure_resize()` provides exactly that under the name the models look up, and
only when torchvision is not importable."""
from __future__ import annotations

import enum
from types import SimpleNamespace
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    import torch


class _InterpolationMode(enum.Enum):
    NEAREST = "nearest"
    BILINEAR = "bilinear"


def _resize(img: torch.Tensor, size: Sequence[int], interpolation: _InterpolationMode | str = _InterpolationMode.NEAREST,
            antialias: bool | None = None) -> torch.Tensor:
    import torch.nn.functional as F

    mode = interpolation.value if isinstance(interpolation, enum.Enum) else str(interpolation)
    if mode != "nearest":
        raise NotImplementedError(f"resize mode {mode} is not needed by the Cosmos models")
    shape = img.shape
    x = img.reshape(-1, 1, *shape[-2:]) if img.ndim != 4 else img
    out = F.interpolate(x.float() if not x.is_floating_point() else x, size=list(size), mode="nearest")
    return out.reshape(*shape[:-2], *out.shape[-2:]).to(img.dtype)


_SHIM = SimpleNamespace(functional=SimpleNamespace(resize=_resize), InterpolationMode=_InterpolationMode)


def ensure_resize() -> None:
    """Give diffusers' Cosmos transformer and ControlNet modules a `transforms` when torchvision is absent."""
    from diffusers.models.controlnets import controlnet_cosmos
    from diffusers.models.transformers import transformer_cosmos

    for mod in (controlnet_cosmos, transformer_cosmos):
        if not hasattr(mod, "transforms"):
            mod.transforms = _SHIM  # type: ignore[attr-defined]  # the name torchvision would have provided
