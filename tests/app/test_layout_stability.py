"""Long texts in labels must not widen docks: the canvas keeps its size and no dock is pushed off the window."""
from __future__ import annotations

from app.elided_label import ElidedLabel


def _docks_inside(win) -> list[str]:
    """Names of visible, non-tabbed-away docks that stick out of the window's client area."""
    inside = win.rect()
    out = []
    for name, dock in win.docks.items():
        if dock.isVisible() and not dock.visibleRegion().isEmpty():
            g = dock.geometry()
            if g.right() > inside.right() + 1 or g.bottom() > inside.bottom() + 1 or g.left() < -1:
                out.append(name)
    return out


def test_long_status_texts_do_not_resize_the_canvas_or_push_docks_off(make_window, qtbot):
    win = make_window(enable_preview=True)
    qtbot.waitUntil(lambda: win.preview.shown is not None, timeout=30000)
    qtbot.wait(50)
    canvas_width = win.canvas.width()
    assert not _docks_inside(win)
    very_long = "render 41 ms (process) · " * 40
    win.preview.status.setText(very_long)
    win.status_message.setText("Moving car_1's whole path: one undo step. " * 20)
    win.checks_panel.summary.setText("3 errors · 2 warnings · " * 30)
    qtbot.wait(100)
    assert win.canvas.width() == canvas_width
    assert not _docks_inside(win), _docks_inside(win)
    assert win.preview.status.text() == very_long            # the full text is kept ...
    assert win.preview.status.toolTip() == very_long         # ... and shown as the tooltip when cut


def test_elided_label_keeps_the_full_text_and_an_explicit_tooltip(qtbot):
    label = ElidedLabel("a short one")
    qtbot.addWidget(label)
    label.resize(60, 20)
    label.setText("x" * 500)
    assert label.text() == "x" * 500 and label.minimumSizeHint().width() == 0
    from PySide6.QtWidgets import QLabel
    assert QLabel.text(label).endswith("…") and len(QLabel.text(label)) < 100  # what is drawn is cut
    label.setToolTip("why it failed")
    label.setText("y" * 500)
    assert label.toolTip() == "why it failed"
