"""Never lose work: a recovery file per running editor, written atomically, found again after a crash.

Each editor process writes ``session-<pid>.recovery.json`` in a recovery folder (the app passes
QStandardPaths' AppDataLocation) whenever its document has unsaved changes, and deletes it when
the changes are saved or discarded or the window closes normally. A recovery file whose process
is no longer running is an orphan: the work of a crashed session, offered for restore on the
next start. No Qt here: the app drives `Autosaver.tick` from a timer.
"""
from __future__ import annotations

import concurrent.futures

import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from editor.document import Document
from engine.fileio import atomic_write_text
from engine.scenario.errors import Problem, ScenarioFormatError
from engine.scenario.io import from_document, to_document
from engine.scenario.model import Scenario

RECOVERY_FORMAT = 1
SUFFIX = ".recovery.json"


def _process_start_time(pid: int) -> float | None:
    """When process `pid` started (seconds since the epoch), or None if unknown / not running."""
    try:
        import psutil  # optional: exact, and guards against a reused pid
    except ImportError:
        return None
    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.Error, OSError, ValueError):     # no such process, access denied, a bad pid
        return None


def pid_alive(pid: int, started: float | None = None) -> bool:
    """Whether process `pid` runs (and, when `started` is known, is the same process)."""
    if pid == os.getpid():
        return True
    try:
        import psutil

        if not psutil.pid_exists(pid):
            return False
        if started is None:
            return True
        now = _process_start_time(pid)
        return now is None or abs(now - started) < 2.0
    except ImportError:
        pass
    if sys.platform == "win32":  # no safe probe without psutil: treat it as gone
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class RecoveryRecord:
    """An orphaned recovery file: whose it was, when it was written, what file it was editing."""

    file: Path
    pid: int
    saved_at: float
    original_path: Path | None
    scenario_name: str

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.saved_at))
        src = str(self.original_path) if self.original_path else "an unsaved scenario"
        return f"{self.scenario_name} ({src}), autosaved {when}"


class RecoveryStore:
    """The recovery folder: this process's own file and the orphans of crashed sessions."""

    def __init__(self, directory: str | os.PathLike[str], pid: int | None = None) -> None:
        self.directory = Path(directory)
        self.pid = os.getpid() if pid is None else pid
        self._started = _process_start_time(self.pid)

    @property
    def own_file(self) -> Path:
        return self.directory / f"session-{self.pid}{SUFFIX}"

    def write(self, scenario: Scenario, original_path: str | os.PathLike[str] | None) -> Path:
        """Write this session's recovery file atomically (the scenario in the published format)."""
        doc: dict[str, Any] = {
            "recovery_format": RECOVERY_FORMAT,
            "pid": self.pid,
            "process_started": self._started,
            "host": socket.gethostname(),
            "saved_at": time.time(),
            "original_path": str(original_path) if original_path else None,
            "scenario": to_document(scenario),
        }
        return atomic_write_text(self.own_file, json.dumps(doc, allow_nan=False))

    def discard(self) -> None:
        """Delete this session's recovery file (after a save, a discard or a normal exit)."""
        self.own_file.unlink(missing_ok=True)

    def _read_header(self, file: Path) -> dict[str, Any] | None:
        try:
            doc = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return doc if isinstance(doc, dict) and "scenario" in doc else None

    def orphans(self) -> list[RecoveryRecord]:
        """Recovery files of sessions that no longer run, newest first (unreadable files are skipped)."""
        if not self.directory.is_dir():
            return []
        out = []
        for f in self.directory.glob(f"session-*{SUFFIX}"):
            doc = self._read_header(f)
            if doc is None:
                continue
            pid = int(doc.get("pid", -1))
            if pid == self.pid or (doc.get("host") == socket.gethostname() and pid_alive(pid, doc.get("process_started"))):
                continue
            orig = doc.get("original_path")
            name = doc["scenario"].get("name", "untitled") if isinstance(doc["scenario"], dict) else "untitled"
            out.append(RecoveryRecord(f, pid, float(doc.get("saved_at", f.stat().st_mtime)),
                                      Path(orig) if orig else None, str(name)))
        return sorted(out, key=lambda r: -r.saved_at)

    def load(self, record: RecoveryRecord) -> Document:
        """The recovered work as a document marked unsaved, bound to the file it was editing.

        Raises ScenarioFormatError (with every problem) when the recovery file cannot be read.
        """
        doc = self._read_header(record.file)
        if doc is None:
            raise ScenarioFormatError([Problem("", "the recovery file is unreadable")], str(record.file))
        scenario = from_document(doc["scenario"], source=str(record.file))
        return Document(scenario, record.original_path, dirty=True)

    def remove(self, record: RecoveryRecord) -> None:
        """Delete an orphan (after it was restored or declined)."""
        record.file.unlink(missing_ok=True)


