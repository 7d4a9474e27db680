"""Pieces shared by the export and batch dialogs: the size choices, a function-on-a-thread worker, a folder row.

Kept apart from `app.export_dialog` so that `app.batch_dialog` does not import the dialog that opens it
(no import cycle).
"""
from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QThread, Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLineEdit, QPushButton, QWidget

SIZES = ("448x256", "224x128", "896x512", "1600x900")


class FunctionWorker(QThread):
    """Runs `fn(report)` on its own thread; `report(done, total, message)` emits `progress`.

    succeeded(result) or failed(message, details) is emitted once at the end (queued to the UI thread).
    """

    progress = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(str, str)

    def __init__(self, fn: Callable[[Callable[[int, int, str], None]], Any], parent=None) -> None:
        super().__init__(parent)
        self._fn = fn

    def run(self) -> None:  # noqa: D401 (Qt name)
        try:
            result = self._fn(lambda done, total, message="": self.progress.emit(int(done), int(total), str(message)))
        except BaseException as e:  # noqa: BLE001 - reported to the user, never raised into Qt
            from engine.worldmodel.errors import GenerationCancelled

            if isinstance(e, GenerationCancelled):
                self.failed.emit("cancelled", "")
            else:
                self.failed.emit(f"{type(e).__name__}: {e}", traceback.format_exc())
            return
        self.succeeded.emit(result)


def _folder_row(edit: QLineEdit, parent: QWidget, caption: str) -> QWidget:
    row = QWidget(parent)
    lay = QHBoxLayout(row)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(edit, 1)
    browse = QPushButton("Browse…", row)

    def pick() -> None:
        d = QFileDialog.getExistingDirectory(parent, caption, edit.text() or str(Path.home()))
        if d:
            edit.setText(d)

    browse.clicked.connect(pick)
    lay.addWidget(browse)
    return row
