"""Synthetic conditions for the world-model tests (importable as `wm_helpers`)."""
from __future__ import annotations

from engine.rig import CameraRig
from engine.scenario.model import Environment
from engine.worldmodel.conditions import AgentState, ClipConditions
from engine.worldmodel.synthetic import plane_frames  # noqa: F401  (re-exported for the tests)
from engine.worldmodel.synthetic import plane_conditions as _plane_conditions

SMALL = (64, 32)  # (width, height) per camera: multiple of the VAE factor 8


def plane_conditions(size=SMALL, num_frames: int = 3, environment: Environment | None = None,
                     agents: tuple[AgentState, ...] = (), **kw) -> ClipConditions:
    """The flat test scene at a small size (see engine.worldmodel.synthetic)."""
    return _plane_conditions(size, num_frames, environment, agents, rig=CameraRig.default(size), **kw)
