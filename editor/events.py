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
        self._blocked = 0

    def connect(self, callback: Callback) -> Callback:
        if callback not in self._callbacks:
            self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callback) -> None:
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        if self._blocked:
            return
        first_error: BaseException | None = None
        for cb in list(self._callbacks):
            try:
                cb(*args)
            except Exception as e:  # keep notifying the others
                first_error = first_error or e
        if first_error is not None:
            raise first_error

    def blocked(self):
        """Context manager that suppresses emission."""
        emitter = self

        class _Block:
            def __enter__(self):
                emitter._blocked += 1

            def __exit__(self, *exc):
                emitter._blocked -= 1

        return _Block()
