"""The Generate panel and its wiring into the main window.

    panel = install_generation(window)   # adds the "Generate" and "Generated video" docks and a Generate menu

Generate runs a `GenerationJob` on a background thread: the progress bar shows the step and the
frame, the player shows intermediate previews and then the clip; Cancel stops the job before the
backend's next step; errors (out of memory, missing model, bad folder, a crashing backend) open a
non-modal dialog while editing goes on. Only one generation runs at a time.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QApplication,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.elided_label import ElidedLabel
from app.generate_settings import GenerateSettingsPanel, GenerationOptions
from app.generate_worker import BackendFactory, ConditionsFactory, GenerationJob, cancel_all
from app.player_pane import PlayerPane
from editor.document import Document


class ModelSummary(QGroupBox):
    """What the chosen model folder is (engine's `model check` summary, read from configs and safetensors
    headers, no weights loaded) and one conditioning-scale setting per ControlNet of a world-model folder."""

    def __init__(self, parent=None) -> None:
        super().__init__("Model", parent)
        self.text = QPlainTextEdit("no model folder chosen")
        self.text.setReadOnly(True)
        self.text.setMinimumHeight(170)
        self.text.setToolTip("what the folder is, as `main.py model check DIR` prints it")
        mono = QFontDatabase.systemFont(QFontDatabase.FixedFont)
        mono.setPointSizeF(max(7.0, mono.pointSizeF() - 1.5))
        self.text.setFont(mono)
        self.scales_box = QWidget()
        self.scales_form = QFormLayout(self.scales_box)
        self.scales_form.setContentsMargins(0, 0, 0, 0)
        self.scale_spins: dict[str, QDoubleSpinBox] = {}
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.text)
        lay.addWidget(self.scales_box)
        self._folder: str | None = None
        self.ok = False

    def show_folder(self, backend: str, folder: str | None, scales: dict | None = None) -> None:
        """Summarise `folder` for `backend` (naive: nothing); rebuild the scale settings when the folder changes."""
        from engine.worldmodel.diffusion.inspect_folder import describe

        if backend == "naive" or not folder:
            self.text.setPlainText("the naive backend needs no model" if backend == "naive" else "no model folder chosen")
            self._set_scales([], scales)
            self.ok = backend == "naive"
            self._folder = None
            return
        report = describe(folder)
        lines = [" ".join(ln.split()) for ln in report.lines]  # compact: the panel is narrow
        if report.problems:
            lines.append("cannot be used: " + "; ".join(report.problems))
        self.text.setPlainText("\n".join(lines) if lines else "")
        self.ok = not report.problems
        controls = []
        if report.kind == "world-model":
            import json
            from pathlib import Path

            try:
                controls = json.loads((Path(folder).expanduser() / "model_index.json").read_text()).get("controls") or []
            except (OSError, ValueError):
                controls = []
        if folder != self._folder or [c.get("name") for c in controls] != list(self.scale_spins):
            self._set_scales(controls, scales)
        self._folder = folder

    def summary(self) -> str:
        """The summary text shown."""
        return self.text.toPlainText()

    def _set_scales(self, controls: list, overrides: dict | None) -> None:
        while self.scales_form.rowCount():
            self.scales_form.removeRow(0)
        self.scale_spins = {}
        for c in controls:
            name = str(c.get("name"))
            spin = QDoubleSpinBox()
            spin.setRange(0.0, 3.0)
            spin.setSingleStep(0.1)
            spin.setDecimals(2)
            spin.setValue(float((overrides or {}).get(name, c.get("scale", 1.0))))
            spin.setToolTip(f"conditioning scale of the {name} ControlNet (0: off)")
            self.scale_spins[name] = spin
            self.scales_form.addRow(f"{name} scale", spin)
        self.scales_box.setVisible(bool(controls))

    def scales(self) -> dict[str, float]:
        """{ControlNet name: scale} as set in the panel (empty when the folder has no ControlNets)."""
        return {n: float(s.value()) for n, s in self.scale_spins.items()}


class GenerationPanel(QWidget):
    """Settings, Generate / Cancel, progress; drives a PlayerPane.

    state_changed(running: bool); outcome(kind: "done" | "failed" | "cancelled", message).
    """

    state_changed = Signal(bool)
    outcome = Signal(str, str)

    def __init__(self, document: Callable[[], Document] | Document, player: PlayerPane, parent=None,
                 backend_factory: BackendFactory | None = None, conditions_factory: ConditionsFactory | None = None,
                 options: GenerationOptions | None = None, persist: bool = True) -> None:
        super().__init__(parent)
        self._document = document if callable(document) else (lambda: document)
        self.player = player
        self.backend_factory = backend_factory
        self.conditions_factory = conditions_factory
        self.job: GenerationJob | None = None
        self.last_error: tuple[str, str] | None = None
        self.error_box: QMessageBox | None = None
        self._running = False

        self.settings_panel = GenerateSettingsPanel(options, persist=persist)
        self.model_summary = ModelSummary()
        self.generate_button = QPushButton("Generate")
        self.generate_button.setToolTip("Generate the six-camera video of the scenario (Ctrl+G)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the generation before its next step")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)
        self.progress_label = ElidedLabel("idle")
        self.progress_label.setObjectName("panelHint")

        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button, 1)
        buttons.addWidget(self.cancel_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.settings_panel)
        lay.addWidget(self.model_summary)
        lay.addLayout(buttons)
        lay.addWidget(self.progress)
        lay.addWidget(self.progress_label)
        lay.addStretch(1)
        self.generate_button.clicked.connect(self.generate)
        self.cancel_button.clicked.connect(self.cancel)
        self.settings_panel.changed.connect(lambda _opts: self.refresh_model_summary())
        self.refresh_model_summary()

    def refresh_model_summary(self) -> None:
        """Show what the chosen model folder is (called whenever the settings change)."""
        try:
            opts = self.settings_panel.options()
        except ValueError:
            return
        self.model_summary.show_folder(opts.backend, opts.model_dir,
                                       dict(opts.backend_options.get("controlnet_scales") or {}))

    @property
    def document(self) -> Document:
        return self._document()

    @property
    def running(self) -> bool:
        """True from Generate until the job's thread has finished and the UI has taken note."""
        return self._running

    # ---- actions -------------------------------------------------------------------------
    def generate(self) -> bool:
        """Start a generation of the current scenario; False (with a dialog) when it cannot start."""
        if self.running:
            return False
        scenario = self.document.scenario
        try:
            options = self.settings_panel.options()
            scales = self.model_summary.scales()
            if options.backend == "diffusion" and scales:
                options = options.replace(backend_options={**options.backend_options, "controlnet_scales": scales})
            options.settings(scenario.seed)
            options.image_size()
        except ValueError as e:
            self._show_error("Check the generation settings", str(e), "")
            return False
        self.last_error = None
        job = GenerationJob(scenario, options, self.backend_factory, self.conditions_factory)
        job.progress.connect(self._on_progress)
        job.preview.connect(self.player.show_preview)
        job.succeeded.connect(self._on_succeeded)
        job.failed.connect(self._on_failed)
        job.cancelled.connect(self._on_cancelled)
        job.finished.connect(self._on_finished)
        self.job = job
        self.progress.setValue(0)
        self.progress_label.setText(f"starting {options.backend}…")
        self._set_running(True)
        job.start()
        return True

    def cancel(self) -> None:
        if self.running and self.job is not None:
            self.job.cancel()
            self.progress_label.setText("cancelling…")

    def shutdown(self, wait_ms: int = 10000) -> None:
        """Cancel a running generation and wait for its thread (window closing)."""
        if self.job is not None:
            self.job.cancel()
            self.job.wait(wait_ms)

    def reset_progress(self) -> None:
        """Back to "idle" (another scenario was opened: "done: 33 frames" belonged to the old one); a running
        job keeps its progress."""
        if not self.running:
            self.progress.setValue(0)
            self.progress_label.setText("idle")

    # ---- job signals (UI thread) -----------------------------------------------------------
    def _on_progress(self, fraction: float, frame: int, num_frames: int, step: int, num_steps: int) -> None:
        self.progress.setValue(int(round(fraction * 1000)))
        steps = f" · step {step}/{num_steps}" if num_steps > 1 else ""
        self.progress_label.setText(f"frame {frame + 1}/{num_frames}{steps} · {fraction * 100:.0f}%")

    def _on_succeeded(self, clip) -> None:
        self.progress.setValue(1000)
        self.progress_label.setText(f"done: {clip.num_frames} frames")
        self.player.add_clip(clip)
        self.outcome.emit("done", "")

    def _on_failed(self, title: str, message: str, details: str) -> None:
        self.progress_label.setText(f"failed: {message.splitlines()[0] if message else title}")
        self._show_error(title, message, details)
        self.outcome.emit("failed", message)

    def _on_cancelled(self) -> None:
        self.progress_label.setText("cancelled")
        self.outcome.emit("cancelled", "")

    def _on_finished(self) -> None:
        self._set_running(False)

    def _set_running(self, running: bool) -> None:
        self._running = running
        self.generate_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.settings_panel.setEnabled(not running)
        self.state_changed.emit(running)

    def _show_error(self, title: str, message: str, details: str) -> None:
        """A non-modal warning: the user reads it while editing goes on."""
        self.last_error = (title, message)
        box = QMessageBox(QMessageBox.Warning, title, message, QMessageBox.Ok, self.window())
        if details:
            box.setDetailedText(details)
        box.setModal(False)
        box.setWindowModality(Qt.NonModal)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.show()
        self.error_box = box


