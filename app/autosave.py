"""Autosave and crash recovery in the app: a timer for `editor.recovery.Autosaver`, and the restore offer."""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from editor.document import Document
from editor.recovery import Autosaver, RecoveryRecord, RecoveryStore

AUTOSAVE_INTERVAL_MS = 15000
#: after a burst of edits the recovery file is written at once while writes are quick; when the last
#: write took longer than SLOW_WRITE_S, bursts are coalesced and written at most DEBOUNCE_MS later
DEBOUNCE_MS = 2000
SLOW_WRITE_S = 0.05


def default_recovery_dir() -> Path:
    """<AppDataLocation>/recovery (e.g. ~/.local/share/CornerCaseStudio/Corner-Case Studio/recovery)."""
    base = QStandardPaths.writableLocation(QStandardPaths.AppDataLocation) or str(Path.home() / ".cornercase-studio")
    return Path(base) / "recovery"


class AutosaveController(QObject):
    """Writes the recovery file after every finished burst of edits (a command, undo, redo, the end
    of a drag: at once, or within `debounce_ms` when writes are slow) and every `interval_ms` (the
    middle of a long drag); `error(str)` on failure. A crash loses at most `debounce_ms` of work."""

    error = Signal(str)

    def __init__(self, document: Document, directory: str | os.PathLike | None = None,
                 interval_ms: int = AUTOSAVE_INTERVAL_MS, parent=None, debounce_ms: int = DEBOUNCE_MS) -> None:
        super().__init__(parent)
        self.store = RecoveryStore(directory or default_recovery_dir())
        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(debounce_ms)
        self.debounce.timeout.connect(self.tick)
        # writes happen on one background thread: the UI never waits for serialisation or the disk
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autosave")
        self.autosaver = Autosaver(self.store, document, on_edit=self.edit_finished, executor=self._writer)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.tick)
        self.timer.start()

    def set_document(self, document: Document) -> None:
        self.autosaver.attach(document)

    def edit_finished(self) -> None:
        """A burst of edits settled: write now while writes are quick, else within `debounce_ms`
        (the timer is not restarted by later bursts, so the delay never exceeds it)."""
        if self.autosaver.last_write_s <= SLOW_WRITE_S and not self.debounce.isActive():
            self.tick()
        elif not self.debounce.isActive():
            self.debounce.start()

    def tick(self) -> None:
        self.debounce.stop()
        self.autosaver.tick()
        if self.autosaver.last_error:
            self.error.emit(self.autosaver.last_error)

    def close(self) -> None:
        """Normal exit: stop and delete this session's recovery file."""
        self.timer.stop()
        self.debounce.stop()
        self.autosaver.close()
        self._writer.shutdown(wait=True)

    def orphans(self) -> list[RecoveryRecord]:
        return self.store.orphans()


def ask_restore(parent: QWidget, record: RecoveryRecord, more: int) -> int:
    """Ask whether to restore a crashed session: QMessageBox.Yes (restore), No (discard), Cancel (later)."""
    box = QMessageBox(QMessageBox.Question, "Restore unsaved work?",
                      "The editor did not close normally last time.", parent=parent)
    box.setInformativeText(f"Unsaved work was recovered:\n{record.describe()}"
                           + (f"\n(and {more} older recovery file(s))" if more else "")
                           + "\n\nRestore it now? Discard deletes the recovery file.")
    box.setStandardButtons(QMessageBox.Yes | QMessageBox.Discard | QMessageBox.Cancel)
    box.button(QMessageBox.Yes).setText("Restore")
    box.button(QMessageBox.Cancel).setText("Keep for later")
    box.setDefaultButton(QMessageBox.Yes)
    return box.exec()
