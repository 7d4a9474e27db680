"""Speed-profile drags stay within the class's limits and the clip's time range; waypoint-table edits land
in the cell typed in (real mouse and key events, issue 17)."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.app.mouse import send_mouse


def _drag_speed_point(qtbot, plot, index: int, speed: float, probe=None):
    traj = plot._agent.trajectory
    start = QPointF(plot.mapFromScene(plot.point_scene_pos(index)))
    end = QPointF(plot.mapFromScene(plot._vb.mapViewToScene(QPointF(float(traj.times[index]), speed))))
    vp = plot.viewport()
    send_mouse(vp, QEvent.MouseMove, start, Qt.NoButton, Qt.NoButton)
    send_mouse(vp, QEvent.MouseButtonPress, start)
    for k in range(1, 9):
        p = QPointF(start.x() + (end.x() - start.x()) * k / 8, start.y() + (end.y() - start.y()) * k / 8)
        send_mouse(vp, QEvent.MouseMove, p, Qt.NoButton, Qt.LeftButton)
        qtbot.wait(5)
    if probe is not None:
        probe()
    send_mouse(vp, QEvent.MouseButtonRelease, end, Qt.LeftButton, Qt.NoButton)
    qtbot.wait(10)


@pytest.mark.parametrize("target", [0.5, 30.0])
def test_speed_drag_is_clamped_to_the_class_limits_and_the_clip(main_window, qtbot, target):
    from engine.library.limits import kinematic_violations

    win, doc = main_window, main_window.document
    doc.select(("truck_1",))
    plot = win.inspector.speed_plot
    qtbot.waitUntil(lambda: plot.agent_id == "truck_1", timeout=2000)
    qtbot.wait(50)
    old = doc.scenario.agent("truck_1").trajectory
    seen = {}

    def probe():
        seen["bar"] = plot.limit_bar.opts["x"] is not None and len(plot.limit_bar.opts["x"]) == 1
        seen["msg"] = win.statusBar().currentMessage()

    _drag_speed_point(qtbot, plot, 5, target, probe)
    new = doc.scenario.agent("truck_1").trajectory
    times = np.arange(new.start_time, new.end_time + 1e-9, 1.0 / doc.scenario.fps)
    # an independent judge: the same check every generated trajectory passes
    longitudinal = [v for v in kinematic_violations(new, "truck", times)
                    if v.quantity.split(" (")[0] in ("acceleration", "deceleration", "jerk", "speed")]
    assert longitudinal == [], [str(v) for v in longitudinal]
    i = int(np.argmin(np.hypot(new.key_xy[:, 0] - old.points[5].x, new.key_xy[:, 1] - old.points[5].y)))
    v = new.points[i].v
    assert ((v < 8.0 - 0.1) if target < 8 else (v > 8.0 + 0.1)), (v, len(doc.undo_stack), seen)  # it moved towards the mouse ...
    assert abs(v - target) > 1.0                                # ... but stopped at the limit
    assert new.end_time <= max(old.end_time, doc.t_max) + 1e-9  # never past the clip's time range
    assert new.start_time == old.start_time
    assert seen["bar"] and "limit" in seen["msg"]
    assert len(plot.limit_bar.opts["x"]) == 0   # the limit is drawn only while dragging
    assert len(doc.undo_stack) == 1


def test_typing_in_a_clicked_cell_edits_that_cell(main_window, qtbot):
    win, doc = main_window, main_window.document
    doc.select(("car_1",))
    insp = win.inspector
    insp.tabs.setCurrentIndex(1)
    table = insp.table
    qtbot.waitUntil(lambda: table.rowCount() == 12, timeout=2000)
    qtbot.wait(30)
    old = doc.scenario.agent("car_1").trajectory
    # scroll so that row 9 is visible, then click its y cell once and type
    table.scrollToItem(table.item(8, 2))
    qtbot.wait(20)
    rect = table.visualItemRect(table.item(8, 2))
    QTest.mouseClick(table.viewport(), Qt.LeftButton, Qt.NoModifier, rect.center())
    qtbot.wait(20)
    assert doc.selected_waypoint == ("car_1", 8)
    assert table.currentColumn() == 2 and table.currentRow() == 8
    QTest.keyClick(table, Qt.Key_Minus, Qt.NoModifier)   # any key starts editing the current cell
    qtbot.wait(20)
    editor = QApplication.focusWidget()
    assert editor is not None and editor is not table
    QTest.keyClicks(editor, "3.5")
    QTest.keyClick(editor, Qt.Key_Return)
    qtbot.waitUntil(lambda: doc.scenario.agent("car_1").trajectory.points[8].y == -3.5, timeout=2000)
    new = doc.scenario.agent("car_1").trajectory
    assert new.points[8].x == old.points[8].x and new.points[8].t == old.points[8].t
    assert [p.y for k, p in enumerate(new.points) if k != 8] == [p.y for k, p in enumerate(old.points) if k != 8]
    assert win.action_undo.text() == "Undo Edit waypoint of car_1"
    # rows are numbered from 1, as messages are
    assert table.verticalHeaderItem(8) is None or table.verticalHeaderItem(8).text() == "9"
    assert table.model().headerData(8, Qt.Vertical) == 9


def test_a_bad_table_value_is_reported_with_its_1_based_row(main_window, qtbot):
    win, doc = main_window, main_window.document
    doc.select(("car_1",))
    table = win.inspector.table
    win.inspector.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: table.rowCount() == 12, timeout=2000)
    messages = []
    table.message.connect(messages.append)
    # t of waypoint 4 (row index 3) set after waypoint 5's time: refused, naming waypoints 4 and 5
    t5 = doc.scenario.agent("car_1").trajectory.points[4].t
    table.item(3, 0).setText(f"{t5 + 0.1:.3f}")
    assert messages and messages[-1].startswith("waypoint 4:") and "waypoint 5" in messages[-1]
