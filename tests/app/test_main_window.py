"""The first window: it draws the demo, tracks unsaved changes in the title, opens and saves files."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.app.conftest import needs_display

OUT = Path(__file__).resolve().parents[2] / "tests_out"


def _image_array(pixmap) -> np.ndarray:
    img = pixmap.toImage().convertToFormat(pixmap.toImage().Format.Format_RGB888)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=h * bpl).reshape(h, bpl)
    return buf[:, : w * 3].reshape(h, w, 3).copy()


@needs_display
def test_screenshot_under_xvfb_is_not_blank(main_window, qtbot):
    qtbot.wait(300)
    pix = main_window.grab()
    OUT.mkdir(exist_ok=True)
    pix.save(str(OUT / "main_window.png"))
    arr = _image_array(pix)
    assert arr.shape[0] > 500 and arr.shape[1] > 800
    colours = np.unique(arr.reshape(-1, 3)[::7], axis=0)
    assert len(colours) > 50, "window looks blank"
    assert arr.std() > 15
    # the canvas shows agents: some pixels carry the ego's red
    canvas = _image_array(main_window.canvas.grab())
    red = (canvas[..., 0] > 200) & (canvas[..., 1] < 90) & (canvas[..., 2] < 90)
    assert red.sum() > 30


def test_canvas_has_an_item_per_agent_at_the_current_time(main_window):
    doc = main_window.document
    s = doc.scenario
    for a in s.all_agents:
        assert main_window.canvas.item_for(a.id) is not None
    doc.set_time(2.0)
    item = main_window.canvas.item_for("car_1")
    poly = item.polygon()
    xs = [poly.at(i).x() for i in range(4)]
    ys = [poly.at(i).y() for i in range(4)]
    x, y, _ = s.agent("car_1").trajectory.pose_at(2.0)
    assert abs(np.mean(xs) - x) < 0.05 and abs(np.mean(ys) - y) < 0.05


def test_title_marks_unsaved_changes_and_save_clears_it(main_window, tmp_path):
    from editor.commands import move_agent, SetAgent

    doc = main_window.document
    assert not main_window.isWindowModified()
    assert doc.path.name in main_window.windowTitle()
    doc.execute(SetAgent(move_agent(doc.scenario.agent("truck_1"), 2.0, 0.0)))
    assert main_window.isWindowModified()
    assert main_window.action_undo.text() == "Undo Edit truck_1"
    assert main_window.save()
    assert not main_window.isWindowModified()
    saved = json.loads(doc.path.read_text())
    truck = next(a for a in saved["agents"] if a["id"] == "truck_1")
    assert truck["trajectory"][0]["x"] == pytest.approx(doc.scenario.agent("truck_1").trajectory.points[0].x)


def test_opening_a_bad_file_keeps_the_current_document(main_window, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(main_window, "show_problems", lambda title, e: shown.append(e))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    before = main_window.document
    assert not main_window.open_file(bad, ask=False)
    assert main_window.document is before
    assert shown and "invalid JSON" in str(shown[0])
