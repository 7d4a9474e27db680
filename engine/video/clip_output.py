"""A generated clip's output folder: one MP4 per camera, a panorama MP4, per-frame JPEGs and a manifest.

Layout of OUT (names by nuScenes camera name):
    CAM_FRONT_LEFT.mp4 ... CAM_BACK_LEFT.mp4   one H.264 video per camera
    panorama.mp4                              the six views side by side (FL, F, FR, BR, B, BL)
    frames/<CAMERA>/<frame:04d>.jpg           every frame of every camera
    generation.json                           what was generated, how, and the file list

Everything is written into a hidden staging folder beside OUT (`.generate-<OUT name>-<id>`, locked
by this run) and committed by ONE directory rename: the new folder replaces OUT atomically (Linux
renameat2 RENAME_EXCHANGE; elsewhere OUT is moved aside first), so a reader sees the old outputs
or all of the new ones, and a failing or killed job leaves the earlier outputs intact. Other files
in OUT are carried over (hard links, else copies). Staging folders of killed runs are removed by the
next run (`engine.fileio.clean_stale_staging`).
"""
from __future__ import annotations

import errno
import os
import shutil
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from engine.fileio import StagingDir, atomic_write_json, clean_stale_staging
from engine.video.mp4 import write_mp4

if TYPE_CHECKING:
    from engine.worldmodel.events import GeneratedClip

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


def panorama_frames(frames: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """(T, V, H, W, 3) -> (T, H, V*W, 3): the views side by side in their order."""
    t, v, h, w, c = frames.shape
    return np.ascontiguousarray(frames.transpose(0, 2, 1, 3, 4).reshape(t, h, v * w, c))


def write_jpeg(path: Path, image: NDArray[np.uint8], quality: int = 92) -> None:
    """(H, W, 3) uint8 RGB -> JPEG file."""
    import cv2

    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(image[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise OSError(f"cannot encode {path.name} as JPEG")
    path.write_bytes(buf.tobytes())


STAGE_PREFIX = ".generate-"


def write_clip_outputs(clip: GeneratedClip, out_dir: str | os.PathLike[str], jpeg_quality: int = 92,
                       extra_manifest: dict[str, Any] | None = None) -> ClipFiles:
    """Write a GeneratedClip's videos, JPEGs and manifest into `out_dir` (see the module docstring).

    Raises OSError (e.g. ENOSPC, EACCES, ENOTDIR) with nothing of OUT changed."""
    out = Path(out_dir).absolute()
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "it is a file, not a folder", str(out))
    clean_stale_staging(out, STAGE_PREFIX)          # old layout: staging folders inside OUT
    stage_dir = StagingDir.create(out.parent, f"{STAGE_PREFIX}{out.name}-")
    stage = stage_dir.path
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
        assert clip.times is not None  # GeneratedClip fills it in
        manifest = {
            "backend": clip.backend, "seed": clip.seed, "fps": clip.fps, "num_frames": clip.num_frames,
            "image_size": [w, h], "cameras": names, "times": [round(float(t), 6) for t in clip.times],
            "videos": {n: f"{n}.mp4" for n in names}, "panorama": PANORAMA, "frames": images,
            "metadata": _jsonable(clip.metadata), **_jsonable(extra_manifest or {}),
        }
        atomic_write_json(stage / MANIFEST, manifest)
        _carry_over(out, stage)
        commit_dir(stage, out)
    finally:
        stage_dir.release()
    return ClipFiles(out, {n: out / f"{n}.mp4" for n in names}, out / PANORAMA,
                     {n: [out / r for r in images[n]] for n in names}, out / MANIFEST)


def _carry_over(out: Path, stage: Path) -> None:
    """Link (else copy) every entry of OUT that this run does not write into the staging folder."""
    if not out.is_dir():
        return
    for entry in out.iterdir():
        dst = stage / entry.name
        if entry.name.startswith(STAGE_PREFIX) or dst.exists() or dst.is_symlink():
            continue
        if entry.is_symlink():
            os.symlink(os.readlink(entry), dst)
        elif entry.is_dir():
            shutil.copytree(entry, dst, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(entry, dst)


def _link_or_copy(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False when not supported."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(str(a)), at_fdcwd, os.fsencode(str(b)), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def commit_dir(stage: Path, out: Path) -> None:
    """Make the folder `stage` become `out` by one directory rename (the old `out`, if any, ends up
    at `stage` and is removed by the caller's cleanup)."""
    if not out.exists():
        os.rename(stage, out)
        return
    if _exchange(stage, out):
        return
    old = out.with_name(f"{STAGE_PREFIX}{out.name}-old-{uuid.uuid4().hex[:8]}")
    os.rename(out, old)                       # not atomic for a moment: OUT is absent, never partial
    try:
        os.rename(stage, out)
    except BaseException:   # any failure, even KeyboardInterrupt: put the old OUT back, then re-raise
        os.rename(old, out)
        raise
    os.rename(old, stage)                     # removed with the staging folder


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
