"""Latency from a drag event to the repainted six-camera preview, with 20 agents.

    python benchmarks/bench_drag_preview.py [--runs 3] [--seconds 2.0] [--rate 60] [--size 448x256]

A real MainWindow (offscreen Qt, preview rendered with EGL) on the demo grown to 20 agents; mouse
moves are sent to the BEV canvas at `--rate` Hz dragging car_1 sideways, as the X server would: when
the UI thread is busy, moves that arrived meanwhile are compressed into the latest one (Qt does the
same). For every move, the latency is the time from when it was due to the repaint of the first
preview whose render includes it.

Three designs, measured in the same run:
  thread   the editor's default: a render worker thread owns the renderer; latest wins
  process  the same worker with the renderer's thread in a child process (no shared GIL, GL crashes
           isolated; CORNERCASE_RENDER_BACKEND=process)
  sync     the baseline: the UI thread renders and repaints the preview inside each drag event
Besides the preview latency it reports the UI latency (due time to the canvas having handled the
move), which is what a worker protects. Prints a table: the median over runs of p50 / p95, and the
ratio baseline / editor.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

import numpy as np  # noqa: E402



def scenario_with_20_agents():
    """The demo plus parked and moving agents up to 20 (besides the ego)."""
    from editor.placement import new_agent_at
    from engine.demo import build_demo_scenario

    s = build_demo_scenario()
    spots = [("car", 40.0, 5.25), ("car", -20.0, 5.25), ("truck", 90.0, -1.75), ("car", 100.0, -5.25),
             ("pedestrian", 30.0, 9.0), ("car", 45.0, -40.0), ("bus", 45.0, 40.0), ("motorcycle", 20.0, 1.75),
             ("bicycle", 60.0, -9.0), ("car", 70.0, 5.25), ("trailer", -30.0, -1.75), ("car", 120.0, 1.75)]
    for cls, x, y in spots:
        if len(s.agents) >= 20:
            break
        agent, _ = new_agent_at(s, cls, x, y, 1.0)
        s = s.with_agent(agent)
    assert len(s.agents) == 20, len(s.agents)
    return s


def send_mouse(widget, kind, pos, button, buttons) -> None:
    """Deliver one mouse event to a widget as the window system would."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    p = QPointF(pos)
    QApplication.sendEvent(widget, QMouseEvent(kind, p, QPointF(widget.mapToGlobal(p.toPoint())), button, buttons,
                                               Qt.NoModifier))


class SyncPreview:
    """The baseline: render and repaint the preview on the UI thread, inside the change event."""

    def __init__(self, pane, document) -> None:
        from app.preview_pane import make_renderer

        self.pane = pane
        self.document = document
        self.renderer = make_renderer()
        self.paints: list[tuple[float, float]] = []  # (submitted, painted)
        self.seconds: list[float] = []                # render time of each
        document.events.scenario_changed.connect(self._render)

    def _render(self, _s) -> None:
        from app.preview_pane import PreviewRequest, render_request

        req = PreviewRequest(self.document.scenario, self.document.current_time, self.pane.map_name, time.perf_counter())
        t0 = time.perf_counter()
        result = render_request(self.renderer, req)
        self.seconds.append(time.perf_counter() - t0)
        for k, name in enumerate(result.names):
            self.pane.tiles[name].set_image(result.images[k])
        for tile in self.pane.tiles.values():
            tile.repaint()
        self.paints.append((req.submitted, time.perf_counter()))

    def close(self) -> None:
        self.document.events.scenario_changed.disconnect(self._render)
        self.renderer.release()


