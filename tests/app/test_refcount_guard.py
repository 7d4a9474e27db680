"""The PySide6 6.12 / Python 3.11 refcount guard: thousands of void Qt calls must not abort the process."""
from __future__ import annotations

import subprocess
import sys


def test_many_void_qt_calls_do_not_exhaust_none():
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import app\n"
        "from PySide6.QtGui import QColor\n"
        "c = QColor(1, 2, 3)\n"
        "for _ in range(200000): c.setAlpha(5)\n"
        "print('alive', sys.getrefcount(None) > 1000)\n"
    )
    import os

    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    r = subprocess.run([sys.executable, "-c", code, repo], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "alive True" in r.stdout
