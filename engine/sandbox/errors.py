"""What the sandbox reports: every problem with the line (and column) it was found at."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One refusal or failure: 1-based line and column (0 when not tied to a place) and the reason."""

    line: int
    col: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}" if self.line else self.reason


class ScriptError(Exception):
    """A script was refused or failed; `problems` lists every problem found."""

    verb = "failed"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        n = len(self.problems)
        head = f"script {self.verb} ({n} problem{'s' if n != 1 else ''})"
        super().__init__("\n".join([head] + [f"  {p}" for p in self.problems]))


class ScriptRefused(ScriptError):
    """The script uses something outside the allowed subset; nothing of it ran."""

    verb = "refused"


class ScriptFailed(ScriptError):
    """The script was allowed but stopped while running (library error, limit, timeout)."""

    verb = "failed"


class LimitExceeded(Exception):
    """Raised inside a run when a step, time or size limit is hit (turned into ScriptFailed)."""
