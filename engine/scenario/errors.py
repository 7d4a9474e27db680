"""The file format's own error: every problem found, each with its JSON path."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class Problem:
    """One problem in a scenario document. `path` like ``agents[2].trajectory[5].t`` ('' = the document)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ScenarioFormatError(ValueError):
    """A scenario document could not be read; `problems` lists everything wrong with it."""

    def __init__(self, problems: list[Problem], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        head = f"{source}: " if source else ""
        n = len(self.problems)
        lines = [f"{head}{n} problem{'s' if n != 1 else ''} in scenario"]
        lines += [f"  {p}" for p in self.problems]
        super().__init__("\n".join(lines))


def format_path(parts: Iterable[str | int]) -> str:
    """Turn ('agents', 2, 'trajectory', 5, 't') into 'agents[2].trajectory[5].t'."""
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out
