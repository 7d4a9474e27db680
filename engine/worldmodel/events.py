"""Progress events a world model's generator yields, and the finished clip."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class GeneratedClip:
    """Generated frames (T, V, H, W, 3) uint8, cameras in `camera_names` order (panorama order)."""

    frames: NDArray[np.uint8]
    camera_names: tuple[str, ...]
    fps: float
    backend: str
    seed: int
    times: NDArray[np.float64] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        f = self.frames
        if f.ndim != 5 or f.shape[-1] != 3 or f.dtype != np.uint8:
            raise ValueError(f"frames must be (T, V, H, W, 3) uint8, got {f.shape} {f.dtype}")
        if f.shape[1] != len(self.camera_names):
            raise ValueError(f"{f.shape[1]} views but {len(self.camera_names)} camera names")
        object.__setattr__(self, "camera_names", tuple(self.camera_names))
        if self.times is None:
            object.__setattr__(self, "times", np.arange(f.shape[0], dtype=np.float64) / self.fps)

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def image_size(self) -> tuple[int, int]:
        """(width, height) of one view."""
        return int(self.frames.shape[3]), int(self.frames.shape[2])

    def camera(self, name: str) -> NDArray[np.uint8]:
        """(T, H, W, 3) uint8 frames of one camera, by nuScenes name."""
        try:
            return self.frames[:, self.camera_names.index(name)]
        except ValueError:
            raise KeyError(f"no camera {name!r} in the clip; cameras: {', '.join(self.camera_names)}") from None

    def by_camera(self) -> dict[str, NDArray[np.uint8]]:
        """{camera name: (T, H, W, 3) uint8} in panorama order."""
        return {n: self.frames[:, i] for i, n in enumerate(self.camera_names)}

    def panorama(self, index: int) -> NDArray[np.uint8]:
        """(H, V*W, 3) uint8: frame `index` with the views side by side in panorama order."""
        f = self.frames[index]
        return np.concatenate(list(f), axis=1)


@dataclass(frozen=True)
class StepProgress:
    """One denoising step of one frame is done (the naive backend has one step per frame).

    step: 1..num_steps; frame: 0..num_frames-1; preview: None or (V, h, w, 3) uint8 (possibly smaller
    than the output, e.g. at latent resolution).
    """

    step: int
    num_steps: int
    frame: int
    num_frames: int
    preview: NDArray[np.uint8] | None = None

    @property
    def fraction(self) -> float:
        """Overall progress in [0, 1]."""
        return (self.frame * self.num_steps + self.step) / max(1, self.num_frames * self.num_steps)


@dataclass(frozen=True)
class FrameReady:
    """Frame `frame` is final: images (V, H, W, 3) uint8 in camera order."""

    frame: int
    num_frames: int
    images: NDArray[np.uint8]


@dataclass(frozen=True)
class GenerationDone:
    """The last event: the whole clip."""

    clip: GeneratedClip


GenerationEvent = StepProgress | FrameReady | GenerationDone
