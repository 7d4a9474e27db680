"""A word-wrapped label that always gets the height its lines need.

A wrapped QLabel inside a form in a dock is often laid out one line high (the dock's layout does not ask
for height-for-width), so a two-line hint is drawn cut at the top and bottom. This label sets its
minimum height to the height its text needs at its current width, whenever the width or text changes.
"""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QSizePolicy


class WrapLabel(QLabel):
    """QLabel with word wrap whose minimum height follows its text at its width."""

    def __init__(self, text: str = "", parent=None) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Minimum)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt name)
        super().setText(text)
        self._fit_height()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._fit_height()

    def _fit_height(self) -> None:
        if self.width() > 0:
            need = self.heightForWidth(self.width())
            if need > 0 and need != self.minimumHeight():
                self.setMinimumHeight(need)
