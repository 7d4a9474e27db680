"""The training cache on disk: shards of samples plus an index, written by `train prepare`.

    CACHE/prepare.json            the settings the cache was made with (a resumed run must match them)
    CACHE/shards/<scene>-<k>.npz  up to `shard_size` samples of one scene, arrays stacked on axis 0
    CACHE/index.json              every finished shard: file, scene, split, number of samples, frames

Arrays of one shard, N samples, V cameras (panorama order), H x W pixels (the `--size`):
    image         (N, V, H, W, 3)  uint8    the real frame (the target)
    prev_image    (N, V, H, W, 3)  uint8    the real frame 1/fps earlier (zeros when has_prev is False)
    has_prev      (N,)             bool
    depth         (N, V, H, W)     float16  real depth in metres (LiDAR densified), inf where unknown;
                                            inside an inserted object: that object's rendered depth
    depth_valid   (N, V, H, W)     bool     the real depth is known there (before any blanking)
    normal        (N, V, H, W, 3)  uint8    camera-frame normals from the real depth, n * 127.5 + 127.5, 0 = none
    edge          (N, V, H, W)     uint8    Canny edges of the real image, 0 / 255, blanked inside inserted objects
    object        (N, V, H, W, 3)  uint8    Dream4Drive's O: the inserted object's asset rendered in colour
    inserted      (N, V, H, W)     bool     Dream4Drive's M: pixels of the inserted object
    boxes         (N, V, H, W, 10) uint8    projected 3-D boxes per class
    hdmap         (N, V, H, W, 3)  uint8    projected HD map
    env           (N, 7)           float32  environment one-hot (time of day, weather)
    K             (N, V, 3, 3)     float32  intrinsics at the cached size
    ego_from_camera (N, V, 4, 4)   float32  camera mounting
    frame         (N,)             int32    scenario frame index (12 Hz) in the scene
    inserted_class (N,)            <U32     class of the inserted object, '' when none
    inserted_agent (N,)            <U64     its agent id in the opened scene (the nuScenes instance), '' when none
    text          (N,)             <U256    the scene description (the prompt the sample is trained with)
    latent, prev_latent (N, C, H/f, V*W/f) float16   VAE latents (z - shift) * scale of the stitched
                                            panorama; only when prepared with --model
Writes are atomic (temporary file, then rename), so a finished shard is never half written and a
killed `prepare` resumes by skipping the shards that exist.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

INDEX_FILE = "index.json"
SETTINGS_FILE = "prepare.json"
SHARD_DIR = "shards"
CACHE_FORMAT = 1
REQUIRED_ARRAYS = ("image", "prev_image", "has_prev", "depth", "depth_valid", "normal", "edge", "object", "inserted",
                   "boxes", "hdmap", "env", "K", "ego_from_camera", "frame", "inserted_class", "text")


# one sample's arrays by name (the shard layout above without the N axis; 0-d values as numpy scalars)
SampleArrays = dict[str, "NDArray[Any] | np.generic"]


class CacheError(ValueError):
    """A training cache that is missing, broken or made with other settings (the message says which and where)."""


def shard_name(scene: str, chunk: int) -> str:
    """File name of chunk `chunk` of `scene` (characters other than letters, digits, - and _ replaced)."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", scene)
    return f"{safe}-{chunk:04d}.npz"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:  # any exit, Ctrl-C included, removes the temporary file; re-raised
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=1, sort_keys=True) + "\n").encode())


def write_shard(path: Path, samples: Sequence[Mapping[str, NDArray[Any] | np.generic]]) -> None:
    """Stack the samples' arrays (same keys in each) on a new axis 0 and save them atomically as one .npz."""
    keys = list(samples[0].keys())
    arrays = {k: np.stack([np.asarray(s[k]) for s in samples]) for k in keys}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp.npz", dir=path.parent)
    os.close(fd)
    try:
        np.savez(tmp, **arrays)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:  # any exit, Ctrl-C included, removes the temporary file; re-raised
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class ShardInfo:
    """One shard in the index: file (relative to the cache), scene, split ('train' or 'val'), sample count."""

    file: str
    scene: str
    split: str
    num_samples: int
    frames: tuple[int, ...]


@dataclass(frozen=True)
class CacheIndex:
    """The index of a prepared cache: its settings and shards."""

    root: Path
    settings: dict[str, Any]
    shards: tuple[ShardInfo, ...]

    @property
    def num_samples(self) -> int:
        return sum(s.num_samples for s in self.shards)

    def split(self, name: str) -> tuple[ShardInfo, ...]:
        return tuple(s for s in self.shards if s.split == name)

    @property
    def has_latents(self) -> bool:
        return bool(self.settings.get("model"))

    def to_json(self) -> dict[str, Any]:
        return {"format": CACHE_FORMAT, "settings": self.settings, "num_samples": self.num_samples,
                "shards": [{"file": s.file, "scene": s.scene, "split": s.split, "num_samples": s.num_samples,
                            "frames": list(s.frames)} for s in self.shards]}


def read_index(cache: str | os.PathLike[str]) -> CacheIndex:
    """The index of a prepared cache; CacheError names what is missing or broken."""
    root = Path(cache).expanduser()
    path = root / INDEX_FILE
    if not root.is_dir():
        raise CacheError(f"training cache {root} does not exist (make one with `main.py train prepare`)")
    if not path.is_file():
        raise CacheError(f"{root} is not a finished training cache: {INDEX_FILE} is missing "
                         "(run `main.py train prepare` again with the same arguments to finish it)")
    try:
        doc = json.loads(path.read_text())
        if doc.get("format") != CACHE_FORMAT:
            raise CacheError(f"{path}: cache format {doc.get('format')!r}, this version reads {CACHE_FORMAT}")
        shards = tuple(ShardInfo(s["file"], s["scene"], s["split"], int(s["num_samples"]), tuple(s["frames"]))
                       for s in doc["shards"])
        settings = dict(doc["settings"])
    except CacheError:
        raise
    except (ValueError, KeyError, TypeError) as e:
        raise CacheError(f"{path}: unreadable index ({type(e).__name__}: {e})") from None
    for s in shards:
        if not (root / s.file).is_file():
            raise CacheError(f"{root}: shard {s.file} listed in {INDEX_FILE} is missing")
    if not shards:
        raise CacheError(f"{root}: the cache holds no samples")
    return CacheIndex(root, settings, shards)


def load_shard(path: str | os.PathLike[str]) -> dict[str, NDArray[Any]]:
    """All arrays of one shard (CacheError when a required array is missing or the file is unreadable)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            out = {k: z[k] for k in z.files}
    except (OSError, ValueError) as e:
        raise CacheError(f"shard {path} is unreadable: {e}") from None
    missing = [k for k in REQUIRED_ARRAYS if k not in out]
    if missing:
        raise CacheError(f"shard {path} lacks array(s) {', '.join(missing)}")
    return out
