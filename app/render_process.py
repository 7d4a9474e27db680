"""Preview rendering in a child process: the renderer's thread there owns the GL context.

Same interface as `app.workers.LatestOnlyWorker` (submit / idle / dropped / stop and the signals
result_ready, failed, setup_failed) so the preview pane can use either. A process instead of a thread
because the renderer is partly Python: in a thread it would compete with the UI for the GIL and slow
down both; in its own process it runs in parallel, and a crash of the GL driver costs a preview
frame, not the editor (the process is restarted on the next request, up to `MAX_RESTARTS` times).

Latest wins: at most one request is in flight; a newer request replaces the one waiting (stale drag
steps are dropped, never rendered). The road map travels only when it changed (scenarios are sent
without it). The pictures do not travel over the pipe: the child writes them into a shared-memory
double buffer (`app.render_child.FrameBuffer`, two slots of six tiles at the preview size) and sends only
(slot, shape); a result's `slot` stays held until the pane has copied it once (`release(slot)`), and
the next request goes to the other slot, so the child renders into one half while the UI reads the other.
"""
from __future__ import annotations

import multiprocessing as mp
import threading

from PySide6.QtCore import QObject, Signal

from app.render_child import FrameBuffer, child_main, split_agents

MAX_RESTARTS = 3


def _lean_map(road_map):
    from engine.scenario.map_elements import RoadMap

    m = road_map
    return RoadMap(m.lanes, m.lane_boundaries, m.lane_dividers, m.ped_crossings, m.drivable_area)


