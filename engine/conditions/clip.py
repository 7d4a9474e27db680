"""What a world model is conditioned on: per camera and frame, the guidance maps, projected boxes and
HD map, the camera parameters, the environment and the text.

Conditions are streamed: `ClipConditions.frame(i)` produces one `FrameConditions` at a time (the
renderer is called lazily, on the generating thread), so a clip never sits in memory as float maps.

Per-frame arrays, stacked over V cameras in `camera_names` order (panorama order), H x W pixels:
    depth       (V, H, W)      float32  camera-frame z in metres of the whole scene, inserted objects
                                        included; inf where nothing was hit
    normal      (V, H, W, 3)   uint8    camera-frame normals encoded n * 127.5 + 127.5, 0 = none
    edge        (V, H, W)      uint8    Canny edges 0 / 255, already blanked inside inserted objects
    object      (V, H, W, 3)   uint8    the inserted objects in colour (Dream4Drive's O), 0 elsewhere
    inserted    (V, H, W)      bool     pixels of inserted objects (Dream4Drive's mask M)
    boxes       (V, H, W, 10)  uint8    projected 3-D boxes, one channel per class (`class_names()` order)
    hdmap       (V, H, W, 3)   uint8    projected HD map: lane boundaries, dividers, crossings
    shaded      (V, H, W, 3)   uint8    photometric render of the scene (optional; the naive backend needs it)
    background, background_depth: real frames (V, H, W, 3) uint8 and their depth (V, H, W) float32 (optional)
    depth_valid (V, H, W)      bool     (optional) depth is backed by a sensor or the renderer here; False on
                                        the sky and, over real frames, where no LiDAR return or annotated box
                                        supports a value (depth is inf there and D is 0)
Derived, built on first use:
    guidance    (V, H, W, 9)   float32 in [0, 1]: D, N, E, O, M (`GUIDANCE_CHANNELS`); D and N blanked
                                        inside inserted objects, D as disparity DEPTH_SCALE / (DEPTH_SCALE + z)
    layout      (V, H, W, 13)  float32 in [0, 1]: boxes then HD map (`LAYOUT_CHANNELS`)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from types import TracebackType
from typing import Any, Callable

import numpy as np
from numpy.typing import NDArray

from engine.classes import class_names
from engine.rig import PANORAMA_ORDER, CameraRig
from engine.scenario.model import TIMES_OF_DAY, Environment
from engine.conditions.errors import ConditionsError

GUIDANCE_CHANNELS: tuple[str, ...] = (
    "depth", "normal_x", "normal_y", "normal_z", "edge", "object_r", "object_g", "object_b", "mask",
)
LAYOUT_CHANNELS: tuple[str, ...] = tuple(f"box_{c}" for c in class_names()) + (
    "map_boundary", "map_divider", "map_crossing")
DEPTH_SCALE = 10.0  # metres: the D channel is 0.5 at this distance, 1 at the camera, 0 where nothing was hit


@dataclass(frozen=True)
class AgentState:
    """One agent's box at one frame in the ego frame: centre (x, y, z) at box mid-height, size (w, l, h), yaw.

    inserted: rendered into the frame (True) or part of a real background (False).
    """

    id: str
    cls: str
    center: tuple[float, float, float]
    size: tuple[float, float, float]
    yaw: float
    speed: float = 0.0
    inserted: bool = True


@dataclass(frozen=True)
class FrameConditions:
    """Everything one frame of the clip is conditioned on (see the module docstring for the arrays).

    agents: the agents present, in the ego frame; lamps: (N, 3) float64 street-lamp heads in the
    ego frame (may be empty); world_from_ego: (4, 4) the ego pose.
    """

    index: int
    time: float
    depth: NDArray[np.floating[Any]]
    normal: NDArray[np.uint8]
    edge: NDArray[np.uint8]
    object: NDArray[np.uint8]
    inserted: NDArray[np.bool_]
    boxes: NDArray[np.uint8]
    hdmap: NDArray[np.uint8]
    world_from_ego: NDArray[np.floating[Any]] = field(default_factory=lambda: np.eye(4))
    agents: tuple[AgentState, ...] = ()
    lamps: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 3)))
    shaded: NDArray[np.uint8] | None = None
    background: NDArray[np.uint8] | None = None
    background_depth: NDArray[np.floating[Any]] | None = None
    depth_valid: NDArray[np.bool_] | None = None

    # ---- derived model inputs ----------------------------------------------------------
    @cached_property
    def guidance(self) -> NDArray[np.float32]:
        """(V, H, W, 9) float32 in [0, 1]: D, N, E, O, M with D and N blanked inside inserted objects."""
        v, h, w = self.depth.shape
        out = np.empty((v, h, w, len(GUIDANCE_CHANNELS)), np.float32)
        with np.errstate(invalid="ignore"):
            d = np.float32(DEPTH_SCALE) / (np.float32(DEPTH_SCALE) + self.depth)  # inf -> 0
        out[..., 0] = np.where(self.inserted, 0.0, d)
        out[..., 1:4] = self.normal * np.float32(1.0 / 255.0)
        out[..., 1:4][self.inserted] = 0.0
        out[..., 4] = self.edge * np.float32(1.0 / 255.0)
        out[..., 5:8] = self.object * np.float32(1.0 / 255.0)
        out[..., 8] = self.inserted
        return out

    @cached_property
    def guidance_with_objects(self) -> NDArray[np.float32]:
        """(V, H, W, 9) float32 in [0, 1]: like `guidance`, but the inserted objects stay IN D, N and E
        (E gains the objects' own Canny edges, from O, and their silhouette outline).

        For ControlNets that never learnt Dream4Drive's O/M channels (public depth / canny / normal
        checkpoints): with D, N and E blanked they would draw background where the asset is.
        """
        import cv2

        out = self.guidance.copy()
        with np.errstate(invalid="ignore"):
            out[..., 0] = np.float32(DEPTH_SCALE) / (np.float32(DEPTH_SCALE) + self.depth)  # inf -> 0
        out[..., 1:4] = self.normal * np.float32(1.0 / 255.0)
        for v in range(self.depth.shape[0]):
            if not self.inserted[v].any():
                continue
            grey = cv2.cvtColor(np.ascontiguousarray(self.object[v]), cv2.COLOR_RGB2GRAY)
            edges = cv2.Canny(grey, 20, 60)        # flat-shaded assets: low thresholds keep their parts
            outline = cv2.morphologyEx(self.inserted[v].astype(np.uint8), cv2.MORPH_GRADIENT,
                                       np.ones((3, 3), np.uint8))
            edges = np.maximum(edges, outline * np.uint8(255))
            out[v, ..., 4] = np.maximum(out[v, ..., 4], edges * np.float32(1.0 / 255.0))
        return out

    @cached_property
    def layout(self) -> NDArray[np.float32]:
        """(V, H, W, 13) float32 in [0, 1]: projected boxes per class, then the HD map."""
        out: NDArray[np.float32] = np.concatenate([self.boxes, self.hdmap], axis=-1).astype(np.float32) * np.float32(1.0 / 255.0)
        return out

    # ---- checks ------------------------------------------------------------------------
    def validate(self, num_views: int, width: int, height: int) -> "FrameConditions":
        """Check every array's shape and dtype; raises ConditionsError naming the field and frame."""
        v, h, w = num_views, height, width
        where = f"frame {self.index}"

        def check(name: str, arr: object, shape: tuple[int, ...], kinds: str, optional: bool = False) -> None:
            if arr is None:
                if optional:
                    return
                raise ConditionsError(f"{where}: {name} is missing (expected shape {shape})")
            if not isinstance(arr, np.ndarray):
                raise ConditionsError(f"{where}: {name} must be a numpy array, got {type(arr).__name__}")
            if arr.shape != shape:
                raise ConditionsError(f"{where}: {name} has shape {arr.shape}, expected {shape}")
            if arr.dtype.kind not in kinds:
                raise ConditionsError(f"{where}: {name} has dtype {arr.dtype}, expected {'/'.join(_KINDS[k] for k in kinds)}")

        check("depth", self.depth, (v, h, w), "f")
        check("normal", self.normal, (v, h, w, 3), "u")
        check("edge", self.edge, (v, h, w), "u")
        check("object", self.object, (v, h, w, 3), "u")
        check("inserted", self.inserted, (v, h, w), "b")
        check("boxes", self.boxes, (v, h, w, len(LAYOUT_CHANNELS) - 3), "u")
        check("hdmap", self.hdmap, (v, h, w, 3), "u")
        check("world_from_ego", self.world_from_ego, (4, 4), "f")
        check("shaded", self.shaded, (v, h, w, 3), "u", optional=True)
        check("background", self.background, (v, h, w, 3), "u", optional=True)
        check("background_depth", self.background_depth, (v, h, w), "f", optional=True)
        check("depth_valid", self.depth_valid, (v, h, w), "b", optional=True)
        if (self.background is None) != (self.background_depth is None):
            raise ConditionsError(f"{where}: background and background_depth come together (one is missing)")
        lamps = np.asarray(self.lamps)
        if lamps.ndim != 2 or lamps.shape[1] != 3:
            raise ConditionsError(f"{where}: lamps must be (N, 3) ego-frame points, got shape {lamps.shape}")
        if np.isnan(self.depth).any():
            raise ConditionsError(f"{where}: depth contains NaN (use inf where nothing was hit)")
        return self


