"""The Generate panel shows what the chosen model folder is and offers one scale per ControlNet; the scales
set with the mouse and keyboard reach the generation job."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.app.test_generate_panel import FakeBackend, _install, _wait_outcome


@pytest.fixture(scope="module")
def converted_tiny(tmp_path_factory):
    from engine.worldmodel.diffusion.configs import write_public_folders
    from engine.worldmodel.diffusion.convert import convert_public

    root = tmp_path_factory.mktemp("pub")
    sd, nets = write_public_folders(root, "tiny", seed=0, controlnets=("depth", "canny"))
    return convert_public(sd, nets, root / "wm")


def _type_folder(panel, folder) -> None:
    edit = panel.settings_panel.model_dir
    edit.clear()
    QTest.mouseClick(edit, Qt.LeftButton)
    QTest.keyClicks(edit, str(folder))
    QTest.keyClick(edit, Qt.Key_Return)


def test_summary_and_scales_follow_the_chosen_folder(main_window, qtbot, converted_tiny, tmp_path):
    backend = FakeBackend(frames=1, steps=1, delay=0.0)
    panel = _install(main_window, backend)
    panel.settings_panel.backend.setCurrentText("diffusion")
    _type_folder(panel, converted_tiny)
    text = panel.model_summary.summary()
    assert "WorldModelPipeline" in text and "controlnet[0] depth" in text and "<- E (edges)" in text
    assert list(panel.model_summary.scale_spins) == ["depth", "canny"]
    assert panel.model_summary.ok

    spin = panel.model_summary.scale_spins["canny"]
    QTest.mouseDClick(spin.lineEdit(), Qt.LeftButton)
    spin.lineEdit().selectAll()
    QTest.keyClicks(spin.lineEdit(), "0.4")
    QTest.keyClick(spin.lineEdit(), Qt.Key_Return)
    assert spin.value() == pytest.approx(0.4)
    kind, _ = _wait_outcome(qtbot, panel)
    assert kind == "done"
    assert panel.job.options.backend_options["controlnet_scales"] == {"depth": 1.0, "canny": pytest.approx(0.4)}

    (tmp_path / "junk").mkdir()
    _type_folder(panel, tmp_path / "junk")
    assert "not a folder the product knows" in panel.model_summary.summary()
    assert not panel.model_summary.ok and not panel.model_summary.scale_spins
