"""Channel selectors: from the stitched guidance stack to the 3-channel image each public ControlNet expects.

The guidance stack is (B, 9, H, W) float in [0, 1] with channels `GUIDANCE_CHANNELS`
(D, Nx, Ny, Nz, E, Or, Og, Ob, M; see engine/worldmodel/conditions.py). A selector returns
(B, 3, H, W) in [0, 1], the range diffusers feeds ControlNet images in (no normalisation):

    depth   D repeated (disparity, near = white, nothing hit = black: MiDaS-like, as control_v11f1p_sd15_depth)
    canny   E repeated (white edges on black, as control_v11p_sd15_canny)
    normal  NormalBae protocol (control_v11p_sd15_normalbae): R = left, G = up, B = towards the camera.
            N is camera-frame (OpenCV axes x right, y down, z forward) encoded (n + 1) / 2, so the
            image is 1 - N; black where there is no normal (all three channels 0)
    seg     O, the object / instance colouring of inserted objects
    ch:i,j,k  any three guidance channels by index (extensible wiring for retrained nets)
"""
from __future__ import annotations

from typing import Callable

import torch

from engine.worldmodel.conditions import GUIDANCE_CHANNELS

_IDX = {name: i for i, name in enumerate(GUIDANCE_CHANNELS)}


def _repeat(channel: str) -> Callable[[torch.Tensor], torch.Tensor]:
    i = _IDX[channel]

    def fn(g: torch.Tensor) -> torch.Tensor:
        return g[:, i:i + 1].expand(-1, 3, -1, -1).contiguous()
    return fn


def _normal(g: torch.Tensor) -> torch.Tensor:
    n = g[:, _IDX["normal_x"]:_IDX["normal_z"] + 1]
    present = (n > 0).any(dim=1, keepdim=True)
    return torch.where(present, 1.0 - n, torch.zeros_like(n))


def _seg(g: torch.Tensor) -> torch.Tensor:
    return g[:, _IDX["object_r"]:_IDX["object_b"] + 1].contiguous()


SELECTORS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "depth": _repeat("depth"),
    "canny": _repeat("edge"),
    "normal": _normal,
    "seg": _seg,
}
# Which guidance channels each named selector reads (for `model check` and the docs).
SELECTOR_SOURCES: dict[str, str] = {
    "depth": "D (disparity) -> 3 x grey",
    "canny": "E (edges) -> 3 x grey",
    "normal": "N (camera normals) -> NormalBae RGB",
    "seg": "O (object colouring) -> RGB",
}


def _channel_indices(spec: str) -> list[int]:
    body = spec[3:]
    try:
        idx = [int(p) for p in body.split(",")]
    except ValueError:
        raise ValueError(f"selector {spec!r}: expected ch:i,j,k with channel indices") from None
    if len(idx) != 3 or not all(0 <= i < len(GUIDANCE_CHANNELS) for i in idx):
        raise ValueError(f"selector {spec!r}: expected three channel indices in 0..{len(GUIDANCE_CHANNELS) - 1}")
    return idx


def check_selector(spec: str) -> None:
    """ValueError naming the selector when it is not a known name or a valid ch:i,j,k."""
    if spec in SELECTORS:
        return
    if spec.startswith("ch:"):
        _channel_indices(spec)
        return
    raise ValueError(f"unknown channel selector {spec!r}; use one of {', '.join(SELECTORS)} or ch:i,j,k")


def describe_selector(spec: str) -> str:
    """One line: which guidance channels feed the net."""
    if spec in SELECTOR_SOURCES:
        return SELECTOR_SOURCES[spec]
    idx = _channel_indices(spec)
    return " ".join(GUIDANCE_CHANNELS[i] for i in idx)


def select(spec: str, guidance: torch.Tensor) -> torch.Tensor:
    """(B, 9, H, W) guidance in [0, 1] -> (B, 3, H, W) control image for the selector `spec`."""
    if guidance.ndim != 4 or guidance.shape[1] != len(GUIDANCE_CHANNELS):
        raise ValueError(f"guidance must be (B, {len(GUIDANCE_CHANNELS)}, H, W), got {tuple(guidance.shape)}")
    if spec in SELECTORS:
        return SELECTORS[spec](guidance)
    check_selector(spec)
    return guidance[:, _channel_indices(spec)].contiguous()
