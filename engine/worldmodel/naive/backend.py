"""The `naive` world model (Dream4Drive's naive-insertion baseline, the embedded default).

Frames are the renderer's shaded pass of the synthetic scene (assets lit, with contact shadows),
pasted into real background frames with depth occlusion when the scene has them, then put into the
scenario's environment by `EnvironmentPass` (dusk / night grading, headlights, rain, fog, snow).
One "step" per frame; deterministic per seed (the seed places rain streaks and snow flakes).
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
from numpy.typing import NDArray

from engine.worldmodel.base import CancelToken, GenerationSettings, WorldModel
from engine.worldmodel.conditions import ClipConditions
from engine.worldmodel.errors import ConditionsError
from engine.worldmodel.events import FrameReady, GeneratedClip, GenerationDone, GenerationEvent, StepProgress
from engine.worldmodel.naive.effects import EnvironmentPass, composite_over_background
from engine.worldmodel.naive.geometry import RigGeometry
from engine.worldmodel.naive.insertion import InsertionMatcher, visible_inserted
from engine.worldmodel.naive.look import look_for
from engine.worldmodel.registry import BackendName
from engine.worldmodel.scenario_conditions import frames_with_maps


class NaiveBackend(WorldModel):
    """Photometric frames of the synthetic scene in the scenario's environment; no model needed."""

    name = BackendName.NAIVE
    uses_steps = False
    # the condition arrays the naive backend reads (the renderer skips the other maps for it)
    required_fields = frozenset({"shaded", "depth", "inserted"})

    def __init__(self) -> None:
        self._geometry: RigGeometry | None = None

    def _geometry_for(self, conditions: ClipConditions) -> RigGeometry:
        if self._geometry is None or self._geometry.rig != conditions.rig:
            self._geometry = RigGeometry.of(conditions.rig)
        return self._geometry

    def generate(self, conditions: ClipConditions, settings: GenerationSettings,
                 cancel: CancelToken | None = None) -> Iterator[GenerationEvent]:
        look = look_for(conditions.environment, conditions.lit_for)
        geometry = self._geometry_for(conditions)
        passes: dict[bool, EnvironmentPass] = {}
        n = conditions.num_frames
        frames: list[NDArray[np.uint8]] = []
        frame = frames_with_maps(conditions, self.required_fields)
        matcher = InsertionMatcher(seed=settings.seed)   # inserted assets matched to the real footage
        for i in range(n):
            if cancel is not None:
                cancel.raise_if_cancelled()
            fc = frame(i)
            if fc.shaded is None:
                raise ConditionsError(f"frame {i}: the naive backend needs the renderer's shaded pass (shaded)")
            shaded, depth = fc.shaded, fc.depth
            if fc.background is not None and fc.background_depth is not None:   # validated to come together
                shaded, depth = composite_over_background(fc.shaded, fc.depth, fc.inserted, fc.background,
                                                          fc.background_depth)
                shaded = matcher.apply(shaded, fc.background, visible_inserted(fc), rig=conditions.rig)
            real = conditions.real_background or fc.background is not None
            if real not in passes:
                passes[real] = EnvironmentPass(geometry, look, settings.seed, contact_shadows=real)
            images = passes[real].apply(fc, shaded, depth)
            frames.append(images)
            yield StepProgress(1, 1, i, n, images if settings.preview_every else None)
            yield FrameReady(i, n, images)
        clip = GeneratedClip(np.stack(frames), conditions.camera_names, conditions.fps, self.name, settings.seed,
                             conditions.times.copy(),
                             {"environment": f"{conditions.environment.time_of_day}/{conditions.environment.weather}",
                              "lit_for": conditions.lit_for})
        yield GenerationDone(clip)
