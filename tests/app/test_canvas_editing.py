"""Driving the real widgets: drop assets, drag agents and waypoints, rotate, click, keys, speed profile."""
from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from tests.app.mouse import drop_mime, mouse_click, mouse_drag


def _palette_mime(win, cls: str):
    entry = next(e for e in win.palette.entries() if e.cls == cls)
    return win.palette.mime_for(entry)


def test_dropping_an_asset_on_the_canvas_creates_an_agent(main_window, qtbot):
    win, doc = main_window, main_window.document
    doc.set_time(1.0)
    before = doc.scenario
    vp = win.canvas.viewport()
    target = win.canvas.world_to_widget(5.0, -6.0)  # in the right eastbound lane (EB_2 centre y = -5.25)
    path = [QPointF(target.x() - 40, target.y() - 30), QPointF(target.x() - 10, target.y()), target]
    assert drop_mime(vp, _palette_mime(win, "truck"), path)
    qtbot.waitUntil(lambda: "truck_2" in doc.scenario.agent_ids(), timeout=2000)
    truck = doc.scenario.agent("truck_2")
    x, y, yaw = truck.trajectory.pose_at(1.0)
    assert abs(x - 5.0) < 0.5 and y == pytest.approx(-5.25, abs=0.05)  # snapped onto the lane centre
    assert abs(yaw) < 1e-3  # heading along the eastbound lane
    assert truck.asset == "builtin:truck" and truck.size[1] > 6
    assert doc.selection == ("truck_2",)
    assert len(doc.undo_stack) == 1 and win.action_undo.text() == "Undo Add truck_2"
    assert not win.canvas._ghost.isVisible()
    win.action_undo.trigger()
    assert doc.scenario == before


def test_a_foreign_drag_is_refused(main_window):
    from PySide6.QtCore import QMimeData

    mime = QMimeData()
    mime.setText("car")
    p = main_window.canvas.world_to_widget(5.0, -5.0)
    assert not drop_mime(main_window.canvas.viewport(), mime, [p])
    assert len(main_window.document.undo_stack) == 0


def test_dragging_an_agent_moves_its_whole_path_as_one_undo_step(main_window, qtbot):
    win, doc = main_window, main_window.document
    doc.set_time(1.0)
    before = doc.scenario
    truck = before.agent("truck_1")
    x, y, _ = truck.trajectory.pose_at(1.0)
    win.action_snap.setChecked(False)
    a, b = win.canvas.world_to_widget(x, y), win.canvas.world_to_widget(x - 6.0, y + 1.0)
    mouse_drag(qtbot, win.canvas.viewport(), a, b, steps=10)
    moved = doc.scenario.agent("truck_1").trajectory
    px = win.canvas.pixel_size()
    assert moved.pose_at(1.0)[0] == pytest.approx(x - 6.0, abs=3 * px)
    assert moved.pose_at(1.0)[1] == pytest.approx(y + 1.0, abs=3 * px)
    dx = moved.points[0].x - truck.trajectory.points[0].x
    assert all(abs((p.x - q.x) - dx) < 1e-9 for p, q in zip(moved.points, truck.trajectory.points))
    assert len(doc.undo_stack) == 1 and doc.undo_stack.undo_label() == "Undo Move truck_1"
    doc.undo()
    assert doc.scenario == before


def test_dragging_with_snap_lands_on_the_lane_centre(main_window, qtbot):
    win, doc = main_window, main_window.document
    doc.set_time(1.0)
    x, y, _ = doc.scenario.agent("truck_1").trajectory.pose_at(1.0)  # westbound inner lane, y = 1.75
    assert win.action_snap.isChecked()
    a, b = win.canvas.world_to_widget(x, y), win.canvas.world_to_widget(x - 4.0, y + 3.1)  # into WB_2 (y = 5.25)
    mouse_drag(qtbot, win.canvas.viewport(), a, b)
    assert doc.scenario.agent("truck_1").trajectory.pose_at(1.0)[1] == pytest.approx(5.25, abs=1e-6)


