"""Image quality metrics for `train eval`: PSNR, SSIM (Wang et al. 2004, Gaussian window) and FID (optional).

SSIM follows the reference definition: per channel, local statistics under an 11 x 11 Gaussian window
(sigma 1.5), C1 = (0.01 L)^2, C2 = (0.03 L)^2 with L = 255, the SSIM map over the window positions fully
inside the image ("valid"), averaged, then averaged over channels. (No SSIM library is installed here:
neither torchmetrics nor scikit-image is a dependency.)

FID needs Inception weights from a local file and torchmetrics + torch-fidelity; it never downloads.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import torch

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5


def psnr(a: NDArray[Any], b: NDArray[Any], peak: float = 255.0) -> float:
    """PSNR in dB of two same-shape images (uint8 or float on the `peak` scale); inf when identical."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
    mse = float(np.mean((a - b) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(peak * peak / mse)


def _gauss(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Gaussian-window mean of (H, W) float64, 'valid' positions only (the window fully inside)."""
    r = SSIM_WINDOW // 2
    out = np.asarray(cv2.GaussianBlur(x, (SSIM_WINDOW, SSIM_WINDOW), SSIM_SIGMA, borderType=cv2.BORDER_REFLECT),
                     np.float64)
    return out[r:-r, r:-r]


def ssim(a: NDArray[Any], b: NDArray[Any], peak: float = 255.0) -> float:
    """Mean SSIM of two (H, W) or (H, W, C) images (H, W >= 11) on the `peak` scale."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
    if a.ndim == 2:
        a, b = a[..., None], b[..., None]
    if min(a.shape[:2]) < SSIM_WINDOW:
        raise ValueError(f"SSIM needs images of at least {SSIM_WINDOW} x {SSIM_WINDOW} pixels, got {a.shape[:2]}")
    c1 = (0.01 * peak) ** 2
    c2 = (0.03 * peak) ** 2
    vals = []
    for ch in range(a.shape[2]):
        x, y = a[..., ch], b[..., ch]
        mx, my = _gauss(x), _gauss(y)
        sxx = _gauss(x * x) - mx * mx
        syy = _gauss(y * y) - my * my
        sxy = _gauss(x * y) - mx * my
        m = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
        vals.append(float(m.mean()))
    return float(np.mean(vals))


class FidUnavailable(RuntimeError):
    """FID cannot be computed here (the message says why and what to install or pass)."""


class FidMetric(Protocol):
    """What `train eval` uses of torchmetrics' FrechetInceptionDistance."""

    def update(self, imgs: torch.Tensor, real: bool) -> None: ...

    def compute(self) -> torch.Tensor: ...


def fid_metric(inception: str | os.PathLike[str]) -> FidMetric:
    """A torchmetrics FrechetInceptionDistance whose Inception weights come from a local file (never downloads).

    `inception` is torch-fidelity's `pt_inception-2015-12-05` weights file (or a folder holding one .pth)."""
    path = Path(inception).expanduser()
    if path.is_dir():
        found = sorted(path.glob("*.pth"))
        if not found:
            raise FidUnavailable(f"{path}: no Inception weights (*.pth) in this folder")
        path = found[0]
    if not path.is_file():
        raise FidUnavailable(f"Inception weights {path} do not exist")
    try:
        from torchmetrics.image.fid import FrechetInceptionDistance
    except ImportError:
        raise FidUnavailable("FID needs torchmetrics and torch-fidelity (pip install torchmetrics torch-fidelity); "
                             "they are not installed") from None
    try:
        metric: FidMetric = FrechetInceptionDistance(feature=2048, feature_extractor_weights_path=str(path))
        return metric
    except TypeError as e:
        raise FidUnavailable(f"this torchmetrics cannot load local Inception weights: {e}") from None
