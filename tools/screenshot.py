"""Open the editor on a scenario, wait until it has drawn, and save a PNG of the window.

    python tools/screenshot.py OUT.png [--scenario FILE] [--time 1.5] [--select ID] [--size 1600x950]

Needs an X server (run it under xvfb-run); used for docs/ and for looking at the window.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
os.environ.setdefault("QT_XCB_GL_INTEGRATION", "xcb_egl")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--scenario", default=None)
    ap.add_argument("--time", type=float, default=1.0)
    ap.add_argument("--select", default=None)
    ap.add_argument("--size", default="1600x950")
    ap.add_argument("--wait", type=float, default=2.0, help="seconds of event processing before the grab")
    args = ap.parse_args()

    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow, create_app
    from editor.document import Document
    from engine.paths import DEMO_SCENARIO

    app = create_app()  # noqa: F841  (the QApplication must stay referenced while the window lives)
    doc = Document.open(args.scenario or DEMO_SCENARIO)
    win = MainWindow(doc)
    w, h = (int(v) for v in args.size.split("x"))
    win.resize(w, h)
    win.show()
    doc.set_time(args.time)
    if args.select:
        doc.select((args.select,))
    end = time.time() + args.wait
    while time.time() < end:
        QApplication.processEvents()
        time.sleep(0.02)
    pix = win.grab()
    pix.save(args.out)
    print(f"wrote {args.out} ({pix.width()}x{pix.height()})")
    win.document.undo_stack.set_clean()
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
