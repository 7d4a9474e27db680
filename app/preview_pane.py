"""Preview pane: the guidance maps of the six cameras in panorama order, live while editing.

A render worker owns the `GuidanceRenderer` (its GL context lives on the worker's thread). Each
change of scenario, time or map asks for a render; requests that are still waiting when a newer one
arrives are dropped (latest wins), so the UI never waits and a drag never queues up work.

Two workers share one interface: ``thread`` (default; `app.workers.LatestOnlyWorker`: a thread of
the editor owns the renderer) and ``process`` (`app.render_process`: the renderer's thread lives in
a child process, so it does not share the GIL with the UI and a crash of the GL driver costs a frame,
not the editor). Choose with the `backend` argument or the CORNERCASE_RENDER_BACKEND environment
variable; benchmarks/bench_drag_preview.py measures both (on a busy 2-core machine the thread won).

Real scenes (the scenario has a nuScenes `source`): the worker opens the scene once (cached per
source, `engine.realscene.live.RealFrameCache`), renders with that log's rig and the recorded frame
nearest the current time as background: the RGB preview is the real image with the inserted assets
composited (recorded agents are not drawn over it), depth is the real (LiDAR) depth, edges come from
the real image; the boxes map still shows every agent. Past the recording, or when the dataset
cannot be read (a warning says why), the preview is synthetic.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from app.map_visuals import PREVIEW_MAPS, frame_map_rgb
from app.workers import LatestOnlyWorker, preload
from editor.document import Document
from engine.scenario.model import Scenario

PANORAMA = ("CAM_FRONT_LEFT", "CAM_FRONT", "CAM_FRONT_RIGHT", "CAM_BACK_RIGHT", "CAM_BACK", "CAM_BACK_LEFT")
PREVIEW_SIZE = (448, 256)


@dataclass(frozen=True)
class PreviewRequest:
    """What to render: a scenario at time t, one map, and when it was asked for (perf_counter s)."""

    scenario: Scenario
    t: float
    map_name: str
    submitted: float


@dataclass(frozen=True)
class PreviewResult:
    """Rendered pictures: images (C, H, W, 3) uint8 in the order of `names` (panorama order)."""

    request: PreviewRequest
    images: np.ndarray
    names: tuple[str, ...]
    warnings: tuple[str, ...]


class PreviewRenderer:
    """A GuidanceRenderer plus the time of day its lighting is set for (lives on the worker thread).

    For scenarios with a source scene it also holds the real frames (`RealFrameCache`) and a second
    renderer on that log's rig, made on first use by `real_renderer_factory(rig)`.
    """

    def __init__(self, renderer, real_renderer_factory=None, real_frames=None) -> None:
        self.renderer = renderer
        self.time_of_day: str | None = None
        self._real_factory = real_renderer_factory or _guidance_renderer
        self._real_frames = real_frames
        self._real = None                  # (rig, renderer, time of day it is lit for)
        self._background_key = None        # (source, frame index) whose real frame the real renderer has

    @property
    def real_frames(self):
        """The `RealFrameCache` of this worker (made on first use)."""
        if self._real_frames is None:
            from engine.realscene.live import RealFrameCache

            self._real_frames = RealFrameCache()
        return self._real_frames

    def render(self, scenario: Scenario, t: float):
        """The GuidanceFrame of `scenario` at t, lit for the scenario's time of day.

        With a source scene: over the recorded frame nearest t (rendered at that frame's time).
        """
        if scenario.source is not None:
            from engine.sources.errors import SceneSourceError

            try:
                return self._render_real(scenario, t)
            except SceneSourceError as e:
                from dataclasses import replace

                frame = self._render_synthetic(scenario, t)
                return replace(frame, warnings=tuple(frame.warnings) + (f"real frames unavailable: {e}",))
        return self._render_synthetic(scenario, t)

    def _render_synthetic(self, scenario: Scenario, t: float):
        tod = scenario.environment.time_of_day
        if tod != self.time_of_day:
            from engine.render.gl_tiles import Lighting

            self.renderer.set_lighting(Lighting.for_time_of_day(tod))
            self.time_of_day = tod
        self.renderer.set_scenario(scenario)
        return self.renderer.render(t)

    def _render_real(self, scenario: Scenario, t: float):
        from engine.realscene.backgrounds import real_rig

        frames = self.real_frames
        scene = frames.scene(scenario)
        rig = real_rig(scene, self.renderer.rig.size)
        if self._real is None or self._real[0] != rig:
            if self._real is not None:
                self._real[1].release()
            self._real = (rig, self._real_factory(rig), None)
            self._background_key = None
        rig, renderer, lit = self._real
        tod = scenario.environment.time_of_day
        if tod != lit:
            from engine.render.gl_tiles import Lighting

            renderer.set_lighting(Lighting.for_time_of_day(tod))
            self._real = (rig, renderer, tod)
        k = frames.frame_index(scene, t)
        key = None if k is None else (scene.source, k)
        if key != self._background_key:     # a new background forces a full render: only when it changes
            renderer.set_backgrounds(None if k is None else frames.backgrounds(scene, k, rig))
            self._background_key = key
        renderer.set_scenario(scenario)
        return renderer.render(t if k is None else k / scene.scenario.fps)

    def release(self) -> None:
        self.renderer.release()
        if self._real is not None:
            self._real[1].release()
            self._real = None


def _guidance_renderer(rig):
    from engine.render.guidance import GuidanceRenderer

    return GuidanceRenderer(rig)


def make_renderer(size: tuple[int, int] = PREVIEW_SIZE) -> PreviewRenderer:
    """A renderer for the default rig at `size` (called on the worker thread that will use it)."""
    from engine.render.guidance import GuidanceRenderer
    from engine.rig import CameraRig

    return PreviewRenderer(GuidanceRenderer(CameraRig.default(size)))


def render_request(renderer: PreviewRenderer, request: PreviewRequest) -> PreviewResult:
    """Render one request with a renderer that lives on the calling thread."""
    frame = renderer.render(request.scenario, request.t)
    images = np.ascontiguousarray(frame_map_rgb(frame, request.map_name))
    return PreviewResult(request, images, tuple(frame.camera_names), tuple(frame.warnings))


def _release(renderer: PreviewRenderer) -> None:
    renderer.release()


class CameraTile(QWidget):
    """One camera's picture, scaled to fit, with its name in the corner."""

    def __init__(self, name: str, parent=None) -> None:
        super().__init__(parent)
        self.name = name
        self.image: QImage | None = None
        self.note = "waiting for the renderer…"
        self.paints = 0
        self.setMinimumSize(40, 24)

    def set_image(self, array: np.ndarray | None) -> None:
        """array: (H, W, 3) uint8, or None to show the note."""
        if array is None:
            self.image = None
        else:
            a = np.ascontiguousarray(array)
            h, w, _ = a.shape
            self.image = QImage(a.data, w, h, 3 * w, QImage.Format_RGB888).copy()
        self.update()

    def image_rect(self) -> QRectF:
        if self.image is None:
            return QRectF(self.rect())
        iw, ih = self.image.width(), self.image.height()
        s = min(self.width() / iw, self.height() / ih)
        w, h = iw * s, ih * s
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt name)
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#111316"))
        r = self.image_rect()
        if self.image is not None:
            p.setRenderHint(QPainter.SmoothPixmapTransform)
            p.drawImage(r, self.image)
        else:
            p.setPen(QColor("#8b929c"))
            p.drawText(self.rect().adjusted(6, 6, -6, -6), Qt.AlignCenter | Qt.TextWordWrap, self.note)
        f = QFont()
        f.setPointSizeF(7.5)
        f.setBold(True)
        p.setFont(f)
        label = self.name.replace("CAM_", "").replace("_", " ")
        tw = p.fontMetrics().horizontalAdvance(label) + 8
        p.fillRect(QRectF(r.left(), r.top(), tw, 15), QColor(0, 0, 0, 150))
        p.setPen(QColor("#ffffff"))
        p.drawText(QRectF(r.left() + 4, r.top(), tw, 15), Qt.AlignVCenter | Qt.AlignLeft, label)
        p.end()
        self.paints += 1


