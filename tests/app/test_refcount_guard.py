"""Regression guard for the Qt binding: PySide6 6.12.0 on Python 3.11 drops a reference to None on
every Qt method that returns nothing, and CPython aborts after a few thousand calls ("none_dealloc").
pyproject.toml pins a release without the bug; this test fails if an upgrade brings it back.
"""
from __future__ import annotations

import subprocess
import sys


def test_many_void_qt_calls_do_not_exhaust_none():
    code = (
        "import sys\n"
        "from PySide6.QtGui import QColor\n"
        "c = QColor(1, 2, 3)\n"
        "before = sys.getrefcount(None)\n"
        "for _ in range(200000): c.setAlpha(5)\n"
        "print('drift', before - sys.getrefcount(None))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    drift = int(r.stdout.split("drift")[1])
    assert abs(drift) < 100, f"None lost {drift} references over 200000 void Qt calls"
