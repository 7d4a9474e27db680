"""Timeline: play / pause and a frame slider at the scenario rate, bound to the Document's time."""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QToolButton, QWidget

from editor.document import Document


class TimelineWidget(QWidget):
    """Frame slider + play button + time read-out. Space toggles play (shortcut set by the window)."""

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.play_button = QToolButton(text="▶")
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.setCheckable(True)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setObjectName("timelineSlider")
        self.label = QLabel()
        self.label.setMinimumWidth(150)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 2, 6, 2)
        lay.addWidget(self.play_button)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.label)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self.play_button.toggled.connect(self._on_play_toggled)
        self.slider.valueChanged.connect(self.document.set_frame)
        document.events.time_changed.connect(self._on_time)
        document.events.scenario_changed.connect(lambda s: self._sync_range())
        self._sync_range()

    def _sync_range(self) -> None:
        s = self.document.scenario
        self.slider.blockSignals(True)
        self.slider.setRange(0, s.num_frames - 1)
        self.slider.setValue(self.document.current_frame)
        self.slider.blockSignals(False)
        self._timer.setInterval(int(1000 / s.fps))
        self._update_label()

    def _on_time(self, t: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(self.document.current_frame)
        self.slider.blockSignals(False)
        self._update_label()

    def _update_label(self) -> None:
        s = self.document.scenario
        self.label.setText(f"t = {self.document.current_time:5.2f} s   frame {self.document.current_frame + 1}/{s.num_frames}")

    def _on_play_toggled(self, on: bool) -> None:
        self.play_button.setText("⏸" if on else "▶")
        if on:
            if self.document.current_frame >= self.document.scenario.num_frames - 1:
                self.document.set_frame(0)
            self._timer.start()
        else:
            self._timer.stop()

    def toggle_play(self) -> None:
        self.play_button.toggle()

    def _tick(self) -> None:
        f = self.document.current_frame + 1
        if f >= self.document.scenario.num_frames:
            f = 0
        self.document.set_frame(f)

    def step(self, frames: int) -> None:
        self.document.set_frame(self.document.current_frame + frames)
