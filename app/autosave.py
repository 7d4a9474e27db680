"""Autosave and crash recovery in the app: a timer for `editor.recovery.Autosaver`, and the restore offer."""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from editor.document import Document
from editor.recovery import Autosaver, RecoveryRecord, RecoveryStore

AUTOSAVE_INTERVAL_MS = 15000


def default_recovery_dir() -> Path:
    """<AppDataLocation>/recovery (e.g. ~/.local/share/CornerCaseStudio/Corner-Case Studio/recovery)."""
    base = QStandardPaths.writableLocation(QStandardPaths.AppDataLocation) or str(Path.home() / ".cornercase-studio")
    return Path(base) / "recovery"


class AutosaveController(QObject):
    """Writes the recovery file on every burst of edits and every `interval_ms`; `error(str)` on failure."""

    error = Signal(str)

    def __init__(self, document: Document, directory: str | os.PathLike | None = None,
                 interval_ms: int = AUTOSAVE_INTERVAL_MS, parent=None) -> None:
        super().__init__(parent)
        self.store = RecoveryStore(directory or default_recovery_dir())
        self.autosaver = Autosaver(self.store, document)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.tick)
        self.timer.start()

    def set_document(self, document: Document) -> None:
        self.autosaver.attach(document)

    def tick(self) -> None:
        self.autosaver.tick()
        if self.autosaver.last_error:
            self.error.emit(self.autosaver.last_error)

    def close(self) -> None:
        """Normal exit: stop and delete this session's recovery file."""
        self.timer.stop()
        self.autosaver.close()

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
