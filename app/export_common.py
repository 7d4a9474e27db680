"""Pieces shared by the export and batch dialogs: the size choices and a folder row (their jobs run on
`app.workers.FunctionWorker`).

Kept apart from `app.export_dialog` so that `app.batch_dialog` does not import the dialog that opens it
(no import cycle).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLineEdit, QPushButton, QWidget

SIZES = ("448x256", "224x128", "896x512", "1600x900")


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
