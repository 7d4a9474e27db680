"""Colours and the dark look shared by the app's views (the engine keeps class colours in engine.classes)."""
from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

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
SNAP = QColor("#30d5c8")          # where a drag snaps to (lane centre)
WARNING = QColor("#ff9f0a")
ERROR = QColor("#ff453a")
INFO = QColor("#64d2ff")
HANDLE = QColor("#ffffff")
ACCENT = QColor("#0a84ff")

WINDOW = QColor("#25282d")
BASE = QColor("#1b1d21")
ALT_BASE = QColor("#2b2f35")
TEXT = QColor("#dfe2e7")
MUTED_TEXT = QColor("#8b929c")
BUTTON = QColor("#30343a")

STYLE_SHEET = """
QMainWindow::separator { background: #1b1d21; width: 4px; height: 4px; }
QDockWidget { titlebar-close-icon: none; font-weight: 600; }
QDockWidget::title { background: #2d3137; padding: 4px 8px; border-bottom: 1px solid #1b1d21; }
QToolBar { background: #2a2d33; border: none; spacing: 4px; padding: 2px; }
QToolButton { padding: 3px 6px; border-radius: 3px; }
QToolButton:checked { background: #0a84ff; color: white; }
QToolButton:hover:!checked { background: #3a3f46; }
QTabBar::tab { background: #2b2f35; padding: 5px 12px; border: 1px solid #1b1d21; border-bottom: none; }
QTabBar::tab:selected { background: #3a3f46; }
QStatusBar { background: #1f2226; color: #b8bec7; }
QPlainTextEdit, QTextEdit { font-family: "DejaVu Sans Mono", monospace; }
QLabel#panelHint { color: #8b929c; }
QLabel#errorLabel { color: #ff6961; }
QLabel#okLabel { color: #7ee081; }
QHeaderView::section { background: #2d3137; padding: 3px; border: none; border-right: 1px solid #1b1d21; }
"""


def class_qcolor(cls: str, alpha: int = 255) -> QColor:
    r, g, b = CLASS_COLORS.get(cls, (200, 200, 200))
    return QColor(r, g, b, alpha)


def severity_color(severity: int) -> QColor:
    """Colour of a check finding's severity (0 info, 1 warning, 2 error)."""
    return {0: INFO, 1: WARNING, 2: ERROR}.get(int(severity), WARNING)


def apply_dark_theme(app: QApplication) -> None:
    """Fusion style with a dark palette and a few style-sheet touches."""
    app.setStyle("Fusion")
    pal = QPalette()
    roles = {
        QPalette.Window: WINDOW, QPalette.WindowText: TEXT, QPalette.Base: BASE, QPalette.AlternateBase: ALT_BASE,
        QPalette.ToolTipBase: QColor("#30343a"), QPalette.ToolTipText: TEXT, QPalette.Text: TEXT,
        QPalette.Button: BUTTON, QPalette.ButtonText: TEXT, QPalette.BrightText: QColor("#ff453a"),
        QPalette.Highlight: ACCENT, QPalette.HighlightedText: QColor("#ffffff"), QPalette.Link: QColor("#4da3ff"),
        QPalette.PlaceholderText: MUTED_TEXT,
    }
    for role, color in roles.items():
        pal.setColor(role, color)
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        pal.setColor(QPalette.Disabled, role, QColor("#6b7179"))
    app.setPalette(pal)
    app.setStyleSheet(STYLE_SHEET)
    f = app.font()
    if f.pointSizeF() < 9:
        f.setPointSizeF(9)
        app.setFont(f)


def monospace_font(size: float = 9.5) -> QFont:
    f = QFont("DejaVu Sans Mono")
    f.setStyleHint(QFont.Monospace)
    f.setPointSizeF(size)
    return f
