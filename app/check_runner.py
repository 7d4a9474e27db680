"""Runs engine.checks after every burst of edits, on a worker thread, and hands the report to the views."""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.workers import LatestOnlyWorker, preload
from editor.document import Document
from engine.scenario.model import Scenario


def _check(_state, scenario: Scenario):
    from engine.checks import check_scenario

    return check_scenario(scenario)


class CheckRunner(QObject):
    """`report_ready(report)` after each check of the document's scenario (the newest edit wins).

    `report` is the last engine.checks CheckReport (None until the first one arrives);
    `failed(message)` when the checks raise.
    """

    report_ready = Signal(object)
    failed = Signal(str)

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self.report = None
        self.report_scenario: Scenario | None = None
        self._requests: dict[int, Scenario] = {}
        preload("shapely", "shapely.geometry", "shapely.ops", "engine.checks")
        self.worker = LatestOnlyWorker(_check, name="checks", parent=self)
        self.worker.result_ready.connect(self._on_result)
        self.worker.failed.connect(lambda _rid, msg: self.failed.emit(msg.splitlines()[0]))
        self.set_document(document)

    def set_document(self, document: Document) -> None:
        if self.document is not None:
            self.document.events.edit_finished.disconnect(self.run)
        self.document = document
        document.events.edit_finished.connect(self.run)
        self.report = None
        self.run()

    def run(self, *_args) -> None:
        """Check the current scenario (asynchronously)."""
        s = self.document.scenario
        rid = self.worker.submit(s)
        self._requests = {rid: s}

    def _on_result(self, rid: int, report, _seconds: float) -> None:
        s = self._requests.get(rid)
        if s is None or s is not self.document.scenario:
            return  # an older scenario, or another document: a newer check is on its way
        self.report = report
        self.report_scenario = s
        self.report_ready.emit(report)

    def stop(self) -> None:
        self.worker.stop()
