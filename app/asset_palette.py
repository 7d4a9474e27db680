"""Asset palette: one thumbnail per class (and per asset of a user folder); drag one onto the canvas.

Thumbnails come from ``resources/assets/<class>/<class>.png`` (or a PNG next to a user asset);
without one, a class-colour icon is drawn. The drag carries `ASSET_MIME` (class and asset ref).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QColor, QDrag, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QListView, QListWidget, QListWidgetItem,
                               QToolButton, QVBoxLayout, QWidget)

from app import theme
from app.bev_canvas import ASSET_MIME, encode_asset_mime
from engine.classes import class_names
from engine.paths import RESOURCES_DIR

ASSETS_DIR = RESOURCES_DIR / "assets"
ICON_SIZE = 72


@dataclass(frozen=True)
class PaletteEntry:
    """One draggable asset: its class, its reference, a label and an optional thumbnail file."""

    cls: str
    asset: str
    label: str
    thumbnail: Path | None


def builtin_entries(root: Path = ASSETS_DIR) -> list[PaletteEntry]:
    """The ten classes with their bundled thumbnails (None where the PNG is missing)."""
    out = []
    for cls in class_names():
        png = root / cls / f"{cls}.png"
        out.append(PaletteEntry(cls, f"builtin:{cls}", cls.replace("_", " "), png if png.is_file() else None))
    return out


def folder_entries(folder: str | os.PathLike) -> tuple[list[PaletteEntry], list[str]]:
    """Entries for the assets of a user folder (one sub-folder per class) and the problems found."""
    from engine.assets import scan_asset_folder

    found = scan_asset_folder(folder, validate=False)
    entries = []
    for cls in class_names():
        for path in found.paths(cls):
            png = path.with_suffix(".png")
            entries.append(PaletteEntry(cls, str(path), f"{path.stem} ({cls})", png if png.is_file() else None))
    return entries, [str(p) for p in found.problems]


def class_icon(cls: str, size: int = ICON_SIZE) -> QPixmap:
    """A drawn fallback: a rounded square in the class colour with the class's initials."""
    pix = QPixmap(size, size)
    pix.fill(Qt.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.Antialiasing)
    p.setBrush(theme.class_qcolor(cls))
    p.setPen(QColor("#111111"))
    p.drawRoundedRect(4, 4, size - 8, size - 8, 10, 10)
    f = QFont()
    f.setBold(True)
    f.setPixelSize(size // 3)
    p.setFont(f)
    p.setPen(QColor("#ffffff"))
    initials = "".join(w[0] for w in cls.split("_")).upper()
    p.drawText(pix.rect(), Qt.AlignCenter, initials)
    p.end()
    return pix


def entry_pixmap(entry: PaletteEntry, size: int = ICON_SIZE) -> QPixmap:
    if entry.thumbnail is not None:
        pix = QPixmap(str(entry.thumbnail))
        if not pix.isNull():
            return pix.scaled(size, size, Qt.KeepAspectRatio, Qt.SmoothTransformation)
    return class_icon(entry.cls, size)


class _PaletteList(QListWidget):
    """A list in icon mode whose drags carry our MIME type."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.IconMode)
        self.setIconSize(QSize(ICON_SIZE, ICON_SIZE))
        self.setGridSize(QSize(ICON_SIZE + 26, ICON_SIZE + 30))
        self.setResizeMode(QListView.Adjust)
        self.setMovement(QListView.Static)
        self.setDragEnabled(True)
        self.setWordWrap(True)
        self.setSpacing(2)
        self.setUniformItemSizes(True)

    def startDrag(self, supported_actions) -> None:  # noqa: N802 (Qt name)
        item = self.currentItem()
        if item is None:
            return
        entry: PaletteEntry = item.data(Qt.UserRole)
        drag = QDrag(self)
        drag.setMimeData(PaletteWidget.mime_for(entry))
        drag.setPixmap(item.icon().pixmap(48, 48))
        drag.exec(Qt.CopyAction)


class PaletteWidget(QWidget):
    """The asset palette dock's contents. `entry_activated(cls, asset)` on double click."""

    entry_activated = Signal(str, str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.list = _PaletteList(self)
        hint = QLabel("Drag onto the map: it heads along the lane")
        hint.setObjectName("panelHint")
        hint.setWordWrap(True)
        add = QToolButton(text="Add folder…")
        add.setToolTip("Add the assets of a folder (one sub-folder per class, GLB/OBJ files)")
        add.clicked.connect(self._add_folder_dialog)
        self.problems = QLabel()
        self.problems.setObjectName("errorLabel")
        self.problems.setWordWrap(True)
        self.problems.hide()
        top = QHBoxLayout()
        top.addWidget(hint, 1)
        top.addWidget(add)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.problems)
        self.list.itemDoubleClicked.connect(self._on_double)
        self.set_entries(builtin_entries())

    @staticmethod
    def mime_for(entry: PaletteEntry) -> QMimeData:
        mime = QMimeData()
        mime.setData(ASSET_MIME, encode_asset_mime(entry.cls, entry.asset))
        mime.setText(entry.asset)
        return mime

    def set_entries(self, entries: list[PaletteEntry]) -> None:
        self.list.clear()
        self.add_entries(entries)

    def add_entries(self, entries: list[PaletteEntry]) -> None:
        for e in entries:
            item = QListWidgetItem(QIcon(entry_pixmap(e)), e.label)
            item.setData(Qt.UserRole, e)
            item.setToolTip(f"{e.cls}\n{e.asset}")
            item.setTextAlignment(Qt.AlignHCenter | Qt.AlignTop)
            self.list.addItem(item)

    def entries(self) -> list[PaletteEntry]:
        return [self.list.item(i).data(Qt.UserRole) for i in range(self.list.count())]

    def add_folder(self, folder: str | os.PathLike) -> int:
        """Add a user asset folder; returns how many assets were added (problems shown below)."""
        entries, problems = folder_entries(folder)
        self.add_entries(entries)
        self.problems.setVisible(bool(problems))
        self.problems.setText("\n".join(problems[:5]) + ("\n…" if len(problems) > 5 else ""))
        return len(entries)

    def _add_folder_dialog(self) -> None:
        from app.ui_state import UiState

        state = UiState()
        folder = QFileDialog.getExistingDirectory(self, "Asset folder (one sub-folder per class)",
                                                  state.last_folder("assets"))
        if folder:
            state.set_last_folder("assets", folder)
            self.add_folder(folder)

    def _on_double(self, item: QListWidgetItem) -> None:
        e: PaletteEntry = item.data(Qt.UserRole)
        self.entry_activated.emit(e.cls, e.asset)
