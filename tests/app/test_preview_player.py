"""The preview you can read (issue 17): enlarge a camera with a real double click, a map per camera,
boxes and ids over the pictures; the player marks a clip out of date after edits, clears on another
scenario and plays at the clip's frame rate; the window appears before the heavy parts start."""
from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from app.preview_pane import PANORAMA


def _clip(value: int, frames: int = 5, fps: float = 12.0):
    from engine.worldmodel import GeneratedClip

    f = np.zeros((frames, 6, 16, 24, 3), np.uint8)
    f[..., 0] = value
    for t in range(frames):
        f[t, ..., 1] = t
    return GeneratedClip(f, PANORAMA, fps, "naive", value)


def test_panorama_order_matches_the_rig():
    from engine.rig import PANORAMA_ORDER

    assert PANORAMA == PANORAMA_ORDER


def test_double_click_enlarges_a_camera_and_back(make_window, qtbot):
    win = make_window(enable_preview=True)
    win.resizeDocks([win.preview_dock], [320], Qt.Vertical)
    pane = win.preview
    qtbot.wait(50)
    widths = {n: pane.tiles[n].width() for n in PANORAMA}
    assert max(widths.values()) - min(widths.values()) <= 2  # one row of equal tiles
    back = pane.tiles["CAM_BACK"]
    QTest.mouseDClick(back, Qt.LeftButton, Qt.NoModifier, QPoint(back.width() // 2, back.height() // 2))
    qtbot.wait(20)
    assert pane.row.focus == "CAM_BACK"
    assert back.width() > 2.5 * widths["CAM_BACK"]
    assert all(pane.tiles[n].width() < back.width() / 3 for n in PANORAMA if n != "CAM_BACK")
    assert all(pane.tiles[n].isVisible() for n in PANORAMA)  # the others stay as thumbnails
    QTest.mouseDClick(back, Qt.LeftButton, Qt.NoModifier, QPoint(back.width() // 2, back.height() // 2))
    qtbot.wait(20)
    after = [pane.tiles[n].width() for n in PANORAMA]
    assert pane.row.focus is None and max(after) - min(after) <= 2   # one row of equal tiles again
    assert back.width() < 0.6 * max(widths.values()) * 2.5


def test_map_per_camera_and_box_overlay(make_window, qtbot):
    win = make_window(enable_preview=True)
    pane, doc = win.preview, win.document
    doc.set_time(1.0)
    pane.set_camera_map("CAM_FRONT", "Depth")
    pane.overlay_box.setChecked(True)
    qtbot.waitUntil(lambda: pane.shown is not None and pane.shown.request.overlay
                    and pane.shown.request.map_for("CAM_FRONT") == "depth" and pane.shown.request.t == 1.0,
                    timeout=60000)
    res = pane.shown
    names = list(res.names)
    front = res.images[names.index("CAM_FRONT")]
    left = res.images[names.index("CAM_FRONT_LEFT")]
    # depth has no value in the sky (black there); the RGB picture of the next camera has a lit sky
    assert front[:3].max() == 0 and left[:3].max() > 40
    assert pane.tiles["CAM_FRONT"].map_label == "Depth" and pane.tiles["CAM_FRONT_LEFT"].map_label == ""
    # car_1 drives ahead of the ego and to its right: its box is in the front camera, right of centre
    boxes = {aid: bbox for aid, _cls, bbox in res.boxes["CAM_FRONT"]}
    assert "car_1" in boxes and "ego" not in boxes
    u0, v0, u1, v1 = boxes["car_1"]
    w, h = front.shape[1], front.shape[0]
    ex, ey, _ = doc.scenario.ego.trajectory.pose_at(1.0)
    cx, cy, _ = doc.scenario.agent("car_1").trajectory.pose_at(1.0)
    assert cx > ex and cy < ey
    assert (u0 + u1) / 2 > w / 2 and 0 <= u0 < u1 <= w and 0 <= v0 < v1 <= h
    assert pane.tiles["CAM_FRONT"].boxes  # handed to the tile, which draws them


def _pick_from_popup(qtbot, text: str, picked: list) -> None:
    """Click the entry `text` of the context menu that is open now (left button, at the entry)."""
    from PySide6.QtWidgets import QApplication, QMenu

    menu = QApplication.activePopupWidget()
    assert isinstance(menu, QMenu), menu
    action = next(a for a in menu.actions() if a.text() == text)
    picked.append([(a.text(), a.isChecked()) for a in menu.actions() if a.isCheckable()])
    QTest.mouseClick(menu, Qt.LeftButton, Qt.NoModifier, menu.actionGeometry(action).center())


def _right_click_and_pick(qtbot, tile, text: str) -> list:
    """Right-click the tile as the window system does (the button press, then the QContextMenuEvent that
    Qt makes of it, with the mouse as its reason); the menu opens and its entry `text` is clicked with the
    mouse. Returns the checkable entries as the menu showed them."""
    from PySide6.QtCore import QEvent, QTimer
    from PySide6.QtGui import QContextMenuEvent
    from PySide6.QtWidgets import QApplication

    from tests.app.mouse import send_mouse

    picked: list = []
    pos = QPoint(tile.width() // 2, tile.height() // 2)
    QTimer.singleShot(200, lambda: _pick_from_popup(qtbot, text, picked))
    send_mouse(tile, QEvent.MouseButtonPress, pos, Qt.RightButton, Qt.RightButton)
    QApplication.sendEvent(tile, QContextMenuEvent(QContextMenuEvent.Mouse, pos, tile.mapToGlobal(pos)))  # menu.exec
    send_mouse(tile, QEvent.MouseButtonRelease, pos, Qt.RightButton, Qt.NoButton)
    qtbot.waitUntil(lambda: bool(picked), timeout=5000)
    qtbot.wait(20)
    return picked[0]


def test_a_camera_map_is_chosen_from_the_tile_context_menu(make_window, qtbot):
    win = make_window(enable_preview=True)
    pane, doc = win.preview, win.document
    doc.set_time(1.0)
    tile = pane.tiles["CAM_BACK"]
    qtbot.waitUntil(lambda: pane.shown is not None and pane.shown.request.t == 1.0, timeout=60000)
    before = {n: pane.shown.images[k].copy() for k, n in enumerate(pane.shown.names)}
    shown = _right_click_and_pick(qtbot, tile, "Depth")
    assert ("Same map as the others", True) in shown and ("Depth", False) in shown
    assert pane.camera_maps == {"CAM_BACK": "Depth"} and tile.map_label == "Depth"
    assert all(pane.tiles[n].map_label == "" for n in PANORAMA if n != "CAM_BACK")
    qtbot.waitUntil(lambda: pane.shown is not None and pane.shown.request.map_for("CAM_BACK") == "depth",
                    timeout=60000)
    res = pane.shown
    names = list(res.names)
    assert res.request.map_for("CAM_FRONT") == pane.map_name   # the others keep the pane's map
    # the same scene and time: the back camera's picture changed, the others are the pictures from before
    assert not np.array_equal(res.images[names.index("CAM_BACK")], before["CAM_BACK"])
    assert all(np.array_equal(res.images[names.index(n)], before[n]) for n in PANORAMA if n != "CAM_BACK")
    # the menu shows the choice; "Same map as the others" takes it back
    shown = _right_click_and_pick(qtbot, tile, "Same map as the others")
    assert ("Depth", True) in shown and ("Same map as the others", False) in shown
    assert pane.camera_maps == {} and tile.map_label == ""


def test_the_player_marks_a_clip_out_of_date_and_clears_on_another_scenario(make_window, qtbot, demo_copy):
    from editor.document import Document

    win = make_window()
    win.start_deferred()
    player, doc = win.generation.player, win.document
    player.add_clip(_clip(7))
    assert not player.stale and "OUT OF DATE" not in player.status.text()
    doc.execute(__import__("editor.commands", fromlist=["MoveAgent"]).MoveAgent("car_1", dx=1.0))
    assert player.stale and "OUT OF DATE" in player.status.text()
    assert player.tiles["CAM_FRONT"].stale_note
    doc.undo()  # back to the scenario the clip was made from
    assert not player.stale and not player.tiles["CAM_FRONT"].stale_note
    win.set_document(Document.open(demo_copy))
    assert player.clip is None and player.tiles["CAM_FRONT"].image is None
    assert len(player.results) == 1 and not player.play_button.isEnabled()


def test_playback_follows_the_clips_frame_rate(qtbot):
    from app.player_pane import PlayerPane
    from editor.document import Document
    from engine.demo import build_demo_scenario

    p = PlayerPane(Document(build_demo_scenario()))
    qtbot.addWidget(p)
    p.show()
    p.add_clip(_clip(0, frames=30, fps=12.0))
    # which frame is due follows the elapsed time, whatever the ticks did
    p._play_t0, p._play_f0 = 100.0, 0
    assert p.due_frame(100.0) == 0 and p.due_frame(100.0 + 1.0) == 12 and p.due_frame(100.0 + 2.49) == 29
    assert p.due_frame(100.0 + 2.5) == 0   # wraps at the clip's end
    p.toggle_play()
    t0 = time.perf_counter()
    qtbot.wait(1000)
    shown, elapsed = p.shown_frame, time.perf_counter() - t0
    p.toggle_play()
    # the frame on screen is the one due at 12 fps (within two frames; the wait's own end is not exact)
    assert abs(shown - int(elapsed * 12.0) % 30) <= 2


def test_the_window_paints_before_the_heavy_parts_start(qtbot, tmp_path, demo_copy):
    from app.main_window import MainWindow
    from editor.document import Document

    win = MainWindow(Document.open(demo_copy), recovery_dir=tmp_path / "rec", defer_heavy=True, enable_3d=True)
    qtbot.addWidget(win)
    assert win.checks.worker is None and win.preview.worker is None and win._view3d is None
    assert not hasattr(win, "generation")
    win.show()
    win.call_after_first_paint(win.start_deferred)
    qtbot.waitUntil(lambda: win.first_paint_at is not None, timeout=10000)
    qtbot.waitUntil(lambda: win.preview.worker is not None and win.checks.worker is not None, timeout=30000)
    assert hasattr(win, "generation") and win.player_dock is not None
    # the docks added after the window was shown are there (tabbed with the preview and the inspector)
    assert not win.generation_dock.isHidden() and not win.player_dock.isHidden()
    assert win.player_dock in win.tabifiedDockWidgets(win.preview_dock)
    qtbot.waitUntil(lambda: win.checks.report is not None, timeout=30000)
    win.document.undo_stack.set_clean()
    win.shutdown()


def test_compare_shows_the_guidance_under_the_generated_views(make_window, qtbot):
    win = make_window(enable_preview=True)
    player, pane, doc = win.generation.player, win.preview, win.document
    player.add_clip(_clip(3, frames=33))
    doc.set_time(1.0)
    qtbot.waitUntil(lambda: pane.shown is not None and pane.shown.request.t == 1.0, timeout=60000)
    win.player_dock.raise_()
    QTest.mouseClick(player.compare_button, Qt.LeftButton)
    assert player.guide_strip.isVisible()
    names = list(pane.shown.names)
    for name, tile in player.guide_tiles.items():
        img = pane.shown.images[names.index(name)]
        c = tile.image.pixelColor(img.shape[1] // 2, img.shape[0] // 2)
        assert (c.red(), c.green(), c.blue()) == tuple(int(v) for v in img[img.shape[0] // 2, img.shape[1] // 2])
    # generated frame 12 (t = 1.0 s at 12 fps) above, the guidance at 1.0 s below
    assert player.shown_frame == 12
