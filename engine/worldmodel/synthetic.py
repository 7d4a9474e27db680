"""Moved to `engine.conditions.synthetic`; kept so imports keep working."""
from engine.conditions.synthetic import plane_conditions, plane_frames  # noqa: F401