class TileRow(QWidget):
    """Lays camera tiles side by side at the image aspect ratio, centred as one strip (preview and player)."""

    def __init__(self, tiles: list[CameraTile], aspect: float = 448 / 256, gap: int = 3, parent=None) -> None:
        super().__init__(parent)
        self.tiles = tiles
        self.aspect = aspect
        self.gap = gap
        for t in tiles:
            t.setParent(self)
        self.setMinimumHeight(60)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    def set_aspect(self, aspect: float) -> None:
        """Width / height of the images shown; re-lays the tiles when it changes."""
        if abs(aspect - self.aspect) > 1e-6:
            self.aspect = aspect
            self._layout()

    def resizeEvent(self, _event) -> None:  # noqa: N802 (Qt name)
        self._layout()

    def _layout(self) -> None:
        n = len(self.tiles)
        w, h = self.width(), self.height()
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
                 autostart: bool = True, backend: str | None = None) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self.map_box = QComboBox()
        self.map_box.addItems(list(PREVIEW_MAPS))
        self.map_box.setToolTip("Which guidance map to show")
        self.status = QLabel("")
        self.status.setObjectName("panelHint")
        top = QHBoxLayout()
        top.setContentsMargins(4, 2, 4, 0)
        top.addWidget(QLabel("Map"))
        top.addWidget(self.map_box)
        top.addWidget(self.status, 1)
        self.tiles = {name: CameraTile(name) for name in PANORAMA}
        self.row = TileRow([self.tiles[n] for n in PANORAMA], PREVIEW_SIZE[0] / PREVIEW_SIZE[1])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 2)
        lay.setSpacing(2)
        lay.addLayout(top)
        lay.addWidget(self.row, 1)
        self.backend = backend or os.environ.get("CORNERCASE_RENDER_BACKEND", "thread")
        if self.backend not in ("process", "thread"):
            raise ValueError(f"unknown render backend {self.backend!r}; use 'process' or 'thread'")
        if self.backend == "process" and renderer_factory is make_renderer:
            from app.render_process import RenderProcess

            self.worker = RenderProcess(PREVIEW_SIZE, parent=self)
        else:
            self.backend = "thread"
            preload("shapely", "shapely.geometry", "shapely.ops", "cv2", "trimesh", "engine.render.guidance",
                    "engine.render.visualize", "engine.assets")
            self.worker = LatestOnlyWorker(render_request, setup=renderer_factory, teardown=_release,
                                           name="preview-render", parent=self)
        self.worker.result_ready.connect(self._on_result)
        self.worker.failed.connect(self._on_failed)
        self.worker.setup_failed.connect(self._on_setup_failed)
        self.shown_id = 0
        self.shown: PreviewResult | None = None
        self.render_seconds = 0.0
        self.render_history: list[float] = []  # seconds per shown render (the last 200)
        self.enabled = autostart
        self.map_box.currentTextChanged.connect(lambda _t: self.request())
        self.set_document(document)

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

    def set_document(self, document: Document) -> None:
        if self.document is not None:
            self.document.events.scenario_changed.disconnect(self.request)
            self.document.events.time_changed.disconnect(self.request)
        self.document = document
        document.events.scenario_changed.connect(self.request)
        document.events.time_changed.connect(self.request)
        self.request()

    def request(self, *_args) -> int:
        """Ask for a render of the current state; returns the request id (0 when disabled)."""
        if not self.enabled or self.document is None:
            return 0
        req = PreviewRequest(self.document.scenario, self.document.current_time, self.map_name, time.perf_counter())
        return self.worker.submit(req)

    def _on_result(self, rid: int, result: PreviewResult, seconds: float) -> None:
        if rid < self.shown_id:
            return  # an older picture than the one on screen
        images = result.images
        for k, name in enumerate(result.names):
            tile = self.tiles.get(name)
            if tile is not None:
                tile.set_image(images[k])
        for tile in self.tiles.values():
            tile.repaint()
        self.shown_id = rid
        self.shown = result
        self.render_seconds = seconds
        self.render_history.append(seconds)
        del self.render_history[:-200]
        latency = time.perf_counter() - result.request.submitted
        warn = f"  ·  {len(result.warnings)} warning(s)" if result.warnings else ""
        self.status.setText(f"t = {result.request.t:.2f} s  ·  render {seconds * 1000:.0f} ms ({self.backend})  ·  "
                            f"{self.worker.dropped} stale request(s) dropped{warn}")
        if result.warnings:
            self.status.setToolTip("\n".join(result.warnings))
        self.frame_shown.emit(rid, latency)

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
        self.worker.stop()
