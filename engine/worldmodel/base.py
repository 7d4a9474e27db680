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
from collections.abc import Generator
from typing import Callable, ClassVar, Iterator

from engine.conditions.clip import ClipConditions
from engine.config.runtime import DEVICES as DEVICES  # re-exported: the settings live in engine.config
from engine.config.runtime import DTYPES as DTYPES
from engine.config.runtime import GenerationSettings as GenerationSettings
from engine.worldmodel.errors import GenerationCancelled, WorldModelError
from engine.worldmodel.events import GeneratedClip, GenerationDone, GenerationEvent

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
        if isinstance(gen, Generator):  # a generator function's result: stop it (runs its cleanup)
            gen.close()
    raise WorldModelError(f"backend {model.name!r} finished without producing a clip")
