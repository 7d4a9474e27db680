"""Write a seeded random-weight diffusion world-model pipeline folder (for smoke tests and demos).

    python tools/make_tiny_pipeline.py OUT [--seed 0] [--kind tiny|realistic] [--force]
        [--no-text-encoder] [--single-controlnet]

The folder is in the product's format 2 (docs/world_model_diffusion.md): seeded random public-layout
pieces (SD 1.x UNet/VAE/CLIP + depth and canny ControlNets) converted exactly as `main.py model convert`
converts public checkpoints, plus an optional layout ControlNet. `tiny` takes a few megabytes and generates
small clips on a CPU in seconds; `realistic` is SD-1.5-sized (UNet 860 M, ControlNets of 361 M, VAE 84 M,
text encoder 123 M parameters) for benchmarks. The weights are random: the pictures are noise-like, the
wiring (conditions, panorama, temporal input, save/load) is real.
Nothing is downloaded. Load it with `--backend diffusion --model OUT`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="folder to write (must not exist unless --force)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--kind", choices=("tiny", "realistic"), default="tiny")
    ap.add_argument("--force", action="store_true", help="replace an existing folder")
    ap.add_argument("--no-text-encoder", action="store_true", help="leave out the CLIP text encoder and tokenizer")
    ap.add_argument("--single-controlnet", action="store_true",
                    help="no layout ControlNet (only the depth and canny ControlNets)")
    args = ap.parse_args(argv)

    from engine.worldmodel.diffusion.configs import write_pipeline_folder

    try:
        path = write_pipeline_folder(args.out, args.kind, args.seed, overwrite=args.force,
                                     with_text_encoder=not args.no_text_encoder,
                                     with_layout_controlnet=not args.single_controlnet)
    except FileExistsError as e:
        print(f"error: {e} (use --force)", file=sys.stderr)
        return 2
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    print(f"wrote {args.kind} pipeline (seed {args.seed}) to {path} ({size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
