"""Screenshots for issue 12 (run under an X server):

    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python tools/world_model_screenshots.py [--out docs]

docs/world_model_tiny_frames.png    demo frames from a tiny public-layout SD + depth/canny ControlNet checkpoint
                                    converted with `model convert` (random weights: noise-like pictures), with
                                    the control images each ControlNet was fed
docs/generate_panel_model.png       the Generate panel with a converted folder chosen: model summary, scales
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
os.environ.setdefault("QT_XCB_GL_INTEGRATION", "xcb_egl")


def converted_tiny(tmp: Path) -> Path:
    from engine.worldmodel.diffusion.configs import write_public_folders
    from engine.worldmodel.diffusion.convert import convert_public

    sd, nets = write_public_folders(tmp / "public", "tiny", seed=0, controlnets=("depth", "canny"))
    return convert_public(sd, nets, tmp / "converted")


def frames_figure(folder: Path, out: Path, size=(224, 128), frames: int = 2) -> None:
    import numpy as np
    import torch
    from PIL import Image, ImageDraw

    from engine.demo import build_demo_scenario
    from engine.worldmodel import GenerationSettings, generate_clip
    from engine.worldmodel.conditions import ClipConditions
    from engine.worldmodel.diffusion.backend import DiffusionBackend
    from engine.worldmodel.diffusion.selectors import select
    from engine.worldmodel.scenario_conditions import conditions_for_scenario

    scenario = build_demo_scenario()
    with conditions_for_scenario(scenario, size) as cond:
        fl = [cond.frame(i) for i in range(frames)]
        clip_cond = ClipConditions.from_frames(cond.rig, fl, cond.fps, scenario.environment, text=cond.text)
    backend = DiffusionBackend(folder, noise_sharing=1.0, temporal_strength=0.6)
    clip = generate_clip(backend, clip_cond, GenerationSettings(steps=6, guidance_scale=3.0, seed=0, device="cpu"))
    rows, labels = [], []
    for i in range(frames):
        g = torch.from_numpy(fl[i].guidance_with_objects).permute(0, 3, 1, 2)
        for name in ("depth", "canny"):
            img = (select(name, g).permute(0, 2, 3, 1).numpy() * 255).astype(np.uint8)
            rows.append(np.concatenate(list(img), axis=1))
            labels.append(f"frame {i}: {name} ControlNet input")
        rows.append(np.concatenate(list(clip.frames[i]), axis=1))
        labels.append(f"frame {i}: generated (converted tiny model, random weights)")
    pad = 16
    w = rows[0].shape[1]
    h = sum(r.shape[0] + pad for r in rows)
    canvas = Image.new("RGB", (w, h), (30, 30, 30))
    draw = ImageDraw.Draw(canvas)
    y = 0
    for r, lab in zip(rows, labels):
        draw.text((4, y + 2), lab + "   views FL F FR BR B BL", fill=(230, 230, 230))
        canvas.paste(Image.fromarray(r), (0, y + pad))
        y += r.shape[0] + pad
    canvas.save(out)
    print(f"wrote {out}")


def panel_figure(folder: Path, out: Path) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    sys.path.insert(0, str(ROOT / "docs"))
    from make_screenshots import make_window, pump

    app = QApplication.instance() or QApplication(sys.argv)
    win = make_window((1600, 1000))
    panel = win.generation
    win.generation_dock.raise_()
    panel.settings_panel.backend.setCurrentText("diffusion")
    edit = panel.settings_panel.model_dir
    edit.clear()
    QTest.keyClicks(edit, str(folder))
    QTest.keyClick(edit, Qt.Key_Return)
    pump(1.5)
    win.grab().save(str(out))
    print(f"wrote {out}")
    win.close()
    app.processEvents()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs"))
    ap.add_argument("--only", choices=("frames", "panel"), default=None)
    args = ap.parse_args()
    out = Path(args.out)
    tmp = Path(tempfile.mkdtemp(prefix="wm-shots-"))
    folder = converted_tiny(tmp)
    if args.only in (None, "frames"):
        frames_figure(folder, out / "world_model_tiny_frames.png")
    if args.only in (None, "panel"):
        panel_figure(folder, out / "generate_panel_model.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
