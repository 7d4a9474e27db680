"""The prompt panel's "running script" state: a script that never ends (two huge nested lists
compared) shows the running state with Cancel; clicking Cancel kills its process within a second or
two, nothing is applied, and the panel is usable again at once (the next Apply works)."""
from __future__ import annotations

import time

from PySide6.QtCore import Qt

HANG = "a = []\nb = []\nfor i in range(50):\n    a = [a, a]\n    b = [b, b]\nsame = a == b\n"
BOUND_S = 3.0           # from the click on Cancel to a usable panel, on a loaded machine


def test_cancel_stops_a_hung_script(main_window, qtbot):
    from engine.sandbox.executor import default_executor

    win, doc = main_window, main_window.document
    panel = win.prompt_panel
    panel.script.setPlainText(HANG)
    qtbot.mouseClick(panel.apply, Qt.LeftButton)
    assert panel.busy and panel.cancel.isVisibleTo(panel) and not panel.apply.isEnabled()
    qtbot.wait(1200)
    assert panel.busy and "Running the script" in panel.status.text() and " s (Cancel stops it)" in panel.status.text()
    started = default_executor().started
    t0 = time.monotonic()
    qtbot.mouseClick(panel.cancel, Qt.LeftButton)
    assert not panel.busy and panel.apply.isEnabled() and not panel.cancel.isVisibleTo(panel)
    assert "Cancelled" in panel.status.text() and "process was stopped" in panel.status.text()
    # the worker thread comes back once the process is killed (not after the 10 s limit)
    qtbot.waitUntil(lambda: panel.worker.idle, timeout=int(BOUND_S * 1000))
    assert time.monotonic() - t0 < BOUND_S
    assert len(doc.undo_stack) == 0
    # the killed worker was replaced: the next Apply works
    panel.script.setPlainText('truck = cut_in(ego, side="left", cls="truck")\n')
    qtbot.mouseClick(panel.apply, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(doc.undo_stack) == 1, timeout=30000)
    assert default_executor().started > started
    win.resize(1400, 900)


def test_running_state_screenshot(main_window, qtbot, tmp_path):
    """The running state as a person sees it (saved for the docs when CORNERCASE_SCREENSHOT_DIR is set)."""
    import os

    panel = main_window.prompt_panel
    main_window.prompt_dock.show()
    main_window.prompt_dock.raise_()
    panel.prompt.setPlainText("two nested lists compared forever")
    panel.script.setPlainText(HANG)
    qtbot.mouseClick(panel.apply, Qt.LeftButton)
    qtbot.wait(2300)
    assert panel.cancel.isVisibleTo(main_window) and panel.isVisible()
    out = os.environ.get("CORNERCASE_SCREENSHOT_DIR")
    if out:
        main_window.grab().save(os.path.join(out, "prompt_running_script.png"))
    assert panel.cancel.isVisible()
    qtbot.mouseClick(panel.cancel, Qt.LeftButton)
    qtbot.waitUntil(lambda: panel.worker.idle, timeout=int(BOUND_S * 1000))
