"""Bird's-eye-view canvas (pyqtgraph, no OpenGL): map, agents at the current time, trajectories, handles.

Frame: world x to the right, y up, metres; aspect ratio locked. The canvas draws and translates the
mouse into world coordinates; what a click or a drag means is decided by an attached controller
(`app.canvas_tools.CanvasController`), which edits through the editor's Document.
"""
from __future__ import annotations

import json
from typing import Protocol

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QBrush, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsPolygonItem

from app import theme
from editor.interaction import agent_present
from engine.classes import STATIC_CLASSES
from engine.geometry.planar import footprint_corners
from engine.scenario.model import EGO_ID, Agent, Scenario

ASSET_MIME = "application/x-cornercase-asset"
PICK_PIXELS = 9.0          # pick tolerance around handles, in screen pixels
ROTATE_HANDLE_PIXELS = 26.0  # distance of the rotate handle ahead of the agent's nose


def _cosmetic_pen(color, width: float = 1.0, style=Qt.SolidLine) -> QPen:
    pen = QPen(color)
    pen.setWidthF(width)
    pen.setCosmetic(True)
    pen.setStyle(style)
    return pen


def _polygon(points: np.ndarray) -> QPolygonF:
    return QPolygonF([QPointF(float(x), float(y)) for x, y in points])


def rigid_shift(old, new) -> tuple[float, float] | None:
    """(dx, dy) when trajectory `new` is `old` moved rigidly (same times and headings, every waypoint
    shifted by one offset: a body drag or a nudge), else None. The interpolated motion of `new` is then
    the old one shifted (the interpolation is translation-equivariant), so nothing has to be resampled."""
    if len(old.points) != len(new.points) or not np.array_equal(old.times, new.times):
        return None
    if any(p.yaw != q.yaw for p, q in zip(old.points, new.points)):
        return None
    d = new.key_xy - old.key_xy
    if not np.all(np.abs(d - d[0]) <= 1e-9):
        return None
    return float(d[0, 0]), float(d[0, 1])


def encode_asset_mime(cls: str, asset: str) -> bytes:
    """The drag payload of a palette entry."""
    return json.dumps({"cls": cls, "asset": asset}).encode()


def decode_asset_mime(data: bytes) -> tuple[str, str] | None:
    """(class, asset) from a drag payload, or None when it is not one of ours."""
    try:
        d = json.loads(bytes(data).decode())
        return str(d["cls"]), str(d.get("asset") or f"builtin:{d['cls']}")
    except (ValueError, KeyError, TypeError):
        return None


class CanvasTool(Protocol):
    """What the canvas asks its controller. Coordinates are world metres; `mods` Qt modifiers."""

    def drag_start(self, x: float, y: float, mods) -> bool: ...      # True: the tool takes the drag
    def drag_move(self, x: float, y: float, mods) -> None: ...
    def drag_end(self, x: float, y: float, mods) -> None: ...
    def drag_cancel(self) -> None: ...
    def click(self, x: float, y: float, mods, double: bool) -> None: ...
    def drop_preview(self, cls: str, x: float, y: float) -> np.ndarray | None: ...  # (4, 2) ghost footprint
    def drop(self, cls: str, asset: str, x: float, y: float) -> None: ...


class AgentItem(QGraphicsPolygonItem):
    """An oriented box with a heading notch, in its class colour; the ego is red with a white outline."""

    def __init__(self, agent: Agent) -> None:
        super().__init__()
        self.agent_id = agent.id
        self.is_ego = agent.id == EGO_ID
        self.setZValue(20 if self.is_ego else 10)
        self.set_style(agent.cls, selected=False)

    def set_style(self, cls: str, selected: bool, flagged: int | None = None, locked: bool = False) -> None:
        """flagged: None, or the severity of a check finding (1 warning, 2 error)."""
        fill = theme.class_qcolor(cls, 110 if locked else 200)
        if self.is_ego:
            fill = QColorCopy(theme.EGO)
            fill.setAlpha(225)
        self.setBrush(QBrush(fill))
        if selected:
            pen = _cosmetic_pen(theme.SELECTION, 3.0)
        elif flagged is not None:
            pen = _cosmetic_pen(theme.severity_color(flagged), 3.0, Qt.DashLine)
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