class RenderProcess(QObject):
    """The client side. `submit(PreviewRequest)` returns an id; results arrive as `PreviewResult`s."""

    result_ready = Signal(int, object, float)
    failed = Signal(int, str)
    setup_failed = Signal(str)

    def __init__(self, size: tuple[int, int], parent=None) -> None:
        super().__init__(parent)
        self.size = size
        self._lock = threading.RLock()
        self._next_id = 0
        self._pending = None       # (rid, request)
        self._in_flight = None     # (rid, request)
        self._ready = False
        self._stopping = False
        self._sent_map = None
        self._sent_agents: dict = {}   # id -> agent object the child has (identity: unchanged ones go as ids)
        self.restarts = 0
        self.dropped = 0
        self.completed = 0
        self.setup_error: str | None = None
        self.gl_renderer = ""
        self._proc = None
        self._conn = None
        self._reader = None
        self.child_has_qt: bool | None = None   # the child reports whether PySide6 got loaded there
        self._buffer = FrameBuffer(size, 6, create=True)
        self._held = [False] * FrameBuffer.SLOTS   # slot -> a result over it is not yet copied by the UI
        self._last_slot = FrameBuffer.SLOTS - 1
        self._start()

    # ---- process ----------------------------------------------------------------------
    def _start(self) -> None:
        ctx = mp.get_context("spawn")  # never fork a process that has Qt and GL state
        parent_conn, child_conn = ctx.Pipe()
        self._proc = ctx.Process(target=child_main, args=(child_conn, self.size, self._buffer.name), daemon=True,
                                 name="cornercase-preview-render")
        self._proc.start()
        child_conn.close()
        self._conn = parent_conn
        self._ready = False
        self._sent_map = None
        self._sent_agents = {}
        self._reader = threading.Thread(target=self._read_loop, args=(parent_conn,), daemon=True,
                                        name="preview-render-reader")
        self._reader.start()

    @property
    def latest_id(self) -> int:
        return self._next_id

    @property
    def idle(self) -> bool:
        with self._lock:
            return self._pending is None and self._in_flight is None

    def isRunning(self) -> bool:  # noqa: N802 (QThread-like)
        return self._proc is not None and self._proc.is_alive()

    def submit(self, request) -> int:
        with self._lock:
            self._next_id += 1
            if self._pending is not None:
                self.dropped += 1
            self._pending = (self._next_id, request)
            rid = self._next_id
            if self._proc is not None and not self._proc.is_alive() and not self._stopping \
                    and self.setup_error is None and self.restarts < MAX_RESTARTS:
                self.restarts += 1
                self._in_flight = None
                self._start()
            self._pump_locked()
        return rid

    def _pump_locked(self) -> None:
        if not self._ready or self._in_flight is not None or self._pending is None or self._stopping:
            return
        free = [k for k in range(FrameBuffer.SLOTS) if not self._held[k]]
        if not free:
            return   # both halves are still on their way to the screen: the UI releases one soon
        slot = next((k for k in free if k != self._last_slot), free[0])
        rid, req = self._pending
        self._pending = None
        road_map = None
        if req.scenario.map is not self._sent_map:
            road_map = _lean_map(req.scenario.map)
            self._sent_map = req.scenario.map
        try:
            opts = {"camera_maps": req.camera_maps, "overlay": req.overlay, "draft": req.draft}
            lean, spec = split_agents(req.scenario, self._sent_agents)
            self._conn.send(("render", rid, lean, road_map, req.t, req.map_name, opts, slot, spec))
            self._in_flight = (rid, req)
            self._last_slot = slot
        except (OSError, ValueError) as e:
            self._sent_map = None
            self._sent_agents = {}
            self.failed.emit(rid, f"the render process is gone: {e}")

    def _read_loop(self, conn) -> None:
        from app.preview_render import PreviewResult

        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                with self._lock:
                    lost = self._in_flight
                    self._in_flight = None
                    self._ready = False
                if not self._stopping:
                    code = self._proc.exitcode if self._proc is not None else None
                    self.failed.emit(lost[0] if lost else -1,
                                     f"the render process stopped (exit code {code}); it restarts on the next change")
                return
            kind = msg[0]
            if kind == "ready":
                with self._lock:
                    self._ready = True
                    self.gl_renderer = msg[1]
                    self.child_has_qt = bool(msg[2]) if len(msg) > 2 else None
                    self._pump_locked()
            elif kind == "setup_failed":
                self.setup_error = msg[1]
                self.setup_failed.emit(msg[1])
                return
            elif kind in ("ok", "error"):
                slot = None
                if kind == "ok" and isinstance(msg[2], tuple) and msg[2][0] == "shm":
                    slot = msg[2][1]
                with self._lock:
                    entry = self._in_flight
                    self._in_flight = None
                    if kind == "ok":
                        self.completed += 1
                    if slot is not None:
                        self._held[slot] = entry is not None
                    self._pump_locked()
                if entry is None or self._stopping:   # stopping: the shared memory may be unmapped any moment
                    continue
                rid, req = entry
                if kind == "ok":
                    _, _, images, names, warnings, seconds = msg[:6]
                    boxes = msg[6] if len(msg) > 6 else {}
                    if slot is not None:
                        images = self._buffer.view(slot, msg[2][2])   # over the shared memory, no copy
                    self.result_ready.emit(rid, PreviewResult(req, images, names, warnings, boxes, slot), float(seconds))
                else:
                    self.failed.emit(rid, msg[2])

    def release(self, slot: int | None) -> None:
        """The UI has copied the pictures of `slot` (or dropped them): the child may write there again."""
        if slot is None:
            return
        with self._lock:
            self._held[slot] = False
            self._pump_locked()

    @property
    def stopping(self) -> bool:
        """True once `stop` began: results still queued for the UI thread point into shared memory that
        is (or is about to be) unmapped, and must be dropped unread."""
        return self._stopping

    def stop(self, timeout_ms: int = 5000) -> None:
        """Ask the process to release its renderer and exit; terminate it if it does not."""
        with self._lock:
            self._stopping = True
            self._pending = None
        if self._proc is None:
            return
        try:
            self._conn.send(("stop",))
        except (OSError, ValueError):
            pass
        self._proc.join(timeout_ms / 1000)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(2)
        try:
            self._conn.close()
        except OSError:
            pass
        if self._reader is not None:
            self._reader.join(2)
        self._buffer.close()
