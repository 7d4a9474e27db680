"""The manoeuvre strip: one row per agent, one block per manoeuvre of its sequence, on the clip's time
axis, with the playhead. Drag a block sideways to start that manoeuvre earlier or later (one undoable
RetimeManeuver on release); click a row to select the agent; the clip length box sets the clip
duration (SetClipDuration, undoable). Triggered manoeuvres show their condition (TTC, distance ...).
"""
from __future__ import annotations

import zlib

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (QDoubleSpinBox, QFrame, QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QVBoxLayout,
                               QWidget)

from editor.document import Document
from editor.maneuver_commands import MAX_DURATION, MIN_DURATION, RetimeManeuver, SetClipDuration

ROW_H = 22
LABEL_W = 92
PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f"]


def trigger_text(trigger: dict) -> str:
    """A short label for a manoeuvre's start condition ('' for plain timing)."""
    kind = trigger.get("kind", "time")
    if kind == "ttc":
        return f"TTC<{trigger.get('value'):g}s"
    if kind == "distance":
        return f"d<{trigger.get('value'):g}m"
    if kind == "reach":
        return f"{trigger.get('other')}@x={trigger.get('x'):g}"
    if kind == "signal":
        return f"{trigger.get('signal')}={trigger.get('state')}"
    return ""