def QGraphicsRectItemCls():  # noqa: N802 - a rectangle item (rubber band)
    from PySide6.QtWidgets import QGraphicsRectItem

    return QGraphicsRectItem()


def QColorCopy(c):  # noqa: N802 - a QColor copy (theme colours are shared)
    from PySide6.QtGui import QColor

    return QColor(c)


class _EditViewBox(pg.ViewBox):
    """A ViewBox that offers left drags to the canvas tool first; the rest pans (left) and zooms (wheel)."""

    def __init__(self) -> None:
        super().__init__()
        self.tool: CanvasTool | None = None
        self._tool_drag = False

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802 (pyqtgraph name)
        if self.tool is not None and ev.button() == Qt.LeftButton:
            p = self.mapSceneToView(ev.scenePos())
            mods = ev.modifiers()
            if ev.isStart():
                s = self.mapSceneToView(ev.buttonDownScenePos())
                if self.tool.drag_start(s.x(), s.y(), mods):
                    self._tool_drag = True
                    ev.accept()
                    self.tool.drag_move(p.x(), p.y(), mods)
                    return
            elif self._tool_drag:
                ev.accept()
                if ev.isFinish():
                    self._tool_drag = False
                    self.tool.drag_end(p.x(), p.y(), mods)
                else:
                    self.tool.drag_move(p.x(), p.y(), mods)
                return
        super().mouseDragEvent(ev, axis)

    def cancel_tool_drag(self) -> None:
        if self._tool_drag:
            self._tool_drag = False
            if self.tool is not None:
                self.tool.drag_cancel()


