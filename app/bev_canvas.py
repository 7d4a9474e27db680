"""Bird's-eye-view canvas (pyqtgraph, no OpenGL): map, agents at the current time, trajectories.

Frame: world x to the right, y up, metres; aspect ratio locked. The canvas only draws: edits
go through the editor's Document.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QBrush, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsPolygonItem

from app import theme
from engine.scenario.model import EGO_ID, Agent, Scenario


def _cosmetic_pen(color, width: float = 1.0, style=Qt.SolidLine) -> QPen:
    pen = QPen(color)
    pen.setWidthF(width)
    pen.setCosmetic(True)
    pen.setStyle(style)
    return pen


def _polygon(points: np.ndarray) -> QPolygonF:
    return QPolygonF([QPointF(float(x), float(y)) for x, y in points])


class AgentItem(QGraphicsPolygonItem):
    """An oriented box with a heading notch, in its class colour; the ego gets a red outline."""

    def __init__(self, agent: Agent) -> None:
        super().__init__()
        self.agent_id = agent.id
        self.is_ego = agent.id == EGO_ID
        self.setZValue(20 if self.is_ego else 10)
        self.set_style(agent.cls, selected=False)

    def set_style(self, cls: str, selected: bool, flagged: bool = False) -> None:
        fill = theme.class_qcolor(cls, 200)
        if self.is_ego:
            fill = theme.EGO
            fill.setAlpha(210)
        self.setBrush(QBrush(fill))
        if selected:
            pen = _cosmetic_pen(theme.SELECTION, 3.0)
        elif flagged:
            pen = _cosmetic_pen(theme.WARNING, 3.0, Qt.DashLine)
        elif self.is_ego:
            pen = _cosmetic_pen(pg.mkColor("w"), 2.5)
        else:
            pen = _cosmetic_pen(pg.mkColor("#101010"), 1.2)
        self.setPen(pen)

    def set_footprint(self, corners: np.ndarray) -> None:
        """corners: (4, 2) front-left, rear-left, rear-right, front-right; adds a nose point."""
        fl, rl, rr, fr = corners
        nose = (fl + fr) / 2 + (fl - rl) * 0.12
        self.setPolygon(_polygon(np.array([fl, rl, rr, fr, nose])))


class BevCanvas(pg.PlotWidget):
    """Draws a Scenario at a time. Emits `agent_clicked(id)` and `mouse_moved(x, y)` in metres."""

    agent_clicked = Signal(str)
    background_clicked = Signal(float, float)
    mouse_moved = Signal(float, float)

    def __init__(self, parent=None) -> None:
        super().__init__(parent=parent, background=theme.BEV_BACKGROUND)
        self.setAspectLocked(True)
        self.showGrid(x=True, y=True, alpha=0.12)
        self.setLabel("bottom", "x", units="m")
        self.setLabel("left", "y", units="m")
        self.getPlotItem().setMenuEnabled(False)
        self._map_items: list = []
        self._agent_items: dict[str, AgentItem] = {}
        self._traj_items: dict[str, pg.PlotDataItem] = {}
        self._label_items: dict[str, pg.TextItem] = {}
        self._scenario: Scenario | None = None
        self._time = 0.0
        self._selection: tuple[str, ...] = ()
        self._flagged: set[str] = set()
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)

    # ---- public ------------------------------------------------------------------------
    def set_scenario(self, scenario: Scenario, reset_view: bool = False) -> None:
        """Redraw for a new scenario; the map is rebuilt only when it changed."""
        old = self._scenario
        self._scenario = scenario
        if old is None or old.map != scenario.map:
            self._draw_map(scenario)
        self._sync_agents(scenario)
        self.update_time(self._time)
        if reset_view or old is None:
            self.frame_scenario()

    def update_time(self, t: float) -> None:
        """Move every agent box to its pose at time t (hidden when outside its trajectory)."""
        self._time = t
        s = self._scenario
        if s is None:
            return
        for agent in s.all_agents:
            item = self._agent_items.get(agent.id)
            if item is None:
                continue
            present = bool(agent.trajectory.covers(t))
            item.setVisible(present)
            label = self._label_items[agent.id]
            label.setVisible(present)
            if present:
                corners = agent.box_corners_2d(t)[0]
                item.set_footprint(corners)
                x, y, _ = agent.trajectory.pose_at(t)
                label.setPos(x, y)

    def set_selection(self, ids: tuple[str, ...]) -> None:
        self._selection = tuple(ids)
        self._restyle()

    def set_flagged(self, ids: set[str]) -> None:
        """Agents to highlight (collisions, off-road...)."""
        self._flagged = set(ids)
        self._restyle()

    def frame_scenario(self) -> None:
        """Zoom to the agents' trajectories with a margin (or the map when there are none)."""
        s = self._scenario
        if s is None:
            return
        pts = np.concatenate([a.trajectory.key_xy for a in s.all_agents])
        x0, y0 = pts.min(0) - 15.0
        x1, y1 = pts.max(0) + 15.0
        self.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.02)

    def item_for(self, agent_id: str) -> AgentItem | None:
        return self._agent_items.get(agent_id)

    # ---- drawing -----------------------------------------------------------------------
    def _draw_map(self, s: Scenario) -> None:
        for it in self._map_items:
            self.removeItem(it)
        self._map_items.clear()
        m = s.map
        for poly in m.drivable_area:
            path = QPainterPath()
            path.addPolygon(_polygon(np.asarray(poly)))
            path.closeSubpath()
            item = QGraphicsPathItem(path)
            item.setBrush(QBrush(theme.ROAD))
            item.setPen(QPen(Qt.NoPen))
            item.setZValue(-20)
            self.addItem(item)
            self._map_items.append(item)
        for c in m.ped_crossings:
            item = QGraphicsPolygonItem(_polygon(c.array))
            item.setBrush(QBrush(theme.CROSSING, Qt.BDiagPattern))
            item.setPen(_cosmetic_pen(theme.CROSSING, 1.0))
            item.setZValue(-15)
            self.addItem(item)
            self._map_items.append(item)
        for lane in m.lanes:
            a = lane.array
            item = pg.PlotDataItem(a[:, 0], a[:, 1], pen=_cosmetic_pen(theme.LANE_CENTER, 1.0, Qt.DotLine))
            item.setZValue(-12)
            self.addItem(item)
            self._map_items.append(item)
        for d in m.lane_dividers:
            a = d.array
            color = theme.CENTER_DIVIDER if d.style == "double" else theme.DIVIDER
            style = Qt.DashLine if d.style == "dashed" else Qt.SolidLine
            item = pg.PlotDataItem(a[:, 0], a[:, 1], pen=_cosmetic_pen(color, 2.0 if d.style == "double" else 1.2, style))
            item.setZValue(-10)
            self.addItem(item)
            self._map_items.append(item)
        for b in m.lane_boundaries:
            a = b.array
            item = pg.PlotDataItem(a[:, 0], a[:, 1], pen=_cosmetic_pen(theme.BOUNDARY, 2.0))
            item.setZValue(-10)
            self.addItem(item)
            self._map_items.append(item)

    def _sync_agents(self, s: Scenario) -> None:
        wanted = {a.id: a for a in s.all_agents}
        for aid in list(self._agent_items):
            if aid not in wanted:
                self.removeItem(self._agent_items.pop(aid))
                self.removeItem(self._traj_items.pop(aid))
                self.removeItem(self._label_items.pop(aid))
        for aid, agent in wanted.items():
            if aid not in self._agent_items:
                item = AgentItem(agent)
                self.addItem(item)
                self._agent_items[aid] = item
                traj = pg.PlotDataItem()
                traj.setZValue(5)
                self.addItem(traj)
                self._traj_items[aid] = traj
                label = pg.TextItem(aid.upper() if aid == EGO_ID else aid, anchor=(0.5, 1.6),
                                    color=theme.EGO if aid == EGO_ID else pg.mkColor("#dddddd"))
                label.setZValue(30)
                self.addItem(label)
                self._label_items[aid] = label
            xy = agent.trajectory.key_xy
            color = theme.EGO if aid == EGO_ID else theme.class_qcolor(agent.cls)
            self._traj_items[aid].setData(
                xy[:, 0], xy[:, 1], pen=_cosmetic_pen(color, 1.5),
                symbol="o", symbolSize=4, symbolBrush=color, symbolPen=None,
            )
            self._agent_items[aid].set_style(agent.cls, aid in self._selection, aid in self._flagged)

    def _restyle(self) -> None:
        if self._scenario is None:
            return
        for a in self._scenario.all_agents:
            item = self._agent_items.get(a.id)
            if item is not None:
                item.set_style(a.cls, a.id in self._selection, a.id in self._flagged)

    # ---- mouse -------------------------------------------------------------------------
    def _scene_to_world(self, scene_pos) -> QPointF:
        return self.getPlotItem().vb.mapSceneToView(scene_pos)

    def _on_mouse_moved(self, scene_pos) -> None:
        p = self._scene_to_world(scene_pos)
        self.mouse_moved.emit(p.x(), p.y())

    def _on_mouse_clicked(self, event) -> None:
        if event.button() != Qt.LeftButton:
            return
        p = self._scene_to_world(event.scenePos())
        hit = self.agent_at(p.x(), p.y())
        if hit is not None:
            self.agent_clicked.emit(hit)
        else:
            self.background_clicked.emit(p.x(), p.y())

    def agent_at(self, x: float, y: float) -> str | None:
        """The id of the topmost visible agent whose footprint contains (x, y)."""
        for aid in sorted(self._agent_items, key=lambda i: -self._agent_items[i].zValue()):
            item = self._agent_items[aid]
            if item.isVisible() and item.polygon().containsPoint(QPointF(x, y), Qt.OddEvenFill):
                return aid
        return None
