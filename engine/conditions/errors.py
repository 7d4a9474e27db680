"""The error conditions raise (re-exported by `engine.worldmodel.errors`)."""
from __future__ import annotations


class ConditionsError(ValueError):
    """Conditions with a wrong shape or type; the message names the field, the frame and the expected shape."""
