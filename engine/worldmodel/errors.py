"""Errors a world model raises; each message says what went wrong and what the user can do."""
from __future__ import annotations


class WorldModelError(Exception):
    """Base class: a world model cannot produce the clip (the message is meant for the user)."""


class ModelNotConfiguredError(WorldModelError):
    """A backend that needs a model folder was started without one."""


class ModelLoadError(WorldModelError):
    """A model folder is missing, unreadable or incompatible; the message names the folder and the part."""


from engine.conditions.errors import ConditionsError as ConditionsError  # noqa: E402  (defined below the world models)


class DeviceError(WorldModelError):
    """The requested device (e.g. CUDA) or dtype is not available."""


class GenerationOutOfMemory(WorldModelError):
    """The device ran out of memory; the message suggests smaller sizes, fewer steps or the CPU."""


class GenerationCancelled(Exception):
    """Generation stopped because the user cancelled it (not an error to report)."""


class MissingExtraError(WorldModelError, ImportError):
    """A feature's optional packages are not installed; the message names the feature, the package and the
    extra to install (`pip install 'cornercase-studio[diffusion]'`). Also an ImportError, so code that
    treats a missing package as "feature unavailable" keeps working."""
