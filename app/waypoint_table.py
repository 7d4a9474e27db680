"""Table of one agent's waypoints (t, x, y, yaw, v); editing a cell is one undoable command.

Rows are numbered from 1 (the vertical header), as every message about a waypoint is."""
from __future__ import annotations

import math

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from editor.commands import SetWaypoint
from editor.document import Document
from engine.scenario.model import Agent

COLUMNS = (("t", "t [s]"), ("x", "x [m]"), ("y", "y [m]"), ("yaw", "yaw [°]"), ("v", "v [m/s]"))


class WaypointTable(QTableWidget):
    """Rows are waypoints. The row selection follows `Document.selected_waypoint` and sets it."""

    message = Signal(str)

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.document = document
        self._agent: Agent | None = None
        self._filling = False
        self.setHorizontalHeaderLabels([c[1] for c in COLUMNS])
        self.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.verticalHeader().setDefaultSectionSize(22)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.setAlternatingRowColors(True)
        self.cellChanged.connect(self._on_cell_changed)
        self.itemSelectionChanged.connect(self._on_row_selected)

    def set_document(self, document: Document) -> None:
        self.document = document
        self.set_agent(None)

    def set_agent(self, agent: Agent | None) -> None:
        self._agent = agent
        self._filling = True
        try:
            points = agent.trajectory.points if agent is not None else ()
            self.setRowCount(len(points))
            for r, p in enumerate(points):
                vals = (p.t, p.x, p.y, math.degrees(p.yaw), p.v)
                for c, v in enumerate(vals):
                    text = "" if v is None else (f"{v:.3f}" if c == 0 else f"{v:.2f}")
                    item = self.item(r, c)
                    if item is None:
                        item = QTableWidgetItem()
                        item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                        self.setItem(r, c, item)
                    if item.text() != text:   # a live refresh while dragging rewrites only what changed
                        item.setText(text)
                    flags = Qt.ItemIsSelectable | Qt.ItemIsEnabled
                    if agent is not None and not agent.locked:
                        flags |= Qt.ItemIsEditable
                    if item.flags() != flags:
                        item.setFlags(flags)
            self.set_active(self.document.selected_waypoint)
        finally:
            self._filling = False

    def set_active(self, sel: tuple[str, int] | None) -> None:
        """Highlight the row of the waypoint in use without moving the current cell's column.

        `selectRow` would make column 0 current (typing then edits t, not the cell clicked) and a
        scroll on every change moves the row under the mouse between the two clicks of a double
        click, so the row is selected through the selection model, the current index keeps its
        column, and the view scrolls only when the row is out of sight.
        """
        was = self._filling
        self._filling = True
        try:
            if self._agent is not None and sel is not None and sel[0] == self._agent.id and sel[1] < self.rowCount():
                row = sel[1]
                cur = self.currentIndex()
                col = cur.column() if cur.isValid() else 0
                if not (cur.isValid() and cur.row() == row):
                    self.selectionModel().setCurrentIndex(self.model().index(row, col), QItemSelectionModel.NoUpdate)
                sm = self.selectionModel()
                selected_rows = {i.row() for i in sm.selectedRows()}
                if selected_rows != {row}:
                    sm.select(self.model().index(row, 0),
                              QItemSelectionModel.ClearAndSelect | QItemSelectionModel.Rows)
                if not self.viewport().rect().intersects(self.visualRect(self.model().index(row, col))):
                    self.scrollTo(self.model().index(row, col))
            else:
                self.clearSelection()
        finally:
            self._filling = was

    def _on_row_selected(self) -> None:
        if self._filling or self._agent is None:
            return
        rows = {i.row() for i in self.selectedIndexes()}
        self.document.select_waypoint(self._agent.id, min(rows) if rows else None)

    def _on_cell_changed(self, row: int, col: int) -> None:
        if self._filling or self._agent is None:
            return
        key = COLUMNS[col][0]
        text = self.item(row, col).text().strip()
        try:
            if key == "v" and text == "":
                value = None
            else:
                value = float(text)
                if key == "yaw":
                    value = math.radians(value)
            self.document.execute(SetWaypoint(self._agent.id, index=row, values={key: value}))
        except ValueError as e:
            msg = f"waypoint {row + 1}: {COLUMNS[col][1]} must be a number" if "could not convert" in str(e) else str(e)
            self.message.emit(msg)
            self.set_agent(self._agent)  # put the old value back
