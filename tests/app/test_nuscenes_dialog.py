"""File > Open nuScenes scene…: the dialog lists scenes, opening makes a new document, proposals are undoable."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialog, QMessageBox

from app.nuscenes_dialog import NuScenesDialog, SceneChoice, insert_proposals, install_nuscenes, open_scene
from tests.fixtures.nuscenes_fixture import nuscenes_dataset  # noqa: F401 (fixture)

VERSION = "v1.0-mini"


def test_dialog_lists_versions_and_scenes_with_descriptions(qtbot, nuscenes_dataset, tmp_path):
    dlg = NuScenesDialog(dataroot=str(nuscenes_dataset.dataroot))
    qtbot.addWidget(dlg)
    assert dlg.version_combo.currentText() == VERSION
    rows = [dlg.scene_list.topLevelItem(i) for i in range(dlg.scene_list.topLevelItemCount())]
    assert [r.text(0) for r in rows] == ["scene-0001", "scene-0002", "scene-0003"]
    assert rows[2].text(1) == "boston-seaport" and "Boston" in rows[2].text(3)
    assert dlg.select_scene("scene-0002")
    assert dlg.choice() == SceneChoice(str(nuscenes_dataset.dataroot), VERSION, "scene-0002", None)
    dlg.duration_spin.setValue(2.75)
    assert dlg.choice().duration == 2.75
    dlg.set_dataroot(str(tmp_path))
    assert dlg.scene_list.topLevelItemCount() == 0 and "no version folder" in dlg.message.text()
    assert not dlg._ok_button().isEnabled()
    dlg.set_dataroot(str(tmp_path / "missing"))
    assert "does not exist" in dlg.message.text()


def test_open_action_makes_a_new_document_with_locked_agents(qtbot, main_window, nuscenes_dataset, monkeypatch):
    actions = install_nuscenes(main_window)
    assert actions["open"] in main_window.file_menu.actions()
    assert actions["open"].text().replace("&", "") == "Open nuScenes scene…"

    def fake_exec(dlg):
        dlg.set_dataroot(str(nuscenes_dataset.dataroot))
        dlg.select_scene("scene-0001")
        dlg.duration_spin.setValue(2.75)
        return QDialog.Accepted

    monkeypatch.setattr(NuScenesDialog, "exec", fake_exec)
    old = main_window.document
    actions["open"].trigger()
    qtbot.waitUntil(lambda: main_window.document is not old, timeout=30000)
    s = main_window.document.scenario
    assert s.name == "scene-0001" and s.num_frames == 33
    assert s.source.scene == "scene-0001" and s.source.version == VERSION
    assert len(s.agents) >= 8 and all(a.locked for a in s.agents)

    # Tools > Propose insertions: one undoable edit, the new agents selected
    ids = insert_proposals(main_window, "car", (5.0,), 2)
    assert len(ids) == 2 and main_window.document.selection == tuple(ids)
    added = [main_window.document.scenario.agent(i) for i in ids]
    assert all(not a.locked and a.trajectory.speed_at(1.0) == pytest.approx(5.0, abs=1e-3) for a in added)
    main_window.document.undo()
    assert main_window.document.scenario.agent_ids() == s.agent_ids()


def test_a_scene_that_cannot_be_opened_is_reported_and_nothing_changes(qtbot, main_window, nuscenes_dataset, monkeypatch):
    seen = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a, **k: seen.append(a[2])))
    old = main_window.document
    open_scene(main_window, SceneChoice(str(nuscenes_dataset.dataroot), VERSION, "scene-9999", None))
    qtbot.waitUntil(lambda: bool(seen), timeout=30000)
    assert "no scene named 'scene-9999'" in seen[0]
    assert main_window.document is old
