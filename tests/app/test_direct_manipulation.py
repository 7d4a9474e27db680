"""Direct manipulation on the BEV canvas with real mouse and key events (issue 17): a body drag moves
the whole path even where the box sits on a waypoint, Alt drags one waypoint, multi-select moves
together, arrow keys nudge, snapping shows its target, labels stay truthful."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtTest import QTest

from tests.app.mouse import mouse_click, mouse_drag, send_mouse


def _xy(traj):
    return np.array([[p.x, p.y] for p in traj.points])


def test_body_drag_at_a_waypoint_moves_the_whole_path_in_one_undo_step(main_window, qtbot):
    win, doc = main_window, main_window.document
    win.action_snap.setChecked(False)
    doc.set_time(0.0)  # at t = 0 the car's box sits exactly on its first waypoint
    before = doc.scenario
    car = before.agent("car_1")
    x, y, _ = car.trajectory.pose_at(0.0)
    assert (car.trajectory.points[0].x, car.trajectory.points[0].y) == (x, y)
    vp = win.canvas.viewport()
    mouse_click(qtbot, vp, win.canvas.world_to_widget(x, y))
    assert doc.selection == ("car_1",)
    mouse_drag(qtbot, vp, win.canvas.world_to_widget(x, y), win.canvas.world_to_widget(x + 5.0, y + 2.0), steps=10)
    moved = doc.scenario.agent("car_1").trajectory
    delta = _xy(moved) - _xy(car.trajectory)
    px = win.canvas.pixel_size()
    # every waypoint moved by the same offset (the old bug: only the first one moved)
    assert np.allclose(delta, delta[0], atol=1e-9)
    assert delta[0] == pytest.approx([5.0, 2.0], abs=3 * px)
    assert np.allclose(moved.times, car.trajectory.times)
    assert len(doc.undo_stack) == 1 and win.action_undo.text() == "Undo Move car_1"
    assert "whole path" in win.statusBar().currentMessage() or "Move car_1" in win.statusBar().currentMessage()
    doc.undo()
    assert doc.scenario == before


def test_alt_drag_on_the_same_spot_moves_only_that_waypoint(main_window, qtbot):
    win, doc = main_window, main_window.document
    win.action_snap.setChecked(False)
    doc.set_time(0.0)
    car = doc.scenario.agent("car_1")
    x, y, _ = car.trajectory.pose_at(0.0)
    vp = win.canvas.viewport()
    win.canvas.frame_agent("car_1", radius=10)  # 1.5 m must be more than Qt's drag distance in pixels
    qtbot.wait(20)
    mouse_click(qtbot, vp, win.canvas.world_to_widget(x, y))
    messages = []
    win.controller.message.connect(messages.append)
    mouse_drag(qtbot, vp, win.canvas.world_to_widget(x, y), win.canvas.world_to_widget(x, y + 1.5), steps=6,
               mods=Qt.AltModifier)
    moved = doc.scenario.agent("car_1").trajectory
    d = _xy(moved) - _xy(car.trajectory)
    assert np.hypot(*d[0]) == pytest.approx(1.5, abs=3 * win.canvas.pixel_size())
    assert np.allclose(d[1:], 0.0)
    assert win.action_undo.text() == "Undo Move waypoint 1 of car_1"  # numbered from 1, like the table
    assert any("waypoint 1 of car_1 only" in m for m in messages)


def test_shift_rubber_band_selects_then_one_drag_moves_all_together(main_window, qtbot):
    win, doc = main_window, main_window.document
    win.action_snap.setChecked(False)
    doc.set_time(0.0)
    s0 = doc.scenario
    cones = [a for a in s0.agents if a.cls == "traffic_cone"]
    xs = [a.trajectory.points[0].x for a in cones]
    ys = [a.trajectory.points[0].y for a in cones]
    vp = win.canvas.viewport()
    win.canvas.frame_agent("traffic_cone_2", radius=12)
    qtbot.wait(20)
    # from empty road above the cones to below them: x from 22.5 to 31 covers the three cones, not the barrier (32.5)
    a = win.canvas.world_to_widget(22.5, -3.4)
    b = win.canvas.world_to_widget(31.0, -7.0)
    assert win.controller.drag_start(22.5, -3.4, Qt.NoModifier) is False  # empty map: plain drag pans
    mouse_drag(qtbot, vp, a, b, steps=6, mods=Qt.ShiftModifier)
    assert set(doc.selection) == {c.id for c in cones}
    assert not win.canvas.rubber_band_visible()
    # grab the middle cone and drag: all three move by the same offset, one undo step
    c2 = s0.agent("traffic_cone_2").trajectory.points[0]
    mouse_drag(qtbot, vp, win.canvas.world_to_widget(c2.x, c2.y), win.canvas.world_to_widget(c2.x + 2.0, c2.y), steps=5)
    for c, x0, y0 in zip(cones, xs, ys):
        p = doc.scenario.agent(c.id).trajectory.points[0]
        assert p.x - x0 == pytest.approx(2.0, abs=3 * win.canvas.pixel_size()) and p.y == pytest.approx(y0, abs=1e-9)
    assert doc.scenario.agent("barrier_1") == s0.agent("barrier_1")
    assert win.action_undo.text() == "Undo Move 3 agents" and len(doc.undo_stack) == 1


def test_rubber_band_selects_by_footprint_not_by_centre(main_window, qtbot):
    """A Shift+drag band over the front of the bus (its centre far outside the band) selects the bus;
    a band that stops just short of its footprint does not."""
    win, doc = main_window, main_window.document
    win.action_snap.setChecked(False)
    doc.set_time(0.0)
    bus = doc.scenario.agent("bus_1")
    corners = bus.box_corners_2d(0.0)[0]
    (bx0, _), (bx1, by1) = corners.min(axis=0), corners.max(axis=0)
    cx, cy, _ = bus.trajectory.pose_at(0.0)
    win.canvas.frame_agent("bus_1", radius=14)
    qtbot.wait(20)
    vp = win.canvas.viewport()
    # from empty road left of the bus to 1 m into its far end (y): the bus's centre lies outside the band
    x0, y0, x1, y1 = bx0 - 3.0, by1 + 2.0, (bx0 + bx1) / 2, by1 - 1.0
    assert not (min(y0, y1) <= cy <= max(y0, y1))   # the centre test would not take the bus
    assert win.controller.drag_start(x0, y0, Qt.NoModifier) is False   # empty map there
    mouse_drag(qtbot, vp, win.canvas.world_to_widget(x0, y0), win.canvas.world_to_widget(x1, y1), steps=6,
               mods=Qt.ShiftModifier)
    assert doc.selection == ("bus_1",)
    assert "1 agent selected" in win.statusBar().currentMessage()
    # a band ending 0.5 m before the bus's footprint selects nothing (and clears the selection)
    mouse_drag(qtbot, vp, win.canvas.world_to_widget(x0, y0), win.canvas.world_to_widget(bx0 - 0.5, y1), steps=6,
               mods=Qt.ShiftModifier)
    assert doc.selection == ()


def test_agents_touching_rect_is_a_footprint_intersection():
    """Against an independent truth: shapely's polygon intersection, for rectangles around a turned car."""
    from shapely.geometry import Polygon, box

    from editor.interaction import agents_touching_rect
    from engine.demo import build_demo_scenario

    s = build_demo_scenario()
    rng = np.random.default_rng(3)
    agents = {a.id: Polygon(a.box_corners_2d(0.0)[0]) for a in s.all_agents}
    for _ in range(200):
        x0, y0 = rng.uniform(-10, 90), rng.uniform(-30, 30)
        x1, y1 = x0 + rng.uniform(-8, 8), y0 + rng.uniform(-8, 8)
        band = box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
        want = tuple(aid for aid, poly in agents.items() if poly.intersects(band))
        assert agents_touching_rect(s, 0.0, x0, y0, x1, y1) == want


