"""The open document: the scenario, its file, the selection, the current time, the undo stack.

Views subscribe to `events` and never change the scenario directly: every edit goes through
`execute` (one command) or a drag (`begin_drag` ... `drag_to` ... `end_drag`, one command).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from editor.commands import Command, ReplaceScenario
from editor.events import EventEmitter
from editor.undo import UndoStack
from engine.scenario.io import load_scenario, save_scenario
from engine.scenario.model import Scenario


@dataclass
class DocumentEvents:
    """Events a document emits.

    scenario_changed(scenario): after any change of the scenario (command, undo, redo, drag step, load)
    selection_changed(ids: tuple[str, ...]); time_changed(t: float); dirty_changed(dirty: bool);
    path_changed(path: Path | None); command_done(label: str)
    history_changed(): the undo stack changed (labels of Undo / Redo, clean state)
    edit_finished(scenario): a burst of editing settled (a command, undo, redo, the end of a drag):
        the moment for checks and autosave, which should not run on every drag step
    waypoint_selection_changed(selected: tuple[str, int] | None): the (agent id, index) of the
        waypoint handle the user works on, or None
    """

    scenario_changed: EventEmitter
    selection_changed: EventEmitter
    time_changed: EventEmitter
    dirty_changed: EventEmitter
    path_changed: EventEmitter
    command_done: EventEmitter
    history_changed: EventEmitter
    edit_finished: EventEmitter
    waypoint_selection_changed: EventEmitter

    @classmethod
    def create(cls) -> "DocumentEvents":
        return cls(**{name: EventEmitter(name) for name in cls.__dataclass_fields__})


class Document:
    """Holds one scenario under edit."""

    def __init__(self, scenario: Scenario | None = None, path: str | os.PathLike[str] | None = None,
                 dirty: bool = False) -> None:
        self.events = DocumentEvents.create()
        self.undo_stack = UndoStack()
        if dirty:  # e.g. restored from a recovery file: not what is on disk
            self.undo_stack.clean_index = None
        self._scenario = scenario or Scenario()
        self._path: Path | None = Path(path) if path else None
        self._selection: tuple[str, ...] = ()
        self._waypoint: tuple[str, int] | None = None
        self._time = 0.0
        self._drag_start: Scenario | None = None
        self._drag_label = ""
        self._was_dirty = self.is_dirty

    # ---- state -----------------------------------------------------------------------
    @property
    def scenario(self) -> Scenario:
        return self._scenario

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def is_dirty(self) -> bool:
        return not self.undo_stack.is_clean or self._drag_start is not None

    @property
    def selection(self) -> tuple[str, ...]:
        return self._selection

    @property
    def selected_waypoint(self) -> tuple[str, int] | None:
        """(agent id, waypoint index) of the waypoint handle in use, or None."""
        return self._waypoint

    @property
    def is_dragging(self) -> bool:
        return self._drag_start is not None

    @property
    def t_max(self) -> float:
        """Time of the last frame in seconds."""
        return max(0.0, (self._scenario.num_frames - 1) / self._scenario.fps)

    @property
    def current_time(self) -> float:
        return self._time

    @property
    def current_frame(self) -> int:
        return int(round(self._time * self._scenario.fps))

    def display_name(self) -> str:
        return self._path.name if self._path else f"{self._scenario.name} (unsaved)"

    # ---- files -----------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> "Document":
        """Load a file (raises engine.scenario.errors.ScenarioFormatError on any problem)."""
        return cls(load_scenario(path), path)

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write atomically to `path` (or the current path) and mark the state clean."""
        target = Path(path) if path else self._path
        if target is None:
            raise ValueError("no file name: use Save As")
        save_scenario(self._scenario, target)
        if target != self._path:
            self._path = target
            self.events.path_changed.emit(target)
        self.undo_stack.set_clean()
        self._notify_dirty()
        self.events.history_changed.emit()
        return target

    # ---- edits -----------------------------------------------------------------------
    def _set_scenario(self, scenario: Scenario) -> None:
        self._scenario = scenario
        valid = set(scenario.agent_ids()) | {"ego"}
        if any(i not in valid for i in self._selection):
            self._selection = tuple(i for i in self._selection if i in valid)
            self.events.selection_changed.emit(self._selection)
        if self._waypoint is not None:
            aid, idx = self._waypoint
            if aid not in valid or idx >= len(scenario.agent(aid).trajectory.points):
                self._waypoint = None
                self.events.waypoint_selection_changed.emit(None)
        t_max = max(0.0, (scenario.num_frames - 1) / scenario.fps)
        if self._time > t_max:
            self._time = t_max
            self.events.time_changed.emit(self._time)
        self.events.scenario_changed.emit(scenario)
        self._notify_dirty()

    def _notify_dirty(self) -> None:
        d = self.is_dirty
        if d != self._was_dirty:
            self._was_dirty = d
            self.events.dirty_changed.emit(d)

    def execute(self, command: Command) -> bool:
        """Do a command and record it on the undo stack.

        Returns False (and records nothing) when the command changed nothing. A command that
        raises leaves the document as it was; the error (ValueError, KeyError naming the problem)
        propagates to the caller, which shows it.
        """
        if self._drag_start is not None:
            self.end_drag()
        new = command.do(self._scenario)
        if new == self._scenario:
            return False
        self.undo_stack.push(command)
        self._set_scenario(new)
        self.events.command_done.emit(command.label)
        self.events.history_changed.emit()
        self.events.edit_finished.emit(self._scenario)
        return True

    def undo(self) -> None:
        if self._drag_start is not None:
            self.cancel_drag()
        c = self.undo_stack.next_undo()
        if c is None:
            return
        new = c.undo(self._scenario)
        self.undo_stack.index -= 1
        self._set_scenario(new)
        self.events.history_changed.emit()
        self.events.edit_finished.emit(self._scenario)

    def redo(self) -> None:
        if self._drag_start is not None:
            self.cancel_drag()
        c = self.undo_stack.next_redo()
        if c is None:
            return
        new = c.do(self._scenario)
        self.undo_stack.index += 1
        self._set_scenario(new)
        self.events.history_changed.emit()
        self.events.edit_finished.emit(self._scenario)

    # ---- drags: many intermediate states, one command -------------------------------
    def begin_drag(self, label: str) -> None:
        if self._drag_start is None:
            self._drag_start = self._scenario
        self._drag_label = label

    def drag_to(self, scenario: Scenario) -> None:
        """Show an intermediate state of a drag (not on the undo stack)."""
        if self._drag_start is None:
            raise RuntimeError("drag_to outside begin_drag/end_drag")
        self._set_scenario(scenario)

    def end_drag(self) -> None:
        """Record the whole drag as one command (nothing when it changed nothing)."""
        start, self._drag_start = self._drag_start, None
        if start is None:
            return
        if start != self._scenario:
            self.undo_stack.push(ReplaceScenario(self._drag_label, start, self._scenario))
            self.events.command_done.emit(self._drag_label)
            self.events.history_changed.emit()
            self.events.edit_finished.emit(self._scenario)
        self._notify_dirty()

    def cancel_drag(self) -> None:
        """Abandon a drag: back to the scenario it started from, nothing recorded."""
        start, self._drag_start = self._drag_start, None
        if start is not None:
            if start is not self._scenario:
                self._set_scenario(start)
            self._notify_dirty()
            self.events.edit_finished.emit(self._scenario)

    # ---- selection and time ----------------------------------------------------------
    def select(self, ids: tuple[str, ...] | list[str]) -> None:
        ids = tuple(ids)
        if ids != self._selection:
            self._selection = ids
            self.events.selection_changed.emit(ids)

    def select_waypoint(self, agent_id: str | None, index: int | None = None) -> None:
        """Mark waypoint `index` of `agent_id` as the one in use (None clears)."""
        sel = None if agent_id is None or index is None else (agent_id, int(index))
        if sel is not None:
            n = len(self._scenario.agent(sel[0]).trajectory.points)
            if not 0 <= sel[1] < n:
                raise IndexError(f"{agent_id} has no waypoint {sel[1] + 1} (it has {n}, numbered from 1)")
        if sel != self._waypoint:
            self._waypoint = sel
            self.events.waypoint_selection_changed.emit(sel)

    def set_time(self, t: float) -> None:
        t_max = max(0.0, (self._scenario.num_frames - 1) / self._scenario.fps)
        t = min(max(0.0, float(t)), t_max)
        if t != self._time:
            self._time = t
            self.events.time_changed.emit(t)

    def set_frame(self, index: int) -> None:
        self.set_time(index / self._scenario.fps)