def run_once(mode: str, seconds: float, rate: float) -> dict[str, np.ndarray]:
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from editor.document import Document

    qa = QApplication.instance()
    doc = Document(scenario_with_20_agents())
    os.environ["CORNERCASE_RENDER_BACKEND"] = "thread" if mode == "thread" else "process"
    win = MainWindow(doc, recovery_dir=Path("/tmp") / f"bench-recovery-{os.getpid()}", enable_preview=True,
                     enable_3d=False, restore_layout=False)
    win.resize(1600, 950)
    win.show()
    pane = win.preview
    doc.set_time(1.0)
    sync = None
    paints: list[tuple[float, float]] = []
    if mode == "sync":
        pane.enabled = False  # the worker gets no requests
        sync = SyncPreview(pane, doc)
    else:
        assert pane.backend == mode, (pane.backend, mode)
        pane.frame_shown.connect(lambda rid, lat: paints.append((pane.shown.request.submitted, time.perf_counter())))
    # warm up: the renderer has built the scene and rendered once
    t_end = time.perf_counter() + 60
    while time.perf_counter() < t_end:
        qa.processEvents()
        if mode == "sync" or pane.shown is not None:
            break
        time.sleep(0.005)
    if mode == "sync":
        sync._render(None)
    vp = win.canvas.viewport()
    x, y, _ = doc.scenario.agent("car_1").trajectory.pose_at(1.0)
    win.controller.snap_enabled = False
    start = win.canvas.world_to_widget(x, y)
    px = 1.0 / win.canvas.pixel_size()
    send_mouse(vp, QEvent.MouseMove, start, Qt.NoButton, Qt.NoButton)
    send_mouse(vp, QEvent.MouseButtonPress, start, Qt.LeftButton, Qt.LeftButton)
    paints.clear()
    pane.render_history.clear()
    if sync is not None:
        sync.paints.clear()
        sync.seconds.clear()
    n = int(seconds * rate)
    t0 = time.perf_counter() + 0.05
    due = t0 + np.arange(n) / rate
    sent_at = np.full(n, np.nan)      # when the move (or the compressed move covering it) was sent
    handled_at = np.full(n, np.nan)   # when the canvas had handled it
    i = 0
    while i < n:
        now = time.perf_counter()
        if now < due[i]:
            qa.processEvents()
            time.sleep(0.0005)
            continue
        j = int(np.searchsorted(due, now, side="right"))  # every move due by now: compressed into the last
        off = 3.0 * np.sin(2 * np.pi * (j - 1) / (rate * 0.8))  # metres: back and forth across the lanes
        pos = QPointF(start.x() + 40 * np.sin((j - 1) / 7.0), start.y() - off * px)
        t_send = time.perf_counter()
        send_mouse(vp, QEvent.MouseMove, pos, Qt.NoButton, Qt.LeftButton)
        t_done = time.perf_counter()
        sent_at[i:j] = t_send
        handled_at[i:j] = t_done
        i = j
        qa.processEvents()
    send_mouse(vp, QEvent.MouseButtonRelease, pos, Qt.LeftButton, Qt.NoButton)
    # drain: wait for the preview of the final state
    t_end = time.perf_counter() + 30
    while time.perf_counter() < t_end:
        qa.processEvents()
        if mode == "sync" or (pane.worker.idle and pane.shown is not None and pane.shown.request.scenario is doc.scenario):
            break
        time.sleep(0.002)
    qa.processEvents()
    records = sync.paints if sync is not None else paints
    submitted = np.array([r[0] for r in records])
    painted = np.array([r[1] for r in records])
    preview_latency = []
    for k in range(n):
        ok = np.nonzero(submitted >= sent_at[k])[0]
        if ok.size:
            preview_latency.append(painted[ok[0]] - due[k])
    out = {
        "preview": np.array(preview_latency),
        "ui": handled_at - due,
        "render": np.array(pane.render_history if sync is None else sync.seconds),
        "frames": np.array([len(records)]),
        "dropped": np.array([pane.worker.dropped]),
    }
    if sync is not None:
        sync.close()
    win.document.undo_stack.set_clean()
    win.shutdown()
    win.close()
    win.deleteLater()
    qa.processEvents()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--rate", type=float, default=60.0, help="mouse moves per second")
    ap.add_argument("--switch-interval", type=float, default=None,
                    help="sys.setswitchinterval in seconds (Python's default is 0.005)")
    args = ap.parse_args()
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    QSettings.setDefaultFormat(QSettings.IniFormat)
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, f"/tmp/bench-settings-{os.getpid()}")
    qa = QApplication.instance() or QApplication([])
    qa.setOrganizationName("CornerCaseStudio")
    qa.setApplicationName("Corner-Case Studio bench")

    modes = ("thread", "process", "sync")
    results: dict[str, list[dict]] = {m: [] for m in modes}
    for r in range(args.runs):
        for mode in modes:
            res = run_once(mode, args.seconds, args.rate)
            results[mode].append(res)
            p = res["preview"]
            print(f"run {r + 1} {mode:7s}: {len(p)} moves, {int(res['frames'][0])} previews painted, "
                  f"preview p50 {np.percentile(p, 50) * 1000:7.1f} ms p95 {np.percentile(p, 95) * 1000:7.1f} ms, "
                  f"UI p95 {np.percentile(res['ui'], 95) * 1000:7.1f} ms", flush=True)

    def med(mode: str, key: str, q: float) -> float:
        return statistics.median(float(np.percentile(x[key], q)) * 1000 for x in results[mode])

    print()
    print(f"drag -> repainted preview, 20 agents, 6 cameras, mouse at {args.rate:g} Hz, "
          f"median of {args.runs} runs ({args.seconds:g} s of drag each)")
    print(f"{'metric':32s} {'thread (editor)':>16s} {'process':>9s} {'sync (baseline)':>16s} {'sync/thread':>12s}")
    for key, label in (("preview", "preview latency"), ("ui", "UI latency (canvas handled)")):
        for q in (50, 95):
            t, p, s = med("thread", key, q), med("process", key, q), med("sync", key, q)
            print(f"{label + f' p{q} [ms]':32s} {t:16.1f} {p:9.1f} {s:16.1f} {s / max(t, 1e-9):12.2f}")
    rt = [statistics.median(float(np.median(x["render"])) * 1000 for x in results[m]) for m in modes]
    print(f"{'render time per preview p50 [ms]':32s} {rt[0]:16.1f} {rt[1]:9.1f} {rt[2]:16.1f}")
    frames = [statistics.median(float(x["frames"][0]) for x in results[m]) for m in modes]
    print(f"{'previews painted per run':32s} {frames[0]:16.0f} {frames[1]:9.0f} {frames[2]:16.0f}")
    dropped = [statistics.median(float(x["dropped"][0]) for x in results[m]) for m in modes[:2]]
    print(f"{'stale requests dropped per run':32s} {dropped[0]:16.0f} {dropped[1]:9.0f} {'-':>16s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