_KINDS = {"f": "float", "u": "uint8", "b": "bool"}
FrameSource = Callable[[int], FrameConditions]


@dataclass(frozen=True)
class ClipConditions:
    """A clip's conditions: static parts here, per-frame parts from `frame(i)`.

    rig: the cameras at the output size (names in panorama order FL, F, FR, BR, B, BL);
    times: (T,) seconds; text: the scenario's prompt or description; source: makes frame i;
    lit_for: the time of day the shaded pass is already lit for (day, dusk or night);
    real_background: the shaded pass is a composite over real frames (which lack the inserted
    objects' contact shadows); closer: releases the source's resources (a renderer's GL context).
    """

    rig: CameraRig
    times: NDArray[np.float64]
    fps: float
    environment: Environment
    text: str
    source: FrameSource
    name: str = "clip"
    lit_for: str = "day"
    real_background: bool = False
    closer: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        times = np.asarray(self.times, dtype=np.float64).reshape(-1)
        if times.size == 0:
            raise ConditionsError("a clip needs at least one frame")
        object.__setattr__(self, "times", times)
        if not self.fps > 0:
            raise ConditionsError(f"fps must be positive, got {self.fps!r}")
        if self.lit_for not in TIMES_OF_DAY:
            raise ConditionsError(f"lit_for must be one of {', '.join(TIMES_OF_DAY)}, got {self.lit_for!r}")

    @property
    def num_frames(self) -> int:
        return int(self.times.shape[0])

    @property
    def camera_names(self) -> tuple[str, ...]:
        """Camera names in the order of every stacked array (panorama order for the standard six)."""
        return self.rig.names

    @property
    def num_views(self) -> int:
        return len(self.rig)

    @property
    def image_size(self) -> tuple[int, int]:
        """(width, height) of every camera image."""
        return self.rig.size

    def frame(self, index: int) -> FrameConditions:
        """The validated conditions of frame `index` (0 <= index < num_frames)."""
        if not 0 <= index < self.num_frames:
            raise IndexError(f"frame {index} out of range 0..{self.num_frames - 1}")
        fc = self.source(index)
        w, h = self.image_size
        return fc.validate(self.num_views, w, h)

    def close(self) -> None:
        """Release what the frame source holds (call on the thread that generated)."""
        if self.closer is not None:
            self.closer()

    def __enter__(self) -> "ClipConditions":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @classmethod
    def from_frames(cls, rig: CameraRig, frames: list[FrameConditions], fps: float,
                    environment: Environment | None = None, text: str = "", name: str = "clip",
                    lit_for: str = "day", real_background: bool = False) -> "ClipConditions":
        """Conditions held in memory (tests, precomputed inputs)."""
        times = np.array([f.time for f in frames], dtype=np.float64)
        return cls(rig, times, fps, environment or Environment(), text, lambda i: frames[i], name, lit_for,
                   real_background)


def require_panorama_rig(rig: CameraRig) -> None:
    """Raise ConditionsError unless the rig has exactly the six nuScenes cameras (panorama order)."""
    if rig.names != PANORAMA_ORDER:
        raise ConditionsError(
            f"the world model needs the six nuScenes cameras {', '.join(PANORAMA_ORDER)}; got {', '.join(rig.names)}")
