"""The command-line progress bar of `train prepare | run | eval`: tqdm on stderr."""
from __future__ import annotations

import sys
from typing import NoReturn

from tqdm import tqdm


def progress_bar(total: int | None, desc: str, unit: str = "it", enabled: bool = True) -> tqdm[NoReturn]:
    """A tqdm bar on stderr (a context manager with `update(n)`); a disabled one draws nothing."""
    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True, disable=not enabled)
