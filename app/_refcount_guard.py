"""Guard against a reference-count bug of the pinned PySide6 / shiboken6 (6.12.0) on Python 3.11.

There, every Qt method that returns nothing hands back ``None`` without taking a reference, so each
call lowers None's reference count by one; after a few thousand calls (seconds of painting) CPython
aborts with "none_dealloc: deallocating None". Python 3.12 made None, True and False immortal, which
is why the bug does not show there. `guard()` detects the bug with a harmless call and, only if it is
present, gives the three singletons a reference count no program can exhaust (what 3.12 does).
"""
from __future__ import annotations

import ctypes
import platform
import sys

_PINNED = False
PIN = 1 << 40


def bug_present() -> bool:
    """Whether void Qt methods drop a reference to None in this process."""
    from PySide6.QtGui import QColor

    c = QColor(1, 2, 3)
    before = sys.getrefcount(None)
    for _ in range(16):
        c.setAlpha(10)
    return sys.getrefcount(None) < before - 8


def guard() -> bool:
    """Pin None / True / False when the bug is present; True when pinned (now or before)."""
    global _PINNED
    if _PINNED:
        return True
    if sys.version_info >= (3, 12) or platform.python_implementation() != "CPython":
        return False
    if not bug_present():
        return False
    for obj in (None, True, False):
        ctypes.c_ssize_t.from_address(id(obj)).value += PIN
    _PINNED = True
    return True