def test_dragging_a_waypoint_moves_it_is_one_undo_step_and_the_preview_updates(make_window, qtbot):
    win = make_window(enable_preview=True)
    doc = win.document
    preview = win.preview
    preview.set_map("Object")  # the inserted assets only: any move of car_1 shows
    doc.set_time(1.5)
    doc.select(("car_1",))
    qtbot.waitUntil(lambda: preview.shown is not None and preview.shown.request.scenario is doc.scenario
                    and preview.shown.request.t == 1.5 and preview.shown.request.map_name == "object", timeout=30000)
    front_before = preview.shown.images[list(preview.shown.names).index("CAM_FRONT")].copy()
    before = doc.scenario
    wp = before.agent("car_1").trajectory.points[6]
    assert wp.t == pytest.approx(1.5)
    win.action_snap.setChecked(False)
    a = win.canvas.world_to_widget(wp.x, wp.y)
    b = win.canvas.world_to_widget(wp.x + 2.0, wp.y + 2.0)
    shown_before = preview.shown_id
    # the car's box sits on this waypoint at t = 1.5: a plain drag would move the whole car, Alt takes the waypoint
    mouse_drag(qtbot, win.canvas.viewport(), a, b, steps=12, mods=Qt.AltModifier)
    after = doc.scenario.agent("car_1").trajectory
    px = win.canvas.pixel_size()
    assert after.points[6].x == pytest.approx(wp.x + 2.0, abs=3 * px)
    assert after.points[6].y == pytest.approx(wp.y + 2.0, abs=3 * px)
    old = before.agent("car_1").trajectory
    for i in (0, 3, 9, 11):
        assert (after.points[i].x, after.points[i].y) == (old.points[i].x, old.points[i].y)
    assert len(doc.undo_stack) == 1
    assert doc.undo_stack.undo_label() == "Undo Move waypoint 7 of car_1"  # numbered from 1
    assert doc.selected_waypoint == ("car_1", 6)
    # the preview repaints the edited scene without being asked again
    qtbot.waitUntil(lambda: preview.shown_id > shown_before and preview.shown.request.scenario is doc.scenario,
                    timeout=30000)
    front_after = preview.shown.images[list(preview.shown.names).index("CAM_FRONT")]
    assert np.abs(front_after.astype(int) - front_before.astype(int)).sum() > 0
    assert preview.tiles["CAM_FRONT"].paints > 0
    doc.undo()
    assert doc.scenario == before


def test_rotate_handle_turns_the_selected_agent(main_window, qtbot):
    from editor.interaction import rotate_handle_position

    win, doc = main_window, main_window.document
    doc.set_time(1.0)
    doc.select(("bus_1",))
    qtbot.wait(20)
    s = doc.scenario
    x, y, yaw = s.agent("bus_1").trajectory.pose_at(1.0)  # heading north
    hx, hy = rotate_handle_position(s, "bus_1", 1.0, win.canvas.handle_gap())
    r = math.hypot(hx - x, hy - y)
    win.action_snap.setChecked(False)
    target = (x - r * math.cos(math.radians(30)), y + r * math.sin(math.radians(30)))  # 60 deg to the left
    mouse_drag(qtbot, win.canvas.viewport(), win.canvas.world_to_widget(hx, hy), win.canvas.world_to_widget(*target))
    new_yaw = doc.scenario.agent("bus_1").trajectory.pose_at(1.0)[2]
    assert math.degrees(math.remainder(new_yaw - yaw, 2 * math.pi)) == pytest.approx(60.0, abs=2.0)
    assert doc.undo_stack.undo_label() == "Undo Rotate bus_1" and len(doc.undo_stack) == 1


def test_clicks_select_and_ctrl_click_appends_a_waypoint(main_window, qtbot):
    win, doc = main_window, main_window.document
    doc.set_time(1.0)
    x, y, _ = doc.scenario.agent("truck_1").trajectory.pose_at(1.0)
    vp = win.canvas.viewport()
    mouse_click(qtbot, vp, win.canvas.world_to_widget(x, y))
    assert doc.selection == ("truck_1",)
    n = len(doc.scenario.agent("truck_1").trajectory.points)
    end = doc.scenario.agent("truck_1").trajectory.points[-1]
    # west of its last waypoint, still on the east arm (the intersection box starts at x = 52)
    mouse_click(qtbot, vp, win.canvas.world_to_widget(end.x - 3.0, end.y + 0.4), mods=Qt.ControlModifier)
    traj = doc.scenario.agent("truck_1").trajectory
    assert len(traj.points) == n + 1
    assert traj.points[-1].y == pytest.approx(1.75, abs=1e-6)  # snapped onto its lane (WB_1)
    assert traj.points[-1].t == pytest.approx(end.t + 3.0 / 8.0, abs=0.05)  # reached at its speed (8 m/s)
    mouse_click(qtbot, vp, win.canvas.world_to_widget(-40.0, 30.0))
    assert doc.selection == ()


