"""Real frames as guidance backgrounds: image + metric depth per camera, from the best source available.

Depth sources (`RealDepthSettings.source`):
    'lidar'  the nearest LIDAR_TOP sweep(s) projected into the camera and densified
             (`engine.realscene.densify`; IP-Basic by default)
    'mono'   a monocular depth model from a local folder (`engine.realscene.mono_depth`), scaled to
             metres with the LiDAR points of the same image (metric models are used as they are
             when there is no LiDAR)
    'auto'   'mono' when a model folder is configured and loads, else 'lidar'

    rig = real_rig(scene, (448, 256))
    bgs = real_backgrounds(scene, k, rig)                 # {camera: Background(image, depth)}
    with GuidanceRenderer(rig) as r:
        r.set_scenario(edited_scenario)
        frame = render_real_frame(r, scene, k)            # assets depth-tested against the real depth

Normals come from the depth and edges from the real image (Canny), as the guidance renderer does
for any background; `real_frame_maps` gives them without rendering (previews, benchmarks).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal, get_args

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.realscene.box_depth import box_depth, frame_boxes, fuse_box_depth, points_in_boxes
from engine.realscene.densify import METHODS, DensifyMethod, beam_gap_pixels, densify_depth, supported_mask
from engine.realscene.lidar_depth import MIN_DISTANCE, points_in_camera, sparse_depth
from engine.realscene.mono_depth import (
    DepthModelError, MonocularDepthModel, align_to_sparse, configured_model_dir, load_depth_model,
)
from engine.rig.camera import Camera
from engine.rig.rig import CameraRig
from engine.scenario.model import Scenario
from engine.sources.errors import SceneSourceError
from engine.sources.nuscenes_reader import NuScenesScene

if TYPE_CHECKING:
    from engine.render.frame import GuidanceFrame
    from engine.render.guidance import Background, GuidanceRenderer

log = logging.getLogger(__name__)
DepthSource = Literal["auto", "lidar", "mono"]
"""Where real depth comes from (`RealDepthSettings.source`; the module docstring says how each works)."""
SOURCES: tuple[DepthSource, ...] = get_args(DepthSource)
DepthOrigin = Literal["lidar", "mono", "mono+lidar"]
"""What one image's depth was made from (`RealDepth.source`): 'mono+lidar' = the model aligned with the LiDAR."""


@dataclass(frozen=True)
class RealDepthSettings:
    """How real depth is made. `model_dir` None = the ``CORNERCASE_DEPTH_MODEL`` folder, if set."""

    source: DepthSource = "auto"
    num_sweeps: int = 1
    densify: DensifyMethod = "ipbasic"
    max_depth: float = 100.0
    model_dir: str | None = None
    boxes: bool = True             # fuse the recorded objects' annotated boxes into the depth (`box_depth`)

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"depth source must be one of {', '.join(SOURCES)} (got {self.source!r})")
        if self.densify not in METHODS:
            raise ValueError(f"densify must be one of {', '.join(METHODS)} (got {self.densify!r})")
        if int(self.num_sweeps) < 1:
            raise ValueError(f"num_sweeps must be at least 1 (got {self.num_sweeps!r})")
        if not self.max_depth > 0:
            raise ValueError(f"max_depth must be positive (got {self.max_depth!r})")


@dataclass(frozen=True)
class RealDepth:
    """Depth of one real image: `depth` and `lidar` (sparse) are (H, W) float32 metres, 0 = unknown.

    `valid` (H, W) bool says where the depth is backed by a sensor (a LiDAR return nearby, an annotated
    box, or the monocular model when configured): the sky and what lies beyond the LiDAR's range are not.
    """

    depth: NDArray[np.float32]
    lidar: NDArray[np.float32]
    source: DepthOrigin    # 'lidar', 'mono' or 'mono+lidar' (mono aligned with LiDAR)
    boxes: bool = False    # the recorded objects' annotated boxes are fused in (`engine.realscene.box_depth`)

    @property
    def valid(self) -> NDArray[np.bool_]:
        """(H, W) bool: depth known here."""
        known: NDArray[np.bool_] = self.depth > 0
        return known


