"""The one bounded executor for every untrusted script (a file, the prompt panel, the offline
interpreter's output, an LLM answer, a batch job, a repair variant).

A script is checked in this process (refusals cost no process), then run by a separate worker
process that is held to three hard limits besides the evaluator's own step/size/time bounds:

- wall clock: the worker is killed at `limits.max_seconds + limits.kill_grace_seconds` (the
  evaluator stops a script itself at `max_seconds`; the kill is the backstop for a single C-level
  operation that never returns, e.g. comparing two huge nested lists);
- address space: RLIMIT_AS of the worker is set to its current size + `limits.max_memory_mb`
  before every run (a MemoryError or a death is reported as "ran out of memory");
- output size: the scenario comes back as JSON text of at most `limits.max_output_bytes` bytes
  (parsed and validated here; nothing is unpickled from a worker).

Workers are started from a fork server (safe in a process with Qt or other threads), kept warm in a
small pool and reused, so a run in the editor costs milliseconds; a worker that was killed, ran out
of memory or served `MAX_RUNS_PER_WORKER` runs is replaced. A run can be cancelled from another
thread with a `threading.Event` (`cancel=` or `cancel_scope`), which kills its worker at once.
"""
from __future__ import annotations

import atexit
import contextlib
import contextvars
import json
import logging
import multiprocessing as mp
import os
import threading
import time
from dataclasses import asdict
from enum import StrEnum
from multiprocessing.context import BaseContext
from typing import Any, Iterator

from engine.sandbox.errors import Problem, ScriptFailed, ScriptRefused
from engine.sandbox.policy import SandboxLimits
from engine.sandbox.runner import RunOptions, check_or_refuse, run_script
from engine.scenario.model import Scenario

log = logging.getLogger(__name__)


class RunStatus(StrEnum):
    """How a worker's run ended: the first item of its JSON reply `[status, payload]`."""

    OK = "ok"                  # payload: the scenario document
    REFUSED = "refused"        # payload: [[line, col, reason], ...] from the checker
    FAILED = "failed"          # payload: [[line, col, reason], ...] from the run
    OOM = "oom"                # payload: [[0, 0, reason]]; the worker is not reused


#: how many idle warm workers are kept
POOL_SIZE = 2
#: at most this many workers run at once (more callers wait for a free one)
MAX_WORKERS = 4
#: a worker is replaced after this many runs (bounds slow leaks)
MAX_RUNS_PER_WORKER = 200
#: how often a waiting caller looks at its cancel event (seconds)
POLL_S = 0.05


class ScriptCancelled(ScriptFailed):
    """The run was cancelled by the user (its worker was killed)."""


_CANCEL: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar("sandbox_cancel", default=None)


@contextlib.contextmanager
def cancel_scope(event: threading.Event) -> Iterator[threading.Event]:
    """Every bounded run started in this context (this thread) is cancelled when `event` is set."""
    token = _CANCEL.set(event)
    try:
        yield event
    finally:
        _CANCEL.reset(token)


def current_cancel() -> threading.Event | None:
    """The cancel event of the enclosing `cancel_scope`, if any."""
    return _CANCEL.get()


# ------------------------------------------------------------------------------------ worker side
def _vm_bytes() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _set_memory_limit(mb: int) -> None:
    try:
        import resource

        soft = _vm_bytes() + int(mb) * 2 ** 20
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    except (ImportError, ValueError, OSError):
        pass


def _clear_memory_limit() -> None:
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
    except (ImportError, ValueError, OSError):
        pass


def _encode(status: RunStatus, payload: Any, max_bytes: int) -> bytes:
    data = json.dumps([status.value, payload], allow_nan=True).encode("utf-8")
    if len(data) > max_bytes:
        reason = f"the script's result is {len(data) / 1e6:.1f} MB; at most {max_bytes / 1e6:g} MB are allowed"
        data = json.dumps([RunStatus.FAILED.value, [[0, 0, reason]]]).encode()
    return data


def _run_one(source: str, options: RunOptions, limits: SandboxLimits) -> bytes:
    from engine.scenario.io import to_document

    _set_memory_limit(limits.max_memory_mb)
    try:
        doc = to_document(run_script(source, options, limits))
        return _encode(RunStatus.OK, doc, limits.max_output_bytes)
    except (ScriptRefused, ScriptFailed) as e:
        status = RunStatus.REFUSED if isinstance(e, ScriptRefused) else RunStatus.FAILED
        return _encode(status, [[p.line, p.col, p.reason] for p in e.problems], limits.max_output_bytes)
    except MemoryError:
        return _encode(RunStatus.OOM, [[0, 0, f"the script ran out of memory (limit {limits.max_memory_mb} MB)"]],
                       10_000)
    except BaseException as e:  # noqa: BLE001 - worker boundary: report anything, never hang the parent
        return _encode(RunStatus.FAILED, [[0, 0, f"internal error: {type(e).__name__}: {e}"]], 10_000)
    finally:
        _clear_memory_limit()


