"""Render workers: latest wins, results arrive on the UI thread, a crashed render process comes back."""
from __future__ import annotations

import os
import threading
import time

import pytest


def test_latest_only_worker_drops_stale_requests(qtbot):
    from app.workers import LatestOnlyWorker

    seen, threads = [], []

    def slow(_state, request):
        threads.append(threading.get_ident())
        time.sleep(0.05)
        seen.append(request)
        return request * 10

    w = LatestOnlyWorker(slow, setup=lambda: "state")
    results = []
    w.result_ready.connect(lambda rid, res, sec: results.append((rid, res, threading.get_ident())))
    ids = [w.submit(i) for i in range(20)]  # returns at once: the UI never waits
    qtbot.waitUntil(lambda: bool(w.idle and results and results[-1][0] == ids[-1]), timeout=5000)
    assert results[-1][1] == 190
    assert w.dropped >= 15 and len(seen) <= 5  # most requests never ran
    assert all(r[2] == threading.get_ident() for r in results)  # delivered on the UI thread
    assert threading.get_ident() not in threads  # the work ran elsewhere
    w.stop()
    assert not w.isRunning()


def test_worker_reports_setup_and_work_failures(qtbot):
    from app.workers import LatestOnlyWorker

    def bad_setup():
        raise RuntimeError("no GL here")

    w = LatestOnlyWorker(lambda s, r: r, setup=bad_setup)
    with qtbot.waitSignal(w.setup_failed, timeout=5000) as sig:
        w.submit(1)
    assert "no GL here" in sig.args[0]
    with qtbot.waitSignal(w.failed, timeout=5000) as sig:
        w.submit(2)
    assert "no GL here" in sig.args[1]
    w.stop()


@pytest.mark.parametrize("backend", ["thread", "process"])
def test_preview_pane_renders_six_cameras_in_panorama_order(qtbot, backend):
    from app.preview_pane import PANORAMA, PreviewPane
    from editor.document import Document
    from engine.demo import build_demo_scenario

    doc = Document(build_demo_scenario())
    pane = PreviewPane(doc, backend=backend)
    qtbot.addWidget(pane)
    pane.resize(1200, 200)
    pane.show()
    try:
        qtbot.waitUntil(lambda: pane.shown is not None, timeout=60000)
        assert pane.backend == backend
        assert pane.shown.names == PANORAMA
        imgs = pane.shown.images
        assert imgs.shape[0] == 6 and imgs.shape[-1] == 3 and imgs.dtype.name == "uint8"
        assert all(imgs[k].std() > 5 for k in range(6))  # every camera sees something
        pane.set_map("Depth")
        qtbot.waitUntil(lambda: pane.shown.request.map_name == "depth", timeout=60000)
        assert pane.tiles["CAM_BACK"].image is not None
    finally:
        pane.shutdown()


def test_a_crashed_render_process_is_reported_and_restarted(qtbot):
    from app.preview_pane import PreviewPane
    from editor.document import Document
    from engine.demo import build_demo_scenario

    doc = Document(build_demo_scenario())
    pane = PreviewPane(doc, backend="process")
    qtbot.addWidget(pane)
    try:
        qtbot.waitUntil(lambda: pane.shown is not None, timeout=60000)
        first = pane.shown_id
        os.kill(pane.worker._proc.pid, 9)  # the GL driver takes the render process down
        qtbot.waitUntil(lambda: "render process stopped" in pane.status.text(), timeout=10000)
        doc.set_time(1.0)  # the next change brings it back
        qtbot.waitUntil(lambda: pane.shown_id > first and pane.shown.request.t == 1.0, timeout=60000)
        assert pane.worker.restarts == 1
    finally:
        pane.shutdown()


def test_preview_is_lit_for_the_time_of_day(qtbot):
    from app.preview_pane import PreviewPane
    from editor import commands as C
    from editor.document import Document
    from engine.demo import build_demo_scenario
    from engine.scenario.model import Environment

    doc = Document(build_demo_scenario())
    pane = PreviewPane(doc, backend="thread")
    qtbot.addWidget(pane)
    try:
        qtbot.waitUntil(lambda: pane.shown is not None and pane.worker.idle, timeout=60000)
        day = float(pane.shown.images.mean())
        doc.execute(C.SetEnvironment(Environment("night", "clear")))
        qtbot.waitUntil(lambda: pane.shown.request.scenario is doc.scenario, timeout=60000)
        night = float(pane.shown.images.mean())
        assert night < 0.7 * day, (day, night)
    finally:
        pane.shutdown()
