"""Latency from a drag event to the repainted six-camera preview, with 20 agents; time to the window.

    python benchmarks/bench_drag_preview.py [--runs 3] [--seconds 2.0] [--rate 60] [--startup-runs 2]

A real MainWindow (offscreen Qt, preview rendered with EGL) on the demo grown to 20 agents; mouse
moves are sent to the BEV canvas at `--rate` Hz dragging car_1 sideways, as the X server would: when
the UI thread is busy, moves that arrived meanwhile are compressed into the latest one (Qt does the
same). For every move, the latency is the time from when it was due to the repaint of the first
preview whose render includes it.

Designs, measured in the same run:
  thread       a render worker thread owns the renderer, latest wins, and it renders only the map on
               screen (CORNERCASE_RENDER_BACKEND=thread)
  thread-draft the same with "Fast while dragging" on: a reduced-resolution draft while dragging (a
               second renderer, made on the first drag), full size when the drag ends
  process      the editor's default: the renderer in a child process (no shared GIL, GL crashes
               isolated), pictures through a shared-memory double buffer, only changed agents on the pipe
  sync         the baseline: the UI thread renders (full size, every map) and repaints the preview
               inside each drag event
Besides the preview latency it reports the UI latency (due time to the canvas having handled the
move) and the UI-thread block time (the longest stretches the event loop did not run, measured by a
1 ms timer: what a render on the UI thread costs the hand), the UI thread's CPU time per move (handling
the move, and everything the UI thread did during the drag divided by the moves: paints and pictures
included; CPU time, so it moves much less with the machine's load than the wall-clock rows), and the time
from starting the editor
process to its first painted window, deferring heavy work (the editor) or not (the old start-up).
Prints tables: the median over runs of p50 / p95, and the ratio baseline / editor.
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
    from editor.drop_placement import new_agent_at
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
    os.environ["CORNERCASE_RENDER_BACKEND"] = "process" if mode == "process" else "thread"
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
        assert pane.backend == mode.split("-")[0], (pane.backend, mode)
        pane.draft_box.setChecked(mode.endswith("-draft"))
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
    ticks: list[float] = []
    from PySide6.QtCore import QTimer

    monitor = QTimer()
    monitor.setTimerType(Qt.PreciseTimer)
    monitor.setInterval(1)
    monitor.timeout.connect(lambda: ticks.append(time.perf_counter()))
    monitor.start()
    n = int(seconds * rate)
    t0 = time.perf_counter() + 0.05
    due = t0 + np.arange(n) / rate
    sent_at = np.full(n, np.nan)      # when the move (or the compressed move covering it) was sent
    handled_at = np.full(n, np.nan)   # when the canvas had handled it
    cpu_handle: list[float] = []      # UI-thread CPU seconds spent handling each move sent
    cpu_start = time.thread_time()
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
        c0 = time.thread_time()
        send_mouse(vp, QEvent.MouseMove, pos, Qt.NoButton, Qt.LeftButton)
        cpu_handle.append(time.thread_time() - c0)
        t_done = time.perf_counter()
        sent_at[i:j] = t_send
        handled_at[i:j] = t_done
        i = j
        qa.processEvents()
    monitor.stop()
    cpu_loop = time.thread_time() - cpu_start
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
        "handle": handled_at - sent_at,
        "block": np.diff(np.array(ticks)) if len(ticks) > 1 else np.zeros(1),
        "cpu_handle": np.array(cpu_handle),
        "cpu_move": np.array([cpu_loop / max(len(cpu_handle), 1)]),
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


STARTUP = """
import sys, time
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
from app.main_window import create_app, MainWindow
from editor.document import Document
from engine.paths import DEMO_SCENARIO
app = create_app()
defer = {defer!r}
w = MainWindow(Document.open(DEMO_SCENARIO), recovery_dir={rec!r}, restore_layout=False, defer_heavy=defer)
w.show()
if defer:
    w.call_after_first_paint(w.start_deferred)
while w.first_paint_at is None:
    app.processEvents()
