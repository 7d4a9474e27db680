"""Streaming guidance output: each frame written and released as soon as it is made, on a writer thread.

    with GuidanceStreamWriter(out, StreamOptions(pngs=False)) as writer:
        for i in frames:
            writer.submit(i, renderer.render(t_i), title=..., classes=...)   # blocks only when the queue is full
    # manifest.json written on a clean close; the whole run is fsynced once (or once per frame)

Layout under the output folder (one array file per frame; PNGs only for what a person looks at):
    manifest.json                      rig, frames, instance ids, the encodings below (written last)
    frame_0000/maps.npz                uncompressed NPZ, every numeric map stacked over the V cameras in the
                                       manifest's camera order (see `STACKED_ENCODINGS`), plus K (V, 3, 3),
                                       ego_from_camera (V, 4, 4), world_from_ego (4, 4), time ()
    frame_0000/contact_sheet.png       all maps x all cameras + BEV (human-viewable)
    frame_0000/bev.png                 BEV layout, colourised
    frame_0000/agents.png              close-up of every visible agent (when classes are given)
    frame_0000/CAM_FRONT/<map>.png     colourised view of each map, only with `StreamOptions(pngs=True)`

Memory: the queue holds at most `queue_size` frames, so memory is independent of clip length; the
writer keeps only each frame's small metadata for the manifest.

Atomicity: a frame's files are written into ``.frame_0000.partial/`` and the folder is renamed to
``frame_0000`` when complete, so a frame folder is whole or absent. Durability: ``fsync="run"`` (default)
flushes the file system once at the end of the run, ``"frame"`` once per frame, ``"none"`` never
(one `syncfs` call on Linux, `os.sync` elsewhere), instead of one fsync per file.
"""
from __future__ import annotations

import ctypes
import os
import queue
import shutil
import threading
import zipfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from engine.fileio import atomic_write_json

if TYPE_CHECKING:
    from engine.render.frame import GuidanceFrame
    from engine.rig.rig import CameraRig


class FsyncMode(StrEnum):
    """When the written files are flushed to disk: once per run, once per frame, or never."""

    RUN = "run"
    FRAME = "frame"
    NONE = "none"


FSYNC_MODES: tuple[str, ...] = tuple(m.value for m in FsyncMode)

STACKED_ENCODINGS = {
    "rgb": "(V, H, W, 3) uint8 RGB, shaded synthetic scene",
    "depth": "(V, H, W) float32 camera-frame z in metres; 0 = none; blanked inside inserted",
    "normal_encoded": "(V, H, W, 3) uint8 camera-frame unit normal (x right, y down, z forward) encoded as "
                      "(n + 1) * 127.5, (0, 0, 0) = none; decode with engine.render.frame.decode_normals",
    "edge": "(V, H, W) uint8 Canny edges 0/255; blanked inside inserted (grown by a pixel)",
    "object": "(V, H, W, 3) uint8 RGB of the inserted assets, 0 elsewhere",
    "instance": "(V, H, W) int32 instance id, 0 = background; see the frame's instance_ids",
    "inserted": "(V, H, W) bool inserted-object mask",
    "hdmap": "(V, H, W, 3) uint8: R lane boundaries, G lane dividers, B pedestrian crossings",
    "boxes": "(V, H, W, 10) uint8 one channel per class in `classes` order: faces 96, front face 160, edges 255",
    "bev": "(Hb, Wb, K) uint8 0/255 ego-centred, ego heading up; channels in `bev_channels`",
    "K": "(V, 3, 3) float64 intrinsics", "ego_from_camera": "(V, 4, 4) float64", "world_from_ego": "(4, 4) float64",
    "time": "() float64 seconds",
}
_STACKED = ("rgb", "depth", "normal_encoded", "edge", "object", "instance", "inserted", "hdmap", "boxes")


