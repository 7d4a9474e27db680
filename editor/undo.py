"""One undo stack whose labels drive the Undo/Redo menu text."""
from __future__ import annotations

from editor.commands import Command


class UndoStack:
    """Commands done so far (`index` of them are applied); `clean_index` marks the saved state."""

    def __init__(self, limit: int = 500) -> None:
        self._commands: list[Command] = []
        self.index = 0
        self.clean_index: int | None = 0
        self.limit = limit

    def push(self, command: Command) -> None:
        """Record a command that has just been done; drops the redo tail."""
        del self._commands[self.index:]
        if self.clean_index is not None and self.clean_index > self.index:
            self.clean_index = None  # the saved state can no longer be reached
        self._commands.append(command)
        self.index += 1
        if len(self._commands) > self.limit:
            drop = len(self._commands) - self.limit
            del self._commands[:drop]
            self.index -= drop
            if self.clean_index is not None:
                self.clean_index = self.clean_index - drop if self.clean_index >= drop else None

    @property
    def can_undo(self) -> bool:
        return self.index > 0

    @property
    def can_redo(self) -> bool:
        return self.index < len(self._commands)

    def next_undo(self) -> Command | None:
        return self._commands[self.index - 1] if self.can_undo else None

    def next_redo(self) -> Command | None:
        return self._commands[self.index] if self.can_redo else None

    def undo_label(self) -> str:
        c = self.next_undo()
        return f"Undo {c.label}" if c else "Undo"

    def redo_label(self) -> str:
        c = self.next_redo()
        return f"Redo {c.label}" if c else "Redo"

    @property
    def is_clean(self) -> bool:
        return self.clean_index == self.index

    def set_clean(self) -> None:
        self.clean_index = self.index

    def clear(self) -> None:
        self._commands.clear()
        self.index = 0
        self.clean_index = 0

    def __len__(self) -> int:
        return len(self._commands)
