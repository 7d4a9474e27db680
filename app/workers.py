"""Background work that never blocks the UI: the editor's two worker kinds.

`FunctionWorker` runs one function once on its own thread (an export, a batch) with progress, and
reports its result or its failure as signals.

`LatestOnlyWorker` (one thread per job kind, newest request wins: previews, checks) owns one thread. Whatever `setup()` builds (a GL renderer, say) lives and dies
on that thread. `submit(request)` returns at once: a request still waiting when a newer one comes
is dropped (counted in `dropped`), so a burst of drag events costs one render, not hundreds.
Results come back as Qt signals, delivered on the UI thread (queued connection).
"""
from __future__ import annotations

import logging
import sys
import threading
import time
import traceback
from typing import Any, Callable

from PySide6.QtCore import QThread, Signal

log = logging.getLogger(__name__)


UI_SWITCH_INTERVAL = 0.001  # s: how soon a busy worker thread hands the GIL back to the UI thread


def preload(*modules: str) -> list[str]:
    """Import modules on the calling (UI) thread before a worker imports them.

    Two threads importing a package such as shapely for the first time at once can see it half
    initialised ("partially initialized module ... circular import"); importing up front avoids it.
    Returns the modules that could not be imported (their worker reports the error when it runs).
    """
    import importlib

    missing = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - warming only: a module that fails to import for any reason is reported missing; its error surfaces where it is used
            missing.append(name)
    return missing


class LatestOnlyWorker(QThread):
    """Runs `work(state, request)` on its own thread for the newest submitted request.

    result_ready(request_id, result, seconds) and failed(request_id, message) are emitted from the
    worker thread and arrive on the receivers' (UI) thread. `setup_failed(message)` is emitted once
    when `setup` raises; later requests then fail with the same message.
    """

    result_ready = Signal(int, object, float)
    failed = Signal(int, str)
    setup_failed = Signal(str)

    def __init__(self, work: Callable[[Any, Any], Any], setup: Callable[[], Any] | None = None,
                 teardown: Callable[[Any], None] | None = None, name: str = "worker", parent=None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        if sys.getswitchinterval() > UI_SWITCH_INTERVAL:  # Python's default 5 ms makes the UI stutter
            sys.setswitchinterval(UI_SWITCH_INTERVAL)
        self._work = work
        self._setup = setup
        self._teardown = teardown
        self._cond = threading.Condition()
        self._pending: tuple[int, Any] | None = None
        self._stopping = False
        self._next_id = 0
        self._busy = False
        self.dropped = 0
        self.completed = 0
        self.setup_error: str | None = None

    # ---- UI thread ----------------------------------------------------------------------
    def submit(self, request: Any) -> int:
        """Queue `request`, replacing any request not started yet; returns its id (increasing)."""
        with self._cond:
            self._next_id += 1
            if self._pending is not None:
                self.dropped += 1
            self._pending = (self._next_id, request)
            self._cond.notify()
            rid = self._next_id
        if not self.isRunning() and not self._stopping:
            self.start()
        return rid

    @property
    def latest_id(self) -> int:
        return self._next_id

    @property
    def idle(self) -> bool:
        with self._cond:
            return self._pending is None and not self._busy

    def stop(self, timeout_ms: int = 10000) -> None:
        """Finish the running request, drop the pending one, release the state, end the thread."""
        with self._cond:
            self._stopping = True
            self._pending = None
            self._cond.notify()
        if self.isRunning():
            self.wait(timeout_ms)

    # ---- worker thread ------------------------------------------------------------------
    def run(self) -> None:  # noqa: D401 (Qt name)
        state = None
        try:
            if self._setup is not None:
                state = self._setup()
        except Exception as e:  # noqa: BLE001 - worker boundary: any setup failure (e.g. no GL context) is reported, never raised into Qt
            self.setup_error = f"{type(e).__name__}: {e}"
            self.setup_failed.emit(self.setup_error)
        try:
            while True:
                with self._cond:
                    while self._pending is None and not self._stopping:
                        self._cond.wait()
                    if self._stopping:
                        return
                    rid, request = self._pending
                    self._pending = None
                    self._busy = True
                try:
                    if self.setup_error is not None:
                        raise RuntimeError(self.setup_error)
                    t0 = time.perf_counter()
                    result = self._work(state, request)
                    self.completed += 1
                    self.result_ready.emit(rid, result, time.perf_counter() - t0)
                except Exception as e:  # noqa: BLE001 - worker boundary: every failure of a job reaches the UI as `failed`
                    detail = traceback.format_exc(limit=3)
                    self.failed.emit(rid, f"{type(e).__name__}: {e}\n{detail}")
                finally:
                    with self._cond:
                        self._busy = False
        finally:
            if self._teardown is not None and state is not None:
                try:
                    self._teardown(state)
                except Exception:  # noqa: BLE001 - teardown at thread exit (GL release): nothing left to report it to
                    log.debug("worker teardown failed", exc_info=True)


class FunctionWorker(QThread):
    """Runs `fn(report)` on its own thread; `report(done, total, message)` emits `progress`.

    succeeded(result) or failed(message, details) is emitted once at the end (queued to the UI thread).
    The message is "Type: text" with the traceback as details, or only the exception's text for the
    `expected` exception types (errors written for the user, such as a missing dataset folder); a
    cancelled generation fails with "cancelled".
    """

    progress = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(str, str)

    def __init__(self, fn: Callable[[Callable[[int, int, str], None]], Any],
                 parent=None, expected: tuple[type[BaseException], ...] = ()) -> None:
        super().__init__(parent)
        self._fn = fn
        self._expected = expected

    def run(self) -> None:  # noqa: D401 (Qt name)
        try:
            result = self._fn(lambda done, total, message="": self.progress.emit(int(done), int(total), str(message)))
        except BaseException as e:  # noqa: BLE001 - worker boundary: reported to the user, never raised into Qt
            from engine.worldmodel.errors import GenerationCancelled

            if isinstance(e, GenerationCancelled):
                self.failed.emit("cancelled", "")
            elif isinstance(e, self._expected):
                self.failed.emit(str(e), traceback.format_exc())
            else:
                self.failed.emit(f"{type(e).__name__}: {e}", traceback.format_exc())
            return
        self.succeeded.emit(result)
