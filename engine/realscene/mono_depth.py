"""Optional monocular depth from a local model folder (transformers `AutoModelForDepthEstimation`).

Nothing is downloaded: the folder (given, or named by the environment variable
``CORNERCASE_DEPTH_MODEL``) must hold a model saved with ``save_pretrained`` plus its image
processor (Depth Anything, DPT, GLPN, ZoeDepth ...). A missing or broken folder raises
`DepthModelError` with the reason; callers fall back to LiDAR depth.

Most such models predict *relative* inverse depth (disparity up to an unknown scale and shift);
`align_to_sparse` turns it into metres by a robust least-squares fit of ``a * pred + b = 1 / z``
to the LiDAR depths the image has. Models whose config says ``depth_estimation_type: metric``
predict metres and only get a median scale correction.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from transformers import PreTrainedModel
    from transformers.image_processing_utils import BaseImageProcessor

PredictionKind = Literal["relative", "metric"]
"""How a model's raw output reads: inverse depth up to scale and shift, or metres."""

ENV_VAR = "CORNERCASE_DEPTH_MODEL"
MIN_POINTS = 30            # fewest LiDAR pixels an alignment trusts
METRIC_MODEL_TYPES = frozenset({"glpn", "zoedepth", "depth_pro"})   # predict metres whatever the config says


class DepthModelError(RuntimeError):
    """The configured depth model cannot be used; the message says why and where."""


def configured_model_dir() -> Path | None:
    """The folder named by ``CORNERCASE_DEPTH_MODEL``, or None."""
    v = os.environ.get(ENV_VAR, "").strip()
    return Path(v).expanduser() if v else None


@dataclass
class MonocularDepthModel:
    """A loaded depth model: `predict` gives its raw output at the image size, `kind` how to read it."""

    folder: Path
    model: PreTrainedModel
    processor: BaseImageProcessor
    kind: PredictionKind       # 'relative' (inverse depth, up to scale and shift) or 'metric' (metres)

    @classmethod
    def load(cls, folder: str | os.PathLike[str], device: str = "cpu") -> "MonocularDepthModel":
        """Load from a local folder (never the network)."""
        folder = Path(folder).expanduser()
        if not folder.is_dir():
            raise DepthModelError(f"depth model folder {folder} does not exist")
        if not (folder / "config.json").is_file():
            raise DepthModelError(f"{folder} is not a saved model: config.json is missing")
        try:
            from transformers import AutoImageProcessor, AutoModelForDepthEstimation

            model = AutoModelForDepthEstimation.from_pretrained(str(folder), local_files_only=True).to(device).eval()
            processor = AutoImageProcessor.from_pretrained(  # type: ignore[no-untyped-call]  # transformers: unannotated
                str(folder), local_files_only=True)
        # a user-chosen folder: transformers raises OSError, ValueError, KeyError, RuntimeError, ImportError... for
        # missing or mismatched files and dependencies; every one means "this model is unusable", said in the message
        except Exception as e:  # noqa: BLE001
            raise DepthModelError(f"cannot load a depth model from {folder}: {e}") from None
        metric = getattr(model.config, "depth_estimation_type", "relative") == "metric" or \
            getattr(model.config, "model_type", "") in METRIC_MODEL_TYPES
        kind: PredictionKind = "metric" if metric else "relative"
        return cls(folder, model, processor, kind)

    def predict(self, image: NDArray[np.uint8]) -> NDArray[np.float32]:
        """(H, W) float32 raw prediction for an (H, W, 3) uint8 RGB image (bicubic resize to its size)."""
        import torch
        import torch.nn.functional as F

        h, w = image.shape[:2]
        inputs = self.processor(images=image, return_tensors="pt")
        device = next(self.model.parameters()).device
        with torch.no_grad():
            out = self.model(pixel_values=inputs["pixel_values"].to(device)).predicted_depth
        pred = F.interpolate(out[:, None].float(), size=(h, w), mode="bicubic", align_corners=False)[0, 0]
        raw: NDArray[np.float32] = pred.cpu().numpy().astype(np.float32)
        return raw


def align_to_sparse(pred: NDArray[np.float32], sparse: NDArray[np.float32], kind: PredictionKind = "relative",
                    max_depth: float = 100.0, iterations: int = 3) -> NDArray[np.float32] | None:
    """(H, W) metric depth from a raw prediction and (H, W) sparse LiDAR depth (0 = none).

    relative: fit ``a * pred + b`` to ``1 / z`` by least squares, dropping the worst 20 % of
    residuals between `iterations` rounds; metric: scale by the median ratio. Returns None when
    fewer than `MIN_POINTS` LiDAR pixels are available (a relative prediction cannot be scaled).
    Pixels whose fitted inverse depth is not positive, or whose depth exceeds `max_depth`, are 0.
    """
    m = sparse > 0.1
    if m.sum() < MIN_POINTS:
        return None if kind == "relative" else np.clip(pred, 0.0, max_depth).astype(np.float32)
    p = pred[m].astype(np.float64)
    z = sparse[m].astype(np.float64)
    if kind == "metric":
        scale = float(np.median(z / np.maximum(p, 1e-6)))
        out = pred * scale
        return np.where((out > 0) & (out <= max_depth), out, 0.0).astype(np.float32)
    target = 1.0 / z
    keep = np.ones(len(p), bool)
    a, b = 1.0, 0.0
    for _ in range(max(1, iterations)):
        A = np.stack([p[keep], np.ones(keep.sum())], axis=1)
        (a, b), *_ = np.linalg.lstsq(A, target[keep], rcond=None)
        res = np.abs(a * p + b - target)
        keep = res <= np.quantile(res, 0.8)
        if keep.sum() < MIN_POINTS:
            break
    inv = a * pred.astype(np.float64) + b
    with np.errstate(divide="ignore"):
        depth = np.where(inv > 1.0 / max_depth, 1.0 / inv, 0.0)
    return depth.astype(np.float32)


_lock = threading.Lock()
_loaded: dict[str, MonocularDepthModel] = {}


def load_depth_model(folder: str | os.PathLike[str]) -> MonocularDepthModel:
    """The model in `folder`, loaded once per process."""
    key = str(Path(folder).expanduser().resolve())
    with _lock:
        if key not in _loaded:
            _loaded.clear()
            _loaded[key] = MonocularDepthModel.load(key)
        return _loaded[key]
