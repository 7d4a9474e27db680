"""Preview pane: the guidance maps of the six cameras in panorama order, live while editing.

A render worker owns the `GuidanceRenderer` (its GL context lives on the worker's thread). Each
change of scenario, time or map asks for a render; requests that are still waiting when a newer one
arrives are dropped (latest wins), so the UI never waits and a drag never queues up work.

Two workers share one interface: ``thread`` (`app.workers.LatestOnlyWorker`: a thread of the editor
owns the renderer) and ``process`` (default; `app.render_process`: the renderer's thread lives in
a child process, so it does not share the GIL with the UI and a crash of the GL driver costs a frame,
not the editor; the pictures come back through a shared-memory double buffer, the pipe carries only the
changed agents and small messages, and the child is Qt-free, `app.preview_render`). Choose with the
`backend` argument or the CORNERCASE_RENDER_BACKEND environment variable; benchmarks/bench_drag_preview.py
measures both (on a busy 2-core machine the process won: lower drag->repaint and UI-thread block).

Real scenes (the scenario has a nuScenes `source`): the worker opens the scene once (cached per
source, `engine.realscene.live.RealFrameCache`), takes its rig and backgrounds from
`engine.conditions.real_scene_inputs` (the entry point of `guidance`, `generate` and `export`, so frame k
of the preview is their frame k) and renders over the recorded frame nearest the current time: the RGB preview is the real image with the inserted assets
composited (recorded agents are not drawn over it), depth is the real (LiDAR) depth, edges come from
the real image; the boxes map still shows every agent. Past the recording, or when the dataset
cannot be read (a warning says why), the preview is synthetic.
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import replace

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from app.elided_label import ElidedLabel
from app.map_visuals import PREVIEW_MAPS
from app.preview_render import (  # noqa: F401  (re-exported: the pane's public names)
    DRAFT_SCALE, PANORAMA, PREVIEW_SIZE, PreviewRenderer, PreviewRequest, PreviewResult, _guidance_renderer, _release,
    make_renderer, overlay_boxes, render_request,
)
from app.workers import LatestOnlyWorker, preload
from editor.document import Document


SWITCH_INTERVAL_S = 0.001
DEFAULT_BACKEND = "process"   # bench_drag_preview: p95 drag->repaint 53 ms vs 71 (thread), UI block p95 18 vs 30 ms


class CameraTile(QWidget):
    """One camera's picture, scaled to fit, with its name (and its own map, if any) in the corner.

    Double click: `double_clicked(name)` (the row enlarges it, or goes back); right click: a menu of
    maps for this camera (`map_chosen(name, map label or "")`, "" = the pane's map). With `boxes`
    set, the agents' boxes and ids are drawn over the picture; `stale_note` draws a banner.
    """

    double_clicked = Signal(str)
    map_chosen = Signal(str, str)

    def __init__(self, name: str, parent=None, map_menu: bool = False) -> None:
        super().__init__(parent)
        self.name = name
        self.image: QImage | None = None
        self._pixels: np.ndarray | None = None
        self.image_size: tuple[int, int] | None = None   # (w, h) of the pixels `boxes` refer to
        self.note = "waiting for the renderer…"
        self.map_label = ""       # this camera's own map (empty: the pane's)
        self.boxes: list = []     # [(agent id, class, (u0, v0, u1, v1))]
        self.stale_note = ""
        self.paints = 0
        self.map_menu = map_menu
        self.setMinimumSize(40, 24)
        self.setToolTip("Double-click to enlarge / go back" + ("; right-click to choose this camera's map"
                                                                if map_menu else ""))

    def set_image(self, array: np.ndarray | None, boxes: list | None = None, copy: bool = True) -> None:
        """array: (H, W, 3) uint8, or None to show the note; boxes: overlay in that image's pixels.

        copy=False: the QImage is drawn straight from `array` (C-contiguous, never written again; the
        tile keeps a reference to it), no copy on the UI thread."""
        if array is None:
            self.image = None
            self.image_size = None
            self._pixels = None
        else:
            a = np.ascontiguousarray(array)
            h, w, _ = a.shape
            image = QImage(a.data, w, h, 3 * w, QImage.Format_RGB888)
            self.image = image.copy() if copy else image
            self._pixels = None if copy else a   # keeps the buffer under the QImage alive
            self.image_size = (w, h)
        self.boxes = list(boxes or [])
        self.update()

    def image_rect(self) -> QRectF:
        if self.image is None:
            return QRectF(self.rect())
        iw, ih = self.image.width(), self.image.height()
        s = min(self.width() / iw, self.height() / ih)
        w, h = iw * s, ih * s
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if event.button() == Qt.LeftButton:
            self.double_clicked.emit(self.name)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def contextMenuEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if not self.map_menu:
            return
        from PySide6.QtWidgets import QMenu

        menu = QMenu(self)
        same = menu.addAction("Same map as the others")
        same.setCheckable(True)
        same.setChecked(not self.map_label)
        menu.addSeparator()
        actions = {}
        for label in PREVIEW_MAPS:
            a = menu.addAction(label)
            a.setCheckable(True)
            a.setChecked(label == self.map_label)
            actions[a] = label
        chosen = menu.exec(event.globalPos())
        if chosen is same:
            self.map_chosen.emit(self.name, "")
        elif chosen in actions:
            self.map_chosen.emit(self.name, actions[chosen])

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt name)
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#111316"))
        r = self.image_rect()
        if self.image is not None:
            p.setRenderHint(QPainter.SmoothPixmapTransform)
            p.drawImage(r, self.image)
            if self.boxes and self.image_size:
                self._paint_boxes(p, r)
        else:
            p.setPen(QColor("#8b929c"))
            # below the 15 px name band drawn at the top (a long note in a small tile ran under the name)
            p.drawText(self.rect().adjusted(4, 16, -4, -2), Qt.AlignCenter | Qt.TextWordWrap, self.note)
        f = QFont()
        f.setPointSizeF(7.5)
        f.setBold(True)
        p.setFont(f)
        label = self.name.replace("CAM_", "").replace("_", " ") + (f" · {self.map_label}" if self.map_label else "")
        tw = p.fontMetrics().horizontalAdvance(label) + 8
        p.fillRect(QRectF(r.left(), r.top(), tw, 15), QColor(0, 0, 0, 150))
        p.setPen(QColor("#ffffff"))
        p.drawText(QRectF(r.left() + 4, r.top(), tw, 15), Qt.AlignVCenter | Qt.AlignLeft, label)
        if self.stale_note:
            p.fillRect(QRectF(r.left(), r.bottom() - 16, r.width(), 16), QColor(160, 90, 0, 200))
            p.drawText(QRectF(r.left() + 4, r.bottom() - 16, r.width() - 8, 16), Qt.AlignVCenter | Qt.AlignLeft,
                       self.stale_note)
        p.end()
        self.paints += 1

    def _paint_boxes(self, p: QPainter, r: QRectF) -> None:
        from PySide6.QtGui import QPen

        from app import theme

        sx = r.width() / self.image_size[0]
        sy = r.height() / self.image_size[1]
        f = QFont()
        f.setPointSizeF(7.0)
        p.setFont(f)
        fm = p.fontMetrics()
        tags = []
        for aid, cls, (u0, v0, u1, v1) in self.boxes:   # far to near: near boxes are drawn on top
            color = theme.class_qcolor(cls)
            pen = QPen(color)
            pen.setWidthF(1.5)
            p.setPen(pen)
            p.setBrush(Qt.NoBrush)
            box = QRectF(r.left() + u0 * sx, r.top() + v0 * sy, (u1 - u0) * sx, (v1 - v0) * sy)
            p.drawRect(box)
            tw = fm.horizontalAdvance(aid) + 4
            tags.append((QRectF(box.left(), max(r.top(), box.top() - 12), tw, 12), aid, color))
        placed: list[QRectF] = []
        for tag, aid, color in reversed(tags):   # ids of the nearest first; one that would cover another waits
            if any(tag.intersects(q) for q in placed):
                continue
            placed.append(tag)
            p.fillRect(tag, QColor(0, 0, 0, 170))
            p.setPen(color)
            p.drawText(tag, Qt.AlignCenter, aid)


class TileRow(QWidget):
    """Lays camera tiles side by side at the image aspect ratio, centred as one strip (preview and player).

    `set_focus(name)` enlarges one camera: it takes the room, the others become a column of small
    tiles at its right (a click-through strip); `set_focus(None)` goes back to the row. A double click on
    a tile toggles its focus.
    """

    focus_changed = Signal(object)

    def __init__(self, tiles: list[CameraTile], aspect: float = 448 / 256, gap: int = 3, parent=None) -> None:
        super().__init__(parent)
        self.tiles = tiles
        self.aspect = aspect
        self.gap = gap
        self.focus: str | None = None
        for t in tiles:
            t.setParent(self)
            t.double_clicked.connect(self.toggle_focus)
        self.setMinimumHeight(60)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    def set_aspect(self, aspect: float) -> None:
        """Width / height of the images shown; re-lays the tiles when it changes."""
        if abs(aspect - self.aspect) > 1e-6:
            self.aspect = aspect
            self._layout()

    def toggle_focus(self, name: str) -> None:
        self.set_focus(None if self.focus == name else name)

    def set_focus(self, name: str | None) -> None:
        if name is not None and name not in [t.name for t in self.tiles]:
            raise KeyError(f"no camera named {name!r}")
        if name != self.focus:
            self.focus = name
            self._layout()
            self.focus_changed.emit(name)

    def resizeEvent(self, _event) -> None:  # noqa: N802 (Qt name)
        self._layout()

    def _layout(self) -> None:
        n = len(self.tiles)
        w, h = self.width(), self.height()
        if self.focus is not None and n > 1:
            others = [t for t in self.tiles if t.name != self.focus]
            big = next(t for t in self.tiles if t.name == self.focus)
            small_h = (h - (len(others) - 1) * self.gap) / len(others)
            small_w = min(small_h * self.aspect, w * 0.2)
            small_h = small_w / self.aspect
            big_w = min(w - small_w - self.gap, h * self.aspect)
            big_h = big_w / self.aspect
            x = (w - (big_w + self.gap + small_w)) / 2
            big.setGeometry(int(round(x)), int(round((h - big_h) / 2)), int(round(big_w)), int(round(big_h)))
            y = (h - (len(others) * small_h + (len(others) - 1) * self.gap)) / 2
            for t in others:
                t.setGeometry(int(round(x + big_w + self.gap)), int(round(y)), int(round(small_w)), int(round(small_h)))
                y += small_h + self.gap
            return
        tile_w = min((w - (n - 1) * self.gap) / n, h * self.aspect)
        tile_h = tile_w / self.aspect
        x = (w - (n * tile_w + (n - 1) * self.gap)) / 2
        y = (h - tile_h) / 2
        for t in self.tiles:
            t.setGeometry(int(round(x)), int(round(y)), int(round(tile_w)), int(round(tile_h)))
            x += tile_w + self.gap


class PreviewPane(QWidget):
    """Map selector, status line, and six camera tiles in panorama order.

    `frame_shown(request_id, latency_s)` after the tiles of a result were repainted; latency is
    from the request (a drag step, a time change) to that repaint.
    """

    frame_shown = Signal(int, float)

    def __init__(self, document: Document, parent=None, renderer_factory=make_renderer,
                 autostart: bool = True, backend: str | None = None, start_worker: bool = True) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self.map_box = QComboBox()
        self.map_box.addItems(list(PREVIEW_MAPS))
        self.map_box.setToolTip("Which guidance map to show")
        self.overlay_box = QCheckBox("Boxes + IDs")
        self.overlay_box.setToolTip("Draw every agent's projected box and id over the pictures")
        self.draft_box = QCheckBox("Fast while dragging")
        self.draft_box.setChecked(False)  # rendering only the map shown is fast enough at full size (bench)
        self.draft_box.setToolTip(f"While dragging, render at {DRAFT_SCALE:.0%} of the size so the pictures "
                                  "follow the hand; full size when the drag ends")
        self.status = ElidedLabel("")   # a long message must not widen the dock (and push the inspector away)
        self.status.setObjectName("panelHint")
        top = QHBoxLayout()
        top.setContentsMargins(4, 2, 4, 0)
        top.addWidget(QLabel("Map"))
        top.addWidget(self.map_box)
        top.addWidget(self.overlay_box)
        top.addWidget(self.draft_box)
        top.addWidget(self.status, 1)
        self.camera_maps: dict[str, str] = {}   # camera -> its own map label
        self.tiles = {name: CameraTile(name, map_menu=True) for name in PANORAMA}
        for tile in self.tiles.values():
            tile.map_chosen.connect(self.set_camera_map)
        self.row = TileRow([self.tiles[n] for n in PANORAMA], PREVIEW_SIZE[0] / PREVIEW_SIZE[1])
        self.row.focus_changed.connect(self._on_focus)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 2)
        lay.setSpacing(2)
        lay.addLayout(top)
        lay.addWidget(self.row, 1)
        self.backend = backend or os.environ.get("CORNERCASE_RENDER_BACKEND", DEFAULT_BACKEND)
        if self.backend not in ("process", "thread"):
            raise ValueError(f"unknown render backend {self.backend!r}; use 'process' or 'thread'")
        self._renderer_factory = renderer_factory
        self.worker = None
        self.shown_id = 0
        self.shown: PreviewResult | None = None
        self.render_seconds = 0.0
        self.render_history: list[float] = []  # seconds per shown render (the last 200)
        self.enabled = autostart
        self.map_box.currentTextChanged.connect(lambda _t: self.request())
        self.overlay_box.toggled.connect(lambda _on: self.request())
        if start_worker:
            self.start_worker()
        else:
            for tile in self.tiles.values():
                tile.note = "starting the renderer…"
        self.set_document(document)

    def start_worker(self) -> None:
        """Start the render worker (its imports happen here: the window defers this until it is shown)."""
        if self.worker is not None:
            return
        # Worker threads (the render thread, the checks, the render process's reader) hand the GIL back to the
        # UI thread after at most this long (CPython's default 5 ms convoys the UI behind them at each I/O call).
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
        if self.backend == "process" and self._renderer_factory is make_renderer:
            from app.render_process import RenderProcess

            self.worker = RenderProcess(PREVIEW_SIZE, parent=self)
        else:
            self.backend = "thread"
            preload("shapely", "shapely.geometry", "shapely.ops", "cv2", "trimesh", "engine.render.guidance",
                    "engine.render.visualize", "engine.assets")
            self.worker = LatestOnlyWorker(render_request, setup=self._renderer_factory, teardown=_release,
                                           name="preview-render", parent=self)
        self.worker.result_ready.connect(self._on_result)
        self.worker.failed.connect(self._on_failed)
        self.worker.setup_failed.connect(self._on_setup_failed)
        self.request()

    @property
    def map_name(self) -> str:
        return PREVIEW_MAPS[self.map_box.currentText()]

    def set_map(self, label_or_name: str) -> None:
        """Select a map by its label ("Depth") or its name ("depth")."""
        for label, name in PREVIEW_MAPS.items():
            if label_or_name in (label, name):
                self.map_box.setCurrentText(label)
                return
        raise KeyError(f"unknown map {label_or_name!r}; maps: {', '.join(PREVIEW_MAPS)}")

    def set_camera_map(self, camera: str, label: str) -> None:
        """Show map `label` ("Depth", or a name "depth") on one camera; "" = the pane's map."""
        if label:
            label = next((lb for lb, nm in PREVIEW_MAPS.items() if label in (lb, nm)), None) or ""
            if not label:
                raise KeyError(f"unknown map for {camera}; maps: {', '.join(PREVIEW_MAPS)}")
            self.camera_maps[camera] = label
        else:
            self.camera_maps.pop(camera, None)
        self.tiles[camera].map_label = label
        self.request()

    def _on_focus(self, name) -> None:
        self.status.setText(f"{name.replace('CAM_', '').replace('_', ' ')} enlarged: double-click it to go back"
                             if name else "all cameras")

    def set_document(self, document: Document) -> None:
        if self.document is not None:
            self.document.events.scenario_changed.disconnect(self.request)
            self.document.events.time_changed.disconnect(self.request)
            self.document.events.edit_finished.disconnect(self._on_edit_finished)
        self.document = document
        document.events.scenario_changed.connect(self.request)
        document.events.time_changed.connect(self.request)
        document.events.edit_finished.connect(self._on_edit_finished)
        self.request()

    def _on_edit_finished(self, *_args) -> None:
        # a drag ended (or was cancelled): the last picture may be a draft, or of an abandoned state
        if self.shown is None or self.shown.request.draft or self.shown.request.scenario is not self.document.scenario:
            self.request()

    def request(self, *_args) -> int:
        """Ask for a render of the current state; returns the request id (0 when disabled)."""
        if not self.enabled or self.document is None or self.worker is None:
            return 0
        doc = self.document
        cams = tuple((c, PREVIEW_MAPS[lb]) for c, lb in self.camera_maps.items() if PREVIEW_MAPS[lb] != self.map_name)
        req = PreviewRequest(doc.scenario, doc.current_time, self.map_name, time.perf_counter(), cams,
                             self.overlay_box.isChecked(), self.draft_box.isChecked() and doc.is_dragging
                             and doc.scenario.source is None)
        return self.worker.submit(req)

    def _on_result(self, rid: int, result: PreviewResult, seconds: float) -> None:
        if not self.enabled or getattr(self.worker, "stopping", False):
            # shut down while this result was queued: its pictures may be a view over shared memory that
            # is already unmapped (reading them would crash the process); drop it unread
            return
        if rid < self.shown_id:
            self._release(result)
            return  # an older picture than the one on screen
        owned = result.slot is not None
        if owned:   # a view over the render process's shared buffer: one copy, then the slot is free again
            slot = result.slot
            result = replace(result, images=result.images.copy(), slot=None)
            self.worker.release(slot)
        images = result.images
        for k, name in enumerate(result.names):
            tile = self.tiles.get(name)
            if tile is not None:
                tile.set_image(images[k], result.boxes.get(name), copy=not owned)
        self.row.repaint()   # one synchronous paint pass for the six tiles (not six flushes)
        self.shown_id = rid
        self.shown = result
        self.render_seconds = seconds
        self.render_history.append(seconds)
        del self.render_history[:-200]
        latency = time.perf_counter() - result.request.submitted
        warn = f"  ·  {len(result.warnings)} warning(s)" if result.warnings else ""
        if self.row.focus is not None:
            warn += "  ·  double-click the big camera to go back"
        draft = "  ·  draft (dragging)" if result.request.draft else ""
        self.status.setText(f"t = {result.request.t:.2f} s  ·  render {seconds * 1000:.0f} ms ({self.backend}){draft}  ·  "
                            f"{self.worker.dropped} stale request(s) dropped{warn}")
        if result.warnings:
            self.status.setToolTip("\n".join(result.warnings))
        self.frame_shown.emit(rid, latency)

    def _release(self, result: PreviewResult) -> None:
        if result.slot is not None and hasattr(self.worker, "release"):
            self.worker.release(result.slot)

    def _on_failed(self, rid: int, message: str) -> None:
        self.status.setText(f"render failed: {message.splitlines()[0]}")
        self.status.setToolTip(message)

    def _on_setup_failed(self, message: str) -> None:
        for tile in self.tiles.values():
            tile.note = f"No preview: {message.splitlines()[0]}"
            tile.set_image(None)
        self.status.setText("renderer unavailable")

    def shutdown(self) -> None:
        """Stop the render thread (releases the renderer on its own thread)."""
        self.enabled = False
        if self.worker is not None:
            self.worker.stop()
