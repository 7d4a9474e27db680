"""World models: turn a scenario's conditions into six-camera video (no Qt here).

Public API:
    ClipConditions, FrameConditions, AgentState     what a model is conditioned on (conditions.py)
    conditions_for_scenario(scenario, size=...)      build them with the guidance renderer (scenario_conditions.py)
    GenerationSettings, CancelToken, WorldModel      the interface (base.py)
    create_backend("naive" | "diffusion", model_dir) backends by name (registry.py); BackendName is the closed set
    generate_clip(model, conditions, settings)       run to the end -> GeneratedClip (T, 6, H, W, 3) uint8
    StepProgress, FrameReady, GenerationDone         the events a generation yields (events.py)
    WorldModelError and subclasses                   errors meant for the user (errors.py); MissingExtraError names
                                                     the extra to install (`pip install 'cornercase-studio[diffusion]'`)

Cameras are addressed by nuScenes name; stacked arrays follow the rig's panorama order
FL, F, FR, BR, B, BL.
"""
from engine.worldmodel.base import CancelToken, GenerationSettings, WorldModel, generate_clip
from engine.worldmodel.conditions import AgentState, ClipConditions, FrameConditions
from engine.worldmodel.errors import (
    ConditionsError,
    DeviceError,
    GenerationCancelled,
    GenerationOutOfMemory,
    MissingExtraError,
    ModelLoadError,
    ModelNotConfiguredError,
    WorldModelError,
)
from engine.worldmodel.events import FrameReady, GeneratedClip, GenerationDone, GenerationEvent, StepProgress
from engine.worldmodel.registry import BACKEND_NAMES, DEFAULT_BACKEND, BackendName, create_backend

__all__ = [
    "AgentState", "BACKEND_NAMES", "BackendName", "CancelToken", "ClipConditions", "ConditionsError", "DEFAULT_BACKEND",
    "DeviceError", "FrameConditions", "FrameReady", "GeneratedClip", "GenerationCancelled", "GenerationDone",
    "GenerationEvent", "GenerationOutOfMemory", "GenerationSettings", "MissingExtraError", "ModelLoadError", "ModelNotConfiguredError",
    "StepProgress", "WorldModel", "WorldModelError", "create_backend", "generate_clip",
]
