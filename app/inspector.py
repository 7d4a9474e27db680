"""Inspector: the selected agent's class, asset, size and behavior, its speed profile, waypoints, and
its relation to the ego (distance and TTC from engine.checks) with its check findings."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QListWidget,
                               QListWidgetItem, QPushButton, QTabWidget, QVBoxLayout, QWidget)

from app import theme
from app.speed_plot import SpeedProfilePlot
from app.waypoint_table import WaypointTable
from editor import commands as C
from editor.document import Document
from editor.trajectory_edit import split_point
from engine.classes import class_names, default_size
from engine.scenario.model import EGO_ID, Agent

TTC_CLIP = 10.0


class RelationsPlot(pg.PlotWidget):
    """Gap (m) and TTC (s, clipped at 10) of one agent to the ego over time, from `ego_relations`."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent=parent, background=theme.BASE)
        pi = self.getPlotItem()
        pi.setMenuEnabled(False)
        pi.hideButtons()
        pi.showGrid(x=True, y=True, alpha=0.15)
        pi.setLabel("bottom", "time", units="s")
        for axis in ("bottom", "left"):  # seconds stay seconds (no "ms" on a tiny or empty range)
            pi.getAxis(axis).enableAutoSIPrefix(False)
        pi.addLegend(offset=(-6, 6), labelTextSize="8pt")
        self.distance = pi.plot(name="gap to ego [m]", pen=pg.mkPen(theme.ACCENT, width=2))
        self.ttc = pi.plot(name="TTC [s]", pen=pg.mkPen(theme.WARNING, width=2))
        self.threshold = pg.InfiniteLine(pos=1.5, angle=0, pen=pg.mkPen(theme.ERROR, width=1, style=Qt.DotLine))
        self.playhead = pg.InfiniteLine(angle=90, pen=pg.mkPen(theme.EGO, width=1, style=Qt.DashLine))
        self.addItem(self.threshold)
        self.addItem(self.playhead)
        self.setMinimumHeight(150)
        self.last: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def show_relations(self, time: np.ndarray, distance: np.ndarray, ttc: np.ndarray) -> None:
        ttc_plot = np.where(np.isfinite(ttc), np.minimum(ttc, TTC_CLIP), np.nan)
        self.distance.setData(time, distance, connect="finite")
        self.ttc.setData(time, ttc_plot, connect="finite")
        self.last = (time, distance, ttc)

    def clear_relations(self) -> None:
        self.distance.setData([], [])
        self.ttc.setData([], [])
        self.last = None


