"""The render process over a shared-memory frame buffer: its pictures equal the render thread's pixel for
pixel, the child never loads Qt, the double buffer's slots come back after the pane copied them, and the
child dies with the editor."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]


def _requests():
    from app.preview_render import PreviewRequest
    from engine.demo import build_demo_scenario

    s = build_demo_scenario()
    return [PreviewRequest(s, 1.0, "rgb", 0.0),
            PreviewRequest(s, 2.5, "depth", 0.0, camera_maps=(("CAM_BACK", "edge"),), overlay=True)]


def _render_with(worker, qtbot, request):
    got = []
    worker.result_ready.connect(lambda rid, res, sec: got.append((rid, res)))
    worker.failed.connect(lambda rid, msg: got.append((rid, msg)))
    rid = worker.submit(request)
    qtbot.waitUntil(lambda: any(r == rid for r, _ in got), timeout=120000)
    assert not isinstance(next(res for r, res in got if r == rid), str), got
    result = next(res for r, res in got if r == rid)
    worker.result_ready.disconnect()
    worker.failed.disconnect()
    images = np.array(result.images)   # copy: a shared-memory view is released below
    if getattr(result, "slot", None) is not None:
        worker.release(result.slot)
    return images, result


def test_process_frames_equal_thread_frames(qtbot):
    """Same request through the render thread (LatestOnlyWorker) and the render process (shared memory):
    the same pixels, names and boxes; and the child process never imported PySide6."""
    from app.preview_render import PREVIEW_SIZE, _release, make_renderer, render_request
    from app.render_process import RenderProcess
    from app.workers import LatestOnlyWorker

    thread = LatestOnlyWorker(render_request, setup=make_renderer, teardown=_release, name="test-render")
    proc = RenderProcess(PREVIEW_SIZE)
    try:
        for req in _requests():
            a, ra = _render_with(thread, qtbot, req)
            b, rb = _render_with(proc, qtbot, req)
            assert rb.slot is not None          # it came through the shared buffer, not the pipe
            assert a.shape == b.shape == (6, PREVIEW_SIZE[1], PREVIEW_SIZE[0], 3)
            assert a.std() > 5                  # a real picture, not two blank ones
            assert np.array_equal(a, b)
            assert ra.names == rb.names
            assert ra.boxes == rb.boxes
        assert proc.child_has_qt is False
    finally:
        thread.stop()
        proc.stop()


def test_pane_releases_the_double_buffer_and_latest_wins(qtbot):
    """A burst of time changes through the pane's process backend: the last one is shown, stale ones were
    dropped, and after the pane copied every picture both slots are free again."""
    from app.preview_pane import PreviewPane
    from editor.document import Document
    from engine.demo import build_demo_scenario

    doc = Document(build_demo_scenario())
    pane = PreviewPane(doc, backend="process")
    qtbot.addWidget(pane)
    try:
        qtbot.waitUntil(lambda: pane.shown is not None, timeout=120000)
        for k in range(30):
            doc.set_time(0.1 * k)
        assert doc.current_time > 2.0
        qtbot.waitUntil(lambda: pane.worker.idle and pane.shown.request.t == doc.current_time, timeout=60000)
        qtbot.wait(50)
        assert pane.worker.dropped > 0
        assert pane.worker._held == [False, False]
        assert pane.shown.slot is None and pane.shown.images.flags.owndata   # the pane's own copy
    finally:
        pane.shutdown()


def test_a_result_queued_when_the_pane_shuts_down_is_dropped_unread(qtbot):
    """A picture the render process finished just before the window closed sits in the UI thread's event
    queue as a view over the shared memory, which the shutdown unmaps: the pane must drop it unread (reading
    it crashed the whole process with a segmentation fault in CI)."""
    from app.preview_pane import PreviewPane
    from editor.document import Document
    from engine.demo import build_demo_scenario

    doc = Document(build_demo_scenario())
    pane = PreviewPane(doc, backend="process")
    qtbot.addWidget(pane)
    qtbot.waitUntil(lambda: pane.shown is not None, timeout=120000)
    shown_id = pane.shown_id
    doc.set_time(1.5)                                     # a new render is submitted ...
    deadline = time.monotonic() + 60
    while pane.worker.completed < 2 and time.monotonic() < deadline:
        time.sleep(0.02)                                  # ... finishes in the reader thread, its result queued
    assert pane.worker.completed >= 2
    pane.shutdown()                                       # the shared memory is closed before the queue runs
    qtbot.wait(100)                                       # now the queued result is delivered
    assert pane.shown_id == shown_id                      # dropped, not drawn


_ORPHAN = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, sys.argv[1])
    from app.render_process import RenderProcess
    from app.preview_render import PREVIEW_SIZE
    p = RenderProcess(PREVIEW_SIZE)
    print(p._proc.pid, flush=True)
    time.sleep(600)
""")


