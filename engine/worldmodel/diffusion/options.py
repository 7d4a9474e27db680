"""Per-run options of the diffusion backend (all optional; see docs/world_model_diffusion.md).

    DiffusionOptions(controlnet_scales={"depth": 0.8}, noise_sharing=1.0, temporal_strength=0.6)
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Mapping


@dataclass(frozen=True)
class DiffusionOptions:
    """controlnet_scales: per-ControlNet conditioning scale by name, overriding the folder's;
    controlnet_conditioning_scale: a multiplier on every dense ControlNet's scale;
    layout_scale: the layout ControlNet's scale (None: the folder's);
    wrap: pad the panorama latent circularly (BL's right edge meets FL's left edge);
    noise_sharing: part of the initial noise shared by all frames (1 = same noise every frame);
    view_noise_sharing: part of the initial noise shared by the views (same tile in every view);
    temporal_strength: frames after the first start from the previous frame's latent noised to this
        strength (1 = from pure noise, no carry-over);
    prev_blend: after each step pull the latent this far towards the previous frame's latent noised
        to the same level (0 = off)."""

    controlnet_scales: Mapping[str, float] = field(default_factory=dict)
    controlnet_conditioning_scale: float = 1.0
    layout_scale: float | None = None
    wrap: bool = True
    noise_sharing: float = 0.0
    view_noise_sharing: float = 0.0
    temporal_strength: float = 1.0
    prev_blend: float = 0.0

    def __post_init__(self) -> None:
        for name in ("noise_sharing", "view_noise_sharing", "prev_blend"):
            v = getattr(self, name)
            if not 0.0 <= float(v) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {v!r}")
        if not 0.0 < float(self.temporal_strength) <= 1.0:
            raise ValueError(f"temporal_strength must be in (0, 1], got {self.temporal_strength!r}")
        for k, v in dict(self.controlnet_scales).items():
            if not float(v) >= 0.0:
                raise ValueError(f"controlnet scale for {k!r} must be >= 0, got {v!r}")
        object.__setattr__(self, "controlnet_scales", {str(k): float(v) for k, v in dict(self.controlnet_scales).items()})

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any] | None) -> "DiffusionOptions":
        """Options from a dict; ValueError names an unknown key."""
        options = dict(options or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ValueError(f"unknown diffusion option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**options)


def parse_scale_items(items: list[str] | None) -> dict[str, float]:
    """['depth=0.8', 'canny=1.2'] -> {'depth': 0.8, 'canny': 1.2}; ValueError names a bad item."""
    out: dict[str, float] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"controlnet scale {item!r} must look like NAME=SCALE (e.g. depth=0.8)")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"controlnet scale {item!r}: {value!r} is not a number") from None
    return out
