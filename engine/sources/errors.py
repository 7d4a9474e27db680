"""The scene sources' own error: what is wrong and where (dataroot, table, scene, file)."""
from __future__ import annotations


class SceneSourceError(ValueError):
    """A real scene could not be opened or read; the message names the problem and its place."""