def test_keyboard_delete_duplicate_rotate(main_window, qtbot):
    win, doc = main_window, main_window.document
    win.canvas.setFocus()
    doc.select(("traffic_cone_2",))
    qtbot.keyClick(win.canvas, Qt.Key_Delete)
    assert "traffic_cone_2" not in doc.scenario.agent_ids()
    doc.select(("truck_1",))
    qtbot.keyClick(win.canvas, Qt.Key_D, Qt.ControlModifier)
    assert doc.selection == ("truck_2",) and "truck_2" in doc.scenario.agent_ids()
    yaw0 = doc.scenario.agent("truck_2").trajectory.points[0].yaw
    qtbot.keyClick(win.canvas, Qt.Key_BracketLeft)
    assert doc.scenario.agent("truck_2").trajectory.points[0].yaw == pytest.approx(yaw0 + math.radians(5))
    assert len(doc.undo_stack) == 3
    qtbot.keyClick(win.canvas, Qt.Key_Z, Qt.ControlModifier)
    assert doc.scenario.agent("truck_2").trajectory.points[0].yaw == pytest.approx(yaw0)
    doc.select(("ego",))
    qtbot.keyClick(win.canvas, Qt.Key_Delete)
    assert doc.scenario.ego is not None and len(doc.undo_stack) == 3


def test_locked_agents_cannot_be_dragged(make_window, qtbot, tmp_path):
    import json

    from engine.paths import DEMO_SCENARIO

    d = json.loads(DEMO_SCENARIO.read_text())
    next(a for a in d["agents"] if a["id"] == "truck_1")["locked"] = True
    path = tmp_path / "locked.json"
    path.write_text(json.dumps(d))
    win = make_window(path)
    doc = win.document
    doc.set_time(1.0)
    x, y, _ = doc.scenario.agent("truck_1").trajectory.pose_at(1.0)
    before = doc.scenario
    mouse_drag(qtbot, win.canvas.viewport(), win.canvas.world_to_widget(x, y), win.canvas.world_to_widget(x - 5, y))
    assert doc.scenario == before and len(doc.undo_stack) == 0
    assert "locked" in win.statusBar().currentMessage()


def test_speed_profile_drag_retimes_in_one_undo_step(main_window, qtbot):
    win, doc = main_window, main_window.document
    doc.select(("truck_1",))
    plot = win.inspector.speed_plot
    qtbot.waitUntil(lambda: plot.agent_id == "truck_1", timeout=2000)
    qtbot.wait(50)
    before = doc.scenario
    old = before.agent("truck_1").trajectory
    start = plot.mapFromScene(plot.point_scene_pos(5))
    # a small change, within what a truck can do between waypoints 0.25 s apart
    end = plot.mapFromScene(plot._vb.mapViewToScene(QPointF(float(old.times[5]), 7.7)))
    mouse_drag(qtbot, plot.viewport(), QPointF(start), QPointF(end))
    new = doc.scenario.agent("truck_1").trajectory
    i = int(np.argmin(np.abs(new.key_xy[:, 0] - old.points[5].x)))
    v = new.points[i].v
    assert v == pytest.approx(7.7, abs=0.15) and v < 8.0
    # two 2 m segments at (8 + v) / 2 m/s instead of 8 m/s take longer; the clip's time range stays, so
    # the truck is cut at its old end time and gets that much less far (it drives west at 8 m/s)
    extra = 2 * 2.0 * (2.0 / (8.0 + v) - 1.0 / 8.0)
    assert new.end_time == pytest.approx(old.end_time, abs=1e-9)
    assert new.points[-1].x - old.points[-1].x == pytest.approx(8.0 * extra, abs=0.03)
    assert new.points[0].t == old.points[0].t
    assert len(doc.undo_stack) == 1 and doc.undo_stack.undo_label() == "Undo Change speed of truck_1 at waypoint 6"
    doc.undo()
    assert doc.scenario == before


