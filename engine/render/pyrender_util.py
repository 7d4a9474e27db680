"""Moved to `engine.gl.pyrender_util` (shared with engine.assets); re-exported here for old imports."""
from __future__ import annotations

from engine.gl.pyrender_util import release_offscreen

__all__ = ["release_offscreen"]
