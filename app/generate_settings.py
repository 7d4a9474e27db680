"""Generation settings: backend, model folder, steps, guidance scale, seed, device, size; kept in QSettings.

`GenerationOptions` is the plain value (no Qt); `load_options` / `save_options` read and write it under
the ``generation/`` group of QSettings; `GenerateSettingsPanel` edits it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QSpinBox, QToolButton, QWidget)

from engine.worldmodel import BACKEND_NAMES, GenerationSettings

DEVICES = ("auto", "cpu", "cuda")
SIZES = ("448x256", "224x128", "896x512", "1600x900")
GROUP = "generation"


@dataclass(frozen=True)
class GenerationOptions:
    """What the user chose. seed < 0 means: use the scenario's seed."""

    backend: str = "naive"
    model_dir: str = ""
    steps: int = 20
    guidance_scale: float = 4.0
    seed: int = -1
    device: str = "auto"
    size: str = "448x256"

    def settings(self, scenario_seed: int = 0) -> GenerationSettings:
        """The engine's GenerationSettings (ValueError names a bad field)."""
        seed = scenario_seed if self.seed < 0 else self.seed
        return GenerationSettings(steps=self.steps, guidance_scale=self.guidance_scale, seed=seed, device=self.device)

    def image_size(self) -> tuple[int, int]:
        """(width, height) per camera; ValueError explains a malformed size."""
        from engine.cli.generate import parse_size

        return parse_size(self.size)


def load_options(store: QSettings | None = None) -> GenerationOptions:
    """Options from QSettings, falling back to defaults for missing or unreadable values."""
    store = store or QSettings()
    base = GenerationOptions()
    values = {}
    store.beginGroup(GROUP)
    try:
        for f in fields(GenerationOptions):
            raw = store.value(f.name, None)
            if raw is None:
                continue
            try:
                values[f.name] = type(getattr(base, f.name))(raw)
            except (TypeError, ValueError):
                pass
    finally:
        store.endGroup()
    opts = GenerationOptions(**{**asdict(base), **values})
    if opts.backend not in BACKEND_NAMES:
        opts = GenerationOptions(**{**asdict(opts), "backend": base.backend})
    if opts.device not in DEVICES:
        opts = GenerationOptions(**{**asdict(opts), "device": base.device})
    return opts


def save_options(options: GenerationOptions, store: QSettings | None = None) -> None:
    store = store or QSettings()
    store.beginGroup(GROUP)
    try:
        for k, v in asdict(options).items():
            store.setValue(k, v)
    finally:
        store.endGroup()
    store.sync()


class GenerateSettingsPanel(QWidget):
    """Form for GenerationOptions; `changed(GenerationOptions)` after every edit (also saved to QSettings)."""

    changed = Signal(object)

    def __init__(self, options: GenerationOptions | None = None, parent=None, persist: bool = True) -> None:
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
        self.hint = QLabel()
        self.hint.setObjectName("panelHint")
        self.hint.setWordWrap(True)

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
        self.set_options(options or (load_options() if persist else GenerationOptions()))
        for sig in (self.backend.currentTextChanged, self.model_dir.editingFinished, self.steps.valueChanged,
                    self.guidance.valueChanged, self.seed.valueChanged, self.use_scenario_seed.toggled,
                    self.device.currentTextChanged, self.size.currentTextChanged):
            sig.connect(self._emit)

    def options(self) -> GenerationOptions:
        return GenerationOptions(
            backend=self.backend.currentText(), model_dir=self.model_dir.text().strip(), steps=self.steps.value(),
            guidance_scale=float(self.guidance.value()),
            seed=-1 if self.use_scenario_seed.isChecked() else self.seed.value(),
            device=self.device.currentText(), size=self.size.currentText().strip())

    def set_options(self, options: GenerationOptions) -> None:
        widgets = (self.backend, self.model_dir, self.steps, self.guidance, self.seed, self.use_scenario_seed,
                   self.device, self.size)
        for w in widgets:
            w.blockSignals(True)
        self.backend.setCurrentText(options.backend)
        self.model_dir.setText(options.model_dir)
        self.steps.setValue(options.steps)
        self.guidance.setValue(options.guidance_scale)
        self.use_scenario_seed.setChecked(options.seed < 0)
        self.seed.setValue(max(options.seed, 0))
        self.device.setCurrentText(options.device)
        self.size.setCurrentText(options.size)
        for w in widgets:
            w.blockSignals(False)
        self._update_enabled()

    def _update_enabled(self) -> None:
        diffusion = self.backend.currentText() == "diffusion"
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
        opts = self.options()
        if self._persist:
            save_options(opts)
        self.changed.emit(opts)

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Diffusion pipeline folder", self.model_dir.text())
        if path:
            self.model_dir.setText(path)
            self._emit()