print("VISIBLE", w.first_paint_at - t0 + {spawn!r})
w.document.undo_stack.set_clean()
w.shutdown()
"""


def time_to_window(defer: bool) -> float:
    """Seconds from starting a Python process to the editor window's first paint (interpreter start
    included: measured as the wall time until the process starts running, plus the in-process time)."""
    import subprocess

    t0 = time.perf_counter()
    probe = subprocess.run([sys.executable, "-c", "import time; print(time.perf_counter())"], capture_output=True,
                           text=True)
    spawn = time.perf_counter() - t0  # an empty interpreter's start and exit
    code = STARTUP.format(root=str(Path(__file__).resolve().parent.parent), defer=defer,
                          rec=f"/tmp/bench-recovery-{os.getpid()}", spawn=spawn)
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    for line in out.stdout.splitlines():
        if line.startswith("VISIBLE"):
            return float(line.split()[1])
    raise RuntimeError(f"the start-up probe failed: {out.stderr[-2000:]} {probe.stderr}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--rate", type=float, default=60.0, help="mouse moves per second")
    ap.add_argument("--startup-runs", type=int, default=2, help="start-up measurements per design (0: skip)")
    ap.add_argument("--modes", default="thread,thread-draft,process,sync")
    ap.add_argument("--switch-interval", type=float, default=None,
                    help="sys.setswitchinterval in seconds (Python's default is 0.005)")
    args = ap.parse_args()
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)

    startup = {}
    for defer in (True, False):
        startup[defer] = [time_to_window(defer) for _ in range(args.startup_runs)]
        if startup[defer]:
            print(f"start-up ({'deferred' if defer else 'all at once'}): "
                  + ", ".join(f"{x:.2f} s" for x in startup[defer]), flush=True)

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    QSettings.setDefaultFormat(QSettings.IniFormat)
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, f"/tmp/bench-settings-{os.getpid()}")
    qa = QApplication.instance() or QApplication([])
    qa.setOrganizationName("CornerCaseStudio")
    qa.setApplicationName("Corner-Case Studio bench")

    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    results: dict[str, list[dict]] = {m: [] for m in modes}
    for r in range(args.runs):
        for mode in modes:
            res = run_once(mode, args.seconds, args.rate)
            results[mode].append(res)
            p = res["preview"]
            print(f"run {r + 1} {mode:11s}: {len(p)} moves, {int(res['frames'][0])} previews painted, "
                  f"preview p50 {np.percentile(p, 50) * 1000:7.1f} ms p95 {np.percentile(p, 95) * 1000:7.1f} ms, "
                  f"UI p95 {np.percentile(res['ui'], 95) * 1000:7.1f} ms, "
                  f"longest UI block {np.max(res['block']) * 1000:7.1f} ms", flush=True)

    def med(mode: str, key: str, q: float) -> float:
        return statistics.median(float(np.percentile(x[key], q)) * 1000 for x in results[mode])

    base = "sync" if "sync" in modes else modes[-1]
    ed = modes[0]
    print()
    print(f"drag -> repainted preview, 20 agents, 6 cameras, mouse at {args.rate:g} Hz, "
          f"median of {args.runs} runs ({args.seconds:g} s of drag each)")
    print(f"{'metric':34s} " + " ".join(f"{m:>12s}" for m in modes) + f" {base + '/' + ed:>14s}")
    rows = (("preview", "preview latency", (50, 95)), ("ui", "UI latency (canvas handled)", (50, 95)),
            ("handle", "UI time per move", (50, 95)), ("block", "UI-thread block", (95, 100)),
            ("cpu_handle", "UI CPU handling a move", (50, 95)), ("cpu_move", "UI CPU per move, all", (50,)))
    for key, label, qs in rows:
        for q in qs:
            vals = [med(m, key, q) for m in modes]
            name = label + (" max [ms]" if q == 100 else " [ms]" if key == "cpu_move" else f" p{q} [ms]")
            ratio = med(base, key, q) / max(med(ed, key, q), 1e-9)
            print(f"{name:34s} " + " ".join(f"{v:12.1f}" for v in vals) + f" {ratio:14.2f}")
    rt = [statistics.median(float(np.median(x["render"])) * 1000 for x in results[m]) for m in modes]
    print(f"{'render time per preview p50 [ms]':34s} " + " ".join(f"{v:12.1f}" for v in rt))
    frames = [statistics.median(float(x["frames"][0]) for x in results[m]) for m in modes]
    print(f"{'previews painted per run':34s} " + " ".join(f"{v:12.0f}" for v in frames))
    if startup[True] and startup[False]:
        a, b = statistics.median(startup[True]), statistics.median(startup[False])
        print()
        print(f"time to window visible (process start -> first paint), median of {args.startup_runs}")
        print(f"{'deferred (editor)':34s} {a:8.2f} s")
        print(f"{'all at once (before)':34s} {b:8.2f} s   ratio {b / max(a, 1e-9):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
