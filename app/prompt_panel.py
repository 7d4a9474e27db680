"""Prompt panel: a prompt, the interpreter choice, the generated script (highlighted, editable), Apply.

Interpreting (a language model may take seconds) and running the script both happen on a worker
thread, so the window never freezes; the script itself runs in the bounded executor's worker process
(`engine.sandbox.executor`: time, memory and output limits). While either runs the panel is in a
"running" state with the elapsed time and a Cancel button: Cancel kills the script's process (and
abandons an LLM request) at once. Apply is one undoable edit (`editor.commands.ApplyPromptResult`).
Errors are shown inline, with the script line marked when it is known.
"""
from __future__ import annotations

import logging
import threading
import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QTextCursor, QTextFormat
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QTextEdit, QVBoxLayout,
                               QWidget)

from app import prompt_backend as backend
from app.syntax import PythonHighlighter
from app.theme import monospace_font
from app.ui_state import UiState
from app.workers import LatestOnlyWorker, preload
from editor.commands import ApplyPromptResult
from editor.document import Document

log = logging.getLogger(__name__)


APPLY_MODES = {"Add its agents to this scene": "add", "Replace the scene": "replace"}
EXAMPLE = "a truck cuts in from the left at night while a pedestrian crosses"


def _work(_state, job: tuple):
    """Worker-thread job: ("interpret", prompt, key, scenario, cancel) -> script; ("run", script, scenario,
    prompt, cancel) -> Scenario. Everything runs under `cancel_scope(cancel)`: setting the event kills
    the script's process and abandons an LLM request."""
    from engine.sandbox.executor import cancel_scope

    kind, cancel = job[0], job[-1]
    with cancel_scope(cancel):
        if kind == "interpret":
            _, prompt, key, scenario, _c = job
            return kind, backend.interpret(prompt, key, scenario)
        _, script, scenario, prompt, _c = job
        return kind, backend.run_script(script, scenario, prompt)