def test_arrow_keys_nudge_the_selection_one_undo_step_each(main_window, qtbot):
    from app.canvas_tools import NUDGE_STEP, NUDGE_STEP_FINE

    win, doc = main_window, main_window.document
    doc.set_time(0.0)
    x0 = doc.scenario.agent("truck_1").trajectory.points[0].x
    y0 = doc.scenario.agent("truck_1").trajectory.points[0].y
    x, y, _ = doc.scenario.agent("truck_1").trajectory.pose_at(0.0)
    mouse_click(qtbot, win.canvas.viewport(), win.canvas.world_to_widget(x, y))
    assert doc.selection == ("truck_1",)
    win.canvas.setFocus()
    qtbot.waitUntil(win.canvas.hasFocus, timeout=2000)
    t_before = doc.current_time
    QTest.keyClick(win.canvas, Qt.Key_Right)
    QTest.keyClick(win.canvas, Qt.Key_Up, Qt.ShiftModifier)
    p = doc.scenario.agent("truck_1").trajectory.points[0]
    assert p.x == pytest.approx(x0 + NUDGE_STEP) and p.y == pytest.approx(y0 + NUDGE_STEP_FINE)
    assert doc.current_time == t_before  # the arrow did not step the timeline
    assert len(doc.undo_stack) == 2 and win.action_undo.text() == "Undo Nudge truck_1"
    assert doc.scenario.agent("truck_1").behavior == "manual"
    qtbot.waitUntil(lambda: win.inspector.behavior.text() == "manual, from forward", timeout=2000)


