"""Speed profile of one agent (pyqtgraph): draggable speed points at its waypoints, the motion's real speed.

Dragging a point up or down changes the speed at that waypoint; the trajectory is retimed
(`editor.speed_profile.retimed`: the path stays, the timing follows) live, as one undoable drag.
The drag is clamped to what the agent's class can do (`editor.speed_profile.speed_bounds`: the
acceleration, deceleration, jerk and lateral-acceleration limits of `engine.library.limits`) and to
the clip's time range (a slower agent is cut at the clip's end, never run past it); the allowed range
is drawn on the plot while dragging, with the class's top speed as a dashed line.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal

from app import theme
from editor.commands import SetSpeedProfile
from editor.document import Document
from editor.speed_profile import SpeedBounds, speed_bounds, waypoint_speeds
from engine.scenario.model import Agent

PICK_PIXELS = 10.0


def _timing(agent: Agent) -> tuple:
    """What the speed plot shows of an agent: waypoint times and stored speeds."""
    return tuple((p.t, p.v) for p in agent.trajectory.points) + (len(agent.trajectory.points),)


class _SpeedViewBox(pg.ViewBox):
    def __init__(self, owner: "SpeedProfilePlot") -> None:
        super().__init__()
        self._owner = owner
        self._dragging = False
        self.setMouseEnabled(x=False, y=False)

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802 (pyqtgraph name)
        if ev.button() != Qt.LeftButton:
            ev.ignore()
            return
        p = self.mapSceneToView(ev.scenePos())
        if ev.isStart():
            if self._owner.begin_point_drag(ev.buttonDownScenePos()):
                self._dragging = True
                ev.accept()
                self._owner.drag_point_to(p.y())
            else:
                ev.ignore()
            return
        if self._dragging:
            ev.accept()
            self._owner.drag_point_to(p.y())
            if ev.isFinish():
                self._dragging = False
                self._owner.end_point_drag()

    def mouseClickEvent(self, ev):  # noqa: N802
        ev.accept()
        self._owner.click_at(ev.scenePos())


class SpeedProfilePlot(pg.PlotWidget):
    """Speed (m/s) over time (s) of the agent `agent_id` of a Document; `message(str)` reports errors."""

    message = Signal(str)

    def __init__(self, document: Document, parent=None) -> None:
        self._vb = _SpeedViewBox(self)
        super().__init__(parent=parent, viewBox=self._vb, background=theme.BASE)
        self.document = document
        self.agent_id: str | None = None
        self._agent: Agent | None = None
        self._drag: tuple[object, int, np.ndarray] | None = None  # (start scenario, index, speeds)
        pi = self.getPlotItem()
        pi.setMenuEnabled(False)
        pi.hideButtons()
        pi.showGrid(x=True, y=True, alpha=0.15)
        pi.setLabel("bottom", "time", units="s")
        pi.setLabel("left", "speed", units="m/s")
        for axis in ("bottom", "left"):  # seconds stay seconds (no "ms" on a tiny or empty range)
            pi.getAxis(axis).enableAutoSIPrefix(False)
        self.curve = pg.PlotDataItem(pen=pg.mkPen(theme.ACCENT, width=2))
        self.points = pg.ScatterPlotItem(size=10, brush=pg.mkBrush(theme.HANDLE), pen=pg.mkPen("#101010"))
        self.active = pg.ScatterPlotItem(size=14, brush=pg.mkBrush(0, 0, 0, 0), pen=pg.mkPen(theme.SELECTION, width=2))
        self.playhead = pg.InfiniteLine(angle=90, pen=pg.mkPen(theme.EGO, width=1, style=Qt.DashLine))
        # the allowed range of the dragged point (class limits), and the class's top speed
        self.limit_bar = pg.ErrorBarItem(x=np.zeros(0), y=np.zeros(0), top=np.zeros(0), bottom=np.zeros(0),
                                         beam=0.08, pen=pg.mkPen(theme.ERROR, width=2))
        self.limit_text = pg.TextItem("", color=theme.ERROR, anchor=(0, 1))
        self.top_speed = pg.InfiniteLine(angle=0, pen=pg.mkPen(theme.ERROR, width=1, style=Qt.DashLine),
                                         label="top speed", labelOpts={"position": 0.15, "color": theme.ERROR})
        self.top_speed.setVisible(False)
        for it in (self.curve, self.points, self.active, self.playhead, self.limit_bar, self.limit_text,
                   self.top_speed):
            self.addItem(it)
        self.bounds: SpeedBounds | None = None
        self.limited_by = ""
        self.setMinimumHeight(150)

    def set_document(self, document: Document) -> None:
        self.document = document
        self.set_agent(None)

    def set_agent(self, agent: Agent | None) -> None:
        """Show an agent's profile (None clears); nothing is redrawn when the timing did not change."""
        prev = self._agent
        if (agent is not None and prev is not None and agent.id == prev.id and self._drag is None
                and _timing(agent) == _timing(prev)):
            self._agent = agent
            return
        self._agent = agent
        self.agent_id = agent.id if agent is not None else None
        if agent is None:
            self.curve.setData([], [])
            self.points.setData([], [])
            self.active.setData([], [])
            self.setXRange(0.0, max(self.document.t_max, 1.0), padding=0.03)
            self.setYRange(0.0, 10.0, padding=0.0)   # not an empty range (its axis would read -1e-304)
            return
        traj = agent.trajectory
        speeds = waypoint_speeds(traj)
        self.points.setData(traj.times, speeds)
        if len(traj.points) > 1:
            ts = np.linspace(traj.start_time, traj.end_time, 200)
            self.curve.setData(ts, traj.sample(ts).speed)
        else:
            self.curve.setData([], [])
        if self._drag is None:
            t_hi = max(traj.end_time, self.document.t_max)
            self.setXRange(min(traj.start_time, 0.0), t_hi + 1e-3, padding=0.03)
            self.setYRange(0.0, max(float(np.max(speeds)) * 1.3, 2.0), padding=0.0)
        self.set_active(self.document.selected_waypoint)

    def set_active(self, sel: tuple[str, int] | None) -> None:
        if self._agent is not None and sel is not None and sel[0] == self._agent.id:
            traj = self._agent.trajectory
            if sel[1] < len(traj.points):
                self.active.setData([traj.times[sel[1]]], [waypoint_speeds(traj)[sel[1]]])
                return
        self.active.setData([], [])

    def set_time(self, t: float) -> None:
        self.playhead.setValue(t)

    # ---- dragging -----------------------------------------------------------------------
    def point_near(self, scene_pos) -> int | None:
        """Index of the speed point within a few pixels of a scene position, or None."""
        if self._agent is None:
            return None
        traj = self._agent.trajectory
        speeds = waypoint_speeds(traj)
        best, best_d = None, PICK_PIXELS
        for i, (t, v) in enumerate(zip(traj.times, speeds)):
            sp = self._vb.mapViewToScene(QPointF(float(t), float(v)))
            d = float(np.hypot(sp.x() - scene_pos.x(), sp.y() - scene_pos.y()))
            if d <= best_d:
                best, best_d = i, d
        return best

    def point_scene_pos(self, index: int) -> QPointF:
        """Scene position of speed point `index` (for tests)."""
        traj = self._agent.trajectory
        return self._vb.mapViewToScene(QPointF(float(traj.times[index]), float(waypoint_speeds(traj)[index])))

    def clip_end(self) -> float:
        """The time (s) a retimed trajectory is cut at: the clip's last frame, or the agent's own end
        when it already runs longer."""
        end = self._agent.trajectory.end_time if self._agent is not None else 0.0
        return max(end, self.document.t_max)

    def begin_point_drag(self, scene_pos) -> bool:
        i = self.point_near(scene_pos)
        if i is None or self._agent is None:
            return False
        if self._agent.locked:
            self.message.emit(f"{self._agent.id} comes from the real scene and is locked")
            return False
        doc = self.document
        traj = self._agent.trajectory
        try:
            self.bounds = speed_bounds(traj, self._agent.cls, i, doc.scenario.fps, t_end=self.clip_end())
        except (ValueError, KeyError) as e:
            self.message.emit(str(e).strip("'\""))
            return False
        self._drag = (doc.scenario, i, waypoint_speeds(traj))
        doc.select_waypoint(self._agent.id, i)
        doc.begin_drag(f"Change speed of {self._agent.id} at waypoint {i + 1}")
        self._show_limits(float(traj.times[i]), self.bounds)
        return True

    def _show_limits(self, t: float, b: SpeedBounds | None) -> None:
        if b is None:
            self.limit_bar.setData(x=np.zeros(0), y=np.zeros(0), top=np.zeros(0), bottom=np.zeros(0))
            self.limit_text.setText("")
            self.top_speed.setVisible(False)
            return
        mid = 0.5 * (b.lo + b.hi)
        self.limit_bar.setData(x=np.array([t]), y=np.array([mid]), top=np.array([b.hi - mid]),
                               bottom=np.array([mid - b.lo]))
        self.limit_text.setText(f"{b.lo:.1f}–{b.hi:.1f} m/s")
        self.limit_text.setPos(t, b.hi)
        from engine.library.limits import limits_for

        vmax = limits_for(self._agent.cls).max_speed
        self.top_speed.setValue(vmax)
        self.top_speed.label.setFormat(f"{self._agent.cls} top speed {vmax:.0f} m/s")
        self.top_speed.setVisible(True)

    def drag_point_to(self, speed: float) -> None:
        if self._drag is None:
            return
        start, i, speeds = self._drag
        v = speeds.copy()
        wanted = max(0.0, float(speed))
        reason = ""
        if self.bounds is not None:
            wanted, reason = self.bounds.clamp(wanted)
        v[i] = wanted
        if reason != self.limited_by:
            self.limited_by = reason
            if reason:
                self.message.emit(f"Speed at waypoint {i + 1} held at {wanted:.2f} m/s: "
                                  + ("it would pass the clip's end" if reason == "clip end"
                                     else f"more would exceed the {self._agent.cls}'s {reason} limit"))
        try:
            new = SetSpeedProfile(self.agent_id, speeds=v, t_end=self.clip_end()).do(start)
        except (ValueError, KeyError) as e:
            self.message.emit(str(e))
            return
        self.document.drag_to(new)

    def end_point_drag(self) -> None:
        if self._drag is None:
            return
        self._drag = None
        self.bounds = None
        self.limited_by = ""
        self._show_limits(0.0, None)
        self.document.end_drag()
        if self.document.selected_waypoint is not None:
            self.document.select_waypoint(None)
        if self._agent is not None:
            self.set_agent(self._agent)

    def click_at(self, scene_pos) -> None:
        i = self.point_near(scene_pos)
        if i is not None and self._agent is not None:
            self.document.select_waypoint(self._agent.id, i)
