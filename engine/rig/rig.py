"""The six-camera rig: loaded from the rig JSON or from nuScenes ``calibrated_sensor`` records, any output size.

Cameras are addressed by nuScenes name. `CameraRig.cameras` keeps the panorama (UniMVM / MagicDrive)
stitch order FL, F, FR, BR, B, BL for the six standard cameras; other names follow in file order.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import numpy as np
from numpy.typing import ArrayLike

from engine.paths import DEFAULT_RIG
from engine.rig.camera import Camera, matrix3

PANORAMA_ORDER: tuple[str, ...] = (
    "CAM_FRONT_LEFT", "CAM_FRONT", "CAM_FRONT_RIGHT", "CAM_BACK_RIGHT", "CAM_BACK", "CAM_BACK_LEFT",
)
NUSCENES_IMAGE_SIZE: tuple[int, int] = (1600, 900)
DEFAULT_PREVIEW_SIZE: tuple[int, int] = (448, 256)


class RigFormatError(ValueError):
    """A rig file or calibration record is unusable; the message names the file and the field."""


def panorama_sorted(names: Iterable[str]) -> list[str]:
    """Names in panorama order (the six standard cameras first, the rest in the given order)."""
    names = list(names)
    known = [n for n in PANORAMA_ORDER if n in names]
    return known + [n for n in names if n not in PANORAMA_ORDER]


@dataclass(frozen=True)
class CameraRig:
    """An ordered set of cameras with unique names, all rendering at one output size."""

    cameras: tuple[Camera, ...]

    def __post_init__(self) -> None:
        cams = tuple(self.cameras)
        if not cams:
            raise RigFormatError("a camera rig needs at least one camera")
        names = [c.name for c in cams]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise RigFormatError(f"camera names must be unique; repeated: {', '.join(dup)}")
        sizes = {c.size for c in cams}
        if len(sizes) != 1:
            raise RigFormatError(f"all cameras of a rig must share one image size, got {sorted(sizes)}")
        by_name = {c.name: c for c in cams}
        object.__setattr__(self, "cameras", tuple(by_name[n] for n in panorama_sorted(names)))

    # ---- access ----------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """Camera names in panorama order."""
        return tuple(c.name for c in self.cameras)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of every camera image."""
        return self.cameras[0].size

    def __getitem__(self, name: str) -> Camera:
        for c in self.cameras:
            if c.name == name:
                return c
        raise KeyError(f"no camera named {name!r} in the rig; cameras: {', '.join(self.names)}")

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.cameras)

    def __iter__(self) -> Iterator[Camera]:
        return iter(self.cameras)

    def __len__(self) -> int:
        return len(self.cameras)

    def index(self, name: str) -> int:
        """Position of a camera in the rig's stacked arrays (panorama order)."""
        return self.names.index(self[name].name)

    # ---- variants --------------------------------------------------------------------
    def scaled(self, width: int, height: int) -> "CameraRig":
        """Every camera at another output size (intrinsics scaled)."""
        if int(width) <= 0 or int(height) <= 0:
            raise ValueError(f"image size must be positive, got {width}x{height}")
        return CameraRig(tuple(c.scaled(int(width), int(height)) for c in self.cameras))

    def subset(self, names: Iterable[str]) -> "CameraRig":
        """A rig with only the named cameras (KeyError names a missing one)."""
        return CameraRig(tuple(self[n] for n in names))

    # ---- loading ---------------------------------------------------------------------
    @classmethod
    def default(cls, size: tuple[int, int] | None = DEFAULT_PREVIEW_SIZE) -> "CameraRig":
        """The six nuScenes cameras of the bundled rig file, scaled to `size` (native 1600x900 if None)."""
        return cls.from_json(DEFAULT_RIG, size)

    @classmethod
    def from_json(cls, path: str | os.PathLike[str], size: tuple[int, int] | None = None) -> "CameraRig":
        """Load a rig JSON (the format of resources/data/nuscenes_rig.json).

        {"image_size": [W, H], "cameras": [{"name", "translation", "rotation" [w,x,y,z], "K" 3x3}, ...]}
        Raises RigFormatError naming the file and the field when something is missing or malformed.
        """
        path = Path(path)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:   # ValueError: invalid JSON, or not UTF-8
            raise RigFormatError(f"{path}: cannot read rig file: {e}") from None
        return cls.from_document(doc, size, source=str(path))

    @classmethod
    def from_document(cls, doc: Mapping[str, Any], size: tuple[int, int] | None = None, source: str = "rig") -> "CameraRig":
        """Build from a parsed rig JSON document (see `from_json`)."""
        if not isinstance(doc, Mapping):
            raise RigFormatError(f"{source}: expected a JSON object")
        native = _size_field(doc.get("image_size", NUSCENES_IMAGE_SIZE), f"{source}: image_size")
        cams_doc = doc.get("cameras")
        if not isinstance(cams_doc, list) or not cams_doc:
            raise RigFormatError(f"{source}: cameras: expected a non-empty list")
        cams = []
        for i, c in enumerate(cams_doc):
            where = f"{source}: cameras[{i}]"
            if not isinstance(c, Mapping):
                raise RigFormatError(f"{where}: expected an object")
            missing = [k for k in ("name", "translation", "rotation", "K") if k not in c]
            if missing:
                raise RigFormatError(f"{where}: missing {', '.join(missing)}")
            cams.append(_camera(str(c["name"]), c["translation"], c["rotation"], c["K"], native, where))
        try:
            rig = cls(tuple(cams))
        except RigFormatError as e:
            raise RigFormatError(f"{source}: cameras: {e}") from None
        return rig.scaled(*size) if size is not None else rig

    @classmethod
    def from_calibrated_sensors(
        cls,
        records: Mapping[str, Mapping[str, Any]],
        size: tuple[int, int] | None = None,
        image_size: tuple[int, int] = NUSCENES_IMAGE_SIZE,
    ) -> "CameraRig":
        """Build from nuScenes ``calibrated_sensor`` records keyed by camera channel name.

        Each record has ``translation``, ``rotation`` [w, x, y, z] and ``camera_intrinsic`` (3x3) for an
        image of `image_size` (nuScenes: 1600x900); the rig is scaled to `size` when given.
        """
        cams = []
        for name, rec in records.items():
            where = f"calibrated_sensor[{name}]"
            missing = [k for k in ("translation", "rotation", "camera_intrinsic") if k not in rec]
            if missing:
                raise RigFormatError(f"{where}: missing {', '.join(missing)}")
            cams.append(_camera(name, rec["translation"], rec["rotation"], rec["camera_intrinsic"], image_size, where))
        rig = cls(tuple(cams))
        return rig.scaled(*size) if size is not None else rig

    def to_document(self) -> dict[str, Any]:
        """The rig as a JSON-ready document in the rig file format, at the current size."""
        return {
            "image_size": list(self.size),
            "cameras": [
                {"name": c.name, "translation": list(c.translation), "rotation": list(c.rotation),
                 "K": [list(r) for r in c.intrinsic]}
                for c in self.cameras
            ],
        }