def _worker_main(conn: Any) -> None:
    """Serve runs until the pipe closes: receive (source, options dict, limits dict), send bytes."""
    import engine.library.registry  # noqa: F401 - warm imports before the first run
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if msg is None:
            return
        source, options, limits = msg
        try:
            data = _run_one(source, RunOptions(**options), SandboxLimits(**limits))
        except MemoryError:
            data = b'["oom", [[0, 0, "the script ran out of memory"]]]'
        try:
            conn.send_bytes(data)
        except (OSError, ValueError):
            return


# ------------------------------------------------------------------------------------ parent side
def _decode(data: bytes) -> tuple[RunStatus, Any]:
    """(status, payload) of a worker's reply; a reply that is not `[status, payload]` is a failure."""
    try:
        raw_status, payload = json.loads(data)
        status = RunStatus(raw_status)
    except (ValueError, TypeError, RecursionError):
        raise ScriptFailed([Problem(0, 0, "the script's process sent a reply that cannot be read")]) from None
    if status is not RunStatus.OK and not (isinstance(payload, list) and all(
            isinstance(p, list) and len(p) == 3 and isinstance(p[0], int) and isinstance(p[1], int) for p in payload)):
        raise ScriptFailed([Problem(0, 0, "the script's process sent a reply that cannot be read")])
    return status, payload


class _Worker:
    def __init__(self, ctx: BaseContext) -> None:
        parent, child = ctx.Pipe(duplex=True)
        # every concrete context (fork, forkserver, spawn) has Process; typeshed declares it on the subclasses only
        self.proc = ctx.Process(target=_worker_main, args=(child,), daemon=True,  # type: ignore[attr-defined]
                                name="sandbox-worker")
        self.proc.start()
        child.close()
        self.conn = parent
        self.runs = 0

    def alive(self) -> bool:
        return bool(self.proc.is_alive())

    def kill(self) -> None:
        try:
            if self.proc.is_alive():
                self.proc.kill()
            self.proc.join(2.0)
        except (OSError, ValueError, AssertionError):
            pass
        try:
            self.conn.close()
        except OSError:
            pass


def _start_method() -> str | None:
    methods = mp.get_all_start_methods()
    wanted = os.environ.get("CORNERCASE_SANDBOX_START", "forkserver")
    for m in (wanted, "forkserver", "spawn"):
        if m in methods:
            return m
    return None


