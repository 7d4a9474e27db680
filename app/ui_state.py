"""Settings remembered between sessions (QSettings): window layout, recent files, editor toggles."""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings

MAX_RECENT = 10


def settings() -> QSettings:
    """The application's settings (organisation and name set by `create_app`)."""
    return QSettings()


def push_recent(files: list[str], path: str | os.PathLike, limit: int = MAX_RECENT) -> list[str]:
    """`files` with `path` first (by resolved path, no duplicates), at most `limit` entries."""
    p = str(Path(path).resolve())
    out = [p] + [f for f in files if str(Path(f).resolve()) != p]
    return out[:limit]


class UiState:
    """Typed access to the keys the editor stores."""

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store or settings()

    def recent_files(self) -> list[str]:
        v = self.store.value("recent_files", [])
        if isinstance(v, str):
            v = [v]
        return [str(f) for f in (v or []) if f]

    def add_recent(self, path: str | os.PathLike) -> list[str]:
        files = push_recent(self.recent_files(), path)
        self.store.setValue("recent_files", files)
        return files

    def remove_recent(self, path: str | os.PathLike) -> None:
        p = str(Path(path).resolve())
        self.store.setValue("recent_files", [f for f in self.recent_files() if str(Path(f).resolve()) != p])

    def flag(self, key: str, default: bool) -> bool:
        v = self.store.value(key, default)
        return v in (True, "true", "1", 1) if not isinstance(v, bool) else v

    def set_flag(self, key: str, value: bool) -> None:
        self.store.setValue(key, bool(value))

    def text(self, key: str, default: str = "") -> str:
        v = self.store.value(key, default)
        return str(v) if v is not None else default

    def set_text(self, key: str, value: str) -> None:
        self.store.setValue(key, value)

    def bytes_value(self, key: str):
        return self.store.value(key)

    def set_value(self, key: str, value) -> None:
        self.store.setValue(key, value)

    def sync(self) -> None:
        self.store.sync()

    def last_folder(self, kind: str = "scenarios") -> str:
        """The folder a file dialog of `kind` starts in: the last one used (if it still exists), else the
        home folder (never the bundled demo folder)."""
        folder = self.text(f"last_folder/{kind}") or self.text("last_folder/scenarios")
        if folder and os.path.isdir(folder):
            return folder
        from pathlib import Path

        return str(Path.home())

    def set_last_folder(self, kind: str, path: str | os.PathLike) -> None:
        """Remember the folder of `path` (a file or a folder) for dialogs of `kind`."""
        p = os.fspath(path)
        self.set_text(f"last_folder/{kind}", p if os.path.isdir(p) else os.path.dirname(os.path.abspath(p)))
