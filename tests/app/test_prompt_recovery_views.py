"""Prompt panel, crash recovery, checks on the timeline, settings, and the 3D view."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.app.conftest import needs_display

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_applying_a_prompt_adds_its_agents_in_one_undo_step(main_window, qtbot):
    win, doc = main_window, main_window.document
    panel = win.prompt_panel
    before = doc.scenario
    panel.prompt.setPlainText("a truck cuts in from the left while a pedestrian crosses")
    panel.interpreter.setCurrentIndex(panel.interpreter.findData("offline"))
    qtbot.mouseClick(panel.generate, Qt.LeftButton)
    assert panel.busy and not panel.generate.isEnabled()  # off the UI thread: the click returned at once
    qtbot.waitUntil(lambda: "cut_in(" in panel.script.toPlainText() and not panel.busy, timeout=30000)
    assert "pedestrian_crossing(" in panel.script.toPlainText()
    panel.set_mode("add")
    qtbot.mouseClick(panel.apply, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(doc.undo_stack) == 1, timeout=30000)
    after = doc.scenario
    new_ids = [i for i in after.agent_ids() if i not in before.agent_ids()]
    assert sorted(after.agent(i).cls for i in new_ids) == ["pedestrian", "truck"]
    assert sorted(new_ids) == ["pedestrian_2", "truck_2"]  # renamed: the demo has truck_1 and pedestrian_1
    assert all(after.agent(i) == before.agent(i) for i in before.agent_ids())
    assert after.ego == before.ego and after.map == before.map
    assert after.script == panel.script.toPlainText() and after.prompt.startswith("a truck cuts in")
    assert win.action_undo.text().startswith("Undo Apply prompt (2 agents)")
    assert "Applied: 2 agents" in panel.status.text()
    win.action_undo.trigger()
    assert doc.scenario == before
    win.action_redo.trigger()
    assert doc.scenario.agent_ids() == after.agent_ids()


def test_script_errors_are_shown_inline_with_their_line(main_window, qtbot):
    win, doc = main_window, main_window.document
    panel = win.prompt_panel
    panel.script.setPlainText('truck = cut_in(ego, side="left", cls="truck")\nimport os\n')
    qtbot.mouseClick(panel.apply, Qt.LeftButton)
    qtbot.waitUntil(lambda: not panel.busy, timeout=30000)
    assert len(doc.undo_stack) == 0
    assert panel.status.isVisibleTo(panel) and "line 2" in panel.status.text()
    sels = panel.script.extraSelections()
    assert len(sels) == 1 and sels[0].cursor.blockNumber() == 1


def test_script_editor_highlights_library_calls(main_window):
    panel = main_window.prompt_panel
    assert "cut_in" in panel.highlighter.library_names
    panel.script.setPlainText('x = cut_in(ego, side="left")  # comment')
    ranges = panel.script.document().firstBlock().layout().formats()

    def color_at(i: int) -> str:
        hits = [r.format.foreground().color().name() for r in ranges if r.start <= i < r.start + r.length]
        return hits[-1] if hits else ""

    fmt = {k: v.foreground().color().name() for k, v in panel.highlighter.formats.items()}
    assert color_at(5) == fmt["library"]       # cut_in
    assert color_at(23) == fmt["string"]       # "left"
    assert color_at(33) == fmt["comment"]      # comment
    assert color_at(0) == ""                   # a plain name


_CRASH = r"""
import os, sys
sys.path.insert(0, sys.argv[1])
os.environ["QT_QPA_PLATFORM"] = "offscreen"
import app
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
QSettings.setDefaultFormat(QSettings.IniFormat)
QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, sys.argv[4])
qa = QApplication([])
qa.setOrganizationName("CornerCaseStudio"); qa.setApplicationName("Corner-Case Studio")
from app.main_window import MainWindow
from editor.document import Document
win = MainWindow(Document.open(sys.argv[2]), recovery_dir=sys.argv[3], enable_preview=False, enable_3d=False)
win.show()
qa.processEvents()
win.controller.drop("truck", "builtin:truck", 5.0, -5.0)
win.environment.tod_buttons["night"].click()
qa.processEvents()
win.autosave.autosaver.flush(5)  # wait for the background writer (the edits submitted the write)
print("recovery file written:", win.autosave.store.own_file.exists(), flush=True)
os._exit(9)  # the crash: no close, no cleanup
"""


def test_a_crash_during_editing_is_followed_by_a_successful_restore(make_window, demo_copy, tmp_path, qtbot,
                                                                     monkeypatch):
    import app.main_window as mw
    from PySide6.QtWidgets import QMessageBox

    rec = tmp_path / "recovery"
    r = subprocess.run([sys.executable, "-c", _CRASH, REPO, str(demo_copy), str(rec), str(tmp_path / "crash_settings")],
                       capture_output=True, text=True, timeout=180, env={**os.environ, "MPLBACKEND": "Agg"})
    assert r.returncode == 9, r.stderr[-3000:]
    assert "recovery file written: True" in r.stdout
    asked = []
    monkeypatch.setattr(mw, "ask_restore", lambda parent, record, more: asked.append(record) or QMessageBox.Yes)
    win = make_window(recovery_dir=rec)  # the next start, on the file as it is on disk
    assert "truck_2" not in win.document.scenario.agent_ids()
    assert win.offer_restore()
    doc = win.document
    assert len(asked) == 1 and asked[0].original_path == demo_copy
    assert "truck_2" in doc.scenario.agent_ids() and doc.scenario.environment.time_of_day == "night"
    assert doc.is_dirty and doc.path == demo_copy and win.isWindowModified()
    assert win.autosave.orphans() == []  # the orphan is gone; this session's own file holds the work
    win.autosave.autosaver.flush(5)      # recovery files are written on a background thread
    assert win.autosave.store.own_file.exists()
    assert win.save()
    win.autosave.autosaver.flush(5)
    assert not win.autosave.store.own_file.exists()
    from engine.scenario.io import load_scenario

    assert "truck_2" in load_scenario(demo_copy).agent_ids()


def test_declining_a_restore_deletes_the_recovery_file(make_window, tmp_path, monkeypatch):
    import app.main_window as mw
    from PySide6.QtWidgets import QMessageBox

    from editor.recovery import RecoveryStore
    from engine.demo import build_demo_scenario

    rec = tmp_path / "recovery"
    RecoveryStore(rec, pid=2 ** 22 + 12345).write(build_demo_scenario(), None)  # a pid that does not run
    monkeypatch.setattr(mw, "ask_restore", lambda *a: QMessageBox.Discard)
    win = make_window(recovery_dir=rec)
    assert not win.offer_restore()
    assert win.autosave.orphans() == [] and not win.document.is_dirty


def test_checks_mark_the_timeline_and_highlight_agents(main_window, qtbot):
    from editor import commands as C

    win, doc = main_window, main_window.document
    qtbot.waitUntil(lambda: win.checks.report is not None, timeout=20000)
    ego = doc.scenario.ego.trajectory
    # put a parked car right in the ego's path at t = 1.5 s: a collision
    x, y, yaw = ego.pose_at(1.5)
    from editor.drop_placement import new_agent_at

    car, _ = new_agent_at(doc.scenario, "car", x, y + 30.0, 0.0)  # off the road: parked
    from dataclasses import replace

    from engine.scenario.trajectory import Trajectory

    doc.execute(C.AddAgent(replace(car, trajectory=Trajectory.static(x, y, yaw))))
    qtbot.waitUntil(lambda: win.checks.report_scenario is doc.scenario, timeout=20000)
    codes = {f.code for f in win.checks.report.findings}
    assert "collision" in codes
    marks = win.timeline.strip.marks
    assert any(m.severity == 2 and m.t_start <= 1.5 <= m.t_end + 0.1 for m in marks)
    doc.set_time(1.5)
    assert win.canvas.flagged().get(car.id) == 2 and win.canvas.flagged().get("ego") == 2
    assert len(win.canvas._findings.data) >= 1  # where the boxes touch, marked on the map
    assert "error" in win.checks_label.text()


def test_playback_runs_at_the_scenario_rate_and_space_toggles(main_window, qtbot):
    win, doc = main_window, main_window.document
    doc.set_frame(0)
    qtbot.keyClick(win.canvas, Qt.Key_Space)
    assert win.timeline.is_playing
    qtbot.waitUntil(lambda: doc.current_frame >= 6, timeout=3000)  # 0.5 s of clip at 12 Hz
    qtbot.keyClick(win.canvas, Qt.Key_Space)
    assert not win.timeline.is_playing
    f = doc.current_frame
    qtbot.wait(200)
    assert doc.current_frame == f
    qtbot.keyClick(win.canvas, Qt.Key_Right, Qt.ShiftModifier)
    assert doc.current_frame % 6 == 0 and doc.current_frame > f
    qtbot.keyClick(win.canvas, Qt.Key_Home)
    assert doc.current_frame == 0


def test_recent_files_and_settings_are_remembered(make_window, demo_copy, tmp_path):
    win = make_window()
    win.action_snap.setChecked(False)
    other = tmp_path / "other.json"
    other.write_bytes(demo_copy.read_bytes())
    assert win.open_file(other)
    win.close()
    win2 = make_window()
    assert win2.ui_state.recent_files()[0] == str(other.resolve())
    assert not win2.action_snap.isChecked() and not win2.controller.snap_enabled


def test_closing_with_unsaved_changes_asks(make_window, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from editor import commands as C

    win = make_window()
    win.document.execute(C.MoveAgent("truck_1", dx=1.0))
    asked = []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: asked.append(a) or QMessageBox.Cancel))
    assert not win.close()
    assert asked and win.isVisible()
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.Discard))
    assert win.close()


@needs_display
def test_3d_view_follows_time_and_selection(make_window, qtbot):
    win = make_window(enable_3d=True)
    view = win.view3d
    assert view.available, view.reason
    doc = win.document
    doc.set_time(0.0)
    qtbot.waitUntil(lambda: view.redraws > 0, timeout=5000)
    img = view.grab_image()
    assert img.shape[2] == 4 and len(np.unique(img.reshape(-1, 4)[::13], axis=0)) > 20
    n = view.redraws
    doc.set_time(2.0)
    qtbot.waitUntil(lambda: view.redraws > n, timeout=5000)
    ex, ey, _ = doc.scenario.ego.trajectory.pose_at(2.0)
    assert view.view.camera.center[:2] == pytest.approx((ex, ey), abs=1e-3)
    doc.select(("truck_1",))
    qtbot.waitUntil(lambda: tuple(view.view.camera.center[:2]) == pytest.approx(
        doc.scenario.agent("truck_1").trajectory.pose_at(2.0)[:2], abs=1e-3), timeout=5000)
    assert view._selection_box.visible