class InspectorWidget(QWidget):
    """Follows the document's selection; every edit is a command. `message(str)` reports errors."""

    message = Signal(str)

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self._agent: Agent | None = None
        self._report = None
        self._filling = False

        self.title = QLabel("No agent selected")
        f = self.title.font()
        f.setPointSizeF(f.pointSizeF() + 2)
        f.setBold(True)
        self.title.setFont(f)
        self.subtitle = QLabel("Click an agent on the map, or drag one in from the palette.")
        self.subtitle.setObjectName("panelHint")
        self.subtitle.setWordWrap(True)

        self.class_box = QComboBox()
        self.class_box.addItems(class_names())
        self.asset_box = QComboBox()
        self.asset_box.setEditable(True)
        self.asset_box.setInsertPolicy(QComboBox.NoInsert)
        self.size_boxes = []
        size_row = QHBoxLayout()
        for name in ("w", "l", "h"):
            sb = QDoubleSpinBox()
            sb.setRange(0.05, 30.0)
            sb.setDecimals(2)
            sb.setSingleStep(0.1)
            sb.setSuffix(" m")
            sb.setToolTip({"w": "width", "l": "length", "h": "height"}[name])
            sb.setKeyboardTracking(False)
            self.size_boxes.append(sb)
            size_row.addWidget(sb)
        self.reset_size = QPushButton("Default")
        self.reset_size.setToolTip("The class's default box size")
        size_row.addWidget(self.reset_size)
        self.behavior = QLabel()
        self.behavior.setWordWrap(True)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignRight)
        form.addRow("Class", self.class_box)
        form.addRow("Asset", self.asset_box)
        form.addRow("Size w·l·h", size_row)
        form.addRow("Behavior", self.behavior)

        self.speed_plot = SpeedProfilePlot(document)
        self.table = WaypointTable(document)
        self.insert_wp = QPushButton("Insert at playhead")
        self.delete_wp = QPushButton("Delete waypoint")
        wp_page = QWidget()
        wl = QVBoxLayout(wp_page)
        wl.setContentsMargins(0, 4, 0, 0)
        wl.addWidget(self.table, 1)
        row = QHBoxLayout()
        row.addWidget(self.insert_wp)
        row.addWidget(self.delete_wp)
        row.addStretch(1)
        wl.addLayout(row)
        speed_page = QWidget()
        sl = QVBoxLayout(speed_page)
        sl.setContentsMargins(0, 4, 0, 0)
        hint = QLabel("Drag a point up or down: the timing follows, the path stays.")
        hint.setObjectName("panelHint")
        sl.addWidget(hint)
        sl.addWidget(self.speed_plot, 1)
        self.relations = RelationsPlot()
        self.findings = QListWidget()
        self.findings.setMaximumHeight(110)
        self.findings.setWordWrap(True)
        self.findings.itemDoubleClicked.connect(self._jump_to_finding)
        rel_page = QWidget()
        rl = QVBoxLayout(rel_page)
        rl.setContentsMargins(0, 4, 0, 0)
        self.relations_hint = QLabel()
        self.relations_hint.setObjectName("panelHint")
        rl.addWidget(self.relations_hint)
        rl.addWidget(self.relations, 1)
        rl.addWidget(self.findings)
        self.tabs = QTabWidget()
        self.tabs.addTab(speed_page, "Speed profile")
        self.tabs.addTab(wp_page, "Waypoints")
        self.tabs.addTab(rel_page, "Ego relations")
        self.error = QLabel()
        self.error.setObjectName("errorLabel")
        self.error.setWordWrap(True)
        self.error.hide()

        self.form_widget = QWidget()
        self.form_widget.setLayout(form)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.title)
        lay.addWidget(self.subtitle)
        lay.addWidget(self.form_widget)
        lay.addWidget(self.tabs, 1)
        lay.addWidget(self.error)

        self.class_box.activated.connect(self._on_class)
        self.asset_box.activated.connect(self._on_asset)
        self.asset_box.lineEdit().editingFinished.connect(self._on_asset)
        for sb in self.size_boxes:
            sb.editingFinished.connect(self._on_size)
        self.reset_size.clicked.connect(self._on_reset_size)
        self.insert_wp.clicked.connect(self._insert_waypoint)
        self.delete_wp.clicked.connect(self._delete_waypoint)
        for w in (self.speed_plot, self.table):
            w.message.connect(self.show_error)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(self.refresh)
        self._relations_timer = QTimer(self)
        self._relations_timer.setSingleShot(True)
        self._relations_timer.setInterval(30)
        self._relations_timer.timeout.connect(self._update_relations)
        self.set_document(document)

    # ---- wiring -------------------------------------------------------------------------
    def set_document(self, document: Document) -> None:
        if self.document is not None:
            ev = self.document.events
            ev.scenario_changed.disconnect(self._schedule)
            ev.selection_changed.disconnect(self._schedule)
            ev.time_changed.disconnect(self._on_time)
            ev.waypoint_selection_changed.disconnect(self._on_waypoint)
            ev.edit_finished.disconnect(self._schedule_relations)
        self.document = document
        self._agent = None
        self.speed_plot.set_document(document)
        self.table.set_document(document)
        ev = document.events
        ev.scenario_changed.connect(self._schedule)
        ev.selection_changed.connect(self._schedule)
        ev.time_changed.connect(self._on_time)
        ev.waypoint_selection_changed.connect(self._on_waypoint)
        ev.edit_finished.connect(self._schedule_relations)
        self.refresh()

    def _schedule(self, *_args) -> None:
        if self.document.is_dragging:  # live, but at most ~8 times a second while dragging
            if not self._refresh_timer.isActive():
                self._refresh_timer.start(120)
        else:
            self._refresh_timer.start(0)

    def _schedule_relations(self, *_args) -> None:
        self._relations_timer.start()

    def _on_time(self, t: float) -> None:
        self.speed_plot.set_time(t)
        self.relations.playhead.setValue(t)

    def _on_waypoint(self, sel) -> None:
        self.speed_plot.set_active(sel)
        self.table.set_active(sel)

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))
        if text:
            self.message.emit(text)

    def set_report(self, report) -> None:
        """The latest engine.checks report (or None): fills the findings list."""
        self._report = report
        self._fill_findings()

    # ---- display ------------------------------------------------------------------------
    def selected_agent(self) -> Agent | None:
        doc = self.document
        if len(doc.selection) != 1:
            return None
        try:
            return doc.scenario.agent(doc.selection[0])
        except KeyError:
            return None

    def refresh(self) -> None:
        """Bring every field in line with the document (cheap when the agent did not change)."""
        agent = self.selected_agent()
        if agent is self._agent and agent is not None:
            return
        changed_agent = agent is None or self._agent is None or agent.id != self._agent.id
        self._agent = agent
        self._filling = True
        try:
            n = len(self.document.selection)
            self.form_widget.setEnabled(agent is not None and not agent.locked)
            self.tabs.setEnabled(agent is not None)
            if agent is None:
                self.title.setText(f"{n} agents selected" if n > 1 else "No agent selected")
                self.subtitle.setText("Select one agent to edit it." if n > 1 else
                                      "Click an agent on the map, or drag one in from the palette.")
                self.behavior.setText("")
                self.speed_plot.set_agent(None)
                self.table.set_agent(None)
                self.relations.clear_relations()
                self.findings.clear()
                return
            ego = agent.id == EGO_ID
            self.title.setText(("EGO vehicle" if ego else agent.id) + ("  (locked)" if agent.locked else ""))
            traj = agent.trajectory
            n_wp = len(traj.points)
            span = (f"parked from {traj.start_time:.2f} s" if n_wp == 1 else
                    f"{n_wp} waypoints, {traj.start_time:.2f}–{traj.end_time:.2f} s")
            self.subtitle.setText(span + ("  ·  from the real scene: read only" if agent.locked else ""))
            self.class_box.setCurrentText(agent.cls)
            self.class_box.setEnabled(not ego)
            self.asset_box.clear()
            refs = [f"builtin:{agent.cls}"] + ([agent.asset] if agent.asset != f"builtin:{agent.cls}" else [])
            self.asset_box.addItems(refs)
            self.asset_box.setCurrentText(agent.asset)
            for sb, v in zip(self.size_boxes, agent.size):
                sb.setValue(v)
            params = ", ".join(f"{k}={v}" for k, v in dict(agent.behavior_params).items() if k != "from")
            edited = agent.behavior == "manual" and dict(agent.behavior_params).get("from")
            # after a hand edit the generating function's parameters no longer describe the motion
            self.behavior.setText(C.behavior_text(agent) + (f"  ({params})" if params and not edited else ""))
            self.speed_plot.set_agent(agent)
            self.table.set_agent(agent)
            if changed_agent:
                self.show_error("")
        finally:
            self._filling = False
        if changed_agent:
            self._update_relations()
            self._fill_findings()

    def _update_relations(self) -> None:
        agent = self.selected_agent()
        if agent is None or agent.id == EGO_ID:
            self.relations.clear_relations()
            self.relations_hint.setText("Select an agent other than the ego to see its gap and TTC to the ego."
                                        if agent is not None else "")
            return
        try:
            from engine.checks import ego_relations

            rel = ego_relations(self.document.scenario, agent.id)
        except Exception as e:  # noqa: BLE001 - never let the relations plot break editing; the reason is shown
            self.relations.clear_relations()
            self.relations_hint.setText(f"relations unavailable: {e}")
            return
        self.relations.show_relations(rel.time, rel.distance, rel.ttc)
        finite = rel.ttc[np.isfinite(rel.ttc)]
        dmin = np.nanmin(rel.distance) if np.any(np.isfinite(rel.distance)) else math.nan
        self.relations_hint.setText(
            f"least gap {dmin:.2f} m" + (f"  ·  least TTC {finite.min():.2f} s" if finite.size else "  ·  never on a collision course"))

    def _jump_to_finding(self, item: QListWidgetItem) -> None:
        t = item.data(Qt.UserRole)
        if t is not None:
            self.document.set_time(float(t))

    def _fill_findings(self) -> None:
        self.findings.clear()
        agent = self.selected_agent()
        if agent is None or self._report is None:
            return
        for f in self._report.for_agent(agent.id):
            item = QListWidgetItem(f"{f.t_start:5.2f}–{f.t_end:5.2f} s  {f.code}: {f.message}")
            item.setForeground(theme.severity_color(int(f.severity)))
            item.setToolTip(f"{f.code} ({f.severity.label}), {f.t_start:.2f}–{f.t_end:.2f} s\n{f.message}\n"
                            "Double-click to go to this time")
            item.setData(Qt.UserRole, f.t_start)
            self.findings.addItem(item)
        if self.findings.count() == 0:
            self.findings.addItem("No findings for this agent.")

    # ---- edits --------------------------------------------------------------------------
    def _execute(self, command) -> None:
        try:
            self.document.execute(command)
            self.show_error("")
        except (ValueError, KeyError, IndexError) as e:
            self.show_error(str(e).strip("'\""))
            self._agent = None
            self.refresh()

    def _on_class(self, _index: int) -> None:
        if self._filling or self._agent is None:
            return
        cls = self.class_box.currentText()
        if cls != self._agent.cls:
            self._execute(C.SetAgentClass(self._agent.id, cls=cls))

    def _on_asset(self, *_args) -> None:
        if self._filling or self._agent is None:
            return
        ref = self.asset_box.currentText().strip()
        if ref and ref != self._agent.asset:
            self._execute(C.SetAgentAsset(self._agent.id, asset=ref))

    def _on_size(self) -> None:
        if self._filling or self._agent is None:
            return
        size = tuple(round(sb.value(), 4) for sb in self.size_boxes)
        if any(abs(a - b) > 1e-4 for a, b in zip(size, self._agent.size)):
            self._execute(C.SetAgentSize(self._agent.id, size=size))

    def _on_reset_size(self) -> None:
        if self._agent is not None:
            self._execute(C.SetAgentSize(self._agent.id, size=default_size(self._agent.cls)))

    def _insert_waypoint(self) -> None:
        agent = self._agent
        if agent is None:
            return
        t = self.document.current_time
        traj = agent.trajectory
        if not traj.covers(t) or len(traj.points) < 2:
            self.show_error(f"the playhead ({t:.2f} s) is outside {agent.id}'s time range; "
                            "use Ctrl+click on the map to append waypoints")
            return
        self._execute(C.AddWaypoint(agent.id, waypoint=split_point(traj, t)))

    def _delete_waypoint(self) -> None:
        sel = self.document.selected_waypoint
        if self._agent is None or sel is None or sel[0] != self._agent.id:
            self.show_error("select a waypoint (a row, or a handle on the map) first")
            return
        self._execute(C.DeleteWaypoint(sel[0], index=sel[1]))
