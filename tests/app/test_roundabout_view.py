"""A roundabout in the editor: the BEV canvas and the HD-map preview draw the ring and its island.
Saves roundabout.png (to docs/ with CORNERCASE_SCREENSHOT_DIR=docs)."""
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


def _rgb(pixmap) -> np.ndarray:
    img = pixmap.toImage().convertToFormat(pixmap.toImage().Format.Format_RGB888)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    return np.frombuffer(img.constBits(), np.uint8, count=h * bpl).reshape(h, bpl)[:, : w * 3].reshape(h, w, 3).copy()


@needs_display
def test_screenshot_of_a_roundabout(make_window, tmp_path, qtbot):
    b = ScenarioBuilder(seed=0, duration=10.0)
    L = bind_library(b)
    L["roundabout"](b.ego, exit=2)
    L["roundabout"]("car", entry="from_left", exit=2)
    L["roundabout"]("bicycle", entry="oncoming", exit=3)
    s = b.build(name="roundabout")
    path = tmp_path / "roundabout.json"
    save_scenario(s, path)
    win = make_window(path, enable_preview=True)
    win.resize(1600, 1000)
    win.preview.set_map("HD map")
    win.document.set_time(6.0)
    front = win.preview.tiles["CAM_FRONT"]
    qtbot.waitUntil(lambda: front.image is not None, timeout=60000)
    qtbot.wait(500)
    out_dir = Path(SCREENSHOT_DIR) if SCREENSHOT_DIR else tmp_path
    out_dir.mkdir(parents=True, exist_ok=True)
    pix = win.grab()
    pix.save(str(out_dir / "roundabout.png"))
    assert _rgb(pix).std() > 15
