"""Player pane: a generated clip's six views in panorama order, play / scrub, in step with the timeline.

The document's current time is the one clock: scrubbing the player's slider or playing moves the
document's time (so the timeline, the canvas and the camera preview follow), and moving the timeline
shows the matching generated frame. Every clip generated in this session is kept in the result list
(the last MAX_RESULTS) and can be shown again or saved as videos (`engine.video.write_clip_outputs`).

Truthful: a clip remembers the scenario it was made from; after an edit it is marked out of date (a
banner on the tiles and the status line) until the scenario is back to that state (undo); opening
another scenario clears the player (the session's clips stay in the list, named by their scenario).
Playback follows the clip's own frame rate (12 fps for nuScenes sweeps) by elapsed time: each tick
shows the frame that is due, so a slow paint skips frames instead of slowing the clip down.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QMessageBox, QSlider,
                               QToolButton, QVBoxLayout, QWidget)

from app.elided_label import ElidedLabel
from app.preview_pane import CameraTile, TileRow
from editor.document import Document
from app.preview_pane import PANORAMA as PANORAMA_ORDER  # the same order as engine.rig.PANORAMA_ORDER (tested)

if TYPE_CHECKING:
    from engine.worldmodel import GeneratedClip

MAX_RESULTS = 8  # clips kept per session (a 33-frame six-view clip at 448x256 is ~68 MB)


class PlayerPane(QWidget):
    """Shows generated clips; `frame_shown(index)` after a clip frame was put on the tiles."""

    frame_shown = Signal(int)

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.results: list[tuple[str, GeneratedClip, object]] = []   # (label, clip, scenario it was made from)
        self.clip: GeneratedClip | None = None
        self.clip_scenario = None
        self.stale = False
        self.shown_frame: int | None = None
        self.played_frames = 0
        self._play_t0 = 0.0
        self._play_f0 = 0
        self.tiles = {name: CameraTile(name) for name in PANORAMA_ORDER}
        for t in self.tiles.values():
            t.note = "no video yet: Generate (Ctrl+G)"
        self.strip = TileRow(list(self.tiles.values()))
        # compare: the guidance the clip was conditioned on, at the same time, under the generated views
        self.guide_tiles = {name: CameraTile(name) for name in PANORAMA_ORDER}
        for t in self.guide_tiles.values():
            t.note = "guidance appears here (the camera preview renders it)"
        self.guide_strip = TileRow(list(self.guide_tiles.values()))
        self.guide_strip.hide()
        self.compare_button = QToolButton(text="Compare")
        self.compare_button.setCheckable(True)
        self.compare_button.setToolTip("Show the guidance maps (the camera preview's map) under the generated views")
        self.guidance_source = None

        from app.timeline import transport_icon   # drawn in code: the UI font has no pause glyph (U+23F8)

        self._play_icons = {k: transport_icon(k) for k in ("play", "pause")}
        self.play_button = QToolButton()
        self.play_button.setIcon(self._play_icons["play"])
        self.play_button.setAccessibleName("Play")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Play / pause the generated clip (moves the timeline)")
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setObjectName("playerSlider")
        self.label = QLabel("—")
        self.label.setMinimumWidth(120)
        self.result_box = QComboBox()
        self.result_box.setToolTip("Clips generated in this session")
        self.result_box.setMinimumContentsLength(18)
        self.save_button = QToolButton(text="Save videos…")
        self.save_button.setToolTip("Write MP4 per camera, panorama MP4 and JPEG frames to a folder")
        self.status = ElidedLabel()
        self.status.setObjectName("panelHint")
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.addWidget(self.play_button)
        bar.addWidget(self.slider, 1)
        bar.addWidget(self.label)
        bar.addWidget(self.result_box)
        bar.addWidget(self.compare_button)
        bar.addWidget(self.save_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.strip, 1)
        lay.addWidget(self.guide_strip, 1)
        lay.addLayout(bar)
        lay.addWidget(self.status)

        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self.play_button.toggled.connect(self._on_play)
        self.slider.valueChanged.connect(self._on_slider)
        self.result_box.currentIndexChanged.connect(self._on_result_chosen)
        self.save_button.clicked.connect(self.save_dialog)
        self.compare_button.toggled.connect(self.set_compare)
        self._bind(document)
        self._update_controls()

    # ---- document ------------------------------------------------------------------------
    def _bind(self, document: Document) -> None:
        self.document = document
        document.events.time_changed.connect(self._on_time)
        document.events.edit_finished.connect(self._check_stale)

    def set_document(self, document: Document) -> None:
        """Follow another document: the player is cleared (the kept clips stay in the list)."""
        if document is self.document:
            return
        self.document.events.time_changed.disconnect(self._on_time)
        self.document.events.edit_finished.disconnect(self._check_stale)
        self._bind(document)
        self.clear()

    def clear(self) -> None:
        """Show no clip (after another scenario was opened)."""
        self.play_button.setChecked(False)
        self.clip = None
        self.clip_scenario = None
        self.shown_frame = None
        self.stale = False
        for t in self.tiles.values():
            t.note = "no video for this scenario yet: Generate (Ctrl+G)"
            t.stale_note = ""
            t.set_image(None)
        self.result_box.blockSignals(True)
        self.result_box.setCurrentIndex(-1)
        self.result_box.blockSignals(False)
        self.label.setText("—")
        self.status.setText("")
        self.slider.blockSignals(True)   # no clip: the handle goes home (it showed the old clip's frame)
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self._update_controls()
        self.result_box.setEnabled(bool(self.results))

    def _check_stale(self, *_args) -> None:
        """Mark the shown clip out of date when the scenario differs from the one it was made from."""
        stale = self.clip is not None and self.clip_scenario is not None and self.document.scenario != self.clip_scenario
        if stale != self.stale:
            self.stale = stale
            note = "out of date: the scenario was edited after this clip was made" if stale else ""
            for t in self.tiles.values():
                t.stale_note = note
                t.update()
            if self.clip is not None:
                self._set_status()

    # ---- compare with the guidance ------------------------------------------------------------
    def set_guidance_source(self, preview) -> None:
        """The camera preview (`app.preview_pane.PreviewPane`) whose pictures the compare row shows."""
        self.guidance_source = preview
        preview.frame_shown.connect(lambda *_a: self._show_guidance())

    def set_compare(self, on: bool) -> None:
        """Show (or hide) the guidance row under the generated views, at the document's time."""
        self.compare_button.setChecked(on)
        self.guide_strip.setVisible(on)
        if on:
            self._show_guidance()

    def _show_guidance(self) -> None:
        src = self.guidance_source
        if not self.guide_strip.isVisible() or src is None or src.shown is None:
            return
        res = src.shown
        for k, name in enumerate(res.names):
            if name in self.guide_tiles:
                self.guide_tiles[name].set_image(res.images[k], res.boxes.get(name))
                self.guide_tiles[name].map_label = res.request.map_for(name)
        self.guide_strip.set_aspect(res.images.shape[2] / res.images.shape[1])

    # ---- clips ---------------------------------------------------------------------------
    def add_clip(self, clip: GeneratedClip, label: str | None = None, scenario=None) -> None:
        """Keep a new clip for the session and show it at the document's current time.

        scenario: what it was generated from (default: the document's scenario now)."""
        label = label or f"{self.document.scenario.name} · {clip.backend} · seed {clip.seed} · {time.strftime('%H:%M:%S')}"
        made_from = scenario if scenario is not None else self.document.scenario
        self.results.append((label, clip, made_from))
        self.result_box.blockSignals(True)
        while len(self.results) > MAX_RESULTS:   # the oldest goes first
            self.results.pop(0)
            self.result_box.removeItem(0)
        self.result_box.addItem(label)
        self.result_box.setCurrentIndex(len(self.results) - 1)
        self.result_box.blockSignals(False)
        self.show_clip(clip, made_from)

    def show_clip(self, clip: GeneratedClip, scenario=None) -> None:
        self.clip = clip
        self.clip_scenario = scenario
        w, h = clip.image_size
        self.strip.set_aspect(w / h)
        self.stale = False
        for t in self.tiles.values():
            t.stale_note = ""
        self._update_controls()
        self._check_stale()
        self._set_status()
        self._on_time(self.document.current_time)

    def _set_status(self) -> None:
        clip = self.clip
        w, h = clip.image_size
        missing = [n for n in PANORAMA_ORDER if n not in clip.camera_names]
        self.status.setText(f"{clip.num_frames} frames · {w}x{h} · {clip.fps:g} fps · {clip.backend}"
                            + (f" · missing {', '.join(missing)}" if missing else "")
                            + (" · OUT OF DATE: the scenario was edited since" if self.stale else ""))

    def show_preview(self, frame: int, images: np.ndarray, final: bool) -> None:
        """During a generation: images (V, h, w, 3) in panorama order (a step preview or a finished frame)."""
        for name, img in zip(PANORAMA_ORDER, images):
            self.tiles[name].set_image(img)
        self.status.setText(f"generating… frame {frame + 1}" + ("" if final else " (preview)"))

    def frame_for_time(self, t: float) -> int:
        """The clip frame shown at document time t (nearest, clamped)."""
        if self.clip is None:
            return 0
        return int(min(max(round(t * self.clip.fps), 0), self.clip.num_frames - 1))

    def show_frame(self, index: int) -> None:
        clip = self.clip
        if clip is None:
            return
        index = int(min(max(index, 0), clip.num_frames - 1))
        for i, name in enumerate(clip.camera_names):
            if name in self.tiles:
                self.tiles[name].set_image(clip.frames[index, i])
        self.shown_frame = index
        self.slider.blockSignals(True)
        self.slider.setValue(index)
        self.slider.blockSignals(False)
        self.label.setText(f"frame {index + 1}/{clip.num_frames}  t = {index / clip.fps:5.2f} s")
        self.frame_shown.emit(index)

    # ---- controls ------------------------------------------------------------------------
    def _update_controls(self) -> None:
        has = self.clip is not None
        for w in (self.play_button, self.slider, self.save_button, self.result_box):
            w.setEnabled(has)
        if has:
            self.slider.setRange(0, self.clip.num_frames - 1)
            # tick twice per frame; which frame is shown follows the elapsed time, not the tick count
            self._timer.setInterval(max(1, int(500 / self.clip.fps)))

    def _on_time(self, t: float) -> None:
        if self.clip is not None:
            self.show_frame(self.frame_for_time(t))

    def _on_slider(self, value: int) -> None:
        if self.clip is None:
            return
        self.document.set_time(value / self.clip.fps)
        if self.shown_frame != value:   # the document may clamp to its own length
            self.show_frame(value)

    def _on_play(self, on: bool) -> None:
        self.play_button.setIcon(self._play_icons["pause" if on else "play"])
        self.play_button.setAccessibleName("Pause" if on else "Play")
        if on and self.clip is not None:
            if self.shown_frame is not None and self.shown_frame >= self.clip.num_frames - 1:
                self._on_slider(0)
            self._play_t0 = time.perf_counter()
            self._play_f0 = self.shown_frame or 0
            self.played_frames = 0
            self._timer.start()
        else:
            self._timer.stop()

    def toggle_play(self) -> None:
        self.play_button.toggle()

    def due_frame(self, now: float | None = None) -> int:
        """The frame playback should show at perf_counter time `now` (wrapping at the clip's end)."""
        now = time.perf_counter() if now is None else now
        n = self.clip.num_frames
        return (self._play_f0 + int((now - self._play_t0) * self.clip.fps)) % n

    def _tick(self) -> None:
        if self.clip is None:
            return
        f = self.due_frame()
        if f != self.shown_frame:
            self.played_frames += 1
            self._on_slider(f)

    def _on_result_chosen(self, index: int) -> None:
        if 0 <= index < len(self.results):
            self.show_clip(self.results[index][1], self.results[index][2])

    def save_dialog(self) -> None:
        if self.clip is None:
            return
        from app.ui_state import UiState

        state = UiState()
        folder = QFileDialog.getExistingDirectory(self, "Save the generated videos into", state.last_folder("videos"))
        if folder:
            state.set_last_folder("videos", folder)
        if folder:
            self.save_to(folder)

    def save_to(self, folder: str) -> bool:
        """Write the shown clip's videos and frames into `folder`; a dialog explains a failure."""
        from engine.video import write_clip_outputs

        try:
            files = write_clip_outputs(self.clip, folder, extra_manifest={"scenario_name": self.document.scenario.name})
        except OSError as e:
            QMessageBox.warning(self, "Save failed", f"Could not write the videos to {folder}:\n{e}")
            return False
        self.status.setText(f"saved to {files.out_dir}")
        return True

    def stop(self) -> None:
        self._timer.stop()
