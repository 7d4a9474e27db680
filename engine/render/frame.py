"""The guidance maps of one time step for every camera: `GuidanceFrame` and `CameraMaps`.

Address a camera by name: ``frame["CAM_FRONT"]`` is a `CameraMaps` with, for that camera,

    rgb       (H, W, 3)  uint8    shaded colour of the synthetic scene (or the composite over a real image)
    depth     (H, W)     float32  camera-frame z in metres, 0 = none; blanked inside `inserted`
    normal    (H, W, 3)  float32  camera-frame unit normal (OpenCV axes: x right, y down, z forward),
                                  0 = none; blanked inside `inserted` (decoded from `normal_encoded`)
    edge      (H, W)     uint8    Canny edges (0 / 255); blanked inside `inserted` (grown by a pixel)
    object    (H, W, 3)  uint8    the inserted assets in colour, 0 elsewhere
    instance  (H, W)     int32    instance id per pixel, 0 = background; `instance_ids` maps agent id -> id
    inserted  (H, W)     bool     pixels of inserted objects (Dream4Drive's mask M)
    hdmap     (H, W, 3)  uint8    projected HD map: R lane boundaries, G lane dividers, B pedestrian crossings
    boxes     (H, W, 10) uint8    projected 3-D boxes, one channel per class (`engine.classes.class_names()`):
                                  faces 96, the front face 160, edges 255, painted far to near

`frame.stack("depth")` gives (C, H, W) over the rig's cameras in panorama order, and `frame.bev` is the
ego-centred bird's-eye layout raster (Hb, Wb, K) uint8 with channels `bev_channels`.
Frames are snapshots: the renderer never modifies a frame it has returned (unchanged cameras of
consecutive frames may share arrays, so do not modify them in place either; copy first).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from typing import Any, Iterable

import numpy as np
from numpy.typing import NDArray

from engine.rig.rig import CameraRig


class MapName(StrEnum):
    """The per-camera maps of a frame (`CameraMaps.get`, `colorize`); members compare equal to their strings."""

    RGB = "rgb"
    DEPTH = "depth"
    NORMAL = "normal"
    EDGE = "edge"
    OBJECT = "object"
    MASK = "mask"
    INSERTED = "inserted"
    HDMAP = "hdmap"
    BOXES = "boxes"


MAP_NAMES: tuple[str, ...] = tuple(m.value for m in MapName)   # the names as plain strings, in this order
# What `GuidanceRenderer.render(t, maps=...)` accepts: the per-camera maps plus the frame's BEV raster.
RENDERABLE_MAPS: frozenset[str] = frozenset(MAP_NAMES) | {"normal_encoded", "instance", "bev"}
ALL_MAPS: frozenset[str] = frozenset({"rgb", "depth", "normal_encoded", "edge", "object", "instance", "inserted",
                                      "hdmap", "boxes", "bev"})
_ALIASES = {"normal": "normal_encoded", "mask": "instance"}


def resolve_maps(maps: Iterable[str] | None) -> frozenset[str]:
    """The canonical map set of a `render(t, maps=...)` request (None = every map).

    Aliases are folded ("normal" -> "normal_encoded", "mask" -> "instance"); `instance` and `inserted`
    are always included (they are cheap and every other map's blanking needs them).
    ValueError names any unknown map.
    """
    if maps is None:
        return ALL_MAPS
    if isinstance(maps, str):
        maps = (maps,)
    names = set(maps)
    unknown = sorted(names - RENDERABLE_MAPS)
    if unknown:
        raise ValueError(f"unknown map(s) {', '.join(map(repr, unknown))}; maps: {', '.join(sorted(RENDERABLE_MAPS))}")
    return frozenset({_ALIASES.get(n, n) for n in names} | {"instance", "inserted"})


def decode_normals(encoded: NDArray[np.uint8]) -> NDArray[np.float32]:
    """(..., 3) uint8 encoded normals -> (..., 3) float32 unit vectors; (0, 0, 0) encodes 'no normal'."""
    n: NDArray[np.float32] = encoded.astype(np.float32) * np.float32(2.0 / 255.0) - np.float32(1.0)
    n /= np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-6)
    n[~encoded.any(axis=-1)] = 0.0
    return n


def encode_normals(normals: NDArray[np.floating[Any]]) -> NDArray[np.uint8]:
    """(..., 3) float unit normals -> (..., 3) uint8 as n * 127.5 + 127.5; zero vectors encode to (0, 0, 0)."""
    out: NDArray[np.uint8] = np.clip(np.rint((normals + 1.0) * 127.5), 1, 255).astype(np.uint8)
    out[~np.any(normals != 0, axis=-1)] = 0
    return out


@dataclass
class CameraMaps:
    """Every map of one camera at one time (see the module docstring for shapes).

    A map left out of a `render(t, maps=...)` request is None here; `get` raises a KeyError naming it.
    """

    name: str
    rgb: NDArray[np.uint8] | None
    depth: NDArray[np.float32] | None
    normal_encoded: NDArray[np.uint8] | None
    edge: NDArray[np.uint8] | None
    object: NDArray[np.uint8] | None
    instance: NDArray[np.int32]
    inserted: NDArray[np.bool_]
    hdmap: NDArray[np.uint8] | None
    boxes: NDArray[np.uint8] | None

    @property
    def normal(self) -> NDArray[np.float32]:
        """(H, W, 3) float32 camera-frame normals (0 where none)."""
        if self.normal_encoded is None:
            raise KeyError(f"{self.name}: map 'normal' was not rendered (left out of render(t, maps=...))")
        return decode_normals(self.normal_encoded)

    @property
    def mask(self) -> NDArray[np.int32]:
        """(H, W) int32 per-instance mask M (alias of `instance`)."""
        return self.instance

    def get(self, map_name: str) -> NDArray[Any]:
        """A map by name (one of MAP_NAMES); the dtype depends on the map (see the module docstring)."""
        if map_name not in MAP_NAMES:
            raise KeyError(f"unknown map {map_name!r}; maps: {', '.join(MAP_NAMES)}")
        value: NDArray[Any] | None = getattr(self, map_name)
        if value is None:
            raise KeyError(f"{self.name}: map {map_name!r} was not rendered (left out of render(t, maps=...))")
        return value

    def copy(self, share: tuple[str, ...] = ()) -> "CameraMaps":
        """A deep copy, except for the arrays named in `share` (kept as they are); maps not rendered stay None."""
        return replace(self, **{f.name: getattr(self, f.name).copy() for f in fields(self)
                                if f.name != "name" and f.name not in share and getattr(self, f.name) is not None})


@dataclass
class GuidanceFrame:
    """All guidance maps of all cameras at one time.

    maps: camera name -> CameraMaps, in the rig's panorama order; world_from_ego (4, 4);
    bev (Hb, Wb, K) uint8 with channel names `bev_channels` (None when "bev" was not requested);
    instance_ids: agent id -> instance id;
    warnings: problems met while rendering (an asset that failed to load and was replaced...);
    rendered: the canonical names of the maps this frame holds (`resolve_maps`; all of them by default).
    """

    time: float
    rig: CameraRig
    world_from_ego: NDArray[np.float64]
    maps: dict[str, CameraMaps]
    bev: NDArray[np.uint8] | None
    bev_channels: tuple[str, ...]
    instance_ids: dict[str, int]
    warnings: tuple[str, ...] = ()
    rendered: frozenset[str] = field(default=ALL_MAPS)

    @property
    def camera_names(self) -> tuple[str, ...]:
        return self.rig.names

    def __getitem__(self, name: str) -> CameraMaps:
        try:
            return self.maps[name]
        except KeyError:
            raise KeyError(f"no camera named {name!r}; cameras: {', '.join(self.camera_names)}") from None

    def cameras(self) -> list[tuple[str, CameraMaps]]:
        """(name, CameraMaps) for every camera in panorama order."""
        return [(n, self.maps[n]) for n in self.camera_names]

    def stack(self, map_name: str) -> NDArray[Any]:
        """(C, H, W, ...) array of one map over the cameras in panorama order (a new array)."""
        return np.stack([self.maps[n].get(map_name) for n in self.camera_names])

    def instance_mask(self, agent_id: str, camera: str) -> NDArray[np.bool_]:
        """(H, W) bool pixels where the agent is visible in the camera (all False if it is not)."""
        iid = self.instance_ids.get(agent_id)
        if iid is None:
            raise KeyError(f"no agent {agent_id!r} in this frame; agents: {', '.join(self.instance_ids)}")
        mask: NDArray[np.bool_] = self[camera].instance == iid
        return mask

    def visible_pixels(self) -> dict[str, dict[str, int]]:
        """{agent id: {camera name: visible pixel count}} for agents visible in at least one camera."""
        by_id = {v: k for k, v in self.instance_ids.items()}
        out: dict[str, dict[str, int]] = {}
        for name in self.camera_names:
            ids, counts = np.unique(self.maps[name].instance, return_counts=True)
            for i, c in zip(ids.tolist(), counts.tolist()):
                if i in by_id:
                    out.setdefault(by_id[i], {})[name] = c
        return out
