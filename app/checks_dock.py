"""The Checks dock: every finding of the latest engine.checks report, filterable; a click acts on it.

Columns: severity, agents, time range, and the finding's sentence. Declared intents that the checks
confirm (``intent_met``: a near miss by design, a planned contact ...) are shown as "confirmed" in
green, not as errors. Clicking a row selects its agents on the map and moves the playhead to the
start of its time range (`finding_activated(finding)` is emitted too, e.g. to frame the agents).
The list follows `CheckRunner.report_ready`, which fires after every edit and live while dragging.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWidget)

from app.elided_label import ElidedLabel
from app import theme
from editor.document import Document

CONFIRMED = QColor("#7ee081")
SEVERITY_FILTERS = ("All", "Errors", "Errors and warnings", "Confirmed intents", "Info")
COLUMNS = ("Severity", "Agents", "Time [s]", "Finding")
AGENTS_COLUMN_WIDTH = 110   # px


def severity_text(finding) -> tuple[str, QColor]:
    """What the severity column says for a finding, and its colour."""
    if finding.code == "intent_met":
        return "✔ confirmed", CONFIRMED
    sev = int(finding.severity)
    return {2: "✖ error", 1: "⚠ warning"}.get(sev, "ℹ info"), theme.severity_color(sev)


def time_text(finding) -> str:
    if finding.t_end - finding.t_start < 1e-9:
        return f"{finding.t_start:.2f}"
    return f"{finding.t_start:.2f}–{finding.t_end:.2f}"


def passes(finding, severity_filter: str, text: str) -> bool:
    """Whether a finding is shown under a severity filter (one of SEVERITY_FILTERS) and a search text
    (case-insensitive, matched against the code, the sentence and the agent ids)."""
    sev = int(finding.severity)
    confirmed = finding.code == "intent_met"
    if severity_filter == "Errors" and sev < 2:
        return False
    if severity_filter == "Errors and warnings" and sev < 1:
        return False
    if severity_filter == "Confirmed intents" and not confirmed:
        return False
    if severity_filter == "Info" and (sev != 0 or confirmed):
        return False
    if text:
        hay = " ".join((finding.code, finding.message, " ".join(finding.agents))).lower()
        return all(word in hay for word in text.lower().split())
    return True


class ChecksDock(QWidget):
    """Findings list with a severity filter and a search box, bound to a Document."""

    finding_activated = Signal(object)

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.report = None
        self.stale = False
        self.severity = QComboBox()
        self.severity.addItems(SEVERITY_FILTERS)
        self.severity.setToolTip("Which findings to list")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter: agent, check or words…")
        self.search.setClearButtonEnabled(True)
        self.summary = ElidedLabel("checks: waiting for the first run…")
        self.summary.setObjectName("panelHint")
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(False)
        self.tree.setWordWrap(True)   # the whole sentence, on as many lines as it needs
        h = self.tree.header()
        h.setSectionResizeMode(0, QHeaderView.ResizeToContents)
        # the agents column wraps at a fixed width (the user can drag it wider): a finding between two
        # pedestrians must not squeeze the sentence, the most useful column
        h.setSectionResizeMode(1, QHeaderView.Interactive)
        self.tree.setColumnWidth(1, AGENTS_COLUMN_WIDTH)
        h.setSectionResizeMode(2, QHeaderView.ResizeToContents)
        h.setSectionResizeMode(3, QHeaderView.Stretch)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.severity)
        top.addWidget(self.search, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(3)
        lay.addLayout(top)
        lay.addWidget(self.summary)
        lay.addWidget(self.tree, 1)
        self.detail = QLabel("Click a finding to select its agents and go to its time.")
        self.detail.setWordWrap(True)
        self.detail.setObjectName("panelHint")
        self.detail.setTextInteractionFlags(Qt.TextSelectableByMouse)
        lay.addWidget(self.detail)
        self.severity.currentTextChanged.connect(lambda _t: self._fill())
        self.search.textChanged.connect(lambda _t: self._fill())
        self.tree.itemClicked.connect(self._on_clicked)
        self.tree.itemActivated.connect(self._on_clicked)

    def set_document(self, document: Document) -> None:
        self.document = document
        self.set_report(None)

    def set_report(self, report, stale: bool = False) -> None:
        """Show a CheckReport (None clears); `stale`: it is about an earlier state (a drag goes on)."""
        self.report = report
        self.stale = stale
        self._fill()

    def findings_shown(self) -> list:
        """The findings in the list, top to bottom."""
        return [self.tree.topLevelItem(i).data(0, Qt.UserRole) for i in range(self.tree.topLevelItemCount())]

    def item_for(self, index: int) -> QTreeWidgetItem:
        return self.tree.topLevelItem(index)

    def _fill(self) -> None:
        self.tree.clear()
        r = self.report
        if r is None:
            self.summary.setText("checks: waiting for the first run…")
            return
        sev_filter, text = self.severity.currentText(), self.search.text().strip()
        shown = [f for f in r.findings if passes(f, sev_filter, text)]
        # errors first, then warnings, confirmed intents, info; in time order within each
        order = {2: 0, 1: 1}
        shown.sort(key=lambda f: (order.get(int(f.severity), 2 if f.code == "intent_met" else 3), f.t_start))
        for f in shown:
            label, color = severity_text(f)
            item = QTreeWidgetItem([label, ", ".join(f.agents), time_text(f), f"{f.message}"])
            item.setForeground(0, color)
            item.setData(0, Qt.UserRole, f)
            item.setToolTip(3, f"{f.code} ({'confirmed intent' if f.code == 'intent_met' else f.severity.label})\n"
                               f"{f.message}\nClick: select {', '.join(f.agents) or 'nothing'} and go to "
                               f"{f.t_start:.2f} s")
            self.tree.addTopLevelItem(item)
        n_err = sum(1 for f in r.findings if int(f.severity) == 2)
        n_warn = sum(1 for f in r.findings if int(f.severity) == 1)
        n_ok = sum(1 for f in r.findings if f.code == "intent_met")
        parts = [f"{n_err} error{'s' if n_err != 1 else ''}", f"{n_warn} warning{'s' if n_warn != 1 else ''}",
                 f"{n_ok} intent{'s' if n_ok != 1 else ''} confirmed"]
        hidden = len(r.findings) - len(shown)
        self.summary.setText(("live while dragging · " if self.stale else "") + " · ".join(parts)
                             + (f" · {hidden} hidden by the filter" if hidden else ""))

    def _on_clicked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        f = item.data(0, Qt.UserRole)
        if f is None:
            return
        doc = self.document
        valid = set(doc.scenario.agent_ids()) | {"ego"}
        ids = tuple(a for a in f.agents if a in valid)
        if ids:
            doc.select(ids)
        doc.set_time(f.t_start)
        label, _color = severity_text(f)
        self.detail.setText(f"{label} · {f.code} · {time_text(f)} s · {', '.join(f.agents)}\n{f.message}")
        self.finding_activated.emit(f)
