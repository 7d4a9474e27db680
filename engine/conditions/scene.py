"""The one way from a scenario to what the renderer and the world models see: rig, frames, backgrounds.

    inputs = scene_inputs(scenario, (448, 256))       # SceneInputs: rig at the size, real frames or None
    with clip_conditions(scenario, (448, 256)) as c:  # ClipConditions for any world model
        frame = c.frame(0)

Every consumer goes through here (the preview, `guidance`, `generate`, `export`, `batch`, the
Generate panel), so a scenario is seen the same way everywhere:

- a synthetic scenario: the default nuScenes rig (or the one given) scaled to the size, no backgrounds;
- an edited real scene (``scenario.source`` names a nuScenes scene): the log's own calibrated rig scaled
  to the size, and per frame the recorded images with their depth (`engine.realscene`) as the
  renderer's backgrounds. The renderer composites the inserted assets into them, depth-tested against
  the real depth, and does not draw the recorded (locked) agents over their own footage (they stay in
  the boxes and BEV maps and the labels). Frames past the recording have no background.

A real scene whose dataset cannot be read raises `SceneSourceError` (naming the dataset and scene): it
is never silently rendered as a synthetic scene.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping

from engine.conditions.clip import ClipConditions
from engine.rig import CameraRig
from engine.scenario.model import Scenario

if TYPE_CHECKING:
    from engine.config import ImageSize
    from engine.realscene.backgrounds import RealDepthSettings, RealFrameMaps
    from engine.render.guidance import Background, GuidanceRenderer
    from engine.sources.nuscenes_reader import NuScenesScene

BackgroundSource = Callable[[int], "Mapping[str, Background] | None"]
SizeLike = Any   # ImageSize | (width, height) | "WxH" | a config with `.size` (and optionally `.frames`)


@dataclass(frozen=True)
class SceneInputs:
    """What a scenario is rendered with.

    rig: the cameras at the output size (panorama order); backgrounds: frame index -> {camera name:
    `engine.render.guidance.Background`} of the recorded frames, or None for a synthetic scenario;
    scene: the opened `engine.sources.NuScenesScene` (None when synthetic).
    """

    scenario: Scenario
    rig: CameraRig
    backgrounds: BackgroundSource | None = None
    scene: NuScenesScene | None = None
    depth_settings: RealDepthSettings | None = None   # of a real scene

    @property
    def real(self) -> bool:
        """True when the scenario is rendered over recorded frames."""
        return self.backgrounds is not None

    def backgrounds_at(self, index: int) -> Mapping[str, Background] | None:
        """{camera: Background} of frame `index`, or None (synthetic, or past the recording)."""
        return None if self.backgrounds is None else self.backgrounds(int(index))

    def frame_maps(self, index: int, canny: tuple[int, int] | None = None) -> dict[str, RealFrameMaps]:
        """{camera: `engine.realscene.RealFrameMaps`} (image, depth, normals, Canny edges) of recorded
        frame `index` for the cameras of `self.rig`, with this input's depth settings: the same image
        and depth the backgrounds carry (training-data preparation reads them). ValueError when synthetic."""
        if self.scene is None:
            raise ValueError(f"scenario {self.scenario.name!r} is synthetic: it has no recorded frames")
        from engine.realscene.backgrounds import RealDepthSettings, real_frame_maps

        settings = self.depth_settings if self.depth_settings is not None else RealDepthSettings()
        return real_frame_maps(self.scene, int(index), self.rig, settings, canny=canny)

    def apply_to(self, renderer: GuidanceRenderer, index: int) -> None:
        """Give a GuidanceRenderer (made on `self.rig`) the backgrounds of frame `index` (none when synthetic)."""
        if self.backgrounds is not None:
            renderer.set_backgrounds(self.backgrounds(int(index)))


def size_of(config: SizeLike) -> "ImageSize":
    """The ImageSize of a size-like value or a config that has one (ValueError names a bad size)."""
    from engine.config import ImageSize

    size = getattr(config, "size", config)
    return ImageSize.parse(size)


def scene_inputs(scenario: Scenario, size: SizeLike = (448, 256), rig: CameraRig | None = None,
                 depth_settings: RealDepthSettings | None = None) -> SceneInputs:
    """The rig and (for real scenes) backgrounds `scenario` is rendered with at `size` (width, height).

    rig: a synthetic scenario's rig (default: the bundled nuScenes rig); a real scene always uses its
    log's calibration, and ValueError says so when another rig is given. depth_settings: a
    `engine.realscene.RealDepthSettings` (default: LiDAR, or the configured monocular model).
    SceneSourceError when a real scene's dataset cannot be opened.
    """
    w, h = size_of(size).as_tuple()
    if scenario.source is None:
        base = rig or CameraRig.default(None)
        return SceneInputs(scenario, base.scaled(w, h))
    if rig is not None:
        raise ValueError(f"scenario {scenario.name!r} is an edited real scene: it is rendered with its log's own "
                         "camera calibration, not a given rig")
    from engine.sources.nuscenes_reader import scene_for_scenario

    return real_scene_inputs(scene_for_scenario(scenario), (w, h), depth_settings, scenario=scenario)


def real_scene_inputs(scene: NuScenesScene, size: SizeLike = (448, 256), depth_settings: RealDepthSettings | None = None,
                      scenario: Scenario | None = None) -> SceneInputs:
    """`scene_inputs` of an already opened real scene (`engine.sources.NuScenesScene`): its log's rig at
    `size` and its recorded frames + depth as backgrounds. For code that holds the scene open itself (the
    editor's preview cache, training-data preparation); scenario: the edited scenario (default: the
    scene as recorded). Frame k is the recorded frame at clip time k / fps, exactly as in `scene_inputs`.
    """
    from engine.realscene.backgrounds import RealBackgroundSource, RealDepthSettings

    w, h = size_of(size).as_tuple()
    settings = depth_settings or RealDepthSettings()
    source = RealBackgroundSource.at_size(scene, (w, h), settings)   # = the editor's RealFrameCache.inputs
    return SceneInputs(scenario if scenario is not None else scene.scenario, source.rig, source, scene, settings)


def clip_conditions(scenario: Scenario, config: SizeLike = (448, 256), *, frames: int | None = None,
                    rig: CameraRig | None = None, depth_settings: RealDepthSettings | None = None) -> ClipConditions:
    """The `ClipConditions` of `scenario` (synthetic or an edited real scene) for any world model.

    config: the image size per camera (ImageSize, (width, height), "448x256") or a config with `.size`
    and `.frames` (`engine.config.GenerationConfig`, `RenderConfig`); frames: only the first N frames
    (default: the config's, else all). Use it as a context manager, on the thread that reads frames
    (the guidance renderer's GL context is made there on first use and released by `close()`).
    """
    from engine.conditions.rendered import conditions_for_scenario

    if frames is None:
        frames = getattr(config, "frames", None)
    if depth_settings is None and callable(getattr(config, "depth_settings", None)):   # a RenderConfig
        depth_settings = config.depth_settings()
    inputs = scene_inputs(scenario, config, rig=rig, depth_settings=depth_settings)
    conditions = conditions_for_scenario(scenario, size=None, rig=inputs.rig, backgrounds=inputs.backgrounds)
    if frames is not None:
        n = int(frames)
        if n < 1:
            conditions.close()
            raise ValueError(f"frames must be at least 1, got {frames!r}")
        conditions = dataclasses.replace(conditions, times=conditions.times[:min(n, conditions.num_frames)])
    return conditions
