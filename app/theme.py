"""Colours shared by the app's views (the engine keeps class colours in engine.classes)."""
from __future__ import annotations

from PySide6.QtGui import QColor

from engine.classes import CLASS_COLORS

BEV_BACKGROUND = "#1e2227"
GROUND = QColor("#2a3036")
ROAD = QColor("#4a4f55")
CROSSING = QColor(235, 235, 235, 150)
BOUNDARY = QColor("#e8e8e8")
DIVIDER = QColor("#f0f0f0")
CENTER_DIVIDER = QColor("#f2c94c")
LANE_CENTER = QColor(120, 170, 255, 70)
EGO = QColor("#ff3b30")
SELECTION = QColor("#ffd60a")
WARNING = QColor("#ff9f0a")


def class_qcolor(cls: str, alpha: int = 255) -> QColor:
    r, g, b = CLASS_COLORS.get(cls, (200, 200, 200))
    return QColor(r, g, b, alpha)
