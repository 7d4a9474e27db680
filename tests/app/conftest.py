"""App tests run under a real X server (the README's test command starts Xvfb).

Without DISPLAY, plain Qt widgets fall back to the offscreen platform and tests that need
OpenGL (vispy, QOpenGLWidget) are skipped: under offscreen they can crash the whole run.
"""
from __future__ import annotations

import os

import pytest

HAS_DISPLAY = bool(os.environ.get("DISPLAY"))
if not HAS_DISPLAY:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
else:
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

needs_display = pytest.mark.skipif(not HAS_DISPLAY, reason="needs an X server (run under xvfb-run)")


@pytest.fixture()
def main_window(qtbot, tmp_path, monkeypatch):
    """A MainWindow on a copy of the demo; never asks about unsaved changes on close."""
    from PySide6.QtWidgets import QMessageBox

    from app.main_window import MainWindow
    from editor.document import Document
    from engine.paths import DEMO_SCENARIO

    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.Discard))
    copy = tmp_path / "demo.json"
    copy.write_bytes(DEMO_SCENARIO.read_bytes())
    win = MainWindow(Document.open(copy))
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    return win