def test_inspector_edits_class_size_and_waypoint_table(main_window, qtbot):
    win, doc = main_window, main_window.document
    doc.select(("car_1",))
    ins = win.inspector
    qtbot.waitUntil(lambda: ins.title.text().startswith("car_1"), timeout=2000)
    ins.class_box.setCurrentText("truck")
    ins.class_box.activated.emit(ins.class_box.currentIndex())
    assert doc.scenario.agent("car_1").cls == "truck" and doc.scenario.agent("car_1").length > 6
    qtbot.waitUntil(lambda: ins.size_boxes[1].value() > 6, timeout=2000)
    ins.size_boxes[0].setValue(2.2)
    ins.size_boxes[0].editingFinished.emit()
    assert doc.scenario.agent("car_1").size[0] == pytest.approx(2.2)
    table = ins.table
    qtbot.waitUntil(lambda: table.rowCount() == 12, timeout=2000)
    table.item(3, 2).setText("-3.0")  # y of waypoint 3
    assert doc.scenario.agent("car_1").trajectory.points[3].y == pytest.approx(-3.0)
    n = len(doc.undo_stack)
    table.item(3, 0).setText("0.1")  # t before waypoint 2: refused, shown inline
    assert len(doc.undo_stack) == n
    assert "waypoint 4: t = 0.100 s must come after waypoint 3" in ins.error.text() and ins.error.isVisibleTo(ins)
    qtbot.waitUntil(lambda: table.item(3, 0).text() == "0.750", timeout=2000)


def test_environment_panel_sets_time_of_day_as_a_command(main_window):
    win, doc = main_window, main_window.document
    win.environment.tod_buttons["night"].click()
    win.environment.weather_buttons["rain"].click()
    assert doc.scenario.environment.time_of_day == "night" and doc.scenario.environment.weather == "rain"
    assert len(doc.undo_stack) == 2
    doc.undo()
    doc.undo()
    assert win.environment.tod_buttons["day"].isChecked()


def test_parked_objects_stay_visible_for_the_whole_clip(main_window):
    doc = main_window.document
    cone = doc.scenario.agent("traffic_cone_1")
    assert len(cone.trajectory.points) == 1  # a single waypoint at t = 0: parked from then on
    doc.set_time(2.5)
    assert main_window.canvas.item_for("traffic_cone_1").isVisible()
    x, y, _ = cone.trajectory.pose_at(0.0)
    from editor.interaction import hit_test

    assert hit_test(doc.scenario, 2.5, x, y).agent_id == "traffic_cone_1"


def test_escape_cancels_a_drag_in_progress(main_window, qtbot):
    from PySide6.QtCore import QEvent

    from tests.app.mouse import send_mouse

    win, doc = main_window, main_window.document
    doc.set_time(1.0)
    before = doc.scenario
    x, y, _ = before.agent("truck_1").trajectory.pose_at(1.0)
    vp = win.canvas.viewport()
    a = win.canvas.world_to_widget(x, y)
    send_mouse(vp, QEvent.MouseMove, a, Qt.NoButton, Qt.NoButton)
    send_mouse(vp, QEvent.MouseButtonPress, a, Qt.LeftButton, Qt.LeftButton)
    for k in range(1, 6):
        qtbot.wait(15)
        send_mouse(vp, QEvent.MouseMove, QPointF(a.x() - 12 * k, a.y()), Qt.NoButton, Qt.LeftButton)
    assert doc.is_dragging and doc.scenario != before
    win.action_select_none.trigger()  # Esc
    assert not doc.is_dragging and doc.scenario == before
    qtbot.wait(15)
    send_mouse(vp, QEvent.MouseMove, QPointF(a.x() - 80, a.y()), Qt.NoButton, Qt.LeftButton)
    send_mouse(vp, QEvent.MouseButtonRelease, QPointF(a.x() - 80, a.y()), Qt.LeftButton, Qt.NoButton)
    assert doc.scenario == before and len(doc.undo_stack) == 0
