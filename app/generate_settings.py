"""Generation settings: backend, model folder, steps, guidance scale, seed, device, size; kept in QSettings.

The value is the engine's typed `engine.config.GenerationConfig` (`GenerationOptions` is its name
here, kept for callers); `load_options` / `save_options` map it onto QSettings keys under the
``generation/`` group (one key per field, as before: seed -1 = the scenario's, model_dir "" = none,
size "448x256", backend_options as JSON text); `GenerateSettingsPanel` edits it.
"""
from __future__ import annotations

import json

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLineEdit, QSpinBox, QToolButton, QWidget)

from app.wrap_label import WrapLabel
from engine.config import DEVICE_NAMES, GenerationConfig
from engine.worldmodel import BACKEND_NAMES

GenerationOptions = GenerationConfig
DEVICES = DEVICE_NAMES
SIZES = ("448x256", "224x128", "896x512", "1600x900")
GROUP = "generation"


def _to_store(config: GenerationConfig) -> dict[str, object]:
    """QSettings values of a config (plain str / int / float)."""
    out: dict[str, object] = {}
    for k, v in config.model_dump(mode="json").items():
        if k == "seed":
            v = -1 if v is None else v
        elif k == "model_dir":
            v = v or ""
        elif k == "frames":
            v = 0 if v is None else v
        elif k == "backend_options":
            v = json.dumps(v)
        out[k] = v
    return out


def _from_store(name: str, raw: object) -> object:
    if name == "frames" and str(raw) in ("0", ""):
        return None
    if name == "backend_options" and isinstance(raw, str):
        return json.loads(raw)
    return raw


def load_options(store: QSettings | None = None) -> GenerationConfig:
    """Options from QSettings; a missing, unreadable or invalid value falls back to its default (field by field)."""
    store = store or QSettings()
    config = GenerationConfig()
    store.beginGroup(GROUP)
    try:
        for name in GenerationConfig.model_fields:
            raw = store.value(name, None)
            if raw is None:
                continue
            try:
                config = config.replace(**{name: _from_store(name, raw)})
            except (TypeError, ValueError):
                pass
    finally:
        store.endGroup()
    if config.backend not in BACKEND_NAMES:
        config = config.replace(backend=GenerationConfig().backend)
    return config


def save_options(options: GenerationConfig, store: QSettings | None = None) -> None:
    store = store or QSettings()
    store.beginGroup(GROUP)
    try:
        for k, v in _to_store(options).items():
            store.setValue(k, v)
    finally:
        store.endGroup()
    store.sync()


