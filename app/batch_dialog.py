"""File > Batch…: a sweep over the open scenario (seeds x parameter values), run off the UI thread.

The dialog writes the open scenario as ``base_scenario.json`` and the spec as ``batch_spec.json``
into the output folder, then runs `engine.batch.run_batch` on a worker thread. The same folder can
be run again from the command line (``python main.py batch DIR/batch_spec.json -o DIR``) or here:
finished variants are skipped. Stop lets the running variants finish and keeps them.
"""
from __future__ import annotations

import ast
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QListWidget, QProgressBar, QPushButton, QSpinBox, QTableWidget,
                               QVBoxLayout, QWidget)

from app.export_common import SIZES, _folder_row
from app.workers import FunctionWorker

EXECUTORS = (("this machine (worker processes)", "local"), ("in this process, one at a time", "inline"),
             ("Ray: local instance", "ray-local"), ("Ray: cluster address…", "ray"))


class BatchStopped(Exception):
    """Raised from the progress callback when the user pressed Stop."""


def parse_values(text: str) -> list:
    """'clear, rain' -> ['clear', 'rain']; '0.8, 1, 1.2' -> [0.8, 1, 1.2]; '[1, 2], [3, 4]' -> lists."""
    text = text.strip()
    if not text:
        return []
    try:
        value = ast.literal_eval(f"[{text}]")
        if all(isinstance(v, (int, float, str, bool, list)) or v is None for v in value):
            return list(value)
    except (ValueError, SyntaxError):
        pass
    return [t.strip().strip("'\"") for t in text.split(",") if t.strip()]


