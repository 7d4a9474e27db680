"""A plain-text progress bar for the command line (no dependency): redrawn in place on a terminal,
one line per update otherwise (logs, CI)."""
from __future__ import annotations

import sys
import time
from typing import TextIO


class TextProgress:
    """``[#######.............]  7/20  35%  eta 0:42  message``"""

    def __init__(self, total: int, label: str = "", stream: TextIO | None = None, width: int = 28) -> None:
        self.total = max(int(total), 0)
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.t0 = time.perf_counter()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_len = 0

    def line(self, done: int, message: str = "") -> str:
        """The text of the bar for `done` of `total`."""
        total = max(self.total, 1)
        frac = min(max(done / total, 0.0), 1.0)
        filled = int(round(frac * self.width))
        elapsed = time.perf_counter() - self.t0
        eta = ""
        if 0 < done < self.total:
            rem = elapsed / done * (self.total - done)
            eta = f"  eta {int(rem // 60)}:{int(rem % 60):02d}"
        head = f"{self.label} " if self.label else ""
        return f"{head}[{'#' * filled}{'.' * (self.width - filled)}] {done}/{self.total} {frac:4.0%}{eta}  {message}".rstrip()

    def update(self, done: int, message: str = "") -> None:
        text = self.line(done, message)
        if self.tty:
            pad = max(self._last_len - len(text), 0)
            self.stream.write("\r" + text + " " * pad)
            self._last_len = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self._last_len:
            self.stream.write("\n")
            self.stream.flush()
