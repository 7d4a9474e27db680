"""A minimal evented-model helper (napari-style): views subscribe to named events of a model."""
from __future__ import annotations

from typing import Any, Callable

Callback = Callable[..., Any]


class EventEmitter:
    """One event: `connect(cb)`, `disconnect(cb)`, `emit(*args)` calls every callback in order.

    A callback that raises does not stop the others; the first error is re-raised after all ran.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._callbacks: list[Callback] = []

    def connect(self, callback: Callback) -> Callback:
        if callback not in self._callbacks:
            self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callback) -> None:
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        first_error: BaseException | None = None
        for cb in list(self._callbacks):
            try:
                cb(*args)
            except Exception as e:  # observer boundary: keep notifying the others, re-raised below
                first_error = first_error or e
        if first_error is not None:
            raise first_error

