"""A progress bar: tqdm when it is installed, else a plain one-line bar on stderr (at most one update a second)."""
from __future__ import annotations

import sys
import time


class _PlainBar:
    def __init__(self, total: int | None, desc: str, unit: str) -> None:
        self.total, self.desc, self.unit = total, desc, unit
        self.n = 0
        self._t0 = time.perf_counter()
        self._last = 0.0

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.perf_counter()
        if now - self._last >= 1.0:
            self._last = now
            self._print()

    def _print(self, end: str = "\r") -> None:
        el = time.perf_counter() - self._t0
        rate = self.n / el if el > 0 else 0.0
        if self.total:
            frac = min(1.0, self.n / self.total)
            bar = "#" * int(30 * frac) + "-" * (30 - int(30 * frac))
            msg = f"{self.desc}: [{bar}] {self.n}/{self.total} {self.unit} ({rate:.2f}/s)"
        else:
            msg = f"{self.desc}: {self.n} {self.unit} ({rate:.2f}/s)"
        print(msg, end=end, file=sys.stderr, flush=True)

    def close(self) -> None:
        self._print(end="\n")

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _NoBar:
    n = 0

    def update(self, n: int = 1) -> None:
        self.n += n

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


def progress_bar(total: int | None, desc: str, unit: str = "it", enabled: bool = True):
    """A context manager with `update(n)`: tqdm if importable, else a plain bar; nothing when disabled."""
    if not enabled:
        return _NoBar()
    try:
        from tqdm import tqdm
    except ImportError:
        return _PlainBar(total, desc, unit)
    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True)
