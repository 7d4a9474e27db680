"""Autosave after every finished burst of edits, a finished mouse drag included: the recovery file
holds the dragged state at once (writes are quick), or within the ~2 s debounce when writes are slow;
the periodic timer is set to a minute here, so only the burst can have written it."""
from __future__ import annotations

import json
import time

from PySide6.QtCore import Qt

from app.autosave import DEBOUNCE_MS
from engine.scenario.io import from_document
from tests.app.mouse import mouse_drag


def _recovered(win):
    doc = json.loads(win.autosave.store.own_file.read_text())
    return from_document(doc["scenario"])


def _drag_truck(win, qtbot, dx: float):
    doc = win.document
    doc.set_time(1.0)
    x, y, _ = doc.scenario.agent("truck_1").trajectory.pose_at(1.0)
    a, b = win.canvas.world_to_widget(x, y), win.canvas.world_to_widget(x + dx, y + 0.5)
    mouse_drag(qtbot, win.canvas.viewport(), a, b, steps=6)


def test_a_finished_drag_is_autosaved_at_once(main_window, qtbot):
    win = main_window
    win.action_snap.setChecked(False)
    assert not win.autosave.store.own_file.exists()
    before = win.document.scenario.agent("truck_1").trajectory.points[0].x
    _drag_truck(win, qtbot, -5.0)
    moved = win.document.scenario.agent("truck_1").trajectory.points[0].x
    assert abs(moved - before) > 2.0                                  # the drag moved the truck
    win.autosave.autosaver.flush(5)                                   # written in the background
    assert win.autosave.store.own_file.exists()                       # written on release, no timer
    assert _recovered(win).agent("truck_1").trajectory.points[0].x == moved


def test_slow_writes_are_debounced_to_about_two_seconds(main_window, qtbot):
    win = main_window
    win.action_snap.setChecked(False)
    saver = win.autosave.autosaver
    _drag_truck(win, qtbot, -3.0)                                     # first write (quick)
    saver.flush(5)
    saver.last_write_s = 1.0                                          # pretend writes became slow
    writes = saver.writes
    t0 = time.monotonic()
    for dx in (-2.0, -2.0, -2.0):                                     # a burst of three drags
        _drag_truck(win, qtbot, dx)
    assert saver.writes == writes                                     # coalesced, not written per drag
    want = win.document.scenario.agent("truck_1").trajectory.points[0].x
    qtbot.waitUntil(lambda: saver.writes == writes + 1, timeout=DEBOUNCE_MS + 3000)
    assert time.monotonic() - t0 < DEBOUNCE_MS / 1000 + 3.0
    assert saver.writes == writes + 1                                 # one write for the burst
    assert _recovered(win).agent("truck_1").trajectory.points[0].x == want


def test_undo_is_a_burst_too(main_window, qtbot):
    win = main_window
    win.action_snap.setChecked(False)
    start = win.document.scenario.agent("truck_1").trajectory.points[0].x
    _drag_truck(win, qtbot, -4.0)
    _drag_truck(win, qtbot, -4.0)
    qtbot.keyClick(win, Qt.Key_Z, Qt.ControlModifier) if win.isActiveWindow() else win.document.undo()
    qtbot.waitUntil(lambda: _recovered(win).agent("truck_1").trajectory.points[0].x
                    == win.document.scenario.agent("truck_1").trajectory.points[0].x, timeout=3000)
    assert win.document.scenario.agent("truck_1").trajectory.points[0].x != start


_CRASH_AFTER_DRAG = r"""
import os, sys
sys.path.insert(0, sys.argv[1])
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
QSettings.setDefaultFormat(QSettings.IniFormat)
QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, sys.argv[4])
qa = QApplication([])
from app.main_window import MainWindow
from editor.document import Document
from dataclasses import replace
win = MainWindow(Document.open(sys.argv[2]), recovery_dir=sys.argv[3], enable_preview=False, enable_3d=False,
                 autosave_interval_ms=600000)
win.show(); qa.processEvents()
doc = win.document
truck = doc.scenario.agent("truck_1")
doc.begin_drag("Move truck_1")
for k in range(1, 6):                      # a short drag: five steps, about a second of work
    doc.drag_to(doc.scenario.with_agent(replace(truck, trajectory=truck.trajectory.translated(-k, 0.0))))
doc.end_drag()
qa.processEvents()
import time; time.sleep(2.0)              # the write runs in the background: the crash comes 2 s later
print("x_after_drag", doc.scenario.agent("truck_1").trajectory.points[0].x, flush=True)
os._exit(9)                               # the crash, right after the drag ended
"""


def test_a_crash_right_after_a_short_drag_keeps_the_drag(make_window, demo_copy, tmp_path, monkeypatch):
    import os
    import subprocess
    import sys
    from pathlib import Path

    import app.main_window as mw
    from PySide6.QtWidgets import QMessageBox

    repo = str(Path(__file__).resolve().parents[2])
    rec = tmp_path / "recovery"
    r = subprocess.run([sys.executable, "-c", _CRASH_AFTER_DRAG, repo, str(demo_copy), str(rec),
                        str(tmp_path / "crash_settings")], capture_output=True, text=True, timeout=180,
                       env={**os.environ, "MPLBACKEND": "Agg"})
    assert r.returncode == 9, r.stderr[-3000:]
    x_after = float(r.stdout.split("x_after_drag", 1)[1].split()[0])
    monkeypatch.setattr(mw, "ask_restore", lambda parent, record, more: QMessageBox.Yes)
    win = make_window(recovery_dir=rec)
    assert win.document.scenario.agent("truck_1").trajectory.points[0].x != x_after   # the file on disk: old
    assert win.offer_restore()
    assert win.document.scenario.agent("truck_1").trajectory.points[0].x == x_after
