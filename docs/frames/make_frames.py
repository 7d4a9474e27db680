"""Write the demo frames in docs/frames: the naive backend in five environments, the tiny diffusion pipeline.

    python tools/make_tiny_pipeline.py /tmp/tiny --force
    python docs/frames/make_frames.py /tmp/tiny

Each image is one frame of the demo at 448x256 per camera, laid out as two rows in panorama order
(FL, F, FR / BR, B, BL): frame 16 for the naive backend, frame 1 (conditioned on frame 0) for diffusion.
"""
from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

OUT = Path(__file__).resolve().parent
NAIVE_FRAME = 16
ENVIRONMENTS = (("day", "clear"), ("night", "clear"), ("night", "rain"), ("dusk", "fog"), ("day", "snow"))


def save(name: str, images: np.ndarray) -> None:
    """(6, H, W, 3) uint8 views in panorama order -> a 2 x 3 JPEG."""
    import cv2

    grid = np.concatenate([np.concatenate(list(images[:3]), 1), np.concatenate(list(images[3:]), 1)], 0)
    cv2.imwrite(str(OUT / name), np.ascontiguousarray(grid[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, 88])


def main(model_dir: str) -> int:
    import torch

    from engine.demo import build_demo_scenario
    from engine.scenario.model import Environment
    from engine.worldmodel import GenerationSettings, create_backend, generate_clip
    from engine.worldmodel.scenario_conditions import conditions_for_scenario

    base = build_demo_scenario()
    for tod, weather in ENVIRONMENTS:
        s = dataclasses.replace(base, environment=Environment(tod, weather))
        with conditions_for_scenario(s, (448, 256)) as c:
            clip = generate_clip(create_backend("naive"), c, GenerationSettings(seed=0))
        save(f"naive_{tod}_{weather}_f{NAIVE_FRAME:02d}.jpg", clip.frames[NAIVE_FRAME])
    torch.set_num_threads(1)
    s = dataclasses.replace(base, duration=2 / 12)
    with conditions_for_scenario(s, (448, 256)) as c:
        clip = generate_clip(create_backend("diffusion", model_dir), c, GenerationSettings(seed=0, steps=8, device="cpu"))
        guidance = c.frame(1).guidance
    save("diffusion_tiny_random_weights_f01.jpg", clip.frames[1])
    save("diffusion_tiny_guidance_depth_f01.jpg", (np.repeat(guidance[..., :1], 3, -1) * 255).astype(np.uint8))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