class GenerateSettingsPanel(QWidget):
    """Form for GenerationOptions; `changed(GenerationOptions)` after every edit (also saved to QSettings)."""

    changed = Signal(object)

    def __init__(self, options: GenerationConfig | None = None, parent=None, persist: bool = True) -> None:
        super().__init__(parent)
        self._persist = persist
        self.backend = QComboBox()
        self.backend.addItems(BACKEND_NAMES)
        self.backend.setToolTip("naive: the synthetic scene in the scenario's environment (no model needed)\n"
                                "diffusion: a diffusers world-model pipeline from a local folder")
        self.model_dir = QLineEdit()
        self.model_dir.setPlaceholderText("pipeline folder (model_index.json)")
        browse = QToolButton(text="…")
        browse.setToolTip("Choose the model folder")
        browse.clicked.connect(self._browse)
        model_row = QHBoxLayout()
        model_row.setContentsMargins(0, 0, 0, 0)
        model_row.addWidget(self.model_dir, 1)
        model_row.addWidget(browse)
        model_box = QWidget()
        model_box.setLayout(model_row)
        self.steps = QSpinBox()
        self.steps.setRange(1, 1000)
        self.guidance = QDoubleSpinBox()
        self.guidance.setRange(0.0, 30.0)
        self.guidance.setSingleStep(0.5)
        self.guidance.setToolTip("classifier-free guidance scale (1 or less: off)")
        self.use_scenario_seed = QCheckBox("scenario's")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2 ** 31 - 1)
        seed_row = QHBoxLayout()
        seed_row.setContentsMargins(0, 0, 0, 0)
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.use_scenario_seed)
        seed_box = QWidget()
        seed_box.setLayout(seed_row)
        self.device = QComboBox()
        self.device.addItems(DEVICES)
        self.size = QComboBox()
        self.size.setEditable(True)
        self.size.addItems(SIZES)
        self.size.setToolTip("image size per camera, width x height")
        self.hint = WrapLabel()   # wraps, and is never laid out shorter than its lines (it was cut)
        self.hint.setObjectName("panelHint")

        form = QFormLayout(self)
        form.setContentsMargins(4, 4, 4, 4)
        form.addRow("Backend", self.backend)
        form.addRow("Model", model_box)
        form.addRow("Steps", self.steps)
        form.addRow("Guidance", self.guidance)
        form.addRow("Seed", seed_box)
        form.addRow("Device", self.device)
        form.addRow("Size", self.size)
        form.addRow(self.hint)
        self.set_options(options or (load_options() if persist else GenerationConfig()))
        for sig in (self.backend.currentTextChanged, self.model_dir.editingFinished, self.steps.valueChanged,
                    self.guidance.valueChanged, self.seed.valueChanged, self.use_scenario_seed.toggled,
                    self.device.currentTextChanged, self.size.currentTextChanged):
            sig.connect(self._emit)

    def options(self) -> GenerationConfig:
        """The config the form shows; ValueError names a bad field (e.g. a malformed size typed in)."""
        return self._extra.replace(
            backend=self.backend.currentText(), model_dir=self.model_dir.text().strip(), steps=self.steps.value(),
            guidance_scale=float(self.guidance.value()),
            seed=None if self.use_scenario_seed.isChecked() else self.seed.value(),
            device=self.device.currentText(), size=self.size.currentText().strip())

    def set_options(self, options: GenerationConfig) -> None:
        self._extra = GenerationConfig(frames=options.frames, dtype=options.dtype,
                                       backend_options=dict(options.backend_options))
        widgets = (self.backend, self.model_dir, self.steps, self.guidance, self.seed, self.use_scenario_seed,
                   self.device, self.size)
        for w in widgets:
            w.blockSignals(True)
        self.backend.setCurrentText(options.backend)
        self.model_dir.setText(options.model_dir or "")
        self.steps.setValue(options.steps)
        self.guidance.setValue(options.guidance_scale)
        self.use_scenario_seed.setChecked(options.seed is None)
        self.seed.setValue(max(options.seed or 0, 0))
        self.device.setCurrentText(options.device)
        self.size.setCurrentText(str(options.size))
        for w in widgets:
            w.blockSignals(False)
        self._update_enabled()

    def _update_enabled(self) -> None:
        diffusion = self.backend.currentText() != "naive"  # every other backend needs a model folder
        for w in (self.model_dir, self.steps, self.guidance):
            w.setEnabled(diffusion)
        self.seed.setEnabled(not self.use_scenario_seed.isChecked())
        if diffusion and not self.model_dir.text().strip():
            self.hint.setText("Choose a diffusion pipeline folder (tools/make_tiny_pipeline.py writes a tiny one). "
                              "The naive backend needs none.")
        elif diffusion:
            self.hint.setText("Steps and guidance apply per frame; CUDA is used when present (fp16/bf16).")
        else:
            self.hint.setText("The synthetic scene in the scenario's lighting and weather; faster than real time.")

    def _emit(self, *_args) -> None:
        self._update_enabled()
        try:
            opts = self.options()
        except ValueError as e:   # e.g. a size being typed: say what is wrong, keep the saved settings
            from engine.config import error_message

            self.hint.setText(error_message(e))
            return
        if self._persist:
            save_options(opts)
        self.changed.emit(opts)

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Diffusion pipeline folder", self.model_dir.text())
        if path:
            self.model_dir.setText(path)
            self._emit()