def test_snapping_shows_the_target_while_dragging_and_hides_after(main_window, qtbot):
    win, doc = main_window, main_window.document
    doc.set_time(1.0)
    assert win.action_snap.isChecked()
    x, y, _ = doc.scenario.agent("truck_1").trajectory.pose_at(1.0)
    vp = win.canvas.viewport()
    a, b = win.canvas.world_to_widget(x, y), win.canvas.world_to_widget(x - 4.0, y + 3.1)
    send_mouse(vp, QEvent.MouseMove, a, Qt.NoButton, Qt.NoButton)
    send_mouse(vp, QEvent.MouseButtonPress, a)
    for k in range(1, 7):
        p = QPointF(a.x() + (b.x() - a.x()) * k / 6, a.y() + (b.y() - a.y()) * k / 6)
        send_mouse(vp, QEvent.MouseMove, p, Qt.NoButton, Qt.LeftButton)
        qtbot.wait(5)
    target = win.canvas.snap_target
    assert target is not None
    # the shown target is the lane centre the truck will land on (WB_2, y = 5.25)
    assert target[1] == pytest.approx(5.25, abs=1e-6)
    assert doc.scenario.agent("truck_1").trajectory.pose_at(1.0)[1] == pytest.approx(target[1], abs=1e-6)
    send_mouse(vp, QEvent.MouseButtonRelease, b, Qt.LeftButton, Qt.NoButton)
    qtbot.wait(10)
    assert win.canvas.snap_target is None


def test_rotation_turns_about_the_current_pose(main_window, qtbot):
    win, doc = main_window, main_window.document
    doc.set_time(1.5)
    car = doc.scenario.agent("car_1")
    x, y, yaw = car.trajectory.pose_at(1.5)
    vp = win.canvas.viewport()
    mouse_click(qtbot, vp, win.canvas.world_to_widget(x, y))
    from editor.interaction import rotate_handle_position

    hx, hy = rotate_handle_position(doc.scenario, "car_1", 1.5, win.canvas.handle_gap())
    r = np.hypot(hx - x, hy - y)
    target = (x + r * np.cos(yaw + 0.6), y + r * np.sin(yaw + 0.6))
    win.action_snap.setChecked(False)
    mouse_drag(qtbot, vp, win.canvas.world_to_widget(hx, hy), win.canvas.world_to_widget(*target), steps=8)
    nx, ny, nyaw = doc.scenario.agent("car_1").trajectory.pose_at(1.5)
    assert (nx, ny) == pytest.approx((x, y), abs=0.05)  # the pivot is where the car is now
    assert nyaw - yaw == pytest.approx(0.6, abs=0.05)
    assert win.action_undo.text() == "Undo Rotate car_1"


def test_labels_do_not_overlap_on_screen(main_window, qtbot):
    win = main_window
    win.canvas.frame_scenario()
    win.canvas.setRange(xRange=(-100, 200), yRange=(-150, 150))  # zoomed out: labels would pile up
    qtbot.wait(30)
    win.canvas.update_time(0.0)
    boxes = []
    for aid, label in win.canvas._label_items.items():
        if label.isVisible():
            r = label.mapRectToScene(label.boundingRect())
            boxes.append((aid, r))
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            inter = boxes[i][1].intersected(boxes[j][1])
            assert inter.width() * inter.height() < 30, (boxes[i][0], boxes[j][0])
    assert "ego" in [b[0] for b in boxes]  # the ego's label always stays


def test_the_canvas_draws_a_body_drag_where_the_engine_puts_the_agent(main_window, qtbot):
    """During and after a body drag (drawn from shifted cached poses, not resampled), the box, its label
    and the rotate handle stand where `Agent.box_corners_2d` and `rotate_handle_position` put them."""
    from editor.interaction import rotate_handle_position

    win, doc = main_window, main_window.document
    win.action_snap.setChecked(False)
    doc.set_time(1.0)
    x, y, _ = doc.scenario.agent("car_1").trajectory.pose_at(1.0)
    vp = win.canvas.viewport()
    mouse_click(qtbot, vp, win.canvas.world_to_widget(x, y))
    assert doc.selection == ("car_1",)
    seen = []

    def check(_s=None) -> None:
        a = doc.scenario.agent("car_1")
        poly = win.canvas.item_for("car_1").polygon()
        drawn = np.array([[poly[i].x(), poly[i].y()] for i in range(4)])
        seen.append(np.abs(drawn - a.box_corners_2d(1.0)[0]).max())
        hx, hy = rotate_handle_position(doc.scenario, "car_1", 1.0, win.canvas.handle_gap())
        handle = win.canvas._rotate_handle.getData()
        seen.append(max(abs(handle[0][0] - hx), abs(handle[1][0] - hy)))

    doc.events.scenario_changed.connect(check)
    try:
        mouse_drag(qtbot, vp, win.canvas.world_to_widget(x, y), win.canvas.world_to_widget(x + 6.0, y - 3.0), steps=12)
    finally:
        doc.events.scenario_changed.disconnect(check)
    check()
    assert len(seen) >= 2 * 4 and max(seen) < 1e-6   # pyqtgraph rate-limits moves: not every step is a change
    assert doc.scenario.agent("car_1").trajectory.pose_at(1.0)[0] == pytest.approx(x + 6.0, abs=3 * win.canvas.pixel_size())
