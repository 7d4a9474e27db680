"""The manoeuvre strip: blocks per manoeuvre, a real mouse drag retimes one (undoable), the clip
length box sets the duration. Saves docs/maneuver_strip.png."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from editor.document import Document
from engine.library.builder import ScenarioBuilder
from engine.library.registry import bind_library

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _scenario():
    b = ScenarioBuilder(duration=12.0)
    L = bind_library(b)
    L["forward"](b.ego, speed=8.0)
    car = L["forward"]("car", lane="left", ahead=14.0, speed=6.0)
    L["then"](car, "change_lane", side="right", ttc=2.0, contact=True)
    L["then"](car, "accelerate", to_speed=12.0)
    ped = L["sidewalk_walk"](side="right", child=True)
    L["then"](ped, "stop", start=4.0)
    L["then"](ped, "run", after=1.0)
    L["ego_reacts"]()
    return b.build()


@pytest.fixture()
def strip(qtbot):
    from app.maneuver_strip import ManeuverStrip

    doc = Document(_scenario())
    w = ManeuverStrip(doc)
    w.resize(900, 170)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_strip_shows_every_manoeuvre_and_a_drag_retimes_one(strip, qtbot):
    doc = strip.document
    lanes = strip.lanes
    rows = {aid: mans for aid, mans in lanes.rows}
    assert [m.function for m in rows["car_1"]] == ["forward", "change_lane", "accelerate"]
    assert [m.function for m in rows["pedestrian_1"]] == ["sidewalk_walk", "stop", "run"]
    DOCS.mkdir(exist_ok=True)
    strip.grab().save(str(DOCS / "maneuver_strip.png"))
    row = [aid for aid, _ in lanes.rows].index("pedestrian_1")
    rect = lanes.block_rect(row, 1)                        # the 'stop' block, starting at 4 s
    start = QPoint(int(rect.left() + 4), int(rect.center().y()))
    px_per_s = (lanes.width() - 92 - 8) / lanes.t_end
    end = start + QPoint(int(round(1.5 * px_per_s)), 0)   # drag 1.5 s later
    QTest.mousePress(lanes, Qt.LeftButton, Qt.NoModifier, start)
    QTest.mouseMove(lanes, start + QPoint(10, 0))
    QTest.mouseMove(lanes, end)
    QTest.mouseRelease(lanes, Qt.LeftButton, Qt.NoModifier, end)
    qtbot.wait(50)
    m = doc.scenario.agent("pedestrian_1").maneuvers[1]
    assert m.start == pytest.approx(5.5, abs=1.5 / px_per_s + 0.02)
    assert doc.selection == ("pedestrian_1",)
    doc.undo()
    assert doc.scenario.agent("pedestrian_1").maneuvers[1].start == pytest.approx(4.0, abs=1e-6)


def test_clip_length_box_sets_the_duration(strip, qtbot):
    doc = strip.document
    strip.duration.setValue(20.0)
    assert doc.scenario.duration == 20.0 and doc.scenario.num_frames == 240
    doc.undo()
    assert doc.scenario.duration == 12.0 and strip.duration.value() == 12.0