@dataclass(frozen=True)
class StreamOptions:
    """What to write per frame: arrays (maps.npz), per-camera PNGs, sheets; how often to flush to disk."""

    arrays: bool = True
    pngs: bool = False
    sheets: bool = True
    sheet_scale: float = 0.5
    png_level: int = 1          # zlib level of the PNGs (lossless at every level; 1 is the fastest)
    fsync: FsyncMode = FsyncMode.RUN   # a plain string ("run", "frame", "none") is converted
    queue_size: int = 2

    def __post_init__(self) -> None:
        if self.fsync not in FSYNC_MODES:
            raise ValueError(f"fsync must be one of {', '.join(FSYNC_MODES)}, got {self.fsync!r}")
        object.__setattr__(self, "fsync", FsyncMode(self.fsync))
        if self.queue_size < 1:
            raise ValueError(f"queue_size must be >= 1, got {self.queue_size}")


def flush_filesystem(path: str | os.PathLike[str]) -> None:
    """Flush every dirty page of the file system holding `path` to disk: one syncfs(2), or os.sync()."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(path, os.O_RDONLY)
        try:
            if libc.syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    except (OSError, AttributeError):
        pass
    os.sync()


def save_npz_stored(path: str | os.PathLike[str], arrays: dict[str, NDArray[Any]]) -> None:
    """An uncompressed .npz (readable by np.load) written straight from the arrays, no in-memory copy."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, a in arrays.items():
            with zf.open(f"{name}.npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(a), allow_pickle=False)  # type: ignore[no-untyped-call]  # numpy ships write_array without annotations


def frame_arrays(frame: GuidanceFrame) -> dict[str, NDArray[Any]]:
    """The arrays of ``maps.npz`` for one GuidanceFrame (maps that were not rendered are left out)."""
    out: dict[str, NDArray[Any]] = {}
    names = frame.camera_names
    for key in _STACKED:
        per_cam = [getattr(frame.maps[n], key) for n in names]
        if all(a is not None for a in per_cam):
            out[key] = np.stack(per_cam)
    if frame.bev is not None:
        out["bev"] = frame.bev
    out["K"] = np.stack([frame.rig[n].K for n in names])
    out["ego_from_camera"] = np.stack([frame.rig[n].ego_from_camera for n in names])
    out["world_from_ego"] = np.asarray(frame.world_from_ego, np.float64)
    out["time"] = np.asarray(frame.time, dtype=np.float64)   # a 0-d array
    return out


def read_frame_arrays(path: str | os.PathLike[str]) -> dict[str, NDArray[Any]]:
    """Every array of a written ``maps.npz`` (a frame folder or the file itself)."""
    path = Path(path)
    if path.is_dir():
        path = path / "maps.npz"
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def write_frame_files(frame: GuidanceFrame, folder: str | os.PathLike[str], options: StreamOptions = StreamOptions(),
                      title: str | None = None, classes: dict[str, str] | None = None) -> Path:
    """Write one frame's files into `folder` (created; plain writes, no fsync: see `GuidanceStreamWriter`)."""
    from engine.render.frame import MAP_NAMES
    from engine.render.sheet import agent_gallery, contact_sheet
    from engine.render.visualize import colorize, colorize_bev
    from engine.render.write import encode_png

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    def png(path: Path, img: NDArray[np.uint8]) -> None:
        path.write_bytes(encode_png(img, options.png_level))

    if options.arrays:
        save_npz_stored(folder / "maps.npz", frame_arrays(frame))
    if options.pngs:
        for name, m in frame.cameras():
            (folder / name).mkdir(exist_ok=True)
            for map_name in MAP_NAMES:
                if getattr(m, "normal_encoded" if map_name == "normal" else
                           "instance" if map_name == "mask" else map_name) is not None:
                    png(folder / name / f"{map_name}.png", colorize(m, map_name))
    if frame.bev is not None:
        png(folder / "bev.png", colorize_bev(frame.bev, frame.bev_channels))
    if options.sheets:
        png(folder / "contact_sheet.png", contact_sheet(frame, scale=options.sheet_scale, title=title))
        if classes is not None:
            png(folder / "agents.png", agent_gallery(frame, classes))
    return folder


def frame_record(index: int, frame: GuidanceFrame) -> dict[str, Any]:
    """The manifest entry of one frame (small: what stays in memory after the frame is written)."""
    return {"index": index, "time": frame.time, "folder": f"frame_{index:04d}", "instance_ids": dict(frame.instance_ids),
            "world_from_ego": np.asarray(frame.world_from_ego).tolist(), "warnings": list(frame.warnings)}


_Item = tuple[int, "GuidanceFrame", "str | None", "dict[str, str] | None"]   # (index, frame, title, classes)


class GuidanceStreamWriter:
    """Writes submitted frames on a background thread through a bounded queue; see the module docstring.

    `submit` re-raises (in the caller's thread) an error the writer met on an earlier frame; `close`
    waits for the queue to drain, flushes to disk and writes manifest.json (not after an error).
    """

    def __init__(self, out: str | os.PathLike[str], options: StreamOptions = StreamOptions(),
                 scenario_name: str = "") -> None:
        self.out = Path(out)
        self.options = options
        self.scenario_name = scenario_name
        self.out.mkdir(parents=True, exist_ok=True)
        self._queue: queue.Queue[_Item | None] = queue.Queue(maxsize=options.queue_size)
        self._records: list[dict[str, Any]] = []
        self._rig: CameraRig | None = None
        self._bev_channels: tuple[str, ...] = ()
        self._error: BaseException | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="guidance-writer", daemon=True)
        self._thread.start()

    # ---- producer side -------------------------------------------------------------------------
    def submit(self, index: int, frame: GuidanceFrame, title: str | None = None, classes: dict[str, str] | None = None) -> None:
        """Queue one frame for writing (blocks while `queue_size` frames wait)."""
        if self._closed:
            raise RuntimeError("GuidanceStreamWriter is closed")
        self._raise_pending()
        if self._rig is None:
            self._rig, self._bev_channels = frame.rig, tuple(frame.bev_channels)
        self._queue.put((index, frame, title, classes))

    def close(self, write_manifest: bool = True) -> Path | None:
        """Drain the queue, flush, write manifest.json; returns its path (None when not written)."""
        if self._closed:
            return None
        self._closed = True
        self._queue.put(None)
        self._thread.join()
        self._raise_pending()
        if self.options.fsync == "run" and self._records:
            flush_filesystem(self.out)
        if not write_manifest:
            return None
        return self._write_manifest()

    def __enter__(self) -> "GuidanceStreamWriter":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        else:   # stop the writer without a manifest; the caller's error wins
            try:
                self.close(write_manifest=False)
            except Exception:   # any writer failure: the caller's exception, already propagating, must not be masked
                pass

    @property
    def records(self) -> list[dict[str, Any]]:
        """Manifest entries of the frames written so far (in submission order)."""
        return list(self._records)

    def _raise_pending(self) -> None:
        if self._error is not None:
            err, self._error = self._error, None
            raise err

    # ---- writer thread ---------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is not None:
                continue   # drain without writing after a failure
            index, frame, title, classes = item
            del item
            try:
                self._write(index, frame, title, classes)
            except BaseException as e:   # handed to the producer on its next call
                self._error = e
            del frame

    def _write(self, index: int, frame: GuidanceFrame, title: str | None, classes: dict[str, str] | None) -> None:
        final = self.out / f"frame_{index:04d}"
        staging = self.out / f".frame_{index:04d}.partial"
        if staging.exists():
            shutil.rmtree(staging)
        write_frame_files(frame, staging, self.options, title, classes)
        if final.exists():
            old = self.out / f".frame_{index:04d}.old"
            if old.exists():
                shutil.rmtree(old)
            os.replace(final, old)
            os.replace(staging, final)
            shutil.rmtree(old)
        else:
            os.replace(staging, final)
        if self.options.fsync == "frame":
            flush_filesystem(final)
        self._records.append(frame_record(index, frame))

    def _write_manifest(self) -> Path:
        from engine.classes import class_names

        rig = self._rig
        doc = {
            "scenario": self.scenario_name,
            "layout": "stream-v1",
            "image_size": list(rig.size) if rig else None,
            "cameras": rig.to_document()["cameras"] if rig else [],
            "classes": class_names(),
            "bev_channels": list(self._bev_channels),
            "arrays": "frame_NNNN/maps.npz" if self.options.arrays else None,
            "encodings": STACKED_ENCODINGS,
            "frames": sorted(self._records, key=lambda r: r["index"]),
        }
        return atomic_write_json(self.out / "manifest.json", doc)
