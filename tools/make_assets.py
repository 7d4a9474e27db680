"""Build the bundled assets: resources/assets/<class>/<class>.glb + <class>.json + <class>.png.

    python tools/make_assets.py [--out DIR] [--thumb-size 128] [--montage PNG]

The meshes come from trimesh primitives (engine/assets/builtin.py), vertex-coloured, in the canonical
frame (x forward, y left, z up, centred, bottom at z = 0, scaled to the class's default box). The GLB
stores them in glTF axes (up +y, forward +z) so any glTF viewer shows them upright; the sidecar says so
and the loader turns them back. Thumbnails are rendered with pyrender (headless EGL).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2  # noqa: E402
import trimesh  # noqa: E402

from engine.assets.builtin import build_class_mesh  # noqa: E402
from engine.assets.library import ASSETS_DIR  # noqa: E402
from engine.assets.normalize import GLTF_AXES, file_from_canonical, rotate  # noqa: E402
from engine.assets.thumbnail import render_thumbnail  # noqa: E402
from engine.classes import class_names, class_table  # noqa: E402
from engine.fileio import atomic_write_bytes, atomic_write_json  # noqa: E402


def make_asset(cls: str, out_dir: Path, thumb_size: int) -> dict:
    """Write one class's GLB, sidecar and thumbnail; returns the sidecar document."""
    mesh = build_class_mesh(cls)
    folder = out_dir / cls
    stored = rotate(mesh, file_from_canonical(GLTF_AXES["up"], GLTF_AXES["forward"]))
    glb = trimesh.exchange.gltf.export_glb(trimesh.Scene(stored), include_normals=False)
    atomic_write_bytes(folder / f"{cls}.glb", glb)
    ok, png = cv2.imencode(".png", cv2.cvtColor(render_thumbnail(mesh, thumb_size), cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if not ok:
        raise RuntimeError(f"could not encode the thumbnail of {cls}")
    atomic_write_bytes(folder / f"{cls}.png", png.tobytes())
    w, l, h = class_table()[cls].wlh
    doc = {
        "class": cls,
        "category": class_table()[cls].category,
        "source": "builtin: tools/make_assets.py from trimesh primitives (engine/assets/builtin.py)",
        "license": "Apache-2.0 (generated)",
        "glb": f"{cls}.glb",
        "thumbnail": f"{cls}.png",
        "canonical_frame": "x forward, y left, z up, metres; centred in x and y, bottom at z = 0",
        "file_axes": dict(GLTF_AXES),
        "size_wlh": [w, l, h],
        "vertices": int(len(mesh.vertices)),
        "triangles": int(len(mesh.faces)),
    }
    atomic_write_json(folder / f"{cls}.json", doc)
    return doc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ASSETS_DIR, help="output folder (default: resources/assets)")
    parser.add_argument("--thumb-size", type=int, default=128, help="thumbnail size in pixels")
    parser.add_argument("--montage", type=Path, default=None, help="also write the labelled thumbnails side by side")
    args = parser.parse_args(argv)
    total = 0
    for cls in class_names():
        doc = make_asset(cls, args.out, args.thumb_size)
        size = sum((args.out / cls / f).stat().st_size for f in (doc["glb"], doc["thumbnail"], f"{cls}.json"))
        total += size
        print(f"{cls:22s} {doc['triangles']:5d} triangles  {size / 1024:6.1f} KiB")
    print(f"total {total / 1024:.1f} KiB in {args.out}")
    if args.montage:
        write_montage(args.out, args.montage)
        print(f"wrote {args.montage}")
    return 0


def write_montage(assets_dir: Path, path: Path, columns: int = 5) -> None:
    """The ten thumbnails in a labelled grid (PNG)."""
    import numpy as np

    tiles = []
    for cls in class_names():
        img = cv2.imread(str(assets_dir / cls / f"{cls}.png"))
        label = np.full((18, img.shape[1], 3), 255, np.uint8)
        cv2.putText(label, cls, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (40, 40, 40), 1, cv2.LINE_AA)
        tiles.append(np.concatenate([img, label], 0))
    rows = [np.concatenate(tiles[i:i + columns], 1) for i in range(0, len(tiles), columns)]
    ok, png = cv2.imencode(".png", np.concatenate(rows, 0), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    atomic_write_bytes(path, png.tobytes())


if __name__ == "__main__":
    sys.exit(main())
