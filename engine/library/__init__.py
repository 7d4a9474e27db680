"""Trajectory function library (DriveDreamer-2's customised traffic simulation).

Library functions (see `engine.library.functions`) run on a `ScenarioBuilder` that knows the
rate, duration, road layout and agents placed so far; they return `AgentHandle`s, keep per-class
kinematic limits (`engine.library.limits`) and the safe-distance rule, and say when they cannot.
`library_functions()` lists them (name -> LibraryFunction with signature and docstring).
"""
from engine.library.builder import AgentHandle, ScenarioBuilder
from engine.library.errors import LibraryError, LimitError, PlacementError
from engine.library.limits import LIMITS, KinematicLimits, kinematic_violations, limits_for
from engine.library.registry import LibraryFunction, bind_library, library_functions

__all__ = [
    "LIMITS", "AgentHandle", "KinematicLimits", "LibraryError", "LibraryFunction", "LimitError", "PlacementError",
    "ScenarioBuilder", "bind_library", "kinematic_violations", "library_functions", "limits_for",
]