class BevCanvas(pg.PlotWidget):
    """Draws a Scenario at a time. Emits `agent_clicked(id)` and `mouse_moved(x, y)` in metres."""

    agent_clicked = Signal(str)
    background_clicked = Signal(float, float)
    mouse_moved = Signal(float, float)

    def __init__(self, parent=None) -> None:
        self._vb = _EditViewBox()
        super().__init__(parent=parent, background=theme.BEV_BACKGROUND, viewBox=self._vb)
        self.setAspectLocked(True)
        # no grid: pyqtgraph repaints a full-view grid on every change (about 10 ms per axis in software)
        self.setLabel("bottom", "x", units="m")
        self.setLabel("left", "y", units="m")
        self.getPlotItem().setMenuEnabled(False)
        self.getPlotItem().hideButtons()
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self._map_items: list = []
        self._agent_items: dict[str, AgentItem] = {}
        self._traj_items: dict[str, pg.PlotDataItem] = {}
        self._label_items: dict[str, pg.TextItem] = {}
        self._drawn: dict[str, Agent] = {}
        self._path_cache: dict[str, tuple] = {}
        self._pose_cache: dict[str, tuple] = {}      # id -> (trajectory, t, (x, y, yaw)) last placed
        self._shown_data: dict[int, tuple] = {}      # id(overlay item) -> the points it shows (skip equal setData)
        self._label_extents: dict[int, tuple[float, float, float, float]] = {}   # id(label) -> w, h, anchor
        self._placed: dict[str, tuple[Agent, float]] = {}
        self._ids: set[str] = set()
        self._dots_key: tuple = ()
        self._dots_refs: list = []
        self._scenario: Scenario | None = None
        self._time = 0.0
        self._selection: tuple[str, ...] = ()
        self._selected_waypoint: tuple[str, int] | None = None
        self._flagged: dict[str, int] = {}
        self._finding_points: list[tuple[float, float, int]] = []
        self.repaints = 0

        self._dots = pg.ScatterPlotItem(size=4, pen=None, symbol="o")
        self._dots.setZValue(6)
        self._handles = pg.ScatterPlotItem(size=8, pen=_cosmetic_pen(pg.mkColor("#101010"), 1.0),
                                           brush=pg.mkBrush(theme.HANDLE), symbol="o")
        self._handles.setZValue(40)
        self._active_handle = pg.ScatterPlotItem(size=13, pen=_cosmetic_pen(theme.SELECTION, 2.5),
                                                 brush=pg.mkBrush(0, 0, 0, 0), symbol="o")
        self._active_handle.setZValue(41)
        self._rotate_line = pg.PlotDataItem(pen=_cosmetic_pen(theme.SELECTION, 1.2, Qt.DotLine))
        self._rotate_line.setZValue(39)
        self._rotate_handle = pg.ScatterPlotItem(size=12, pen=_cosmetic_pen(theme.SELECTION, 2.0),
                                                 brush=pg.mkBrush(30, 30, 30, 220), symbol="o")
        self._rotate_handle.setZValue(42)
        self._ghost = QGraphicsPolygonItem()
        self._ghost.setPen(_cosmetic_pen(theme.SELECTION, 1.5, Qt.DashLine))
        self._ghost.setBrush(QBrush(pg.mkColor(255, 214, 10, 60)))
        self._ghost.setZValue(50)
        self._ghost.setVisible(False)
        self._findings = pg.ScatterPlotItem(size=18, symbol="x", pen=None)
        self._findings.setZValue(45)
        # where a drag will snap: a cross-hair on the lane centre and a short arrow along the lane
        self._snap_marker = pg.ScatterPlotItem(size=16, symbol="+", pen=_cosmetic_pen(theme.SNAP, 2.5),
                                               brush=pg.mkBrush(0, 0, 0, 0))
        self._snap_marker.setZValue(48)
        self._snap_line = pg.PlotDataItem(pen=_cosmetic_pen(theme.SNAP, 2.0, Qt.DashLine))
        self._snap_line.setZValue(47)
        self.snap_target: tuple[float, float, float] | None = None
        self._band = QGraphicsRectItemCls()
        self._band.setPen(_cosmetic_pen(theme.SELECTION, 1.2, Qt.DashLine))
        self._band.setBrush(QBrush(pg.mkColor(255, 214, 10, 35)))
        self._band.setZValue(60)
        self._band.setVisible(False)
        self.addItem(self._band)
        self.label_overlaps_hidden = 0
        for it in (self._dots, self._handles, self._active_handle, self._rotate_line, self._rotate_handle, self._findings,
                   self._snap_marker, self._snap_line):
            self.addItem(it)
        self.addItem(self._ghost)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self._skip_hover_while_tool_drags(self.scene())
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self._vb.sigRangeChanged.connect(lambda *a: (self._update_active_handles(), self._declutter_labels()))

    def _skip_hover_while_tool_drags(self, scene) -> None:
        """pyqtgraph searches the whole scene for hoverable items on every mouse move, even mid-drag
        when no item may accept the hover; while the tool drags, that search is skipped."""
        send = scene.sendHoverEvents

        def send_hover(ev, exitOnly=False):  # noqa: N803 (pyqtgraph's name)
            if self._vb._tool_drag and not exitOnly:
                return
            send(ev, exitOnly)

        scene.sendHoverEvents = send_hover

    # ---- tool -------------------------------------------------------------------------
    @property
    def tool(self) -> CanvasTool | None:
        return self._vb.tool

    def set_tool(self, tool: CanvasTool | None) -> None:
        self._vb.tool = tool

    def pixel_size(self) -> float:
        """Metres per screen pixel at the current zoom."""
        px = self._vb.viewPixelSize()
        return float(max(px[0], px[1], 1e-6))

    def pick_radius(self) -> float:
        """The pick tolerance in metres."""
        return PICK_PIXELS * self.pixel_size()

    def handle_gap(self) -> float:
        """Distance (m) of the rotate handle ahead of the nose at the current zoom."""
        return ROTATE_HANDLE_PIXELS * self.pixel_size()

    def world_to_widget(self, x: float, y: float) -> QPointF:
        """Viewport pixel position (QPointF) of a world point (for tests and overlays)."""
        return QPointF(self.mapFromScene(self._vb.mapViewToScene(QPointF(x, y))))

    # ---- public ------------------------------------------------------------------------
    def set_scenario(self, scenario: Scenario, reset_view: bool = False) -> None:
        """Redraw for a new scenario; the map is rebuilt only when it changed, agents only when they did."""
        old = self._scenario
        self._scenario = scenario
        if old is None or old.map is not scenario.map and old.map != scenario.map:
            self._draw_map(scenario)
        self._sync_agents(scenario)
        self._update_handles(active=False)  # update_time places the active handles
        self.update_time(self._time)
        if reset_view or old is None:
            self.frame_scenario()

    @property
    def scenario(self) -> Scenario | None:
        return self._scenario

    def update_time(self, t: float) -> None:
        """Move every agent box to its pose at time t (hidden when outside its trajectory).

        Agents whose object and time did not change since they were placed are skipped, so a drag
        step redraws one agent, not all of them.
        """
        self._time = t
        self._color_signals(t)           # H16
        s = self._scenario
        if s is None:
            return
        for agent in s.all_agents:
            item = self._agent_items.get(agent.id)
            if item is None:
                continue
            placed = self._placed.get(agent.id)
            if placed is not None and placed[0] is agent and placed[1] == t:
                continue
            self._placed[agent.id] = (agent, t)
            present = agent_present(agent, t)
            item.setVisible(present)
            label = self._label_items[agent.id]
            label.setVisible(present and self._label_wanted(agent))
            if present:
                x, y, yaw = self._pose(agent, t)
                item.set_footprint(footprint_corners(x, y, yaw, agent.length / 2, agent.width / 2))
                label.setPos(x, y)
        self._update_active_handles()
        self._declutter_labels()
        self.repaints += 1

    def _pose(self, agent: Agent, t: float) -> tuple[float, float, float]:
        """(x, y, yaw) of an agent at time t (world metres, radians), as `trajectory.pose_at`. An agent
        moved rigidly since its last pose at the same time (each step of a body drag) is shifted without
        building its new trajectory's interpolants on the UI thread."""
        traj = agent.trajectory
        cached = self._pose_cache.get(agent.id)
        if cached is not None and cached[1] == t:
            c_traj, _, (cx, cy, cyaw) = cached
            if c_traj is traj:
                return cached[2]
            d = rigid_shift(c_traj, traj)
            if d is not None:
                pose = (cx + d[0], cy + d[1], cyaw)
                self._pose_cache[agent.id] = (traj, t, pose)
                return pose
        pose = traj.pose_at(t)
        self._pose_cache[agent.id] = (traj, t, pose)
        return pose

    def _declutter_labels(self) -> None:
        """Hide agent labels that would overlap a more important one on screen.

        Priority: the ego, the selection, flagged agents, then the others by size (a bus before a
        pedestrian). A label's screen box is estimated from its text (7 px per character, 15 px high).
        """
        s = self._scenario
        if s is None:
            return
        order = []
        for a in s.all_agents:
            label = self._label_items.get(a.id)
            if label is None:
                continue
            wanted = agent_present(a, self._time) and self._label_wanted(a)
            if not wanted:
                label.setVisible(False)
                continue
            rank = (0 if a.id == EGO_ID else 1 if a.id in self._selection else 2 if a.id in self._flagged else 3,
                    -a.width * a.length)
            order.append((rank, a.id, label))
        order.sort(key=lambda r: r[0])
        placed: list[tuple[float, float, float, float]] = []
        hidden = 0
        # world -> widget pixels is affine: three mapped points instead of two mappings per label
        o = self.world_to_widget(0.0, 0.0)
        ex, ey = self.world_to_widget(1.0, 0.0) - o, self.world_to_widget(0.0, 1.0) - o
        for _rank, _aid, label in order:
            pos = label.pos()
            c = o + ex * pos.x() + ey * pos.y()
            # the label's box on screen: its text's size, placed by its anchor (above the agent)
            w, h, ax, ay = self._label_extent(label)
            box = (c.x() - ax * w, c.y() - ay * h, c.x() + (1 - ax) * w, c.y() + (1 - ay) * h)
            clash = any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed)
            label.setVisible(not clash)
            if clash:
                hidden += 1
            else:
                placed.append(box)
        self.label_overlaps_hidden = hidden

    def _label_extent(self, label: pg.TextItem) -> tuple[float, float, float, float]:
        """(width, height) in screen pixels (labels ignore the view's scale) and the anchor of a label;
        its text never changes, so this is measured once per label."""
        ext = self._label_extents.get(id(label))
        if ext is None:
            br = label.textItem.boundingRect()
            ext = (br.width() + 2.0, br.height() + 2.0, label.anchor.x(), label.anchor.y())
            self._label_extents[id(label)] = ext
        return ext

    def _label_wanted(self, agent: Agent) -> bool:
        """Names of cones and barriers only when selected: a work zone of labels hides the road."""
        return agent.cls not in STATIC_CLASSES or agent.id in self._selection

    def set_selection(self, ids: tuple[str, ...]) -> None:
        changed = set(self._selection) ^ set(ids)
        self._selection = tuple(ids)
        for aid in changed:
            self._placed.pop(aid, None)  # its label and outline depend on the selection
        self._restyle()
        if self._scenario is not None:
            for aid in changed & set(self._traj_items):
                self._style_trajectory(self._scenario, aid)
        self._update_handles()
        self.update_time(self._time)

    def set_selected_waypoint(self, sel: tuple[str, int] | None) -> None:
        self._selected_waypoint = sel
        self._update_active_handles()

    def set_flagged(self, ids: set[str] | dict[str, int]) -> None:
        """Agents to highlight: a set (warning), or id -> severity (1 warning, 2 error)."""
        flagged = dict(ids) if isinstance(ids, dict) else {i: 1 for i in ids}
        if flagged == self._flagged:
            return   # a new report with the same findings: no restyle (it repaints every agent)
        self._flagged = flagged
        self._restyle()

    def flagged(self) -> dict[str, int]:
        return dict(self._flagged)

    def set_finding_points(self, points: list[tuple[float, float, int]]) -> None:
        """(x, y, severity) markers of check findings to show at the current time."""
        points = list(points)
        if points == self._finding_points:
            return
        self._finding_points = points
        self._update_finding_markers()

    def frame_scenario(self) -> None:
        """Zoom to the agents' trajectories with a margin (or the map when there are none)."""
        s = self._scenario
        if s is None:
            return
        pts = np.concatenate([a.trajectory.key_xy for a in s.all_agents])
        x0, y0 = pts.min(0) - 15.0
        x1, y1 = pts.max(0) + 15.0
        self.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.02)

    def frame_agent(self, agent_id: str, radius: float = 25.0) -> None:
        """Centre the view on an agent at the current time."""
        if self._scenario is None:
            return
        x, y, _ = self._scenario.agent(agent_id).trajectory.pose_at(self._time)
        self.setRange(xRange=(x - radius, x + radius), yRange=(y - radius, y + radius), padding=0.0)

    def item_for(self, agent_id: str) -> AgentItem | None:
        return self._agent_items.get(agent_id)

    def show_snap_target(self, target: tuple[float, float, float] | None) -> None:
        """Show where a drag snaps: (x, y, lane heading) on a lane centre line, or hide with None."""
        self.snap_target = target
        if target is None:
            self._set_data(self._snap_marker, [], [])
            self._set_data(self._snap_line, [], [])
            return
        x, y, h = target
        r = 4.0
        self._set_data(self._snap_marker, [x], [y])
        self._set_data(self._snap_line, [x - r * np.cos(h), x + r * np.cos(h)], [y - r * np.sin(h), y + r * np.sin(h)])

    def show_rubber_band(self, x0: float | None, y0: float = 0.0, x1: float = 0.0, y1: float = 0.0) -> None:
        """Show the selection rectangle between two world points, or hide it (x0 None)."""
        if x0 is None:
            self._band.setVisible(False)
            return
        from PySide6.QtCore import QRectF

        self._band.setRect(QRectF(min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0)))
        self._band.setVisible(True)

    def rubber_band_visible(self) -> bool:
        return self._band.isVisible()

    def show_ghost(self, corners: np.ndarray | None) -> None:
        """Show (4, 2) footprint corners of an agent about to be dropped, or hide it with None."""
        if corners is None:
            self._ghost.setVisible(False)
            return
        fl, rl, rr, fr = corners
        nose = (fl + fr) / 2 + (fl - rl) * 0.12
        self._ghost.setPolygon(_polygon(np.array([fl, rl, rr, fr, nose])))
        self._ghost.setVisible(True)

    # ---- drawing -----------------------------------------------------------------------
    def _draw_map(self, s: Scenario) -> None:
        for it in self._map_items:
            self.removeItem(it)
        self._map_items.clear()
        self._draw_map_items(s)

    def _draw_map_items(self, s: Scenario) -> None:
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
        self._signal_items = []          # H16: traffic signals: stop line and a head coloured by its state
        for sg in getattr(m, "signals", ()):
            from PySide6.QtGui import QColor
            from PySide6.QtWidgets import QGraphicsEllipseItem

            a = np.asarray(sg.stop_line, dtype=float)
            line = pg.PlotDataItem(a[:, 0], a[:, 1], pen=_cosmetic_pen(QColor("#e8e8e8"), 3.0))
            line.setZValue(-9)
            head = QGraphicsEllipseItem(sg.position[0] - 0.9, sg.position[1] - 0.9, 1.8, 1.8)
            head.setPen(_cosmetic_pen(QColor("#101010"), 1.5))
            head.setZValue(5)
            for it in (line, head):
                self.addItem(it)
                self._map_items.append(it)
            self._signal_items.append((sg, head))
        self._color_signals(self._time if hasattr(self, "_time") else 0.0)

    def _color_signals(self, t: float) -> None:
        """H16: fill each signal head with the colour of its state at time t."""
        from PySide6.QtGui import QColor

        colours = {"red": "#e53935", "yellow": "#fdd835", "green": "#43a047", "off": "#555555"}
        for sg, head in getattr(self, "_signal_items", ()):
            colour = colours.get(sg.state_at(t), "#555555")
            if head.data(0) != colour:   # unchanged heads are not restyled (and repainted) on every edit
                head.setData(0, colour)
                head.setBrush(QBrush(QColor(colour)))

    def _sync_agents(self, s: Scenario) -> None:
        wanted = {a.id: a for a in s.all_agents}
        self._ids = set(wanted)
        for aid in list(self._agent_items):
            if aid not in wanted:
                self.removeItem(self._agent_items.pop(aid))
                self.removeItem(self._traj_items.pop(aid))
                label = self._label_items.pop(aid)
                self._label_extents.pop(id(label), None)
                self.removeItem(label)
                self._drawn.pop(aid, None)
                self._placed.pop(aid, None)
                self._path_cache.pop(aid, None)
                self._pose_cache.pop(aid, None)
        for aid, agent in wanted.items():
            if aid not in self._agent_items:
                item = AgentItem(agent)
                self.addItem(item)
                self._agent_items[aid] = item
                traj = pg.PlotDataItem()
                traj.setZValue(5)
                self.addItem(traj)
                self._traj_items[aid] = traj
                if aid == EGO_ID:
                    label = pg.TextItem(" EGO ", anchor=(0.5, 1.45), color="w", fill=pg.mkBrush(theme.EGO),
                                        border=pg.mkPen("w", width=1))
                    f = label.textItem.font()
                    f.setBold(True)
                    label.setFont(f)
                else:
                    label = pg.TextItem(aid, anchor=(0.5, 1.6), color=pg.mkColor("#dddddd"))
                label.setZValue(30)
                self.addItem(label)
                self._label_items[aid] = label
            if self._drawn.get(aid) is agent:
                continue  # unchanged object: nothing to redraw
            self._drawn[aid] = agent
            self._style_trajectory(s, aid)
            self._agent_items[aid].set_style(agent.cls, aid in self._selection, self._flagged.get(aid), agent.locked)

    def _style_trajectory(self, s: Scenario, aid: str) -> None:
        try:
            agent = s.agent(aid)
        except KeyError:
            return
        traj = agent.trajectory
        color = theme.EGO if aid == EGO_ID else theme.class_qcolor(agent.cls)
        selected = aid in self._selection
        if len(traj.points) < 2:
            self._traj_items[aid].setData([], [])
            return
        # draw the interpolated path (what the agent really follows), waypoints as dots
        xs, ys = self._sampled_path(aid, traj)
        self._traj_items[aid].setData(xs, ys, pen=_cosmetic_pen(color, 2.2 if selected else 1.4))

    def _sampled_path(self, aid: str, traj) -> tuple[np.ndarray, np.ndarray]:
        """(M,), (M,) points of the interpolated path. A path that is the last one drawn moved rigidly
        (same times and headings, every waypoint shifted by one offset: a body drag or a nudge) is the
        old samples shifted, without building a new interpolant on every drag step."""
        cached = self._path_cache.get(aid)
        if cached is not None:
            c_traj, c_x, c_y = cached
            d = rigid_shift(c_traj, traj)
            if d is not None:
                return c_x + d[0], c_y + d[1]
        n = max(2, int((traj.end_time - traj.start_time) * 12) + 1)
        ts = np.linspace(traj.start_time, traj.end_time, min(n * 2, 400))
        smp = traj.sample(ts)
        self._path_cache[aid] = (traj, smp.x, smp.y)
        return smp.x, smp.y

    def _restyle(self) -> None:
        if self._scenario is None:
            return
        for a in self._scenario.all_agents:
            item = self._agent_items.get(a.id)
            if item is not None:
                item.set_style(a.cls, a.id in self._selection, self._flagged.get(a.id), a.locked)

    def _update_handles(self, active: bool = True) -> None:
        """Waypoint dots of the unselected agents (one item, rebuilt only when one of them changed),
        white handles for the selection, then the active handle and the rotate handle."""
        s = self._scenario
        if s is None:
            return
        unselected = [a for a in s.all_agents if a.id not in self._selection and len(a.trajectory.points) > 1]
        key = tuple((a.id, id(a.trajectory), a.cls) for a in unselected)
        if key != self._dots_key:
            self._dots_key = key
            self._dots_refs = [a.trajectory for a in unselected]  # keep ids in the key valid
            if unselected:
                xy = np.concatenate([a.trajectory.key_xy for a in unselected])
                brushes = []
                for a in unselected:
                    brush = pg.mkBrush(theme.EGO if a.id == EGO_ID else theme.class_qcolor(a.cls))
                    brushes += [brush] * len(a.trajectory.points)
                self._dots.setData(xy[:, 0], xy[:, 1], brush=brushes)
            else:
                self._dots.setData([], [])
        handle_xy = [s.agent(i).trajectory.key_xy for i in self._selection
                     if (i == EGO_ID or i in self._ids) and len(s.agent(i).trajectory.points) > 1]
        if handle_xy:
            xy = np.concatenate(handle_xy)
            self._handles.setData(xy[:, 0], xy[:, 1])
        else:
            self._handles.setData([], [])
        if active:
            self._update_active_handles()

    def _set_data(self, item, xs: list[float], ys: list[float]) -> None:
        """`item.setData(xs, ys)` unless it already shows exactly these points: an equal setData
        still rebuilds a scatter item and repaints its whole bounding box."""
        key = (tuple(xs), tuple(ys))
        if self._shown_data.get(id(item)) == key:
            return
        self._shown_data[id(item)] = key
        item.setData(xs, ys)

    def _update_active_handles(self) -> None:
        """The highlighted waypoint and the rotate handle (they follow time and zoom)."""
        s = self._scenario
        if s is None:
            return
        wp = self._selected_waypoint
        if wp is not None and wp[0] in self._selection:
            try:
                p = s.agent(wp[0]).trajectory.points[wp[1]]
                self._set_data(self._active_handle, [p.x], [p.y])
            except (KeyError, IndexError):
                self._set_data(self._active_handle, [], [])
        else:
            self._set_data(self._active_handle, [], [])
        if len(self._selection) == 1:
            try:
                a = s.agent(self._selection[0])
            except KeyError:
                a = None
            if a is not None and not a.locked and agent_present(a, self._time):
                # where editor.interaction.rotate_handle_position puts it (hit tests use that), from
                # the cached pose: a drag step does not rebuild the dragged path's interpolants here
                x, y, yaw = self._pose(a, self._time)
                r = a.length / 2 + self.handle_gap()
                hx, hy = x + r * np.cos(yaw), y + r * np.sin(yaw)
                nx, ny = x + a.length / 2 * np.cos(yaw), y + a.length / 2 * np.sin(yaw)
                self._set_data(self._rotate_line, [float(nx), float(hx)], [float(ny), float(hy)])
                self._set_data(self._rotate_handle, [float(hx)], [float(hy)])
                return
        self._set_data(self._rotate_line, [], [])
        self._set_data(self._rotate_handle, [], [])

    def _update_finding_markers(self) -> None:
        pts = self._finding_points
        if not pts:
            self._findings.setData([], [])
            return
        self._findings.setData([{"pos": (x, y), "pen": _cosmetic_pen(pg.mkColor("w"), 1.5),
                                 "brush": pg.mkBrush(theme.severity_color(sev))} for x, y, sev in pts])

    # ---- mouse and drops ---------------------------------------------------------------
    def _scene_to_world(self, scene_pos) -> QPointF:
        return self._vb.mapSceneToView(scene_pos)

    def _on_mouse_moved(self, scene_pos) -> None:
        p = self._scene_to_world(scene_pos)
        self.mouse_moved.emit(p.x(), p.y())

    def _on_mouse_clicked(self, event) -> None:
        if event.button() != Qt.LeftButton:
            return
        p = self._scene_to_world(event.scenePos())
        if self.tool is not None:
            self.tool.click(p.x(), p.y(), event.modifiers(), bool(event.double()))
            return
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

    def _drop_position(self, event) -> QPointF:
        return self._vb.mapSceneToView(self.mapToScene(event.position().toPoint()))

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if event.mimeData().hasFormat(ASSET_MIME) and self.tool is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        payload = decode_asset_mime(event.mimeData().data(ASSET_MIME)) if event.mimeData().hasFormat(ASSET_MIME) else None
        if payload is None or self.tool is None:
            event.ignore()
            return
        p = self._drop_position(event)
        self.show_ghost(self.tool.drop_preview(payload[0], p.x(), p.y()))
        event.acceptProposedAction()

    def dragLeaveEvent(self, event) -> None:  # noqa: N802
        self.show_ghost(None)

    def dropEvent(self, event) -> None:  # noqa: N802
        self.show_ghost(None)
        payload = decode_asset_mime(event.mimeData().data(ASSET_MIME)) if event.mimeData().hasFormat(ASSET_MIME) else None
        if payload is None or self.tool is None:
            event.ignore()
            return
        p = self._drop_position(event)
        event.acceptProposedAction()
        self.tool.drop(payload[0], payload[1], p.x(), p.y())

    _NUDGE_KEYS = (Qt.Key_Left, Qt.Key_Right, Qt.Key_Up, Qt.Key_Down)

    def event(self, event) -> bool:  # noqa: D401 (Qt name)
        """Arrow keys nudge the selection while the canvas has focus (they step frames elsewhere)."""
        from PySide6.QtCore import QEvent

        if (event.type() == QEvent.ShortcutOverride and event.key() in self._NUDGE_KEYS and self._selection
                and not event.modifiers() & (Qt.ControlModifier | Qt.AltModifier)):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() in self._NUDGE_KEYS and self.tool is not None and hasattr(self.tool, "nudge_key"):
            if self.tool.nudge_key(event.key(), event.modifiers()):
                event.accept()
                return
        if event.key() == Qt.Key_Escape:
            self._vb.cancel_tool_drag()
            event.accept()
            return
        super().keyPressEvent(event)
