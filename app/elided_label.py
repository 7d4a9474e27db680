"""A one-line label that never widens its layout: long text is elided to the width it is given.

A plain QLabel's minimum width is its whole text, so a long status message ("render 41 ms (process) ·
...") pushes docks sideways and can shove a neighbour off the window. This label asks for no width,
draws as much text as fits with an ellipsis, and shows the whole text as its tooltip when cut.
"""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QLabel, QSizePolicy


class ElidedLabel(QLabel):
    """QLabel whose text is elided on the right to fit; `text()` returns the full text."""

    def __init__(self, text: str = "", parent=None) -> None:
        super().__init__(parent)
        self._full = ""
        self._own_tooltip = ""
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.setTextFormat(Qt.PlainText)
        self.setText(text)

    def text(self) -> str:  # noqa: D401 (Qt name)
        return self._full

    def setText(self, text: str) -> None:  # noqa: N802 (Qt name)
        self._full = text or ""
        self._refit()

    def setToolTip(self, tip: str) -> None:  # noqa: N802 (Qt name)
        """A tooltip set by the owner wins over the automatic full-text one."""
        self._own_tooltip = tip or ""
        super().setToolTip(self._own_tooltip)
        self._refit()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(0, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(min(self.fontMetrics().horizontalAdvance(self._full) + 4, 400), super().sizeHint().height())

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._refit()

    def _refit(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, Qt.ElideRight, max(self.width() - 2, 0))
        QLabel.setText(self, shown)
        if not self._own_tooltip:
            QLabel.setToolTip(self, self._full if shown != self._full else "")