class ManeuverLanes(QWidget):
    """The painted rows. `agent_clicked(id)`; drags end in `retimed(agent_id, index, new_start)`."""

    agent_clicked = Signal(str)
    retimed = Signal(str, int, float)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[tuple[str, list]] = []
        self.t_end = 1.0
        self.t_now = 0.0
        self.selected: tuple[str, ...] = ()
        self._drag: tuple[str, int, float, float] | None = None   # agent, index, start, press x
        self._drag_dx = 0.0
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)

    def set_rows(self, rows, t_end: float) -> None:
        if rows and rows == self.rows and max(t_end, 1e-3) == self.t_end:
            return   # e.g. a drag step that moved a path without changing its manoeuvres: no repaint
        self.rows = rows
        self.t_end = max(t_end, 1e-3)
        self.setMinimumHeight(ROW_H * max(len(rows), 1) + 18)
        self.update()

    def _x(self, t: float) -> float:
        return LABEL_W + (self.width() - LABEL_W - 8) * min(max(t / self.t_end, 0.0), 1.0)

    def _t(self, x: float) -> float:
        return (x - LABEL_W) / max(self.width() - LABEL_W - 8, 1) * self.t_end

    def block_at(self, pos: QPointF) -> tuple[str, int] | None:
        row = int((pos.y() - 2) // ROW_H)
        if not 0 <= row < len(self.rows):
            return None
        aid, mans = self.rows[row]
        t = self._t(pos.x())
        for i, m in enumerate(mans):
            end = mans[i + 1].start if i + 1 < len(mans) else self.t_end
            if m.start - 1e-6 <= t <= max(end, m.start + 0.05):
                return aid, i
        return aid, -1

    def block_rect(self, row: int, index: int) -> QRectF:
        """The on-screen rectangle of one manoeuvre block (for tests and painting)."""
        mans = self.rows[row][1]
        m = mans[index]
        end = mans[index + 1].start if index + 1 < len(mans) else (m.end or self.t_end)
        x0, x1 = self._x(m.start), self._x(max(end, m.start + 0.05))
        return QRectF(x0, 2 + row * ROW_H, max(x1 - x0, 3.0), ROW_H - 4)

    def paintEvent(self, _e) -> None:  # noqa: N802 (Qt name)
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        f = QFont(p.font())
        f.setPointSizeF(7.5)
        p.setFont(f)
        p.fillRect(self.rect(), QColor("#202327"))
        for r, (aid, mans) in enumerate(self.rows):
            y = 2 + r * ROW_H
            if aid in self.selected:
                p.fillRect(QRectF(0, y, self.width(), ROW_H - 1), QColor("#2f3a46"))
            p.setPen(QColor("#d8dde3"))
            p.drawText(QRectF(4, y, LABEL_W - 8, ROW_H - 4), Qt.AlignVCenter | Qt.AlignLeft, aid)
            for i, m in enumerate(mans):
                rect = self.block_rect(r, i)
                if self._drag and self._drag[0] == aid and self._drag[1] == i:
                    rect.translate(self._drag_dx, 0)
                col = QColor(PALETTE[zlib.crc32(m.function.encode()) % len(PALETTE)])
                col.setAlpha(210)
                p.setPen(QPen(QColor("#101214"), 1))
                p.setBrush(col)
                p.drawRoundedRect(rect, 3, 3)
                p.setPen(QColor("#101214"))
                text = m.function + (f" [{trigger_text(dict(m.trigger))}]" if trigger_text(dict(m.trigger)) else "")
                p.drawText(rect.adjusted(3, 0, -2, 0), Qt.AlignVCenter | Qt.AlignLeft, text)
        x = self._x(self.t_now)
        p.setPen(QPen(QColor("#ff5c5c"), 1.5))
        p.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        p.setPen(QColor("#8b949e"))
        for k in range(0, int(self.t_end) + 1, max(1, int(self.t_end // 8) or 1)):
            p.drawText(QPointF(self._x(k) - 3, self.height() - 3), f"{k}s")
        p.end()

    def mousePressEvent(self, e) -> None:  # noqa: N802
        hit = self.block_at(e.position())
        if hit is None:
            return
        aid, idx = hit
        self.agent_clicked.emit(aid)
        if idx >= 1:
            start = self.rows[[r[0] for r in self.rows].index(aid)][1][idx].start
            self._drag = (aid, idx, start, e.position().x())
            self._drag_dx = 0.0

    def mouseMoveEvent(self, e) -> None:  # noqa: N802
        if self._drag:
            self._drag_dx = e.position().x() - self._drag[3]
            self.update()

    def mouseReleaseEvent(self, e) -> None:  # noqa: N802
        if not self._drag:
            return
        aid, idx, start, x0 = self._drag
        self._drag = None
        dt = (e.position().x() - x0) / max(self.width() - LABEL_W - 8, 1) * self.t_end
        self.update()
        if abs(dt) > 1e-3:
            self.retimed.emit(aid, idx, round(start + dt, 3))


class ManeuverStrip(QWidget):
    """The strip with its header (clip length); follows the document."""

    message = Signal(str)

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self._sequences: dict[str, tuple] = {}   # agent id -> (agent object, its manoeuvre list)
        self.lanes = ManeuverLanes(self)
        self.duration = QDoubleSpinBox()
        self.duration.setRange(MIN_DURATION, MAX_DURATION)
        self.duration.setDecimals(2)
        self.duration.setSingleStep(0.5)
        self.duration.setSuffix(" s")
        self.duration.setToolTip("Clip length (1-60 s); longer clips extend moving agents at their last speed")
        self.duration.setKeyboardTracking(False)
        head = QHBoxLayout()
        head.addWidget(QLabel("Manoeuvres"))
        head.addStretch(1)
        head.addWidget(QLabel("Clip length"))
        head.addWidget(self.duration)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        lay.addLayout(head)
        # the rows scroll: a scenario with many agents must not push the canvas and preview off the window
        scroll = QScrollArea()
        scroll.setWidget(self.lanes)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.scroll = scroll
        lay.addWidget(scroll, 1)
        self.duration.valueChanged.connect(self._set_duration)
        self.lanes.retimed.connect(self._retime)
        self.lanes.agent_clicked.connect(lambda aid: self.document and self.document.select((aid,)))
        self.set_document(document)

    def set_document(self, document: Document) -> None:
        if self.document is not None:
            for name, fn in (("scenario_changed", self._sync), ("time_changed", self._time),
                             ("selection_changed", self._selection)):
                getattr(self.document.events, name).disconnect(fn)   # a no-op when not connected
        self.document = document
        document.events.scenario_changed.connect(self._sync)
        document.events.time_changed.connect(self._time)
        document.events.selection_changed.connect(self._selection)
        self._sync(document.scenario)
        self._time(document.current_time)   # the playhead and highlight follow the new document at once
        self._selection(document.selection)

    def _sync(self, scenario) -> None:
        rows = [(a.id, self._sequence(a)) for a in scenario.all_agents]
        live = {a.id for a in scenario.all_agents}
        for gone in set(self._sequences) - live:
            del self._sequences[gone]
        self.lanes.set_rows(rows, float(scenario.frame_times()[-1]) if scenario.num_frames > 1 else scenario.duration)
        self.duration.blockSignals(True)
        self.duration.setValue(scenario.duration)
        self.duration.blockSignals(False)

    def _sequence(self, agent) -> list:
        """The agent's manoeuvres, rebuilt only when the agent object changed (a drag step changes one)."""
        cached = self._sequences.get(agent.id)
        if cached is None or cached[0] is not agent:
            cached = (agent, list(agent.maneuver_sequence()))
            self._sequences[agent.id] = cached
        return cached[1]

    def _time(self, t: float) -> None:
        self.lanes.t_now = float(t)
        self.lanes.update()

    def _selection(self, ids) -> None:
        self.lanes.selected = tuple(ids)
        self.lanes.update()

    def _execute(self, command) -> None:
        try:
            self.document.execute(command)
        except ValueError as e:
            self.message.emit(str(e))

    def _set_duration(self, value: float) -> None:
        if self.document is not None and abs(value - self.document.scenario.duration) > 1e-9:
            self._execute(SetClipDuration(float(value)))

    def _retime(self, agent_id: str, index: int, new_start: float) -> None:
        self._execute(RetimeManeuver(agent_id, index, new_start))
