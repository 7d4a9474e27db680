"""Timeline: play / pause / step / scrub at the scenario rate, with check findings marked on it.

Playback keeps real time (the frame shown is the one due by the clock, frames are skipped rather
than the clip slowed down when drawing lags). Shortcuts are set by the main window: Space play /
pause, Left / Right one frame, Shift+Left / Shift+Right one key frame (2 Hz), Home / End.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QElapsedTimer, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QToolTip, QWidget

from app import theme
from editor.document import Document


@dataclass(frozen=True)
class Mark:
    """A time range to mark: severity 0 info, 1 warning, 2 error, and its sentence."""

    t_start: float
    t_end: float
    severity: int
    text: str


class TimelineStrip(QWidget):
    """Frame ticks, key frames, marks and the playhead; click or drag to scrub. `scrubbed(frame)`."""

    scrubbed = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.num_frames = 1
        self.fps = 12.0
        self.keyframes: list[int] = []
        self.frame = 0
        self.marks: list[Mark] = []
        self.setMinimumHeight(40)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setMouseTracking(True)
        self.setCursor(Qt.PointingHandCursor)
        self.setToolTip("Click or drag to scrub")

    def _x_of(self, frame: float) -> float:
        w = self.width() - 16
        return 8 + (frame / max(self.num_frames - 1, 1)) * w

    def frame_at(self, x: float) -> int:
        w = max(self.width() - 16, 1)
        f = round((x - 8) / w * (self.num_frames - 1))
        return int(min(max(f, 0), self.num_frames - 1))

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt name)
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        f = p.font()
        f.setPointSizeF(7.5)
        p.setFont(f)
        h = self.height()
        p.fillRect(self.rect(), theme.BASE)
        band = QRectF(8, 6, self.width() - 16, h - 18)
        p.fillRect(band, QColor("#2b2f35"))
        half = band.height() / 2  # errors in the upper half, warnings in the lower one
        for m in sorted(self.marks, key=lambda m: m.severity):
            if m.severity < 1:
                continue
            x0 = self._x_of(m.t_start * self.fps)
            x1 = max(self._x_of(m.t_end * self.fps), x0 + 3)
            c = QColor(theme.severity_color(m.severity))
            c.setAlpha(170)
            top = band.top() if m.severity >= 2 else band.top() + half
            p.fillRect(QRectF(x0, top, x1 - x0, half), c)
        key = set(self.keyframes)
        # label only key frames far enough apart to read (a 60 s clip has 120 key frames)
        px_per_s = (band.width() * self.fps / max(self.num_frames - 1, 1))
        label_every = next((s for s in (0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0) if s * px_per_s >= 38.0), 60.0)
        for f in range(self.num_frames):
            x = self._x_of(f)
            if f in key:
                p.setPen(QPen(QColor("#c8ccd2"), 1.2))
                p.drawLine(QPointF(x, band.bottom()), QPointF(x, band.bottom() - 12))
                t_f = f / self.fps
                if abs(t_f / label_every - round(t_f / label_every)) < 1e-6:
                    p.setPen(QColor("#8b929c"))
                    p.drawText(QRectF(x - 20, band.bottom() + 1, 40, 12), Qt.AlignHCenter | Qt.AlignTop,
                               f"{t_f:.1f}" if label_every < 1.0 else f"{t_f:.0f}")
            else:
                p.setPen(QPen(QColor("#6b7179"), 1.0))
                p.drawLine(QPointF(x, band.bottom()), QPointF(x, band.bottom() - 5))
        x = self._x_of(self.frame)
        p.setPen(QPen(theme.EGO, 2.0))
        p.drawLine(QPointF(x, 2), QPointF(x, band.bottom()))
        p.setBrush(theme.EGO)
        p.drawPolygon(QPolygonF([QPointF(x - 5, 0), QPointF(x + 5, 0), QPointF(x, 7)]))
        p.end()

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.LeftButton:
            self.scrubbed.emit(self.frame_at(event.position().x()))

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if event.buttons() & Qt.LeftButton:
            self.scrubbed.emit(self.frame_at(event.position().x()))
            return
        t = self.frame_at(event.position().x()) / self.fps
        hits = [m.text for m in self.marks if m.t_start - 0.5 / self.fps <= t <= m.t_end + 0.5 / self.fps]
        if hits:
            QToolTip.showText(event.globalPosition().toPoint(), "\n".join(hits[:6]), self)
        else:
            QToolTip.hideText()


def transport_icon(kind: str, size: int = 18) -> QIcon:
    """Light transport icons drawn in code: first, prev, play, pause, next, last."""
    pix = QPixmap(size, size)
    pix.fill(Qt.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.Antialiasing)
    p.setPen(Qt.NoPen)
    p.setBrush(QColor("#e6e8eb"))
    s = size
    def tri(x0, x1):  # a triangle pointing from x0 towards x1
        p.drawPolygon(QPolygonF([QPointF(x0, s * 0.2), QPointF(x0, s * 0.8), QPointF(x1, s * 0.5)]))
    if kind == "play":
        tri(s * 0.28, s * 0.8)
    elif kind == "pause":
        p.drawRect(QRectF(s * 0.28, s * 0.2, s * 0.15, s * 0.6))
        p.drawRect(QRectF(s * 0.57, s * 0.2, s * 0.15, s * 0.6))
    elif kind == "next":
        tri(s * 0.2, s * 0.5)
        tri(s * 0.5, s * 0.8)
    elif kind == "prev":
        tri(s * 0.8, s * 0.5)
        tri(s * 0.5, s * 0.2)
    elif kind == "last":
        tri(s * 0.22, s * 0.68)
        p.drawRect(QRectF(s * 0.68, s * 0.2, s * 0.1, s * 0.6))
    elif kind == "first":
        tri(s * 0.78, s * 0.32)
        p.drawRect(QRectF(s * 0.22, s * 0.2, s * 0.1, s * 0.6))
    p.end()
    return QIcon(pix)


class TimelineWidget(QWidget):
    """Transport buttons, the strip, speed and loop, and a time read-out, bound to a Document."""

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self._icons = {k: transport_icon(k) for k in ("first", "prev", "play", "pause", "next", "last")}
        self.first_button = QToolButton(icon=self._icons["first"])
        self.prev_button = QToolButton(icon=self._icons["prev"])
        self.play_button = QToolButton(icon=self._icons["play"])
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.setCheckable(True)
        self.next_button = QToolButton(icon=self._icons["next"])
        self.last_button = QToolButton(icon=self._icons["last"])
        self.first_button.setToolTip("First frame (Home)")
        self.prev_button.setToolTip("Previous frame (Left); previous key frame (Shift+Left)")
        self.next_button.setToolTip("Next frame (Right); next key frame (Shift+Right)")
        self.last_button.setToolTip("Last frame (End)")
        self.loop_button = QToolButton(text="Loop")
        self.loop_button.setCheckable(True)
        self.loop_button.setChecked(True)
        self.loop_button.setToolTip("Loop playback")
        self.rate_box = QComboBox()
        self.rate_box.addItems(["0.25×", "0.5×", "1×", "2×"])
        self.rate_box.setCurrentText("1×")
        self.rate_box.setToolTip("Playback speed (1× is the scenario rate)")
        self.strip = TimelineStrip()
        self.label = QLabel()
        self.label.setMinimumWidth(190)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 2, 6, 2)
        for b in (self.first_button, self.prev_button, self.play_button, self.next_button, self.last_button):
            lay.addWidget(b)
        lay.addWidget(self.strip, 1)
        lay.addWidget(self.loop_button)
        lay.addWidget(self.rate_box)
        lay.addWidget(self.label)
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._clock = QElapsedTimer()
        self._play_start_frame = 0
        self.play_button.toggled.connect(self._on_play_toggled)
        self.first_button.clicked.connect(lambda: self.document.set_frame(0))
        self.last_button.clicked.connect(lambda: self.document.set_frame(self.document.scenario.num_frames - 1))
        self.prev_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.strip.scrubbed.connect(self._scrub)
        self.rate_box.currentTextChanged.connect(lambda _t: self._restart_clock())
        self.set_document(document)

    # kept for callers of the first version
    @property
    def slider(self) -> TimelineStrip:
        return self.strip

    def set_document(self, document: Document) -> None:
        if self.document is not None:
            self.document.events.time_changed.disconnect(self._on_time)
            self.document.events.scenario_changed.disconnect(self._on_scenario)
        self.document = document
        document.events.time_changed.connect(self._on_time)
        document.events.scenario_changed.connect(self._on_scenario)
        self.strip.marks = []
        self._sync_range()

    def _on_scenario(self, s) -> None:
        st = self.strip
        if st.num_frames == s.num_frames and st.fps == s.fps and st.frame == self.document.current_frame:
            return   # same clip timing (e.g. a drag step): nothing on the strip or its label changed
        self._sync_range()

    def set_marks(self, marks: list[Mark]) -> None:
        self.strip.marks = list(marks)
        self.strip.update()

    @property
    def rate(self) -> float:
        return float(self.rate_box.currentText().rstrip("×"))

    @property
    def is_playing(self) -> bool:
        return self.play_button.isChecked()

    def _sync_range(self) -> None:
        s = self.document.scenario
        self.strip.num_frames = s.num_frames
        self.strip.fps = s.fps
        self.strip.keyframes = s.keyframe_indices()
        self.strip.frame = self.document.current_frame
        self.strip.update()
        self._timer.setInterval(max(5, int(1000 / s.fps / 2)))
        self._update_label()

    def _on_time(self, _t: float) -> None:
        self.strip.frame = self.document.current_frame
        self.strip.update()
        self._update_label()

    def _update_label(self) -> None:
        s = self.document.scenario
        self.label.setText(f"t = {self.document.current_time:5.2f} s   frame {self.document.current_frame + 1}/{s.num_frames}")

    def _scrub(self, frame: int) -> None:
        if self.is_playing:
            self.play_button.setChecked(False)
        self.document.set_frame(frame)

    def _restart_clock(self) -> None:
        self._play_start_frame = self.document.current_frame
        self._clock.restart()

    def _on_play_toggled(self, on: bool) -> None:
        self.play_button.setIcon(self._icons["pause" if on else "play"])
        if on:
            if self.document.current_frame >= self.document.scenario.num_frames - 1:
                self.document.set_frame(0)
            self._restart_clock()
            self._timer.start()
        else:
            self._timer.stop()

    def toggle_play(self) -> None:
        self.play_button.toggle()

    def _tick(self) -> None:
        s = self.document.scenario
        due = self._play_start_frame + int(self._clock.elapsed() / 1000.0 * s.fps * self.rate)
        if due >= s.num_frames:
            if self.loop_button.isChecked():
                self.document.set_frame(0)
                self._restart_clock()
                return
            self.document.set_frame(s.num_frames - 1)
            self.play_button.setChecked(False)
            return
        if due != self.document.current_frame:
            self.document.set_frame(due)

    def step(self, frames: int) -> None:
        if self.is_playing:
            self.play_button.setChecked(False)
        self.document.set_frame(self.document.current_frame + frames)

    def step_keyframe(self, direction: int) -> None:
        """To the next (direction 1) or previous (-1) 2 Hz key frame."""
        keys = self.document.scenario.keyframe_indices()
        f = self.document.current_frame
        if direction > 0:
            nxt = [k for k in keys if k > f]
            target = nxt[0] if nxt else self.document.scenario.num_frames - 1
        else:
            prv = [k for k in keys if k < f]
            target = prv[-1] if prv else 0
        self.step(target - f)
