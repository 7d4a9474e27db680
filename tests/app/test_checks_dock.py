"""The Checks dock (issue 17): every finding listed with severity, agents, time and sentence; filters;
a click with the real mouse selects the agents and seeks; intended near misses show as confirmed;
findings follow a drag live."""
from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtTest import QTest

from tests.app.mouse import send_mouse


@pytest.fixture()
def intended_near_miss_file(tmp_path):
    """The demo with its pedestrian near miss declared as intended, and car_1 put onto the ego's lane
    ahead so that the two collide (an unintended error)."""
    from editor.commands import move_agent
    from engine.paths import DEMO_SCENARIO
    from engine.scenario.io import load_scenario, save_scenario
    from engine.scenario.model import Intent

    s = load_scenario(DEMO_SCENARIO)
    s = replace(s, intents=(Intent("near_miss", ("pedestrian_1",), {}),))
    ego_x, ego_y, _ = s.ego.trajectory.pose_at(1.0)
    cx, cy, _ = s.agent("car_1").trajectory.pose_at(1.0)
    s = s.with_agent(move_agent(s.agent("car_1"), ego_x + 2.0 - cx, ego_y - cy))
    path = tmp_path / "crash.json"
    save_scenario(s, path)
    return path


def _wait_report(win, qtbot):
    qtbot.waitUntil(lambda: win.checks.report is not None and win.checks.report_is_current, timeout=20000)
    qtbot.waitUntil(lambda: win.checks_panel.tree.topLevelItemCount() > 0, timeout=2000)


def test_every_finding_is_listed_and_intents_are_confirmed(make_window, qtbot, intended_near_miss_file):
    win = make_window(intended_near_miss_file)
    _wait_report(win, qtbot)
    panel = win.checks_panel
    report = win.checks.report
    assert panel.tree.topLevelItemCount() == len(report.findings)
    rows = [[panel.item_for(i).text(c) for c in range(4)] for i in range(panel.tree.topLevelItemCount())]
    codes = [f.code for f in panel.findings_shown()]
    assert "collision" in codes and "intent_met" in codes
    assert "near_miss" not in codes  # explained by the declared intent
    confirmed = rows[codes.index("intent_met")]
    assert confirmed[0] == "✔ confirmed" and "pedestrian_1" in confirmed[1]
    crash = rows[codes.index("collision")]
    assert crash[0] == "✖ error" and "car_1" in crash[1] and "ego" in crash[1]
    assert rows[0][0] == "✖ error"  # errors first
    # filters
    panel.severity.setCurrentText("Confirmed intents")
    assert [f.code for f in panel.findings_shown()] == ["intent_met"]
    panel.severity.setCurrentText("All")
    panel.search.setText("pedestrian")
    assert all("pedestrian_1" in f.agents or "pedestrian" in f.message for f in panel.findings_shown())
    assert "hidden by the filter" in panel.summary.text()


def test_clicking_a_finding_selects_its_agents_and_seeks(make_window, qtbot, intended_near_miss_file):
    win = make_window(intended_near_miss_file)
    _wait_report(win, qtbot)
    win.checks_dock.raise_()
    qtbot.wait(50)
    panel, doc = win.checks_panel, win.document
    codes = [f.code for f in panel.findings_shown()]
    k = codes.index("collision")
    finding = panel.findings_shown()[k]
    doc.set_time(2.5)
    doc.select(())
    assert doc.current_time != finding.t_start
    rect = panel.tree.visualItemRect(panel.item_for(k))
    QTest.mouseClick(panel.tree.viewport(), Qt.LeftButton, Qt.NoModifier, rect.center())
    assert set(doc.selection) == set(finding.agents) == {"car_1", "ego"}
    assert doc.current_time == pytest.approx(finding.t_start)
    assert win.timeline is not None


def test_findings_update_live_while_dragging(main_window, qtbot):
    win, doc = main_window, main_window.document
    _wait_report(win, qtbot)
    assert not any(f.code == "collision" for f in win.checks.report.findings)
    win.action_snap.setChecked(False)
    doc.set_time(1.0)
    x, y, _ = doc.scenario.agent("car_1").trajectory.pose_at(1.0)
    ex, ey, _ = doc.scenario.ego.trajectory.pose_at(1.0)
    vp = win.canvas.viewport()
    a, b = win.canvas.world_to_widget(x, y), win.canvas.world_to_widget(ex + 1.0, ey)
    send_mouse(vp, QEvent.MouseMove, a, Qt.NoButton, Qt.NoButton)
    send_mouse(vp, QEvent.MouseButtonPress, a)
    for k in range(1, 9):
        send_mouse(vp, QEvent.MouseMove, QPointF(a.x() + (b.x() - a.x()) * k / 8, a.y() + (b.y() - a.y()) * k / 8),
                   Qt.NoButton, Qt.LeftButton)
        qtbot.wait(5)
    assert doc.is_dragging
    # the mouse button is still down: the dock already lists the collision the drag causes
    qtbot.waitUntil(lambda: any(f.code == "collision" for f in win.checks_panel.findings_shown()), timeout=20000)
    assert doc.is_dragging and "live while dragging" in win.checks_panel.summary.text()
    send_mouse(vp, QEvent.MouseButtonRelease, b, Qt.LeftButton, Qt.NoButton)
    qtbot.waitUntil(lambda: win.checks.report_is_current, timeout=20000)
    assert "live while dragging" not in win.checks_panel.summary.text()


def test_the_finding_column_keeps_most_of_the_width(make_window, qtbot, intended_near_miss_file):
    """Long agent lists wrap in their own column: the sentence column keeps the larger share of the dock."""
    win = make_window(intended_near_miss_file)
    win.checks_dock.raise_()
    _wait_report(win, qtbot)
    tree = win.checks_panel.tree
    win.checks_panel.item_for(0).setText(1, "pedestrian_1, pedestrian_2, bicycle_1, motorcycle_1")  # a long list
    qtbot.wait(50)
    agents_w, finding_w = tree.columnWidth(1), tree.columnWidth(3)
    assert tree.fontMetrics().horizontalAdvance(win.checks_panel.item_for(0).text(1)) > agents_w  # it wraps ...
    assert finding_w > agents_w * 1.5         # ... and the sentence keeps the room