def test_render_process_dies_with_the_editor():
    editor = subprocess.Popen([sys.executable, "-c", _ORPHAN, str(REPO)], stdout=subprocess.PIPE, text=True)
    try:
        child = int(editor.stdout.readline())
        os.kill(editor.pid, 9)   # the editor is killed: no chance to stop its child
        editor.wait(10)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(child, 0)
            except ProcessLookupError:
                break
            with open(f"/proc/{child}/stat") as f:
                if f.read().split(")")[1].split()[0] == "Z":   # exited, waiting for its (gone) parent
                    break
            time.sleep(0.2)
        else:
            pytest.fail("the render process outlived the editor")
    finally:
        if editor.poll() is None:
            editor.kill()


def test_unchanged_agents_travel_as_ids_and_come_back_whole():
    """split_agents / join_agents: the second request of a drag sends only the moved agent; the child
    rebuilds a scenario equal to the editor's, reusing its own objects for the others."""
    import pickle
    from dataclasses import replace

    from app.render_child import join_agents, split_agents
    from engine.demo import build_demo_scenario
    from engine.scenario.trajectory import Trajectory

    s1 = build_demo_scenario()
    sent, cache = {}, {}
    lean1, spec1 = split_agents(s1, sent)
    got1 = join_agents(pickle.loads(pickle.dumps(lean1)), pickle.loads(pickle.dumps(spec1)), cache)
    assert all(not isinstance(x, str) for x in spec1)
    moved = s1.agents[0]
    pts = moved.trajectory.points
    s2 = s1.with_agent(replace(moved, trajectory=Trajectory(tuple(replace(p, y=p.y + 1.0) for p in pts))))
    lean2, spec2 = split_agents(s2, sent)
    assert [x for x in spec2 if not isinstance(x, str)][0].id == moved.id
    assert sum(not isinstance(x, str) for x in spec2) == 1
    got2 = join_agents(pickle.loads(pickle.dumps(lean2)), pickle.loads(pickle.dumps(spec2)), cache)
    assert got2.agent(moved.id).trajectory.points == s2.agent(moved.id).trajectory.points
    assert [a.id for a in got2.agents] == [a.id for a in s2.agents]
    assert got2.ego == s2.ego
    other = s2.agents[1].id
    assert got2.agent(other) is got1.agent(other)   # the child's own object, interpolants kept


_QT_FREE = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    from app.render_child import FrameBuffer, child_main, join_agents, split_agents   # what the child runs
    from app.preview_render import PreviewRequest, make_renderer, render_request      # what child_main imports
    qt = sorted(m for m in sys.modules if m == "PySide6" or m.startswith(("PySide6.", "shiboken6", "pyqtgraph")))
    print("QT", qt)
""")


def test_the_render_child_modules_import_without_qt():
    """Imported in a fresh interpreter, the render child's modules load neither PySide6 nor pyqtgraph."""
    out = subprocess.run([sys.executable, "-c", _QT_FREE, str(REPO)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "QT []" in out.stdout, out.stdout
