"""Real frames for a live view (the editor's preview): each source scene opened once, recent frames kept.

    frames = RealFrameCache()
    scene = frames.scene(document.scenario)             # opened on first use, then the same object
    k = frames.frame_index(scene, t)                    # nearest recorded frame, None past the recording
    inputs = frames.inputs(scene, (448, 256))           # RealBackgroundSource: rig + backgrounds
    bgs = frames.backgrounds(scene, k, inputs.rig)      # {camera: Background} = inputs.backgrounds_at(k), cached
    renderer.set_backgrounds(bgs); renderer.render(k / scene.scenario.fps)

The rig and the backgrounds are `RealBackgroundSource.at_size`, the very object
`engine.conditions.real_scene_inputs` puts in the `SceneInputs` that `guidance`, `generate` and
`export` go through, so the preview of frame k shows the very pixels they produce.

No Qt: the editor's render worker (a thread or a child process) owns one cache, so the dataset is
read off the UI thread. Opening a scene reads the whole nuScenes database and can take seconds; a
failure is remembered (SceneSourceError again, without another attempt) while the scene stays cached.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

import numpy as np

from engine.realscene.backgrounds import RealBackgroundSource, RealDepthSettings
from engine.rig.rig import CameraRig
from engine.scenario.model import Scenario, SceneSource
from engine.sources.errors import SceneSourceError
from engine.sources.nuscenes_reader import NuScenesScene, open_scene_source

if TYPE_CHECKING:
    from engine.render.guidance import Background

SCENES_KEPT = 2
FRAMES_KEPT = 8


class RealFrameCache:
    """Source scenes by (source, fps) and the backgrounds (image + depth) of recently shown frames.

    Backgrounds of one frame at 448x256 take about 5 MB; `frames_kept` bounds the memory.
    """

    def __init__(self, settings: RealDepthSettings = RealDepthSettings(), scenes_kept: int = SCENES_KEPT,
                 frames_kept: int = FRAMES_KEPT) -> None:
        self.settings = settings
        self.scenes_kept = max(1, int(scenes_kept))
        self.frames_kept = max(1, int(frames_kept))
        self._lock = threading.Lock()
        # keys: (source, fps) / + frame index and rig / + (W, H) and the scene object's id
        self._scenes: OrderedDict[tuple[SceneSource, float], NuScenesScene | SceneSourceError] = OrderedDict()
        self._frames: OrderedDict[tuple[SceneSource, float, int, CameraRig], dict[str, Background]] = OrderedDict()
        self._inputs: OrderedDict[tuple[SceneSource, float, tuple[int, int], int], RealBackgroundSource] = OrderedDict()
        self.opened = 0          # how many times a scene was actually opened (cache misses)

    def scene(self, scenario: Scenario) -> NuScenesScene:
        """The real scene behind `scenario` (all of its recording, at the scenario's fps).

        SceneSourceError when the scenario has no source or it cannot be opened (remembered).
        """
        source = scenario.source
        if source is None:
            raise SceneSourceError(f"scenario {scenario.name!r} has no source scene")
        key = (source, float(scenario.fps))
        with self._lock:
            hit = self._scenes.get(key)
            if hit is not None:
                self._scenes.move_to_end(key)
        if hit is None:
            try:
                hit = open_scene_source(source, float(scenario.fps))
            except SceneSourceError as e:
                hit = e
            except (OSError, ValueError, KeyError) as e:   # a damaged dataset: name it, do not crash the view
                hit = SceneSourceError(f"{_describe(source)}: cannot open the scene: {type(e).__name__}: {e}")
            with self._lock:
                self.opened += 1
                self._scenes[key] = hit
                while len(self._scenes) > self.scenes_kept:
                    self._scenes.popitem(last=False)
        if isinstance(hit, SceneSourceError):
            raise hit
        return hit

    @staticmethod
    def frame_index(scene: NuScenesScene, t: float) -> int | None:
        """The recorded frame nearest time t (s from the scene start); None outside the recording."""
        k = int(np.floor(float(t) * scene.scenario.fps + 0.5))
        return k if 0 <= k < scene.num_frames else None

    def inputs(self, scene: NuScenesScene, size: tuple[int, int]) -> RealBackgroundSource:
        """The backgrounds of `scene` at `size` = (W, H) with `rig` (its log's rig at that size) and
        `backgrounds_at(k)`: `RealBackgroundSource.at_size`, what `engine.conditions.real_scene_inputs` gives
        `SceneInputs` (the one path; cached per scene and size)."""
        w, h = size
        key = (scene.source, float(scene.scenario.fps), (int(w), int(h)), id(scene))
        with self._lock:
            hit = self._inputs.get(key)
            if hit is not None:
                self._inputs.move_to_end(key)
                return hit
        made = RealBackgroundSource.at_size(scene, (int(w), int(h)), self.settings)
        with self._lock:
            self._inputs[key] = made
            while len(self._inputs) > 2 * self.scenes_kept:
                self._inputs.popitem(last=False)
        return made

    def backgrounds(self, scene: NuScenesScene, index: int, rig: CameraRig) -> dict[str, Background]:
        """{camera: Background} of frame `index` at the size of `rig` (the scene's own rig at that size),
        from `self.inputs(scene, rig.size).backgrounds_at(index)`; cached per frame and rig."""
        key = (scene.source, float(scene.scenario.fps), int(index), rig)
        with self._lock:
            hit = self._frames.get(key)
            if hit is not None:
                self._frames.move_to_end(key)
                return hit
        inputs = self.inputs(scene, rig.size)
        if inputs.rig != rig:
            raise ValueError(f"{scene.source.scene}: backgrounds are made for the scene's own rig at "
                             f"{rig.size[0]}x{rig.size[1]}, not another rig")
        bgs = inputs.backgrounds_at(int(index)) or {}
        with self._lock:
            self._frames[key] = bgs
            while len(self._frames) > self.frames_kept:
                self._frames.popitem(last=False)
        return bgs


def _describe(source: SceneSource) -> str:
    return f"{source.dataroot} ({source.version}) {source.scene}"
