"""pydantic (through engine.config) is loaded when the main window's module is, on the UI thread, before
any worker thread starts: its first import racing a worker's imports under PySide6's import hook can abort
the app ("circular import" in pydantic's lazy module __getattr__; 3 of 15 runs of the crash script in
test_autosave_bursts.py before the import moved)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_importing_the_main_window_loads_pydantic_and_starts_no_thread():
    code = ("import sys, threading; import app.main_window; "
            "print('pydantic' in sys.modules, 'engine.config' in sys.modules, threading.active_count())")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen", "MPLBACKEND": "Agg"})
    assert out.stdout.strip().splitlines()[-1] == "True True 1"
