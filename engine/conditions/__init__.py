"""What a world model is conditioned on, and the one way a scenario becomes it (below `engine.worldmodel`).

    from engine.conditions import clip_conditions, scene_inputs
    with clip_conditions(scenario, GenerationConfig(size="448x256")) as c:   # synthetic or real, same call
        frame = c.frame(0)                                                   # FrameConditions
    inputs = scene_inputs(scenario, (448, 256))    # rig + real backgrounds, for code driving a renderer itself

Modules: clip (ClipConditions, FrameConditions, AgentState: the arrays and their checks), rendered
(conditions made frame by frame with the guidance renderer), scene (the entry point: rig, recorded
frames and depth for real scenes), synthetic (a flat scene without a renderer, for tests and benchmarks),
errors (ConditionsError).
"""
from engine.conditions.clip import (
    DEPTH_SCALE, GUIDANCE_CHANNELS, LAYOUT_CHANNELS, AgentState, ClipConditions, FrameConditions, FrameSource,
    require_panorama_rig,
)
from engine.conditions.errors import ConditionsError
from engine.conditions.scene import SceneInputs, clip_conditions, real_scene_inputs, scene_inputs

__all__ = [
    "DEPTH_SCALE", "GUIDANCE_CHANNELS", "LAYOUT_CHANNELS", "AgentState", "ClipConditions", "ConditionsError",
    "FrameConditions", "FrameSource", "SceneInputs", "clip_conditions", "real_scene_inputs", "require_panorama_rig",
    "scene_inputs",
]