def _size_field(v: object, where: str) -> tuple[int, int]:
    if not isinstance(v, (list, tuple)):
        raise RigFormatError(f"{where}: expected [width, height], got {v!r}")
    try:
        w, h = (int(x) for x in v)
    except (TypeError, ValueError):
        raise RigFormatError(f"{where}: expected [width, height], got {v!r}") from None
    if w <= 0 or h <= 0:
        raise RigFormatError(f"{where}: width and height must be positive, got {v!r}")
    return w, h


def _camera(name: str, translation: ArrayLike, rotation: ArrayLike, k: ArrayLike, native: tuple[int, int],
            where: str) -> Camera:
    try:
        t = np.asarray(translation, dtype=np.float64)
        q = np.asarray(rotation, dtype=np.float64)
        kk = np.asarray(k, dtype=np.float64)
    except (TypeError, ValueError):
        raise RigFormatError(f"{where}: translation, rotation and K must be numbers") from None
    if t.shape != (3,):
        raise RigFormatError(f"{where}: translation: expected 3 numbers, got shape {t.shape}")
    if q.shape != (4,):
        raise RigFormatError(f"{where}: rotation: expected a quaternion [w, x, y, z], got shape {q.shape}")
    if kk.shape != (3, 3):
        raise RigFormatError(f"{where}: K: expected a 3x3 matrix, got shape {kk.shape}")
    try:
        return Camera(name, native[0], native[1], matrix3(kk), (float(t[0]), float(t[1]), float(t[2])),
                      (float(q[0]), float(q[1]), float(q[2]), float(q[3])))
    except ValueError as e:
        raise RigFormatError(f"{where}: {e}") from None