@dataclass(frozen=True)
class RealFrameMaps:
    """Guidance maps of one real image without inserted objects.

    image (H, W, 3) uint8 RGB; depth (H, W) float32 m (0 = unknown); normal (H, W, 3) float32
    camera-frame unit normals (0 = none); edge (H, W) uint8 0/255 (Canny on the real image).
    """

    image: NDArray[np.uint8]
    depth: NDArray[np.float32]
    normal: NDArray[np.float32]
    edge: NDArray[np.uint8]
    depth_source: DepthOrigin


def real_rig(scene: NuScenesScene, size: tuple[int, int] | None = None) -> CameraRig:
    """The scene's own calibrated rig (its log's calibrated_sensor records), scaled to `size` = (W, H)."""
    return scene.rig if size is None else scene.rig.scaled(*size)


def _model(settings: RealDepthSettings) -> MonocularDepthModel | None:
    folder = settings.model_dir or configured_model_dir()
    if folder is None:
        if settings.source == "mono":
            raise DepthModelError("depth source 'mono' needs a model folder (settings.model_dir or "
                                  "the CORNERCASE_DEPTH_MODEL environment variable)")
        return None
    try:
        return load_depth_model(folder)
    except DepthModelError:
        if settings.source == "mono":
            raise
        log.warning("depth model unusable, using LiDAR depth", exc_info=True)
        return None


def real_depth(scene: NuScenesScene, index: int, camera: Camera, image: NDArray[np.uint8] | None = None,
               settings: RealDepthSettings = RealDepthSettings()) -> RealDepth:
    """Depth of frame `index` seen by `camera` (a camera of `real_rig(scene, size)`), best source first.

    `image` (H, W, 3) uint8 RGB at the camera's size is read from disk when not given (the model needs it).
    """
    frame = scene.frame(index, camera.name)
    sweeps = scene.sweeps_for(frame, settings.num_sweeps)
    points = points_in_camera(sweeps, frame, camera) if sweeps else np.zeros((3, 0))
    points = points[:, (points[2] > MIN_DISTANCE) & (points[2] <= settings.max_depth)]   # in front, within range
    sparse = sparse_depth(points, camera)
    boxes: NDArray[np.float32] | None = None
    rest = sparse
    if settings.boxes:
        box_list, world_from_ego = frame_boxes(scene, index, camera.name)
        if box_list:
            cam_from_world = camera.camera_from_world(world_from_ego)
            b = box_depth(box_list, camera, cam_from_world)
            if b.any():   # the annotated objects' own returns: their boxes stand in for them (exact outlines)
                boxes = b
                rest = sparse_depth(points[:, ~points_in_boxes(points, box_list, cam_from_world)], camera)
    # LiDAR depth, densified only where returns support it; an object's returns are replaced by its box and
    # the rest densified alone, so the object's depth is not smeared into its surroundings (the LiDAR, above
    # and behind the camera, also sees objects where the camera sees the background next to them)
    gap = beam_gap_pixels(camera.K[1, 1])
    dense = densify_depth(rest, settings.densify, gap, settings.max_depth, supported_mask(sparse, gap)) \
        if sweeps else None
    model = _model(settings) if settings.source in ("auto", "mono") else None
    source: DepthOrigin = "lidar"
    if model is not None:
        img = image if image is not None else scene.image(index, camera.name, camera.size)
        aligned = align_to_sparse(model.predict(img), sparse, model.kind, settings.max_depth)
        if aligned is not None:   # the model fills what the LiDAR did not reach (far structure, above the beams)
            source = "mono+lidar" if sweeps else "mono"
            dense = aligned if dense is None else np.where(dense > 0, dense, aligned).astype(np.float32)
        elif settings.source == "mono":
            raise DepthModelError(f"{camera.name} frame {index}: the model predicts relative depth and too few "
                                  "LiDAR points fall in the image to scale it to metres")
    if dense is None:
        raise SceneSourceError(f"{scene.source.scene}: no LiDAR sweep for {camera.name} frame {index}, and no "
                               "depth model configured")
    if boxes is None:
        return RealDepth(_within(dense, settings.max_depth), sparse, source)
    fused = fuse_box_depth(dense, boxes, rest, reach_px=int(round(gap)))
    return RealDepth(_within(fused, settings.max_depth), sparse, source, boxes=True)


