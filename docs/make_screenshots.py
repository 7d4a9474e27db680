"""Write the editor screenshots in docs/ (run under an X server: the 3D view needs OpenGL).

    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python docs/make_screenshots.py [--out docs]

main_window.png      editing the demo: a car selected (handles, rotate handle), speed profile, preview, 3D
editor_prompt.png    a prompt interpreted offline and applied: script highlighted, its agents on the map
editor_checks.png    a parked truck in the ego's path: flagged in red, marked on the timeline, TTC plot
editor_depth.png     the preview switched to the depth map, at night
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
os.environ.setdefault("QT_XCB_GL_INTEGRATION", "xcb_egl")



def pump(seconds: float, until=None) -> None:
    from PySide6.QtWidgets import QApplication

    end = time.time() + seconds
    while time.time() < end:
        QApplication.processEvents()
        if until is not None and until():
            break
        time.sleep(0.01)


def settle(win, seconds: float = 60.0) -> None:
    """Wait until the preview shows the current state and the checks ran on it."""
    doc = win.document
    pump(seconds, lambda: win.preview.shown is not None and win.preview.shown.request.scenario is doc.scenario
         and win.preview.shown.request.t == doc.current_time and win.preview.worker.idle
         and win.checks.report_scenario is doc.scenario)
    pump(0.8)


def make_window(size: tuple[int, int]):
    from app.main_window import MainWindow
    from editor.document import Document
    from engine.paths import DEMO_SCENARIO

    tmp = Path(tempfile.mkdtemp(prefix="ccs-shots-"))
    copy = tmp / "demo_intersection.json"
    copy.write_bytes(DEMO_SCENARIO.read_bytes())
    win = MainWindow(Document.open(copy), recovery_dir=tmp / "recovery", restore_layout=False)
    win.resize(*size)
    win.show()
    pump(1.0)
    return win


def close(win) -> None:
    win.document.undo_stack.set_clean()
    win.close()
    pump(0.3)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "docs"))
    ap.add_argument("--size", default="1920x1080")
    args = ap.parse_args()
    out = Path(args.out)
    size = tuple(int(v) for v in args.size.split("x"))

    from PySide6.QtCore import QSettings

    QSettings.setDefaultFormat(QSettings.IniFormat)
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, tempfile.mkdtemp(prefix="ccs-settings-"))
    from app.main_window import create_app

    qa = create_app()
    import pyqtgraph as pg

    pg.setConfigOptions(antialias=True)

    # 1. editing the demo
    win = make_window(size)
    doc = win.document
    doc.set_time(1.5)
    doc.select(("car_1",))
    doc.select_waypoint("car_1", 7)
    settle(win)
    win.grab().save(str(out / "main_window.png"))
    print("wrote main_window.png")
    close(win)

    # 2. a prompt applied
    win = make_window(size)
    doc = win.document
    panel = win.prompt_panel
    win.prompt_dock.raise_()
    panel.prompt.setPlainText("a truck cuts in from the left at dusk while a pedestrian crosses ahead")
    panel.interpreter.setCurrentIndex(panel.interpreter.findData("offline"))
    panel.generate_script()
    pump(60, lambda: not panel.busy)
    panel.set_mode("replace")
    panel.apply_script()
    pump(60, lambda: not panel.busy)
    new = [a.id for a in doc.scenario.agents]
    doc.set_time(1.2)
    if new:
        doc.select((new[0],))
    win.canvas.frame_scenario()
    settle(win)
    win.grab().save(str(out / "editor_prompt.png"))
    print("wrote editor_prompt.png", new)
    close(win)

    # 3. checks: a parked truck in the ego's path
    from dataclasses import replace

    from editor import commands as C
    from editor.drop_placement import new_agent_at
    from engine.scenario.trajectory import Trajectory

    win = make_window(size)
    doc = win.document
    x, y, yaw = doc.scenario.ego.trajectory.pose_at(2.0)
    truck, _ = new_agent_at(doc.scenario, "truck", x + 4.0, y, 0.0)
    doc.execute(C.AddAgent(replace(truck, trajectory=Trajectory.static(x + 4.0, y, yaw + 0.15))))
    doc.select((truck.id,))
    win.inspector.tabs.setCurrentIndex(2)
    doc.set_time(2.0)
    settle(win)
    win.grab().save(str(out / "editor_checks.png"))
    print("wrote editor_checks.png")
    close(win)

    # 4. depth map at night
    win = make_window(size)
    doc = win.document
    win.environment.tod_buttons["night"].click()
    win.preview.set_map("Depth")
    doc.set_time(2.0)
    doc.select(("truck_1",))
    settle(win)
    win.grab().save(str(out / "editor_depth.png"))
    print("wrote editor_depth.png")
    close(win)
    qa.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