def sweep_parameters(scenario) -> list[str]:
    """Sweep keys that make sense for a scenario: environment, agent edits, arguments of its script's calls."""
    keys = ["environment.weather", "environment.time_of_day"]
    for agent in scenario.all_agents:
        keys += [f"agent.{agent.id}.{edit}" for edit in ("speed_scale", "delay", "shift_x", "shift_y")]
    if scenario.script:
        try:
            from engine.library import library_functions

            funcs = library_functions()
            called = {n.func.id for n in ast.walk(ast.parse(scenario.script))
                      if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
            for name in sorted(called & set(funcs)):
                keys += [f"{name}.{p}" for p in funcs[name].signature.parameters]
        except (SyntaxError, ImportError):
            pass
    return keys


class BatchDialog(QDialog):
    """Seeds, sweep rows (parameter, values), formats, where to run; Run / Stop; progress and a result list."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window_ = window
        self.setWindowTitle("Batch")
        self.worker: FunctionWorker | None = None
        self.report = None
        self.error: str | None = None
        self._stop = False
        settings = QSettings()

        self.out_dir = QLineEdit(str(settings.value("batch/out_dir", str(Path.home() / "cornercase_batch"))), self)
        self.name = QLineEdit(self)
        self.seed_start = QSpinBox(self)
        self.seed_start.setRange(0, 2**31 - 1)
        self.seed_count = QSpinBox(self)
        self.seed_count.setRange(1, 10000)
        seeds = QWidget(self)
        sl = QHBoxLayout(seeds)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.addWidget(QLabel("from", seeds))
        sl.addWidget(self.seed_start)
        sl.addWidget(QLabel("count", seeds))
        sl.addWidget(self.seed_count)

        self.sweep = QTableWidget(0, 2, self)
        self.sweep.setHorizontalHeaderLabels(["Parameter", "Values (comma-separated)"])
        self.sweep.horizontalHeader().setStretchLastSection(True)
        add = QPushButton("Add parameter", self)
        add.clicked.connect(lambda: self.add_sweep_row())
        remove = QPushButton("Remove", self)
        remove.clicked.connect(self._remove_row)
        rows = QWidget(self)
        rl = QHBoxLayout(rows)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(add)
        rl.addWidget(remove)
        rl.addStretch(1)

        self.nuscenes = QCheckBox("nuScenes scenes", self)
        self.nuscenes.setChecked(True)
        self.openscenario = QCheckBox("OpenSCENARIO", self)
        self.openscenario.setChecked(True)
        fmts = QWidget(self)
        fl = QHBoxLayout(fmts)
        fl.setContentsMargins(0, 0, 0, 0)
        fl.addWidget(self.nuscenes)
        fl.addWidget(self.openscenario)
        self.size = QComboBox(self)
        self.size.addItems(SIZES)
        self.frames = QSpinBox(self)
        self.frames.setRange(0, 100000)
        self.frames.setSpecialValueText("all")
        self.executor = QComboBox(self)
        for label, key in EXECUTORS:
            self.executor.addItem(label, key)
        self.ray_address = QLineEdit("auto", self)
        self.ray_address.setEnabled(False)
        self.executor.currentIndexChanged.connect(lambda _: self.ray_address.setEnabled(self.executor.currentData() == "ray"))

        form = QFormLayout()
        form.addRow("Output folder", _folder_row(self.out_dir, self, "Batch output folder"))
        form.addRow("Batch name", self.name)
        form.addRow("Seeds", seeds)
        form.addRow("Sweep", self.sweep)
        form.addRow("", rows)
        form.addRow("Export", fmts)
        form.addRow("Image size", self.size)
        form.addRow("Frames", self.frames)
        form.addRow("Run on", self.executor)
        form.addRow("Ray address", self.ray_address)

        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        self.results = QListWidget(self)
        self.buttons = QDialogButtonBox(self)
        self.run_button = self.buttons.addButton("Run", QDialogButtonBox.AcceptRole)
        self.stop_button = self.buttons.addButton("Stop", QDialogButtonBox.ActionRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.Close)
        self.stop_button.setEnabled(False)
        self.run_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.close_button.clicked.connect(self.reject)

        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addWidget(self.results, 1)
        lay.addWidget(self.buttons)
        self.refresh_parameters()

    # ---- sweep rows ---------------------------------------------------------------------
    def refresh_parameters(self) -> None:
        """Offer the open scenario's parameters in every row's combo box."""
        scenario = self.window_.document.scenario
        self._params = sweep_parameters(scenario)
        if not self.name.text():
            self.name.setText(f"{scenario.name}_sweep")
        for r in range(self.sweep.rowCount()):
            combo = self.sweep.cellWidget(r, 0)
            current = combo.currentText()
            combo.clear()
            combo.addItems(self._params)
            combo.setCurrentText(current)

    def add_sweep_row(self, parameter: str = "environment.weather", values: str = "clear, rain") -> int:
        r = self.sweep.rowCount()
        self.sweep.insertRow(r)
        combo = QComboBox(self.sweep)
        combo.setEditable(True)
        combo.addItems(self._params)
        combo.setCurrentText(parameter)
        self.sweep.setCellWidget(r, 0, combo)
        self.sweep.setCellWidget(r, 1, QLineEdit(values, self.sweep))
        return r

    def _remove_row(self) -> None:
        r = self.sweep.currentRow()
        self.sweep.removeRow(r if r >= 0 else self.sweep.rowCount() - 1)

    # ---- spec ---------------------------------------------------------------------------
    def spec_document(self) -> dict:
        """The batch spec the dialog describes (base: base_scenario.json in the output folder)."""
        sweep = {}
        for r in range(self.sweep.rowCount()):
            key = self.sweep.cellWidget(r, 0).currentText().strip()
            values = parse_values(self.sweep.cellWidget(r, 1).text())
            if key:
                sweep[key] = values
        formats = [f for f, box in (("nuscenes", self.nuscenes), ("openscenario", self.openscenario)) if box.isChecked()]
        from engine.config import parse_size

        w, h = parse_size(self.size.currentText())
        return {
            "name": self.name.text().strip() or "batch", "base": "base_scenario.json",
            "seeds": {"start": self.seed_start.value(), "count": self.seed_count.value()},
            "sweep": sweep,
            "export": {"formats": formats, "size": [w, h], "frames": self.frames.value() or None},
        }

    # ---- running ------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.worker is not None and self.worker.isRunning()

    def start(self) -> None:
        if self.running:
            return
        from engine.batch.runner import BatchOptions
        from engine.batch.spec import BatchSpecError, parse_spec
        from engine.batch.variants import expand_variants
        from engine.fileio import atomic_write_json
        from engine.scenario.io import save_scenario

        out = Path(self.out_dir.text().strip() or ".")
        doc = self.spec_document()
        try:
            out.mkdir(parents=True, exist_ok=True)
            save_scenario(self.window_.document.scenario, out / "base_scenario.json")
            spec = parse_spec(doc, out, str(out / "batch_spec.json"))
            n = len(expand_variants(spec))
            atomic_write_json(out / "batch_spec.json", doc)
        except (BatchSpecError, OSError, ValueError) as e:
            self.status.setText(str(e))
            return
        key = self.executor.currentData()
        options = BatchOptions(executor="ray" if key.startswith("ray") else key,
                               ray_address="local" if key == "ray-local" else (self.ray_address.text().strip() or "auto"))
        QSettings().setValue("batch/out_dir", str(out))
        self._stop = False
        self.report, self.error = None, None
        self.results.clear()

        def job(report):
            from engine.batch.runner import run_batch

            def on_progress(p):
                last = p.last
                report(p.finished, p.to_run, f"{last.id} {last.status}" + (f": {last.error}" if last.error else ""))
                if self._stop:
                    raise BatchStopped()
            try:
                return run_batch(spec, out, options, on_progress)
            except BatchStopped:
                return None

        self.worker = FunctionWorker(job, self)
        self.worker.progress.connect(self._on_progress)
        self.worker.succeeded.connect(self._on_done)
        self.worker.failed.connect(self._on_failed)
        self.run_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.status.setText(f"running {n} variant(s) into {out}…")
        self.progress.setRange(0, 0)
        self.worker.start()

    def _on_progress(self, done: int, total: int, message: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.results.addItem(message)
        self.status.setText(f"{done}/{total}: {message}")

    def _finish(self) -> None:
        self.run_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def _on_done(self, report) -> None:
        self._finish()
        self.report = report
        if report is None:
            self.status.setText("Stopped. Finished variants are kept; Run again to continue.")
            return
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.status.setText(f"{report.done} exported, {report.filtered} filtered, {report.failed} failed, "
                            f"{report.skipped} already done; dataset in {report.dataset_dir}")

    def _on_failed(self, message: str, details: str) -> None:
        self._finish()
        self.error = message
        self.status.setText(f"Batch failed: {message}")

    def stop(self) -> None:
        """Stop after the variants that are running now (they are kept)."""
        self._stop = True
        self.status.setText("stopping after the running variant(s)…")

    def reject(self) -> None:  # noqa: D401 (Qt name)
        """Esc / Close / the window's X: never stops running work without asking."""
        if self.running:
            if self.confirm_stop():
                self.stop()
            return
        super().reject()

    def confirm_stop(self) -> bool:
        """Ask whether to stop the batch that is running (Esc must not do it unasked)."""
        from PySide6.QtWidgets import QMessageBox

        r = QMessageBox.question(self, "Stop the batch?", "The batch is still running. Stop it?\n"
                                 "What is finished is kept.", QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return r == QMessageBox.Yes

    def shutdown(self, timeout_ms: int = 120000) -> None:
        if self.running:
            self.stop()
            self.worker.wait(timeout_ms)