class _Shutdown(QObject):
    """Cancels the running generation when the application quits."""

    def __init__(self, panel: GenerationPanel) -> None:
        super().__init__(panel)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(lambda: cancel_all())


def install_generation(window, backend_factory: BackendFactory | None = None,
                       conditions_factory: ConditionsFactory | None = None,
                       options: GenerationOptions | None = None, persist: bool = True) -> GenerationPanel:
    """Add generation to a MainWindow: a "Generate" dock (settings, buttons, progress), a "Generated video"
    dock (the player) and a Generate menu (Generate Ctrl+G, Cancel Ctrl+., Play video). Returns the panel,
    also kept as ``window.generation``. Uses only the window's public `add_dock`, menu bar, `document`
    and (when present) `document_replaced`, `show_message` and `help_menu`.
    """
    player = PlayerPane(window.document)
    panel = GenerationPanel(lambda: window.document, player, backend_factory=backend_factory,
                            conditions_factory=conditions_factory, options=options, persist=persist)
    window.generation = panel
    window.generation_dock = window.add_dock("Generate", panel, Qt.RightDockWidgetArea)
    window.player_dock = window.add_dock("Generated video", player, Qt.BottomDockWidgetArea)

    menu = window.menuBar().addMenu("&Generate")
    help_menu = getattr(window, "help_menu", None)
    if help_menu is not None:
        window.menuBar().insertMenu(help_menu.menuAction(), menu)
    panel.action_generate = QAction("&Generate video", window)
    panel.action_generate.setShortcut(QKeySequence("Ctrl+G"))
    panel.action_generate.triggered.connect(lambda _=False: panel.generate())
    panel.action_cancel = QAction("&Cancel generation", window)
    panel.action_cancel.setShortcut(QKeySequence("Ctrl+."))
    panel.action_cancel.setEnabled(False)
    panel.action_cancel.triggered.connect(lambda _=False: panel.cancel())
    panel.action_play = QAction("&Play generated video", window)
    panel.action_play.triggered.connect(lambda _=False: player.toggle_play())
    for a in (panel.action_generate, panel.action_cancel, panel.action_play):
        menu.addAction(a)
    window.generate_menu = menu

    def on_state(running: bool) -> None:
        panel.action_generate.setEnabled(not running)
        panel.action_cancel.setEnabled(running)

    panel.state_changed.connect(on_state)
    if hasattr(window, "show_message"):
        panel.outcome.connect(lambda kind, msg: window.show_message(
            {"done": "Generation finished", "cancelled": "Generation cancelled"}.get(kind, f"Generation failed: {msg}")))
    panel.outcome.connect(lambda kind, msg: window.player_dock.raise_() if kind == "done" else None)
    if hasattr(window, "document_replaced"):
        window.document_replaced.connect(player.set_document)
        window.document_replaced.connect(lambda _doc: panel.reset_progress())
    job_ref = panel  # the window's destruction cancels a running job (its thread outlives the widgets)
    window.destroyed.connect(lambda *_: job_ref.job.cancel() if job_ref.job is not None else None)
    _Shutdown(panel)
    return panel