class Autosaver:
    """Keeps the recovery file in step with a document.

    Writes after every burst of edits (`Document.events.edit_finished`: a command, undo, redo, the
    end of a drag) or, with `on_edit`, lets the app schedule that write (debounced); and on `tick()`
    (a timer in the app, for the state in the middle of a drag); deletes the file whenever the
    document is clean. Skips writing when the scenario is the one written last.
    """

    def __init__(self, store: RecoveryStore, document: Document,
                 on_edit: "Callable[[], None] | None" = None,
                 executor: "concurrent.futures.Executor | None" = None) -> None:
        self.store = store
        #: None: write on the calling thread; else a single-worker executor that does every write and
        #: discard in order, so the UI thread never waits for serialisation or the disk (the scenario is
        #: immutable, so handing it to another thread is safe)
        self.executor = executor
        self.document: Document | None = None
        self._last_written: Scenario | None = None
        self.writes = 0
        self.last_error: str | None = None
        self.last_write_s = 0.0          # how long the last write took (the app debounces slow ones)
        self.on_edit = on_edit           # None: write at once after a burst; else called instead (a scheduler)
        self.attach(document)

    def attach(self, document: Document) -> None:
        """Follow another document (after Open / New)."""
        if self.document is not None:
            self.document.events.edit_finished.disconnect(self._on_edit)
            self.document.events.dirty_changed.disconnect(self._on_dirty)
        self.document = document
        self._last_written = None
        document.events.edit_finished.connect(self._on_edit)
        document.events.dirty_changed.connect(self._on_dirty)
        self.tick()

    def _on_edit(self, _scenario: Scenario) -> None:
        if self.on_edit is not None:
            self.on_edit()
        else:
            self.tick()

    def _on_dirty(self, dirty: bool) -> None:
        if not dirty:
            self._submit(self.store.discard)
            self._last_written = None

    def _submit(self, fn: "Callable[[], object]") -> None:
        if self.executor is None:
            fn()
        else:
            self.executor.submit(fn)

    def _write(self, scenario: Scenario, path: "Path | None") -> None:
        t0 = time.perf_counter()
        try:
            self.store.write(scenario, path)
        except OSError as e:  # a full disk must not break editing; the app shows last_error
            self.last_error = f"autosave failed: {e}"
            return
        self.last_write_s = time.perf_counter() - t0
        self.last_error = None
        self.writes += 1

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every submitted write has finished (no-op without an executor)."""
        if self.executor is not None:
            self.executor.submit(lambda: None).result(timeout)

    def tick(self) -> bool:
        """Write the recovery file if there is unsaved work not written yet; True when it wrote."""
        doc = self.document
        if doc is None:
            return False
        if not doc.is_dirty:
            if self._last_written is not None or self.store.own_file.exists():
                self._submit(self.store.discard)
                self._last_written = None
            return False
        if doc.scenario is self._last_written:
            return False
        scenario, path = doc.scenario, doc.path
        self._last_written = scenario
        if self.executor is None:
            self._write(scenario, path)
            if self.last_error is not None:
                self._last_written = None
                return False
            return True
        self.executor.submit(self._write, scenario, path)
        return True

    def close(self) -> None:
        """Normal end of the session: nothing to recover."""
        if self.document is not None:
            self.document.events.edit_finished.disconnect(self._on_edit)
            self.document.events.dirty_changed.disconnect(self._on_dirty)
        self.flush()
        self.store.discard()
