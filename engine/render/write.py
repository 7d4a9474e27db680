"""Writing guidance frames to disk: viewable PNGs of every map, raw arrays (NPZ), contact sheets.

Layout under an output folder:
    manifest.json                          rig, frames, instance ids, encodings of every map
    frame_0000/contact_sheet.png           all maps x all cameras + BEV
    frame_0000/agents.png                  close-up of every visible agent in the object map
    frame_0000/bev.png, bev.npz            BEV layout (colourised; raw (Hb, Wb, K) uint8 + channel names)
    frame_0000/CAM_FRONT/<map>.png         colourised view of each map (see engine.render.visualize)
    frame_0000/CAM_FRONT/maps.npz          raw arrays: rgb, depth, normal, edge, object, instance, inserted,
                                           hdmap, boxes, plus K, ego_from_camera, world_from_ego, time
Every file is written atomically.
"""
from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.classes import class_names
from engine.fileio import atomic_write_bytes, atomic_write_json
from engine.render.frame import MAP_NAMES, GuidanceFrame
from engine.render.sheet import agent_gallery, contact_sheet
from engine.render.visualize import colorize, colorize_bev

ENCODINGS = {
    "rgb": "(H, W, 3) uint8 RGB, shaded synthetic scene",
    "depth": "(H, W) float32 camera-frame z in metres; 0 = none; blanked inside inserted",
    "normal": "(H, W, 3) float32 camera-frame unit normal (x right, y down, z forward); 0 = none; blanked inside inserted",
    "edge": "(H, W) uint8 Canny edges 0/255; blanked inside inserted (grown by a pixel)",
    "object": "(H, W, 3) uint8 RGB of the inserted assets, 0 elsewhere",
    "instance": "(H, W) int32 instance id, 0 = background; see instance_ids",
    "inserted": "(H, W) bool inserted-object mask",
    "hdmap": "(H, W, 3) uint8: R lane boundaries, G lane dividers, B pedestrian crossings",
    "boxes": "(H, W, 10) uint8 one channel per class in `classes` order: faces 96, front face 160, edges 255",
    "bev": "(Hb, Wb, K) uint8 0/255 ego-centred, ego heading up; channels in `bev_channels`",
}


def encode_png(rgb: NDArray[np.uint8], level: int = 6) -> bytes:
    """PNG bytes of an (H, W, 3) RGB or (H, W) grey uint8 image (zlib `level` 0-9; lossless at every level)."""
    img = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR) if rgb.ndim == 3 else rgb
    ok, buf = cv2.imencode(".png", img, [cv2.IMWRITE_PNG_COMPRESSION, int(level)])
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return buf.tobytes()


def _npz(**arrays: object) -> bytes:
    """Compressed NPZ bytes of the named arrays (None is stored as a 0-d object array, as numpy does)."""
    b = io.BytesIO()
    np.savez_compressed(b, **{k: np.asarray(v) for k, v in arrays.items()})
    return b.getvalue()


def write_frame(frame: GuidanceFrame, folder: str | Path, pngs: bool = True, npz: bool = True,
                sheet_scale: float = 0.5, title: str | None = None, classes: dict[str, str] | None = None) -> Path:
    """Write one frame's maps into `folder` (created); returns the folder.

    With `classes` (agent id -> class) an ``agents.png`` close-up of every visible agent is written too.
    """
    folder = Path(folder)
    for name, m in frame.cameras():
        cam_dir = folder / name
        if pngs:
            for map_name in MAP_NAMES:
                atomic_write_bytes(cam_dir / f"{map_name}.png", encode_png(colorize(m, map_name)))
        if npz:
            cam = frame.rig[name]
            atomic_write_bytes(cam_dir / "maps.npz", _npz(
                rgb=m.rgb, depth=m.depth, normal=m.normal, edge=m.edge, object=m.object, instance=m.instance,
                inserted=m.inserted, hdmap=m.hdmap, boxes=m.boxes, K=cam.K, ego_from_camera=cam.ego_from_camera,
                world_from_ego=frame.world_from_ego, time=np.float64(frame.time)))
    if frame.bev is None:
        raise ValueError("write_frame needs the BEV map: render the frame with 'bev' among its maps")
    atomic_write_bytes(folder / "bev.png", encode_png(colorize_bev(frame.bev, frame.bev_channels)))
    if npz:
        atomic_write_bytes(folder / "bev.npz", _npz(bev=frame.bev, channels=np.array(frame.bev_channels)))
    atomic_write_bytes(folder / "contact_sheet.png", encode_png(contact_sheet(frame, scale=sheet_scale, title=title)))
    if classes is not None:
        atomic_write_bytes(folder / "agents.png", encode_png(agent_gallery(frame, classes)))
    return folder


def write_manifest(folder: str | Path, scenario_name: str, frames: list[tuple[int, GuidanceFrame]]) -> Path:
    """manifest.json describing the written frames, the rig and the map encodings."""
    folder = Path(folder)
    rig = frames[0][1].rig if frames else None
    doc = {
        "scenario": scenario_name,
        "image_size": list(rig.size) if rig else None,
        "cameras": rig.to_document()["cameras"] if rig else [],
        "classes": class_names(),
        "bev_channels": list(frames[0][1].bev_channels) if frames else [],
        "encodings": ENCODINGS,
        "frames": [{"index": i, "time": f.time, "folder": f"frame_{i:04d}", "instance_ids": f.instance_ids,
                    "world_from_ego": f.world_from_ego.tolist(), "warnings": list(f.warnings)} for i, f in frames],
    }
    return atomic_write_json(folder / "manifest.json", doc)
