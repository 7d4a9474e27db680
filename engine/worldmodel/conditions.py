"""Moved to `engine.conditions.clip` (conditions live below the world models); kept so imports keep working."""
from engine.conditions.clip import *  # noqa: F401,F403
from engine.conditions.clip import (  # noqa: F401
    DEPTH_SCALE, GUIDANCE_CHANNELS, LAYOUT_CHANNELS, AgentState, ClipConditions, FrameConditions, FrameSource,
    require_panorama_rig,
)
