"""Errors the trajectory library raises; every message names the function and what to change."""
from __future__ import annotations


class LibraryError(ValueError):
    """A library function was called with arguments it cannot honour."""


class PlacementError(LibraryError):
    """An agent cannot be placed or moved as asked without breaking the safe-distance rule or the road."""


class LimitError(LibraryError):
    """The asked motion is beyond the class's kinematic limits."""