class ScriptExecutor:
    """A small pool of warm worker processes that run checked scripts under hard limits."""

    def __init__(self, pool_size: int = POOL_SIZE, max_workers: int = MAX_WORKERS,
                 start_method: str | None = None) -> None:
        self.pool_size = pool_size
        self._method = start_method or _start_method()
        self._ctx: BaseContext | None = None
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_workers)
        self._closed = False
        self.started = 0          # workers started (for tests and diagnostics)

    # ---- pool ----------------------------------------------------------------------------
    def _context(self) -> BaseContext:
        if self._ctx is None:
            ctx = mp.get_context(self._method)
            if self._method == "forkserver":
                ctx.set_forkserver_preload(["engine.sandbox.executor"])
            self._ctx = ctx
        return self._ctx

    def _new_worker(self) -> _Worker:
        w = _Worker(self._context())
        with self._lock:
            self.started += 1
        return w

    def _acquire(self) -> _Worker:
        with self._lock:
            while self._idle:
                w = self._idle.pop()
                if w.alive():
                    return w
                w.kill()
        return self._new_worker()

    def _release(self, w: _Worker, healthy: bool) -> None:
        if healthy and w.alive() and w.runs < MAX_RUNS_PER_WORKER and not self._closed:
            with self._lock:
                if len(self._idle) < self.pool_size:
                    self._idle.append(w)
                    return
        w.kill()
        if not healthy:
            self.prewarm(background=True)

    def prewarm(self, background: bool = False) -> None:
        """Start idle workers up to the pool size (now, or on a background thread)."""
        if background:
            threading.Thread(target=self._fill, daemon=True, name="sandbox-prewarm").start()
        else:
            self._fill()

    def _fill(self) -> None:
        try:
            with self._lock:
                need = 1 if not self._idle else 0
            for _ in range(need):
                w = self._new_worker()
                with self._lock:
                    if self._closed or len(self._idle) >= self.pool_size:
                        w.kill()
                    else:
                        self._idle.append(w)
        except Exception:  # noqa: BLE001 - background thread boundary: prewarming is best effort
            log.debug("prewarming a sandbox worker failed", exc_info=True)

    def close(self) -> None:
        """Stop every idle worker."""
        self._closed = True
        with self._lock:
            idle, self._idle = self._idle, []
        for w in idle:
            try:
                w.conn.send(None)
            except (OSError, ValueError):
                pass
            w.kill()

    # ---- runs ----------------------------------------------------------------------------
    def run(self, source: str, options: RunOptions = RunOptions(), limits: SandboxLimits = SandboxLimits(),
            cancel: threading.Event | None = None) -> Scenario:
        """Check `source` here, run it in a worker, return the Scenario.

        Raises ScriptRefused (nothing ran), ScriptFailed (with the line where it stopped, or the
        limit it hit) or ScriptCancelled. Never takes longer than about
        `limits.max_seconds + limits.kill_grace_seconds` once a worker is running it.
        """
        check_or_refuse(source, limits)
        cancel = cancel if cancel is not None else current_cancel()
        if cancel is not None and cancel.is_set():
            raise ScriptCancelled([Problem(0, 0, "the run was cancelled")])
        if self._method is None:
            return run_script(source, options, limits)
        with self._slots:
            try:
                w = self._acquire()
            except (AssertionError, OSError, RuntimeError):
                # no child process possible here (a daemonic process, no process slots left): the
                # evaluator's in-process step, size and time bounds still hold
                return run_script(source, options, limits)
            return self._run_on(w, source, options, limits, cancel)

    def _run_on(self, w: _Worker, source: str, options: RunOptions, limits: SandboxLimits,
                cancel: threading.Event | None) -> Scenario:
        from engine.scenario.io import from_document

        wall = limits.max_seconds + limits.kill_grace_seconds
        try:
            w.conn.send((source, asdict(options), asdict(limits)))
        except (OSError, ValueError):
            w.kill()
            w = self._new_worker()
            w.conn.send((source, asdict(options), asdict(limits)))
        w.runs += 1
        deadline = time.monotonic() + wall
        healthy = False
        try:
            while True:
                left = deadline - time.monotonic()
                if cancel is not None and cancel.is_set():
                    raise ScriptCancelled([Problem(0, 0, "the run was cancelled; its process was stopped")])
                if left <= 0:
                    raise ScriptFailed([Problem(0, 0, f"the script ran longer than {limits.max_seconds:g} s "
                                                      f"and was stopped")])
                if w.conn.poll(min(POLL_S if cancel is not None else left, left)):
                    break
            try:
                data = w.conn.recv_bytes(limits.max_output_bytes + 1024)
            except (EOFError, OSError) as e:
                if isinstance(e, OSError) and "bad message length" in str(e):
                    raise ScriptFailed([Problem(0, 0, f"the script's result is larger than "
                                                      f"{limits.max_output_bytes / 1e6:g} MB")]) from None
                raise ScriptFailed([Problem(0, 0, f"the script's process died (memory limit "
                                                  f"{limits.max_memory_mb} MB?)")]) from None
            status, payload = _decode(data)
            healthy = status is not RunStatus.OOM
        finally:
            self._release(w, healthy)
        if status is RunStatus.OK:
            from engine.scenario.errors import ScenarioFormatError

            try:
                return from_document(payload)
            except ScenarioFormatError as e:
                raise ScriptFailed([Problem(0, 0, f"the script made a scenario that is not valid: {p}")
                                    for p in e.problems[:10]]) from None
        problems = [Problem(int(p[0]), int(p[1]), str(p[2])) for p in payload]
        raise (ScriptRefused if status is RunStatus.REFUSED else ScriptFailed)(problems)


_DEFAULT: ScriptExecutor | None = None
_DEFAULT_LOCK = threading.Lock()


def default_executor() -> ScriptExecutor:
    """The process-wide executor (created on first use)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = ScriptExecutor()
            atexit.register(_DEFAULT.close)
        return _DEFAULT


def run_bounded(source: str, options: RunOptions = RunOptions(), limits: SandboxLimits = SandboxLimits(),
                cancel: threading.Event | None = None) -> Scenario:
    """Run an untrusted script on the default executor (see `ScriptExecutor.run`)."""
    return default_executor().run(source, options, limits, cancel)


__all__ = ["ScriptCancelled", "ScriptExecutor", "cancel_scope", "current_cancel", "default_executor", "run_bounded"]