class PromptPanel(QWidget):
    """`message(str)` for the status bar; `applied(str)` with the command label after an Apply."""

    message = Signal(str)
    applied = Signal(str)

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self.prompt = QPlainTextEdit()
        self.prompt.setPlaceholderText(f"Describe the corner case, e.g. “{EXAMPLE}”")
        self.prompt.setMaximumHeight(74)
        self.interpreter = QComboBox()
        self.generate = QPushButton("Generate script")
        self.generate.setDefault(True)
        self.script = QPlainTextEdit()
        self.script.setFont(monospace_font())
        self.script.setLineWrapMode(QPlainTextEdit.NoWrap)
        self.script.setPlaceholderText("The generated script appears here; you may edit it before applying.")
        self.script.setTabStopDistance(4 * self.script.fontMetrics().horizontalAdvance(" "))
        self.highlighter = PythonHighlighter(self.script.document(), backend.library_function_names())
        self.mode = QComboBox()
        self.mode.addItems(list(APPLY_MODES))
        self.apply = QPushButton("Apply")
        self.apply.setToolTip("Run the script in the sandbox and apply its agents (one undo step)")
        self.cancel = QPushButton("Cancel")
        self.cancel.setToolTip("Stop the running script (its process is killed) or the language model request")
        self.cancel.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.status.hide()

        row1 = QHBoxLayout()
        row1.addWidget(QLabel("Interpreter"))
        row1.addWidget(self.interpreter, 1)
        row1.addWidget(self.generate)
        row2 = QHBoxLayout()
        row2.addWidget(self.mode, 1)
        row2.addWidget(self.apply)
        row2.addWidget(self.cancel)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(QLabel("Prompt"))
        lay.addWidget(self.prompt)
        lay.addLayout(row1)
        lay.addWidget(QLabel("Script (Python over the trajectory library; editable)"))
        lay.addWidget(self.script, 1)
        lay.addLayout(row2)
        lay.addWidget(self.status)

        preload("shapely", "shapely.geometry", "engine.prompting", "engine.sandbox", "engine.library")
        self.worker = LatestOnlyWorker(_work, name="prompt", parent=self)
        self.worker.result_ready.connect(self._on_result)
        self.worker.failed.connect(self._on_failed)
        self._pending: dict[int, tuple] = {}
        self._cancel_event: threading.Event | None = None
        self._busy_text = ""
        self._busy_since = 0.0
        self.elapsed = QTimer(self)
        self.elapsed.setInterval(250)
        self.elapsed.timeout.connect(self._show_elapsed)
        self.generate.clicked.connect(self.generate_script)
        self.apply.clicked.connect(self.apply_script)
        self.cancel.clicked.connect(self.cancel_run)
        try:                                          # a warm sandbox worker: the first Apply is fast too
            from engine.sandbox.executor import default_executor

            default_executor().prewarm(background=True)
        except (ImportError, OSError, RuntimeError):   # best effort (no thread, no interpreter): the first run is slower
            log.debug("prewarming the script sandbox failed", exc_info=True)
        self.script.textChanged.connect(self._clear_error_marks)
        self._fill_interpreters()
        self.set_document(document)

    # ---- state --------------------------------------------------------------------------
    def set_document(self, document: Document) -> None:
        self.document = document
        s = document.scenario
        if s.prompt and not self.prompt.toPlainText().strip():
            self.prompt.setPlainText(s.prompt)
        if s.script and not self.script.toPlainText().strip():
            self.script.setPlainText(s.script)

    def _fill_interpreters(self) -> None:
        self.interpreter.clear()
        saved = UiState().text("prompt/interpreter", "")
        for choice in backend.interpreter_choices():
            self.interpreter.addItem(choice.label, choice.key)
            i = self.interpreter.count() - 1
            if not choice.available:
                item = self.interpreter.model().item(i)
                item.setEnabled(False)
                item.setToolTip(choice.reason)
            elif choice.key == saved:
                self.interpreter.setCurrentIndex(i)
        self.interpreter.currentIndexChanged.connect(
            lambda _i: UiState().set_text("prompt/interpreter", self.interpreter.currentData() or ""))

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def set_mode(self, mode: str) -> None:
        """'add' or 'replace'."""
        for label, m in APPLY_MODES.items():
            if m == mode:
                self.mode.setCurrentText(label)
                return
        raise ValueError(f"unknown apply mode {mode!r}")

    def _set_busy(self, text: str | None) -> None:
        """The "running" state: buttons off, Cancel shown, the elapsed time counting (None ends it)."""
        on = text is not None
        self.generate.setEnabled(not on)
        self.apply.setEnabled(not on)
        self.cancel.setVisible(on)
        self.cancel.setEnabled(on)
        if on:
            self._busy_text, self._busy_since = text, time.monotonic()
            self.elapsed.start()
            self.show_status(text, "hint")
        else:
            self.elapsed.stop()
            self._cancel_event = None

    def _show_elapsed(self) -> None:
        if self._pending:
            self.show_status(f"{self._busy_text} {time.monotonic() - self._busy_since:.0f} s (Cancel stops it)",
                             "hint")

    def _new_cancel(self) -> threading.Event:
        if self._cancel_event is not None:
            self._cancel_event.set()              # a newer request replaces the running one
        self._cancel_event = threading.Event()
        return self._cancel_event

    def cancel_run(self) -> None:
        """Stop what is running: the script's process is killed; its late result is ignored."""
        if not self._pending:
            return
        if self._cancel_event is not None:
            self._cancel_event.set()
        kind = next(iter(self._pending.values()))[0]
        self._pending = {}
        self._set_busy(None)
        self.show_status("Cancelled: " + ("the script's process was stopped; nothing was applied." if kind == "run"
                                          else "the interpreter was stopped."), "hint")
        self.message.emit("Cancelled")

    def show_status(self, text: str, kind: str = "error") -> None:
        """Inline status under the script: kind 'error', 'ok' or 'hint'."""
        self.status.setObjectName({"error": "errorLabel", "ok": "okLabel"}.get(kind, "panelHint"))
        self.status.setStyleSheet({"error": "color:#ff6961", "ok": "color:#7ee081"}.get(kind, "color:#8b929c"))
        self.status.setText(text)
        self.status.setVisible(bool(text))

    # ---- actions ------------------------------------------------------------------------
    def generate_script(self) -> int:
        """Interpret the prompt on the worker thread; returns the request id (0 when refused)."""
        text = self.prompt.toPlainText().strip()
        if not text:
            self.show_status("Type a prompt first.")
            return 0
        key = self.interpreter.currentData()
        rid = self.worker.submit(("interpret", text, key, self.document.scenario, self._new_cancel()))
        self._pending = {rid: ("interpret", text)}
        self._set_busy(f"Interpreting with {self.interpreter.currentText()}…")
        return rid

    def apply_script(self) -> int:
        """Run the script in the sandbox on the worker thread; Apply happens when it returns."""
        script = self.script.toPlainText()
        if not script.strip():
            self.show_status("There is no script to apply: generate one or type it.")
            return 0
        prompt = self.prompt.toPlainText().strip() or None
        rid = self.worker.submit(("run", script, self.document.scenario, prompt, self._new_cancel()))
        self._pending = {rid: ("run", script, prompt, APPLY_MODES[self.mode.currentText()])}
        self._set_busy("Running the script in the sandbox…")
        return rid

    def _on_result(self, rid: int, result, seconds: float) -> None:
        job = self._pending.pop(rid, None)
        if job is None:
            return
        self._set_busy(None)
        kind, value = result
        if kind == "interpret":
            self.script.setPlainText(value.script)
            msg = f"Script generated in {seconds:.1f} s. Review or edit it, then Apply."
            if value.not_understood:
                msg += "\nNot understood: " + ", ".join(f"“{w}”" for w in value.not_understood)
                self.show_status(msg, "hint")
            else:
                self.show_status(msg + ("\n" + "; ".join(value.notes) if value.notes else ""), "ok")
            return
        _, script, prompt, mode = job
        cmd = ApplyPromptResult(value.scenario, mode=mode, prompt=prompt, script=script)
        try:
            self.document.execute(cmd)
        except (ValueError, KeyError) as e:
            self.show_status(f"Could not apply: {e}")
            return
        n = len(value.scenario.agents)
        msg = (f"Applied: {n} agent{'s' if n != 1 else ''} ({'added' if mode == 'add' else 'new scene'}). "
               "Ctrl+Z undoes it in one step.")
        if value.findings:
            self.show_status(msg + "\nDoes not match the prompt yet: " + " ".join(value.findings), "hint")
        else:
            self.show_status(msg, "ok")
        self.message.emit(cmd.label)
        self.applied.emit(cmd.label)

    def _on_failed(self, rid: int, message: str) -> None:
        job = self._pending.pop(rid, None)
        if job is None:
            return
        self._set_busy(None)
        first = message.split("\nTraceback")[0].strip()
        line = backend.error_line(message)
        if line is not None:
            self.mark_error_line(line)
        self.show_status(("Interpreter failed: " if job[0] == "interpret" else "Script error: ") + first)

    # ---- error marks --------------------------------------------------------------------
    def mark_error_line(self, line: int) -> None:
        """Underline script line `line` (1-based) in red."""
        block = self.script.document().findBlockByNumber(max(line - 1, 0))
        if not block.isValid():
            return
        sel = QTextEdit.ExtraSelection()
        sel.format.setBackground(QColor(255, 69, 58, 60))
        sel.format.setProperty(QTextFormat.FullWidthSelection, True)
        sel.cursor = QTextCursor(block)
        self.script.setExtraSelections([sel])
        self.script.setTextCursor(QTextCursor(block))

    def _clear_error_marks(self) -> None:
        if self.script.extraSelections():
            self.script.setExtraSelections([])

    def shutdown(self) -> None:
        if self._cancel_event is not None:
            self._cancel_event.set()
        self.worker.stop(timeout_ms=2000)
