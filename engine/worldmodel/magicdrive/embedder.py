"""The Fourier (NeRF positional) embedding MagicDrive uses for camera parameters and box corners."""
from __future__ import annotations

from typing import Any, Mapping

import torch


class FourierEmbedder:
    """x (..., D) -> (..., D * (include_input + 2 * num_freqs)) float.

    Output layout (as in MagicDrive / NeRF): [x, sin(x f0), cos(x f0), sin(x f1), cos(x f1), ...]
    with f_k = 2 ** linspace(0, num_freqs - 1, num_freqs)[k] (log sampling) or a linear ramp from 1
    to 2 ** (num_freqs - 1). Has no weights (not an nn.Module), so it adds no state-dict keys.
    """

    def __init__(self, input_dims: int = 3, num_freqs: int = 4, include_input: bool = True,
                 log_sampling: bool = True) -> None:
        self.input_dims = int(input_dims)
        self.num_freqs = int(num_freqs)
        self.include_input = bool(include_input)
        max_freq = float(self.num_freqs - 1)
        if log_sampling:
            self.freqs = 2.0 ** torch.linspace(0.0, max_freq, steps=self.num_freqs)
        else:
            self.freqs = torch.linspace(1.0, 2.0 ** max_freq, steps=self.num_freqs)
        self.out_dim = self.input_dims * (int(self.include_input) + 2 * self.num_freqs)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        parts = [x] if self.include_input else []
        for f in self.freqs.tolist():
            parts.append(torch.sin(x * f))
            parts.append(torch.cos(x * f))
        return torch.cat(parts, dim=-1)


def embedder_from_params(params: Mapping[str, Any] | None) -> FourierEmbedder:
    """A FourierEmbedder from MagicDrive's `cam_embedder_param` dict (input_dims, num_freqs, ...)."""
    params = dict(params or {})
    return FourierEmbedder(int(params.get("input_dims", 3)), int(params.get("num_freqs", 4)),
                           bool(params.get("include_input", True)), bool(params.get("log_sampling", True)))
