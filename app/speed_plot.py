"""Speed profile of one agent (pyqtgraph): draggable speed points at its waypoints, the motion's real speed.

Dragging a point up or down changes the speed at that waypoint; the trajectory is retimed
(`editor.speed_profile.retimed`: the path stays, the timing follows) live, as one undoable drag.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal

from app import theme
from editor.commands import SetSpeedProfile
from editor.document import Document
from editor.speed_profile import waypoint_speeds
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
        for it in (self.curve, self.points, self.active, self.playhead):
            self.addItem(it)
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

    def begin_point_drag(self, scene_pos) -> bool:
        i = self.point_near(scene_pos)
        if i is None or self._agent is None:
            return False
        if self._agent.locked:
            self.message.emit(f"{self._agent.id} comes from the real scene and is locked")
            return False
        doc = self.document
        self._drag = (doc.scenario, i, waypoint_speeds(self._agent.trajectory))
        doc.select_waypoint(self._agent.id, i)
        doc.begin_drag(f"Change speed of {self._agent.id}")
        return True

    def drag_point_to(self, speed: float) -> None:
        if self._drag is None:
            return
        start, i, speeds = self._drag
        v = speeds.copy()
        v[i] = max(0.0, float(speed))
        try:
            new = SetSpeedProfile(self.agent_id, speeds=v).do(start)
        except (ValueError, KeyError) as e:
            self.message.emit(str(e))
            return
        self.document.drag_to(new)

    def end_point_drag(self) -> None:
        if self._drag is None:
            return
        self._drag = None
        self.document.end_drag()
        if self.document.selected_waypoint is not None:
            self.document.select_waypoint(None)
        if self._agent is not None:
            self.set_agent(self._agent)

    def click_at(self, scene_pos) -> None:
        i = self.point_near(scene_pos)
        if i is not None and self._agent is not None:
            self.document.select_waypoint(self._agent.id, i)
