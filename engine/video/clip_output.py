"""A generated clip's output folder: one MP4 per camera, a panorama MP4, per-frame JPEGs and a manifest.

Layout of OUT (names by nuScenes camera name):
    CAM_FRONT_LEFT.mp4 ... CAM_BACK_LEFT.mp4   one H.264 video per camera
    panorama.mp4                              the six views side by side (FL, F, FR, BR, B, BL)
    frames/<CAMERA>/<frame:04d>.jpg           every frame of every camera
    generation.json                           what was generated, how, and the file list

Everything is written into a hidden staging folder inside OUT first and moved into place only when
all of it succeeded, so a failing job leaves the outputs of an earlier run intact. Other files in
OUT are never touched.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.fileio import atomic_write_json
from engine.video.mp4 import write_mp4

MANIFEST = "generation.json"
PANORAMA = "panorama.mp4"
FRAMES_DIR = "frames"


@dataclass(frozen=True)
class ClipFiles:
    """Paths written for one clip."""

    out_dir: Path
    camera_videos: dict[str, Path]
    panorama_video: Path
    frame_images: dict[str, list[Path]]
    manifest: Path
    extra: dict[str, Any] = field(default_factory=dict)


def panorama_frames(frames: np.ndarray) -> np.ndarray:
    """(T, V, H, W, 3) -> (T, H, V*W, 3): the views side by side in their order."""
    t, v, h, w, c = frames.shape
    return np.ascontiguousarray(frames.transpose(0, 2, 1, 3, 4).reshape(t, h, v * w, c))


def write_jpeg(path: Path, image: np.ndarray, quality: int = 92) -> None:
    """(H, W, 3) uint8 RGB -> JPEG file."""
    import cv2

    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(image[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise OSError(f"cannot encode {path.name} as JPEG")
    path.write_bytes(buf.tobytes())


def write_clip_outputs(clip, out_dir: str | os.PathLike, jpeg_quality: int = 92,
                       extra_manifest: dict[str, Any] | None = None) -> ClipFiles:
    """Write a GeneratedClip's videos, JPEGs and manifest into `out_dir` (see the module docstring)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".generate-", dir=out))
    try:
        names = list(clip.camera_names)
        for i, name in enumerate(names):
            write_mp4(clip.frames[:, i], stage / f"{name}.mp4", clip.fps)
        write_mp4(panorama_frames(clip.frames), stage / PANORAMA, clip.fps)
        images: dict[str, list[str]] = {}
        for i, name in enumerate(names):
            cam_dir = stage / FRAMES_DIR / name
            cam_dir.mkdir(parents=True)
            images[name] = []
            for t in range(clip.num_frames):
                rel = f"{FRAMES_DIR}/{name}/{t:04d}.jpg"
                write_jpeg(stage / rel, clip.frames[t, i], jpeg_quality)
                images[name].append(rel)
        w, h = clip.image_size
        manifest = {
            "backend": clip.backend, "seed": clip.seed, "fps": clip.fps, "num_frames": clip.num_frames,
            "image_size": [w, h], "cameras": names, "times": [round(float(t), 6) for t in clip.times],
            "videos": {n: f"{n}.mp4" for n in names}, "panorama": PANORAMA, "frames": images,
            "metadata": _jsonable(clip.metadata), **_jsonable(extra_manifest or {}),
        }
        atomic_write_json(stage / MANIFEST, manifest)
        _commit(stage, out, [*(f"{n}.mp4" for n in names), PANORAMA, FRAMES_DIR, MANIFEST])
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return ClipFiles(out, {n: out / f"{n}.mp4" for n in names}, out / PANORAMA,
                     {n: [out / r for r in images[n]] for n in names}, out / MANIFEST)


def _commit(stage: Path, out: Path, entries: list[str]) -> None:
    """Move the staged entries into `out`: files by atomic rename, folders by swapping (old one removed)."""
    for entry in entries:
        src, dst = stage / entry, out / entry
        if src.is_dir():
            old = None
            if dst.exists():
                old = out / f".{entry}.old-{uuid.uuid4().hex[:8]}"
                os.replace(dst, old)
            try:
                os.replace(src, dst)
            except BaseException:
                if old is not None:
                    os.replace(old, dst)
                raise
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(src, dst)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return str(obj)
