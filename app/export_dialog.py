"""File > Export… (nuScenes dataset or OpenSCENARIO, with progress) and File > Batch… for the open scenario.

    handle = install_export(window)     # adds the two actions to window.file_menu (before Quit)

The export runs on a worker thread (`FunctionWorker`): the scenario is an immutable snapshot taken
when Export is pressed, the GL renderer and the world model live and die on that thread, progress
comes back as queued signals, and Cancel sets the engine's cancel token (checked between frames).
The UI is never touched from the worker.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QApplication, QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QProgressBar, QSpinBox, QStackedWidget,
                               QVBoxLayout, QWidget)

from app.export_common import SIZES, _folder_row  # noqa: F401  (SIZES: old import path)
from app.workers import FunctionWorker

SETTINGS_PREFIX = "export/"


class ExportDialog(QDialog):
    """Format choice, options, Export / Cancel, a progress bar and a status line."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window_ = window
        self.setWindowTitle("Export")
        self.worker: FunctionWorker | None = None
        self.cancel_token = None
        self.result = None
        self.error: str | None = None
        settings = QSettings()

        self.format = QComboBox(self)
        self.format.addItem("nuScenes dataset (clip + labels)", "nuscenes")
        self.format.addItem("OpenSCENARIO (.xosc + OpenDRIVE)", "openscenario")
        self.out_dir = QLineEdit(str(settings.value(SETTINGS_PREFIX + "out_dir", str(Path.home() / "cornercase_export"))), self)

        ns = QWidget(self)
        f = QFormLayout(ns)
        self.size = QComboBox(ns)
        self.size.addItems(SIZES)
        self.frames = QSpinBox(ns)
        self.frames.setRange(0, 100000)
        self.frames.setSpecialValueText("all")
        self.backend = QComboBox(ns)
        self.backend.addItems(["naive", "diffusion"])
        self.model_dir = QLineEdit(ns)
        self.model_dir.setPlaceholderText("local model folder (diffusion backend)")
        self.seed = QSpinBox(ns)
        self.seed.setRange(-1, 2**31 - 1)
        self.seed.setSpecialValueText("scenario's seed")
        self.seed.setValue(-1)
        self.version = QLineEdit("v1.0-cornercase", ns)
        self.videos = QCheckBox("per-camera and panorama MP4s", ns)
        self.videos.setChecked(True)
        self.guidance = QCheckBox("guidance maps", ns)
        self.guidance.setChecked(True)
        self.lidar_stub = QCheckBox("empty LIDAR_TOP records (for converters that need them)", ns)
        for label, w in (("Image size", self.size), ("Frames", self.frames), ("World model", self.backend),
                         ("Model folder", self.model_dir), ("Seed", self.seed), ("Table version", self.version)):
            f.addRow(label, w)
        f.addRow(self.videos)
        f.addRow(self.guidance)
        f.addRow(self.lidar_stub)

        osc = QWidget(self)
        g = QFormLayout(osc)
        self.osc_version = QComboBox(osc)
        for m in (0, 1, 2, 3):
            self.osc_version.addItem(f"OpenSCENARIO 1.{m}", m)
        self.osc_version.setCurrentIndex(2)
        self.write_road = QCheckBox("write the road as OpenDRIVE where it can be expressed", osc)
        self.write_road.setChecked(True)
        g.addRow("Version", self.osc_version)
        g.addRow(self.write_road)

        self.pages = QStackedWidget(self)
        self.pages.addWidget(ns)
        self.pages.addWidget(osc)
        self.format.currentIndexChanged.connect(self.pages.setCurrentIndex)

        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(self)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.AcceptRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.Close)
        self.export_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(lambda: self.cancel() if self.running else self.reject())  # explicit: no question

        top = QFormLayout()
        top.addRow("Format", self.format)
        top.addRow("Output folder", _folder_row(self.out_dir, self, "Export into"))
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.pages)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addWidget(self.buttons)

    # ---- running ----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.worker is not None and self.worker.isRunning()

    def _job(self) -> Callable:
        scenario = self.window_.document.scenario  # immutable snapshot
        out = self.out_dir.text().strip()
        if self.format.currentData() == "openscenario":
            minor, road = self.osc_version.currentData(), self.write_road.isChecked()

            def run_osc(report):
                from engine.export.openscenario import export_openscenario

                report(0, 1, "writing OpenSCENARIO")
                res = export_openscenario(scenario, out, minor_version=minor, write_road=road)
                report(1, 1, "done")
                return res
            return run_osc

        from engine.export.clip_source import GenerationOptions
        from engine.export.nuscenes_writer import NuScenesOptions
        from engine.export.pipeline import ExportSettings
        from engine.worldmodel.base import CancelToken

        from engine.config import parse_size

        w, h = parse_size(self.size.currentText())
        settings = ExportSettings(
            size=(w, h), frames=self.frames.value() or None,
            generation=GenerationOptions(self.backend.currentText(), self.model_dir.text().strip() or None,
                                         seed=None if self.seed.value() < 0 else self.seed.value()),
            nuscenes=NuScenesOptions(version=self.version.text().strip() or "v1.0-cornercase",
                                     lidar_stub=self.lidar_stub.isChecked()),
            videos=self.videos.isChecked(), guidance=self.guidance.isChecked())
        self.cancel_token = token = CancelToken()

        def run_ns(report):
            from engine.export.pipeline import export_nuscenes

            return export_nuscenes(scenario, out, settings,
                                   lambda p: report(p.done, p.total, f"{p.stage}: {p.message}"), token)
        return run_ns

    def start(self) -> None:
        """Export with the current options on a worker thread."""
        if self.running:
            return
        if not self.out_dir.text().strip():
            self.status.setText("choose an output folder")
            return
        try:
            job = self._job()
        except ValueError as e:
            self.status.setText(str(e))
            return
        QSettings().setValue(SETTINGS_PREFIX + "out_dir", self.out_dir.text().strip())
        self.result, self.error = None, None
        self.worker = FunctionWorker(job, self)
        self.worker.progress.connect(self._on_progress)
        self.worker.succeeded.connect(self._on_done)
        self.worker.failed.connect(self._on_failed)
        self.export_button.setEnabled(False)
        self.cancel_button.setText("Cancel")
        self.status.setText("starting…")
        self.progress.setRange(0, 0)
        self.worker.start()

    def _on_progress(self, done: int, total: int, message: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.status.setText(message)

    def _finish(self) -> None:
        self.export_button.setEnabled(True)
        self.cancel_button.setText("Close")
        self.cancel_token = None

    def _on_done(self, result) -> None:
        self.result = result
        self._finish()
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        if hasattr(result, "scene_name"):
            text = (f"Scene '{result.scene_name}' added to {result.dataroot} ({result.num_scenes} scene(s), "
                    f"version {result.version}).")
        else:
            text = f"Wrote {result.xosc_path}" + (f" and {result.xodr_path.name}" if result.xodr_path else "") + \
                f" ({result.road_note})."
        self.status.setText(text)
        if hasattr(self.window_, "show_message"):
            self.window_.show_message(text)

    def _on_failed(self, message: str, details: str) -> None:
        self.error = message
        self._finish()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status.setText("Export cancelled; nothing was added." if message == "cancelled"
                            else f"Export failed, earlier output is unchanged: {message}")

    def cancel(self) -> None:
        if self.cancel_token is not None:
            self.cancel_token.cancel()
            self.status.setText("cancelling…")

    def reject(self) -> None:  # noqa: D401 (Qt name)
        """Esc / Close / the window's X: never stops running work without asking."""
        if self.running:
            if self.confirm_stop():
                self.cancel()
            return
        super().reject()

    def confirm_stop(self) -> bool:
        """Ask whether to cancel the export that is running (Esc must not do it unasked)."""
        from PySide6.QtWidgets import QMessageBox

        r = QMessageBox.question(self, "Cancel the export?", "The export is still running. Cancel it?\n"
                                 "What is finished is kept.", QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return r == QMessageBox.Yes

    def shutdown(self, timeout_ms: int = 60000) -> None:
        """Cancel a running export and wait for its thread (on window close)."""
        if self.running:
            self.cancel()
            self.worker.wait(timeout_ms)


class ExportActions:
    """What `install_export` added: the actions and (lazily) the dialogs."""

    def __init__(self, window) -> None:
        self.window = window
        self.export_dialog: ExportDialog | None = None
        self.batch_dialog = None
        self.export_action = QAction("&Export…", window)
        self.export_action.setShortcut(QKeySequence("Ctrl+E"))
        self.export_action.setStatusTip("Export the scenario as a nuScenes scene (clip + labels) or as OpenSCENARIO")
        self.export_action.triggered.connect(lambda _=False: self.open_export())
        self.batch_action = QAction("&Batch…", window)
        self.batch_action.setShortcut(QKeySequence("Ctrl+Shift+B"))
        self.batch_action.setStatusTip("Run a sweep of variants of the open scenario and export each")
        self.batch_action.triggered.connect(lambda _=False: self.open_batch())

    def open_export(self) -> ExportDialog:
        if self.export_dialog is None:
            self.export_dialog = ExportDialog(self.window)
        self.export_dialog.show()
        self.export_dialog.raise_()
        return self.export_dialog

    def open_batch(self):
        from app.batch_dialog import BatchDialog

        if self.batch_dialog is None:
            self.batch_dialog = BatchDialog(self.window)
        self.batch_dialog.refresh_parameters()
        self.batch_dialog.show()
        self.batch_dialog.raise_()
        return self.batch_dialog

    def shutdown(self) -> None:
        for d in (self.export_dialog, self.batch_dialog):
            if d is not None:
                d.shutdown()


def install_export(window) -> ExportActions:
    """Add File > Export… and File > Batch… to `window.file_menu` (before Quit when there is one)."""
    actions = ExportActions(window)
    menu = window.file_menu
    quit_action = getattr(window, "action_quit", None)
    if quit_action is not None and quit_action in menu.actions():
        sep = menu.insertSeparator(quit_action)
        menu.insertAction(sep, actions.export_action)
        menu.insertAction(sep, actions.batch_action)
    else:
        menu.addSeparator()
        menu.addAction(actions.export_action)
        menu.addAction(actions.batch_action)
    window.export_actions = actions
    QApplication.instance().aboutToQuit.connect(actions.shutdown)  # let a running export finish or cancel
    return actions
