"""App tests run under a real X server (the README's test command starts Xvfb).

Without DISPLAY, plain Qt widgets fall back to the offscreen platform and tests that need
OpenGL (vispy, QOpenGLWidget) are skipped: under offscreen they can crash the whole run.
Settings (QSettings) and recovery files go to temporary folders, never the user's.
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


@pytest.fixture(autouse=True)
def isolated_settings(qapp, tmp_path, monkeypatch):
    """QSettings in a temporary INI file, the app's names and dark theme as in `create_app`."""
    from PySide6.QtCore import QSettings

    from app import theme
    from app.main_window import APP_NAME, ORG_NAME

    qapp.setOrganizationName(ORG_NAME)
    qapp.setApplicationName(APP_NAME)
    QSettings.setDefaultFormat(QSettings.IniFormat)
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(tmp_path / "settings"))
    theme.apply_dark_theme(qapp)
    yield tmp_path / "settings"


@pytest.fixture()
def demo_copy(tmp_path):
    """A copy of the demo scenario file in a temporary folder."""
    from engine.paths import DEMO_SCENARIO

    copy = tmp_path / "demo.json"
    copy.write_bytes(DEMO_SCENARIO.read_bytes())
    return copy


@pytest.fixture()
def make_window(qtbot, tmp_path, demo_copy, monkeypatch):
    """Build a MainWindow on the demo copy; never asks about unsaved changes on close.

    Keyword arguments go to MainWindow (enable_preview and enable_3d default to False: the tests that
    need the render worker or the vispy view ask for them; recovery_dir defaults to a temporary folder).
    """
    from PySide6.QtWidgets import QMessageBox

    from app.main_window import MainWindow
    from editor.document import Document

    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.Discard))
    made = []

    def make(path=None, **kwargs):
        kwargs.setdefault("recovery_dir", tmp_path / "recovery")
        kwargs.setdefault("enable_preview", False)
        kwargs.setdefault("enable_3d", False)
        kwargs.setdefault("autosave_interval_ms", 60000)
        win = MainWindow(Document.open(path or demo_copy), **kwargs)
        qtbot.addWidget(win)
        win.resize(1400, 900)
        win.show()
        qtbot.waitExposed(win)
        win.activateWindow()  # keyboard shortcuts need the active window (no window manager under Xvfb)
        try:
            qtbot.waitUntil(win.isActiveWindow, timeout=2000)
        except Exception:
            pass
        # the first check report changes the status bar (and so the layout): let it arrive before a test
        # computes pixel positions
        try:
            qtbot.waitUntil(lambda: win.checks.report is not None, timeout=30000)
        except Exception:
            pass
        qtbot.wait(20)
        made.append(win)
        return win

    yield make
    for w in made:
        w.shutdown()


@pytest.fixture()
def main_window(make_window):
    """A MainWindow on a copy of the demo (no render worker)."""
    return make_window()