def _within(depth: NDArray[np.float32], max_depth: float) -> NDArray[np.float32]:
    """Depth beyond `max_depth` is unknown (0)."""
    return np.where(depth <= max_depth, depth, np.float32(0.0)).astype(np.float32)


def real_backgrounds(scene: NuScenesScene, index: int, rig: CameraRig,
                     settings: RealDepthSettings = RealDepthSettings()) -> dict[str, Background]:
    """{camera name: `engine.render.guidance.Background`} of frame `index` for every camera of `rig`."""
    from engine.render.guidance import Background

    out: dict[str, Background] = {}
    for cam in rig:
        img = scene.image(index, cam.name, cam.size)
        out[cam.name] = Background(img, real_depth(scene, index, cam, img, settings).depth)
    return out


def real_frame_maps(scene: NuScenesScene, index: int, rig: CameraRig,
                    settings: RealDepthSettings = RealDepthSettings(),
                    canny: tuple[int, int] | None = None) -> dict[str, RealFrameMaps]:
    """Depth, normal and edge maps of frame `index` for every camera of `rig` (no inserted objects).

    `canny` (low, high) defaults to the guidance renderer's thresholds so both agree.
    """
    from engine.render.depth_normals import normals_from_depth
    from engine.render.guidance import RenderSettings

    if canny is None:
        rs = RenderSettings()
        canny = (rs.canny_low, rs.canny_high)
    out: dict[str, RealFrameMaps] = {}
    for cam in rig:
        img = scene.image(index, cam.name, cam.size)
        d = real_depth(scene, index, cam, img, settings)
        edge = np.asarray(cv2.Canny(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), *canny), np.uint8)   # no copy
        out[cam.name] = RealFrameMaps(img, d.depth, normals_from_depth(d.depth, cam.K), edge, d.source)
    return out


class RealBackgroundSource:
    """Frame index -> {camera: Background} of a real scene on `rig`, the backgrounds of
    `engine.conditions.SceneInputs` (`real_scene_inputs` makes it with `at_size`, as the editor's
    `RealFrameCache` does). Frames past the recorded clip have none (None)."""

    def __init__(self, scene: NuScenesScene, rig: CameraRig, settings: RealDepthSettings = RealDepthSettings()) -> None:
        self.scene = scene
        self.rig = rig
        self.settings = settings

    @classmethod
    def at_size(cls, scene: NuScenesScene, size: tuple[int, int],
                settings: RealDepthSettings = RealDepthSettings()) -> RealBackgroundSource:
        """The backgrounds of `scene` on its log's own rig scaled to `size` = (W, H) (`real_rig`)."""
        return cls(scene, real_rig(scene, size), settings)

    def __call__(self, index: int) -> dict[str, Background] | None:
        if not 0 <= int(index) < self.scene.num_frames:
            return None
        return real_backgrounds(self.scene, int(index), self.rig, self.settings)

    def backgrounds_at(self, index: int) -> dict[str, Background] | None:
        """{camera: Background} of frame `index`, None past the recording (as `SceneInputs.backgrounds_at`)."""
        return self(index)


def without_recorded(scenario: Scenario) -> Scenario:
    """The scenario without its locked (recorded) agents.

    Not needed for rendering over real frames any more: the guidance renderer leaves locked agents
    out of cameras that have a real background by itself (and keeps them in the boxes / BEV maps).
    Useful where only the insertions matter (benchmarks, a list of what was added).
    """
    return replace(scenario, agents=tuple(a for a in scenario.agents if not a.locked))


def render_real_frame(renderer: GuidanceRenderer, scene: NuScenesScene, index: int,
                      settings: RealDepthSettings = RealDepthSettings()) -> GuidanceFrame:
    """Render the guidance maps of frame `index` over the real images (renderer's scenario set first).

    The renderer's rig should be `real_rig(scene, size)` and its scenario the edited scenario, recorded
    agents included (they are not drawn over the real images, but appear in the boxes map); returns
    its `GuidanceFrame`.
    """
    renderer.set_backgrounds(real_backgrounds(scene, index, renderer.rig, settings))
    return renderer.render_frame(index)
