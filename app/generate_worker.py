"""Runs a world model's generator on a background QThread; the UI only ever receives signals.

    job = GenerationJob(scenario, options)
    job.progress.connect(...)     # (fraction, frame, num_frames, step, num_steps)
    job.preview.connect(...)      # (frame, images (V, h, w, 3) uint8, is_final)
    job.succeeded.connect(...)    # (GeneratedClip)
    job.failed.connect(...)       # (title, message, details)
    job.cancelled.connect(...)    # ()
    job.finished.connect(...)     # () always, last
    job.start(); job.cancel()     # cancel takes effect before the backend's next step

The backend, the conditions (and so the guidance renderer's GL context) are created, used and
released on the worker thread. Signals are queued to the receivers' thread: nothing in the worker
touches a widget. Previews are rate-limited so a fast backend cannot flood the event loop.
"""
from __future__ import annotations

import logging
import threading
import time
import traceback
from typing import Callable

from PySide6.QtCore import QObject, QThread, Signal

from engine.config import GenerationConfig
from engine.scenario.model import Scenario
from engine.worldmodel import (
    CancelToken,
    DeviceError,
    FrameReady,
    GeneratedClip,
    GenerationCancelled,
    GenerationDone,
    GenerationOutOfMemory,
    ModelLoadError,
    ModelNotConfiguredError,
    StepProgress,
    WorldModel,
    WorldModelError,
    create_backend,
)

BackendFactory = Callable[[str, str | None], WorldModel]
ConditionsFactory = Callable[[Scenario, tuple[int, int]], object]
log = logging.getLogger(__name__)


PREVIEW_INTERVAL_S = 0.1

_ALIVE: set["GenerationJob"] = set()   # running jobs outlive the widgets that started them


def default_conditions(scenario: Scenario, size):
    """The scenario's conditions through the engine's one path (`engine.conditions.clip_conditions`):
    an edited real scene is generated over its recorded frames, with its log's rig. `size` is an
    (width, height) pair or a GenerationConfig (then its size and frames)."""
    from engine.conditions import clip_conditions

    return clip_conditions(scenario, size)


def error_title(error: BaseException) -> str:
    """A dialog title for an error a generation raised."""
    if isinstance(error, ModelNotConfiguredError):
        return "No model folder"
    if isinstance(error, ModelLoadError):
        return "Cannot load the model"
    if isinstance(error, GenerationOutOfMemory):
        return "Out of memory"
    if isinstance(error, DeviceError):
        return "Device not available"
    if isinstance(error, MemoryError):
        return "Out of memory"
    return "Generation failed"


class GenerationJob(QThread):
    """One generation run on its own thread (see the module docstring)."""

    progress = Signal(float, int, int, int, int)
    preview = Signal(int, object, bool)
    frame_ready = Signal(int, object)
    succeeded = Signal(object)
    failed = Signal(str, str, str)
    cancelled = Signal()

    def __init__(self, scenario: Scenario, options: GenerationConfig,
                 backend_factory: BackendFactory | None = None,
                 conditions_factory: ConditionsFactory | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("generation")
        self.scenario = scenario
        self.options = options
        self.token = CancelToken()
        self._backend_factory = backend_factory or (lambda name, model: create_backend(
            name, model or None, **(dict(options.backend_options) if name != "naive" else {})))
        self._conditions_factory = conditions_factory
        self.steps_done = 0
        self.steps_after_cancel = 0
        self.result: GeneratedClip | None = None
        self._cancel_time: float | None = None
        self._lock = threading.Lock()
        for job in [j for j in _ALIVE if j.isFinished()]:   # drop finished jobs (never from their own thread)
            _ALIVE.discard(job)
        _ALIVE.add(self)

    def cancel(self) -> None:
        """Ask the generation to stop; it stops before the backend's next step (thread-safe)."""
        with self._lock:
            if self._cancel_time is None:
                self._cancel_time = time.perf_counter()
        self.token.cancel()

    @property
    def is_cancelled(self) -> bool:
        return self.token.cancelled

    def run(self) -> None:  # worker thread
        conditions = None
        try:
            settings = self.options.settings(self.scenario.seed)
            size = self.options.image_size()
            backend = self._backend_factory(self.options.backend, self.options.model_dir)
            self.token.raise_if_cancelled()
            conditions = (default_conditions(self.scenario, self.options) if self._conditions_factory is None
                          else self._conditions_factory(self.scenario, size))
            last_preview = 0.0
            for event in backend.generate(conditions, settings, self.token):
                if isinstance(event, StepProgress):
                    self.steps_done += 1
                    if self.token.cancelled:
                        self.steps_after_cancel += 1
                    self.progress.emit(event.fraction, event.frame, event.num_frames, event.step, event.num_steps)
                    now = time.perf_counter()
                    if event.preview is not None and now - last_preview >= PREVIEW_INTERVAL_S:
                        last_preview = now
                        self.preview.emit(event.frame, event.preview, False)
                elif isinstance(event, FrameReady):
                    self.frame_ready.emit(event.frame, event.images)
                    self.preview.emit(event.frame, event.images, True)
                elif isinstance(event, GenerationDone):
                    self.result = event.clip
                self.token.raise_if_cancelled()
            if self.result is None:
                raise WorldModelError(f"the {self.options.backend} backend finished without a clip")
            self.succeeded.emit(self.result)
        except GenerationCancelled:
            self.cancelled.emit()
        except Exception as e:  # noqa: BLE001 - worker boundary: every error reaches the UI as a message, never as a crash
            self.failed.emit(error_title(e), str(e) or type(e).__name__, traceback.format_exc())
        finally:
            if conditions is not None and hasattr(conditions, "close"):
                try:
                    conditions.close()
                except Exception:  # noqa: BLE001 - cleanup after the result was reported; must not replace it
                    log.debug("closing the conditions failed", exc_info=True)


def cancel_all(wait_ms: int = 10000) -> None:
    """Cancel every running generation and wait for the threads to end (at application exit)."""
    jobs = list(_ALIVE)
    for job in jobs:
        job.cancel()
    for job in jobs:
        job.wait(wait_ms)
    for job in [j for j in _ALIVE if j.isFinished()]:
        _ALIVE.discard(job)
