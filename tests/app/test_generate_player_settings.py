"""The player pane (results kept, play, save) and the generation settings (QSettings round trip)."""
from __future__ import annotations

import numpy as np
import pytest

from engine.rig import PANORAMA_ORDER
from engine.worldmodel import GeneratedClip


def _clip(value: int, frames: int = 5) -> GeneratedClip:
    f = np.zeros((frames, 6, 16, 24, 3), np.uint8)
    for k in range(6):
        f[:, k, ..., 0] = value + k
    for t in range(frames):
        f[t, ..., 1] = t
    return GeneratedClip(f, PANORAMA_ORDER, 12.0, "naive", value)


@pytest.fixture()
def player(qtbot):
    from app.player_pane import PlayerPane
    from editor.document import Document
    from engine.demo import build_demo_scenario

    p = PlayerPane(Document(build_demo_scenario()))
    qtbot.addWidget(p)
    p.resize(900, 200)
    p.show()
    return p


def _pixel(tile) -> tuple[int, int, int]:
    c = tile.image.pixelColor(0, 0)
    return c.red(), c.green(), c.blue()


def test_tiles_are_in_panorama_order_and_show_their_camera(player):
    player.add_clip(_clip(100))
    assert list(player.tiles) == list(PANORAMA_ORDER)
    for k, name in enumerate(PANORAMA_ORDER):
        assert _pixel(player.tiles[name])[0] == 100 + k
    xs = [player.tiles[n].x() for n in PANORAMA_ORDER]
    assert xs == sorted(xs)                               # laid out left to right in that order


def test_results_are_kept_and_can_be_shown_again(player):
    player.add_clip(_clip(10), "first")
    player.add_clip(_clip(50), "second")
    assert player.result_box.count() == 2 and player.clip.seed == 50
    player.result_box.setCurrentIndex(0)
    assert player.clip.seed == 10 and _pixel(player.tiles["CAM_FRONT"])[0] == 11


def test_only_the_latest_results_are_kept(player):
    from app.player_pane import MAX_RESULTS

    for i in range(MAX_RESULTS + 2):
        player.add_clip(_clip(i, frames=1), f"run {i}")
    assert len(player.results) == MAX_RESULTS == player.result_box.count()
    assert player.result_box.itemText(0) == "run 2" and player.result_box.currentText() == f"run {MAX_RESULTS + 1}"


def test_play_advances_the_document_time(player, qtbot):
    player.add_clip(_clip(0, frames=5))
    doc = player.document
    doc.set_frame(0)
    player.toggle_play()
    qtbot.waitUntil(lambda: doc.current_frame >= 3, timeout=3000)
    player.toggle_play()
    assert _pixel(player.tiles["CAM_FRONT"])[1] == player.shown_frame
    # past the clip's end the last frame stays on screen
    doc.set_frame(30)
    assert player.shown_frame == 4


def test_save_writes_the_videos(player, tmp_path):
    player.add_clip(_clip(0, frames=3))
    assert player.save_to(str(tmp_path / "out"))
    assert (tmp_path / "out" / "CAM_BACK.mp4").is_file() and (tmp_path / "out" / "panorama.mp4").is_file()


def test_options_round_trip_through_qsettings(qapp):
    from app.generate_settings import GenerationOptions, load_options, save_options

    opts = GenerationOptions(backend="diffusion", model_dir="/models/wm", steps=7, guidance_scale=2.5, seed=11,
                             device="cpu", size="224x128")
    save_options(opts)
    assert load_options() == opts
    assert opts.settings(scenario_seed=3).seed == 11
    assert GenerationOptions(seed=-1).settings(scenario_seed=3).seed == 3
    assert opts.image_size() == (224, 128)


def test_settings_panel_saves_every_edit(qtbot):
    from app.generate_settings import GenerateSettingsPanel

    panel = GenerateSettingsPanel()
    qtbot.addWidget(panel)
    panel.backend.setCurrentText("diffusion")
    panel.steps.setValue(33)
    panel.device.setCurrentText("cpu")
    assert panel.steps.isEnabled() and panel.model_dir.isEnabled()
    assert "pipeline folder" in panel.hint.text()
    again = GenerateSettingsPanel()
    qtbot.addWidget(again)
    assert again.options() == panel.options() and again.options().steps == 33
    panel.backend.setCurrentText("naive")
    assert not panel.steps.isEnabled()


def test_garbage_in_qsettings_falls_back_to_defaults(qapp):
    from PySide6.QtCore import QSettings

    from app.generate_settings import GenerationOptions, load_options

    s = QSettings()
    s.setValue("generation/steps", "many")
    s.setValue("generation/backend", "magic")
    opts = load_options()
    assert opts.steps == GenerationOptions().steps and opts.backend == "naive"
