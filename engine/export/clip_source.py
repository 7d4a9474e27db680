"""Generate the clip an export writes: the scenario's conditions through a world-model backend.

The conditions come from `engine.worldmodel.conditions_for_scenario` (the guidance renderer); for an
edited real scene (``scenario.source``) from `engine.realscene.real_conditions`: the log's own rig,
its real frames and their depth as backgrounds (the naive backend composites the inserted assets
into them; recorded agents are not drawn over their own footage). The backend comes from
`engine.worldmodel.create_backend`. Nothing is downloaded: the diffusion backend loads from the
local `model_dir`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

from engine.scenario.model import Scenario


@dataclass(frozen=True)
class GenerationOptions:
    """Which world model and how: backend name, local model folder, sampling settings, seed (None: the scenario's)."""

    backend: str = "naive"
    model_dir: str | None = None
    steps: int = 20
    guidance_scale: float = 4.0
    seed: int | None = None
    device: str = "auto"

    def describe_model(self) -> str:
        return self.model_dir or ("embedded" if self.backend == "naive" else "")


def generate_for_scenario(scenario: Scenario, size: tuple[int, int], num_frames: int | None,
                          options: GenerationOptions, cancel=None,
                          on_event: Callable[[object], None] | None = None):
    """Run the world model on the scenario's conditions; returns (GeneratedClip, model description).

    size: (width, height) of every camera image; num_frames: the first N frames (None: all).
    A scenario with a source scene is generated over its real frames; SceneSourceError (naming the
    dataset and scene) when they cannot be read: it is never silently rendered as a synthetic scene.
    """
    from engine.worldmodel import GenerationSettings, create_backend, generate_clip
    from engine.worldmodel.scenario_conditions import conditions_for_scenario

    model = create_backend(options.backend, options.model_dir) if options.backend != "naive" \
        else create_backend("naive")
    seed = scenario.seed if options.seed is None else options.seed
    settings = GenerationSettings(steps=options.steps, guidance_scale=options.guidance_scale, seed=int(seed),
                                  device=options.device)
    if scenario.source is not None:
        from engine.realscene.backgrounds import real_conditions

        opened = real_conditions(scenario, size=tuple(size))
    else:
        opened = conditions_for_scenario(scenario, size=tuple(size))
    with opened as conditions:
        if num_frames is not None:
            n = min(int(num_frames), conditions.num_frames)
            conditions = dataclasses.replace(conditions, times=conditions.times[:n])
        clip = generate_clip(model, conditions, settings, cancel, on_event)
    return clip, model.describe()
