"""Real mouse and drag-and-drop events for pytest-qt tests of pyqtgraph views (QTest's mouseMove
does not carry the pressed button in every Qt version, so events are built explicitly)."""
from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QMouseEvent
from PySide6.QtWidgets import QApplication


def send_mouse(widget, kind, pos: QPointF, button=Qt.LeftButton, buttons=Qt.LeftButton, mods=Qt.NoModifier) -> None:
    """Send one mouse event (kind: QEvent.MouseButtonPress / MouseMove / MouseButtonRelease / MouseButtonDblClick)."""
    p = QPointF(pos)
    g = QPointF(widget.mapToGlobal(p.toPoint()))
    QApplication.sendEvent(widget, QMouseEvent(kind, p, g, button, buttons, mods))


def mouse_drag(qtbot, widget, start: QPointF, end: QPointF, steps: int = 8, mods=Qt.NoModifier) -> None:
    """Press at `start`, move in `steps` steps to `end`, release there (left button)."""
    from PySide6.QtCore import QEvent

    send_mouse(widget, QEvent.MouseMove, start, Qt.NoButton, Qt.NoButton, mods)
    send_mouse(widget, QEvent.MouseButtonPress, start, Qt.LeftButton, Qt.LeftButton, mods)
    for i in range(1, steps + 1):
        f = i / steps
        p = QPointF(start.x() + (end.x() - start.x()) * f, start.y() + (end.y() - start.y()) * f)
        send_mouse(widget, QEvent.MouseMove, p, Qt.NoButton, Qt.LeftButton, mods)
        qtbot.wait(5)
    send_mouse(widget, QEvent.MouseButtonRelease, end, Qt.LeftButton, Qt.NoButton, mods)
    qtbot.wait(10)


def mouse_click(qtbot, widget, pos: QPointF, mods=Qt.NoModifier, double: bool = False) -> None:
    from PySide6.QtCore import QEvent

    send_mouse(widget, QEvent.MouseMove, pos, Qt.NoButton, Qt.NoButton, mods)
    send_mouse(widget, QEvent.MouseButtonPress, pos, Qt.LeftButton, Qt.LeftButton, mods)
    send_mouse(widget, QEvent.MouseButtonRelease, pos, Qt.LeftButton, Qt.NoButton, mods)
    if double:
        send_mouse(widget, QEvent.MouseButtonDblClick, pos, Qt.LeftButton, Qt.LeftButton, mods)
        send_mouse(widget, QEvent.MouseButtonRelease, pos, Qt.LeftButton, Qt.NoButton, mods)
    qtbot.wait(10)


def drop_mime(widget, mime: QMimeData, path: list[QPointF]) -> bool:
    """Drag-enter at path[0], move along the path, drop at the last point; True when the drop was accepted."""
    first = path[0].toPoint()
    enter = QDragEnterEvent(first, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    for p in path:
        QApplication.sendEvent(widget, QDragMoveEvent(p.toPoint(), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))
    drop = QDropEvent(QPointF(path[-1]), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(widget, drop)
    return drop.isAccepted()


def as_point(p) -> QPoint:
    return QPoint(int(round(p.x())), int(round(p.y())))
