"""Runs engine.checks after every burst of edits, and live while dragging, on a worker thread, and hands
the report to the views."""
from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from app.workers import LatestOnlyWorker, preload
from editor.document import Document
from engine.scenario.model import Scenario

LIVE_INTERVAL_MS = 400   # while dragging, the checks run at most this often (they share the GIL with the UI)


def _check(_state, scenario: Scenario):
    from engine.checks import check_scenario

    return check_scenario(scenario)


class CheckRunner(QObject):
    """`report_ready(report)` after each check of the document's scenario (the newest edit wins).

    Checks run when an edit settles (`edit_finished`) and, throttled to `LIVE_INTERVAL_MS`, while a
    drag is in progress, so the findings follow the hand. `report` is the last engine.checks
    CheckReport (None until the first one arrives); `report_scenario` the scenario it is about;
    `report_is_current` whether that is still the document's scenario. `failed(message)` when the
    checks raise.
    """

    report_ready = Signal(object)
    failed = Signal(str)

    def __init__(self, document: Document, parent=None, start: bool = True) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self.report = None
        self.report_scenario: Scenario | None = None
        self._requests: dict[int, tuple[Document, Scenario]] = {}
        self._shown_rid = 0
        self.worker = None
        if start:
            self.start()
        self._live = QTimer(self)
        self._live.setSingleShot(True)
        self._live.setInterval(LIVE_INTERVAL_MS)
        self._live.timeout.connect(self._run_live)
        self.set_document(document)

    def start(self) -> None:
        """Start the checks worker (the window defers this, and its imports, until it is shown)."""
        if self.worker is not None:
            return
        preload("shapely", "shapely.geometry", "shapely.ops", "engine.checks")
        self.worker = LatestOnlyWorker(_check, name="checks", parent=self)
        self.worker.result_ready.connect(self._on_result)
        self.worker.failed.connect(lambda _rid, msg: self.failed.emit(msg.splitlines()[0]))
        if self.document is not None:
            self.run()

    def set_document(self, document: Document) -> None:
        if self.document is not None:
            self.document.events.edit_finished.disconnect(self.run)
            self.document.events.scenario_changed.disconnect(self._on_scenario)
        self.document = document
        document.events.edit_finished.connect(self.run)
        document.events.scenario_changed.connect(self._on_scenario)
        self.report = None
        self.report_scenario = None
        self.run()

    @property
    def report_is_current(self) -> bool:
        return self.report_scenario is not None and self.report_scenario is self.document.scenario

    def _on_scenario(self, _scenario) -> None:
        if self.document.is_dragging and not self._live.isActive():
            self._live.start()

    def _run_live(self) -> None:
        if self.document.is_dragging:
            self.run()

    def run(self, *_args) -> None:
        """Check the current scenario (asynchronously)."""
        if self.worker is None:
            return
        s = self.document.scenario
        rid = self.worker.submit(s)
        self._requests = {k: v for k, v in self._requests.items() if k > self._shown_rid}
        self._requests[rid] = (self.document, s)

    def _on_result(self, rid: int, report, _seconds: float) -> None:
        entry = self._requests.pop(rid, None)
        if entry is None or rid < self._shown_rid:
            return
        doc, s = entry
        if doc is not self.document:
            return  # another document's
        if s is not self.document.scenario and not self.document.is_dragging and rid != self.worker.latest_id:
            return  # an older state after the edit settled: the check of the settled state is on its way
        self._shown_rid = rid
        self.report = report
        self.report_scenario = s
        self.report_ready.emit(report)

    def stop(self) -> None:
        self._live.stop()
        if self.worker is not None:
            self.worker.stop()
