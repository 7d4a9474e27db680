"""Export throughput in six-camera frames per second, against writing the JPEGs alone, same run.

    python benchmarks/bench_export.py [--runs 3] [--size 448x256] [--frames 33]

The demo's clip is generated once with the naive world model; then, per run (rows interleaved so
that machine load hits every row alike), into a fresh folder:
    baseline: JPEGs only      the clip's 6 x T images encoded and written (cv2), nothing else: the
                              floor of any exporter
    nuScenes scene            export_clip without extras: label renderer (instance masks, depth),
                              visibility, JPEGs, the 13 tables, map mask, merge under the lock
    + guidance, MP4s, xosc    export_clip with everything (guidance .npz, 7 MP4s, OpenSCENARIO)
    end to end                export_nuscenes: the naive world model's generation included
Columns: median seconds per clip, six-camera frames per second, ratio of that rate to the baseline's.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2  # noqa: E402
import numpy as np  # noqa: E402


def _size(text: str) -> tuple[int, int]:
    w, h = (int(v) for v in text.lower().split("x"))
    return w, h


def jpeg_only(frames: np.ndarray, out: Path, quality: int = 90) -> None:
    """The baseline: every image of the clip as a JPEG file."""
    t, v = frames.shape[:2]
    for k in range(v):
        (out / f"cam{k}").mkdir(parents=True, exist_ok=True)
    for i in range(t):
        for k in range(v):
            ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(frames[i, k, ..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
            (out / f"cam{k}" / f"{i:04d}.jpg").write_bytes(buf.tobytes())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--size", type=_size, default=(448, 256))
    ap.add_argument("--frames", type=int, default=33)
    args = ap.parse_args(argv)

    from engine.demo import build_demo_scenario
    from engine.export.clip_source import GenerationOptions, generate_for_scenario
    from engine.export.pipeline import ExportSettings, export_clip, export_nuscenes

    scenario = build_demo_scenario()
    clip, model = generate_for_scenario(scenario, args.size, args.frames, GenerationOptions())
    n = clip.num_frames
    lean = ExportSettings(size=args.size, videos=False, guidance=False, openscenario=False)
    full = ExportSettings(size=args.size)
    e2e = ExportSettings(size=args.size, frames=args.frames, videos=False, guidance=False, openscenario=False)
    rows = {
        "baseline: JPEGs only": lambda d: jpeg_only(clip.frames, d),
        "nuScenes scene": lambda d: export_clip(scenario, clip, d, lean, model=model),
        "+ guidance, MP4s, xosc": lambda d: export_clip(scenario, clip, d, full, model=model),
        "end to end (naive generation)": lambda d: export_nuscenes(scenario, d, e2e),
    }
    times: dict[str, list[float]] = {k: [] for k in rows}
    from engine.render import static_cache

    builds: list[int] = []   # static-scene builds per end-to-end export (cache cleared before each)
    root = Path(tempfile.mkdtemp(prefix="bench_export_"))
    try:
        rows["nuScenes scene"](root / "warmup")  # imports, schema and shader caches
        for r in range(args.runs):
            for name, fn in rows.items():
                out = root / f"{r}-{len(times[name])}-{abs(hash(name))}"
                e2e_row = name.startswith("end to end")
                if e2e_row:
                    static_cache.clear()
                    b0 = static_cache.stats["builds"]
                t0 = time.perf_counter()
                fn(out)
                times[name].append(time.perf_counter() - t0)
                if e2e_row:
                    builds.append(static_cache.stats["builds"] - b0)
                shutil.rmtree(out, ignore_errors=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    w, h = args.size
    print(f"export throughput: demo scenario, {n} frames x 6 cameras at {w}x{h}, median of {args.runs} runs")
    print(f"{'row':32s} {'s / clip':>10s} {'s / frame':>10s} {'frames/s':>10s} {'vs baseline':>12s}")
    base = n / statistics.median(times["baseline: JPEGs only"])
    for name, samples in times.items():
        med = statistics.median(samples)
        fps = n / med
        print(f"{name:32s} {med:10.3f} {med / n:10.4f} {fps:10.1f} {fps / base:11.2f}x")
    print(f"static scene built {builds} time(s) per end-to-end export (generation and labels share it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
