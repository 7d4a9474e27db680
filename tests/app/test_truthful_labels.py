"""Truthful labels and safe keys (issue 17): the behaviour says "manual, from cut_in" after a hand edit,
Esc never stops running work without asking, file dialogs start in the last folder or home."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from app.export_dialog import install_export
from tests.app.mouse import mouse_drag


def test_behavior_reads_manual_from_the_function_after_a_drag(main_window, qtbot):
    win, doc = main_window, main_window.document
    win.action_snap.setChecked(False)
    doc.set_time(1.0)
    assert doc.scenario.agent("car_1").behavior == "cut_in"
    x, y, _ = doc.scenario.agent("car_1").trajectory.pose_at(1.0)
    mouse_drag(qtbot, win.canvas.viewport(), win.canvas.world_to_widget(x, y), win.canvas.world_to_widget(x + 3, y))
    car = doc.scenario.agent("car_1")
    assert car.behavior == "manual" and car.behavior_params["from"] == "cut_in"
    qtbot.waitUntil(lambda: win.inspector.behavior.text() == "manual, from cut_in", timeout=2000)
    doc.undo()
    qtbot.waitUntil(lambda: win.inspector.behavior.text().startswith("cut_in"), timeout=2000)


def test_escape_in_a_running_batch_asks_before_stopping(main_window, qtbot, tmp_path, monkeypatch):
    actions = install_export(main_window)
    dlg = actions.open_batch()
    dlg.out_dir.setText(str(tmp_path / "batch"))
    dlg.seed_count.setValue(6)
    dlg.add_sweep_row("environment.weather", "clear, rain, fog")
    dlg.nuscenes.setChecked(False)
    dlg.executor.setCurrentIndex(dlg.executor.findData("inline"))
    asked = []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: asked.append(a) or QMessageBox.No))
    dlg.activateWindow()  # no window manager under Xvfb: the dialog must be made the active window
    try:
        qtbot.waitUntil(dlg.isActiveWindow, timeout=2000)
    except Exception:
        pass
    dlg.run_button.click()
    assert dlg.running
    QTest.keyClick(dlg, Qt.Key_Escape)
    assert asked, "Esc on a running batch must ask"
    assert dlg.running and not dlg._stop and dlg.isVisible()
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.Yes))
    QTest.keyClick(dlg, Qt.Key_Escape)
    assert dlg._stop  # asked and confirmed: stops after the running variant(s)
    qtbot.waitUntil(lambda: not dlg.running, timeout=120000)


def test_file_dialogs_start_in_the_last_folder_or_home(main_window, monkeypatch, tmp_path):
    from engine.paths import DEMO_SCENARIO, RESOURCES_DIR

    win = main_window
    from editor.document import Document

    win.set_document(Document.open(DEMO_SCENARIO))  # the bundled demo
    seen = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: seen.append(a[2]) or ("", "")))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: seen.append(a[2]) or ("", "")))
    win.save_as()
    assert not Path(seen[-1]).resolve().is_relative_to(RESOURCES_DIR.resolve())
    assert Path(seen[-1]).parent == Path.home()
    # once the user saved somewhere, the dialogs start there
    target = tmp_path / "mine" / "case.json"
    target.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: seen.append(a[2]) or (str(target), "")))
    assert win.save_as()
    win.set_document(Document.open(DEMO_SCENARIO))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: seen.append(a[2]) or ("", "")))
    win.open_dialog()
    assert Path(seen[-1]) == target.parent
