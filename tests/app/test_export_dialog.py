"""File > Export… and File > Batch… on the main window (workers off the UI thread)."""
from __future__ import annotations

import json

import pytest

from app.batch_dialog import parse_values, sweep_parameters
from app.export_dialog import install_export


@pytest.fixture()
def installed(main_window):
    return main_window, install_export(main_window)


def test_actions_are_in_the_file_menu_before_quit(installed):
    win, actions = installed
    items = win.file_menu.actions()
    assert actions.export_action in items and actions.batch_action in items
    if getattr(win, "action_quit", None) in items:
        assert items.index(actions.batch_action) < items.index(win.action_quit)
    assert win.export_actions is actions


def test_export_openscenario_from_the_dialog(installed, qtbot, tmp_path):
    win, actions = installed
    dlg = actions.open_export()
    dlg.format.setCurrentIndex(dlg.format.findData("openscenario"))
    assert dlg.pages.currentIndex() == 1
    dlg.out_dir.setText(str(tmp_path / "osc"))
    dlg.export_button.click()
    qtbot.waitUntil(lambda: dlg.result is not None or dlg.error is not None, timeout=30000)
    assert dlg.error is None
    assert dlg.result.xosc_path.is_file() and "Wrote" in dlg.status.text()


def test_export_nuscenes_from_the_dialog_with_progress(installed, qtbot, tmp_path):
    win, actions = installed
    dlg = actions.open_export()
    dlg.out_dir.setText(str(tmp_path / "ds"))
    dlg.size.setCurrentText("224x128")
    dlg.frames.setValue(7)
    dlg.videos.setChecked(False)
    seen = []
    dlg.export_button.click()
    assert not dlg.export_button.isEnabled()  # running: the UI stays responsive, Export is disabled
    dlg.worker.progress.connect(lambda d, t, m: seen.append((d, t, m)))
    qtbot.waitUntil(lambda: dlg.result is not None or dlg.error is not None, timeout=120000)
    assert dlg.error is None, dlg.error
    assert dlg.result.num_scenes == 1 and (tmp_path / "ds" / "v1.0-cornercase" / "scene.json").is_file()
    assert dlg.progress.value() == dlg.progress.maximum() and dlg.export_button.isEnabled()
    assert any("write" in m for _, _, m in seen)


def test_cancel_leaves_nothing_behind(installed, qtbot, tmp_path):
    win, actions = installed
    dlg = actions.open_export()
    dlg.out_dir.setText(str(tmp_path / "ds"))
    dlg.size.setCurrentText("224x128")
    dlg.export_button.click()
    dlg.cancel_button.click()  # Cancel while running: cancels (it was asked for), keeps the dialog open
    qtbot.waitUntil(lambda: dlg.result is not None or dlg.error is not None, timeout=120000)
    assert dlg.error == "cancelled" and "nothing was added" in dlg.status.text()
    assert not (tmp_path / "ds" / "v1.0-cornercase").exists()


def test_batch_dialog_runs_a_sweep(installed, qtbot, tmp_path):
    win, actions = installed
    dlg = actions.open_batch()
    assert "agent.car_1.speed_scale" in dlg._params
    dlg.out_dir.setText(str(tmp_path / "batch"))
    dlg.seed_count.setValue(2)
    dlg.add_sweep_row("environment.weather", "clear, rain")
    dlg.nuscenes.setChecked(False)
    dlg.executor.setCurrentIndex(dlg.executor.findData("inline"))
    dlg.run_button.click()
    qtbot.waitUntil(lambda: dlg.report is not None or dlg.error is not None, timeout=60000)
    assert dlg.error is None and dlg.report.done == 4
    assert dlg.results.count() == 4
    summary = json.loads((tmp_path / "batch" / "batch.json").read_text())
    assert summary["counts"] == {"done": 4}
    spec = json.loads((tmp_path / "batch" / "batch_spec.json").read_text())
    assert spec["sweep"] == {"environment.weather": ["clear", "rain"]}


def test_batch_dialog_reports_a_bad_sweep(installed):
    win, actions = installed
    dlg = actions.open_batch()
    dlg.add_sweep_row("environment.weather", "hail")
    dlg.run_button.click()
    assert "hail" in dlg.status.text() and not dlg.running


def test_value_parsing_and_parameters(demo_scenario):
    assert parse_values("clear, rain") == ["clear", "rain"]
    assert parse_values("0.8, 1, 1.2") == [0.8, 1, 1.2]
    assert parse_values("[1, 2], [3, 4]") == [[1, 2], [3, 4]]
    assert parse_values("") == []
    params = sweep_parameters(demo_scenario)
    assert "environment.time_of_day" in params and "agent.ego.delay" in params
