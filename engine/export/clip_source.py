"""Generate the clip an export writes: the scenario's conditions through a world-model backend.

The conditions come from `engine.conditions.clip_conditions`, the one path every consumer uses: for an
edited real scene (``scenario.source``) the log's own rig, its real frames and their depth as
backgrounds (the naive backend composites the inserted assets into them; recorded agents are not
drawn over their own footage). The backend comes from `engine.worldmodel.create_backend`. Nothing is
downloaded: the diffusion backend loads from the local `model_dir`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from engine.config import GenerationConfig
from engine.scenario.model import Scenario

if TYPE_CHECKING:
    from engine.worldmodel.base import CancelToken
    from engine.worldmodel.events import GeneratedClip, GenerationEvent


def GenerationOptions(backend: str = "naive", model_dir: str | None = None, steps: int = 20,  # noqa: N802
                      guidance_scale: float = 4.0, seed: int | None = None, device: str = "auto",
                      **more: Any) -> GenerationConfig:
    """Deprecated positional constructor kept for callers: the `engine.config.GenerationConfig` of these values."""
    return GenerationConfig(backend=backend, model_dir=model_dir, steps=steps, guidance_scale=guidance_scale,
                            seed=seed, device=device, **more)


def generate_for_scenario(scenario: Scenario, size: tuple[int, int] | None, num_frames: int | None,
                          options: GenerationConfig, cancel: CancelToken | None = None,
                          on_event: Callable[[GenerationEvent], None] | None = None) -> tuple[GeneratedClip, str]:
    """Run the world model on the scenario's conditions; returns (GeneratedClip, model description).

    size: (width, height) of every camera image (None: the config's); num_frames: the first N frames
    (None: the config's, else all). A scenario with a source scene is generated over its real frames;
    SceneSourceError (naming the dataset and scene) when they cannot be read: it is never silently
    rendered as a synthetic scene.
    """
    from engine.conditions import clip_conditions
    from engine.worldmodel import create_backend, generate_clip

    config = options.replace(**({} if size is None else {"size": tuple(size)}),
                             **({} if num_frames is None else {"frames": int(num_frames)}))
    model = create_backend(config.backend, config.model_dir) if config.backend != "naive" \
        else create_backend("naive")
    settings = config.settings(scenario.seed)
    with clip_conditions(scenario, config) as conditions:
        clip = generate_clip(model, conditions, settings, cancel, on_event)
    return clip, model.describe()
