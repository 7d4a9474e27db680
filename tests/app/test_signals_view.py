"""Traffic signals in the editor: the BEV canvas colours each head by its state at the current time,
and the camera preview's HD-map guidance shows stop lines. Saves intersection_signals.png (to docs/ with CORNERCASE_SCREENSHOT_DIR=docs)."""
from __future__ import annotations

import os

from pathlib import Path

import numpy as np

from engine.library.builder import ScenarioBuilder
from engine.library.registry import bind_library
from engine.scenario.io import save_scenario
from tests.app.conftest import needs_display

# the screenshot goes to a temporary folder; CORNERCASE_SCREENSHOT_DIR=docs refreshes the one in docs/
SCREENSHOT_DIR = os.environ.get("CORNERCASE_SCREENSHOT_DIR")


def _signals_file(tmp_path):
    b = ScenarioBuilder(duration=10.0)
    L = bind_library(b)
    L["traffic_light"](main="red", change_at=7.0)
    L["stop_at_light"](b.ego, speed=7.0)
    L["stop_at_light"]("car", lane="left", ahead=2.0, speed=8.0, run_red=True)
    L["crossing_traffic"]("truck", side="right")
    s = b.build(name="signals")
    path = tmp_path / "signals.json"
    save_scenario(s, path)
    return path, s


def _rgb(pixmap) -> np.ndarray:
    img = pixmap.toImage().convertToFormat(pixmap.toImage().Format.Format_RGB888)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    return np.frombuffer(img.constBits(), np.uint8, count=h * bpl).reshape(h, bpl)[:, : w * 3].reshape(h, w, 3).copy()


def test_signal_heads_follow_their_state(make_window, tmp_path):
    path, s = _signals_file(tmp_path)
    win = make_window(path)
    canvas = win.canvas
    heads = {sg.id: head for sg, head in canvas._signal_items}
    assert set(heads) == {"signal_EB", "signal_WB", "signal_NB", "signal_SB"}
    win.document.set_time(1.0)
    assert heads["signal_EB"].brush().color().name() == "#e53935"          # red for the ego at 1 s
    assert heads["signal_NB"].brush().color().name() == "#43a047"          # green for the cross road
    win.document.set_time(8.0)
    assert heads["signal_EB"].brush().color().name() == "#43a047"          # green after 7 s


@needs_display
def test_screenshot_of_an_intersection_with_signals(make_window, tmp_path, qtbot):
    path, s = _signals_file(tmp_path)
    win = make_window(path, enable_preview=True)
    win.resize(1600, 1000)
    win.preview.set_map("HD map")                 # stop lines and signal poles are in the HD-map guidance
    win.document.set_time(4.0)
    front = win.preview.tiles["CAM_FRONT"]
    qtbot.waitUntil(lambda: front.image is not None, timeout=60000)
    qtbot.wait(500)
    out_dir = Path(SCREENSHOT_DIR) if SCREENSHOT_DIR else tmp_path
    out_dir.mkdir(parents=True, exist_ok=True)
    pix = win.grab()
    pix.save(str(out_dir / "intersection_signals.png"))
    arr = _rgb(pix)
    assert arr.std() > 15
    red = (arr[..., 0] > 200) & (arr[..., 1] < 80) & (arr[..., 2] < 80)
    assert red.sum() > 10
