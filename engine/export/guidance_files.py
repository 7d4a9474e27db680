"""The guidance maps of an exported clip on disk: one compressed .npz per frame plus an index.

``guidance/<frame:04d>.npz`` holds, for the V cameras in `cameras` order (panorama order):
    depth     (V, H, W)    float16  camera-frame z in metres, 0 = none (blanked inside inserted objects)
    normal    (V, H, W, 3) uint8    camera-frame normals encoded as (n + 1) * 127.5, 0 = none
    edge      (V, H, W)    uint8    Canny edges 0 / 255 (blanked inside inserted objects)
    object    (V, H, W, 3) uint8    the inserted assets in colour (Dream4Drive's O)
    mask      (V, H, W)    bool     pixels of inserted objects (Dream4Drive's M)
    instance  (V, H, W)    int32    instance id per pixel, 0 = none; ids in index.json
    hdmap     (V, H, W, 3) uint8    projected HD map (R boundaries, G dividers, B crossings)
``guidance/index.json`` lists the cameras, frame times, instance ids (agent id -> id) and these notes.
"""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from engine.fileio import atomic_write_bytes, atomic_write_json

if TYPE_CHECKING:
    from engine.render.frame import GuidanceFrame

ARRAYS = ("depth", "normal", "edge", "object", "mask", "instance", "hdmap")
DESCRIPTION = {
    "depth": "(V, H, W) float16 camera-frame z in metres, 0 = none; blanked inside inserted objects",
    "normal": "(V, H, W, 3) uint8 camera-frame unit normals (OpenCV axes) encoded as (n + 1) * 127.5, 0 = none",
    "edge": "(V, H, W) uint8 Canny edges 0/255; blanked inside inserted objects",
    "object": "(V, H, W, 3) uint8 inserted assets in colour",
    "mask": "(V, H, W) bool pixels of inserted objects",
    "instance": "(V, H, W) int32 instance id per pixel, 0 = none",
    "hdmap": "(V, H, W, 3) uint8 projected HD map: R lane boundaries, G lane dividers, B pedestrian crossings",
}


def camera_stack(frame: GuidanceFrame, attribute: str) -> NDArray[Any]:
    """(V, H, W, ...) one per-camera map of a `GuidanceFrame` (``frame[camera].<attribute>``) in panorama order."""
    return np.stack([getattr(frame[name], attribute) for name in frame.camera_names])   # dtype of that map


def frame_arrays(frame: GuidanceFrame) -> dict[str, NDArray[Any]]:
    """The arrays of a `GuidanceFrame` as written (see the module docstring)."""
    return {
        "depth": camera_stack(frame, "depth").astype(np.float16), "normal": camera_stack(frame, "normal_encoded"),
        "edge": camera_stack(frame, "edge"), "object": camera_stack(frame, "object"),
        "mask": camera_stack(frame, "inserted").astype(bool), "instance": camera_stack(frame, "instance").astype(np.int32),
        "hdmap": camera_stack(frame, "hdmap"),
    }


COMPRESS_LEVEL = 1   # zlib level of the frame files: lossless at every level; 1 is several times faster than
                     # np.savez_compressed's 6 for a few per cent more bytes on these maps


def write_guidance_frame(folder: str | os.PathLike[str], index: int, frame: GuidanceFrame) -> Path:
    """Write one frame's maps to ``<folder>/<index:04d>.npz`` (deflate-compressed, readable by np.load; atomic)."""
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as zf:
        for name, a in frame_arrays(frame).items():
            with zf.open(f"{name}.npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(a), allow_pickle=False)  # type: ignore[no-untyped-call]  # numpy ships it untyped
    return atomic_write_bytes(Path(folder) / f"{index:04d}.npz", buf.getvalue())


def write_guidance_index(folder: str | os.PathLike[str], cameras: list[str], times: list[float],
                         instance_ids: dict[str, int], size: tuple[int, int]) -> Path:
    """Write ``index.json`` describing the frame files."""
    return atomic_write_json(Path(folder) / "index.json", {
        "cameras": list(cameras), "times": [round(float(t), 6) for t in times], "image_size": list(size),
        "instance_ids": dict(instance_ids), "files": [f"{i:04d}.npz" for i in range(len(times))],
        "arrays": DESCRIPTION,
    })


def read_guidance_frame(folder: str | os.PathLike[str], index: int) -> dict[str, NDArray[Any]]:
    """The arrays of one written frame."""
    with np.load(Path(folder) / f"{index:04d}.npz") as z:
        return {k: z[k] for k in z.files}
