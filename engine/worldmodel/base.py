"""The world-model interface: conditions in, a generator of progress events out, the clip last.

    model = create_backend("naive")
    for event in model.generate(conditions, GenerationSettings(seed=3), cancel):
        ...  # StepProgress per step, FrameReady per frame, GenerationDone(clip) last

A generator is interruptible between steps: set `cancel` (a `CancelToken`) from any thread and the
next step raises `GenerationCancelled`; or simply stop iterating (``close()``). The same seed gives
the same frames. `generate_clip` runs a generator to the end and returns the clip.
"""
from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable, ClassVar, Iterator

from engine.conditions.clip import ClipConditions
from engine.worldmodel.errors import GenerationCancelled, WorldModelError
from engine.worldmodel.events import GeneratedClip, GenerationDone, GenerationEvent

DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("auto", "float32", "float16", "bfloat16")


@dataclass(frozen=True)
class GenerationSettings:
    """User settings of one generation run.

    steps: denoising steps per frame (ignored by the naive backend); guidance_scale: classifier-free
    guidance (<= 1 disables it); seed: makes runs repeatable; device: auto | cpu | cuda | cuda:N;
    dtype: auto (fp16/bf16 on CUDA, float32 on CPU) or an explicit torch dtype name;
    preview_every: steps between intermediate previews (0: none).
    """

    steps: int = 20
    guidance_scale: float = 4.0
    seed: int = 0
    device: str = "auto"
    dtype: str = "auto"
    preview_every: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.steps, int) or self.steps < 1:
            raise ValueError(f"steps must be a positive integer, got {self.steps!r}")
        if not self.guidance_scale >= 0:
            raise ValueError(f"guidance_scale must be >= 0, got {self.guidance_scale!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        dev = str(self.device)
        if not (dev in DEVICES or (dev.startswith("cuda:") and dev[5:].isdigit())):
            raise ValueError(f"device must be one of {', '.join(DEVICES)} or cuda:N, got {self.device!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        if self.preview_every < 0:
            raise ValueError(f"preview_every must be >= 0, got {self.preview_every!r}")


class CancelToken:
    """A thread-safe cancel flag shared between the UI and a running generator."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise GenerationCancelled when the flag is set (called by backends before every step)."""
        if self._event.is_set():
            raise GenerationCancelled("generation cancelled")


class WorldModel(ABC):
    """A backend that turns clip conditions into six-camera frames.

    Subclasses set `name` and implement `generate`, a generator that checks `cancel` before every
    step and yields StepProgress / FrameReady events, and GenerationDone(clip) last.
    """

    name: ClassVar[str] = "base"
    uses_steps: ClassVar[bool] = True  # whether steps / guidance_scale matter

    @abstractmethod
    def generate(self, conditions: ClipConditions, settings: GenerationSettings,
                 cancel: CancelToken | None = None) -> Iterator[GenerationEvent]:
        """Yield progress events; the last one is GenerationDone with frames (T, V, H, W, 3) uint8."""

    def describe(self) -> str:
        """One line for logs and the UI."""
        return self.name


def generate_clip(model: WorldModel, conditions: ClipConditions, settings: GenerationSettings | None = None,
                  cancel: CancelToken | None = None,
                  on_event: Callable[[GenerationEvent], None] | None = None) -> GeneratedClip:
    """Run `model.generate` to the end (calling `on_event` for every event) and return the clip."""
    settings = settings or GenerationSettings()
    gen = model.generate(conditions, settings, cancel)
    try:
        for event in gen:
            if on_event is not None:
                on_event(event)
            if isinstance(event, GenerationDone):
                return event.clip
    finally:
        gen.close()
    raise WorldModelError(f"backend {model.name!r} finished without producing a clip")
