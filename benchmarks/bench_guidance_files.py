"""`guidance` command output: seconds per frame and peak memory, streamed writer vs. the previous writer.

    python benchmarks/bench_guidance_files.py [--frames 33 240] [--runs 3] [--size 448x256]

Scene: the bundled demo, its duration stretched so that it has the requested frame count (12 Hz).
Each measurement is a fresh child process (so that peak RSS is its own, read from wait4):
    previous   the loop `guidance` ran before streaming: render a frame, write 57 PNGs (zlib 6),
               per-camera compressed NPZs and a BEV NPZ, each file fsynced, keep every frame for the
               manifest written at the end (engine.render.write.write_frame / write_manifest)
    streamed   `python main.py guidance` now: frames handed to a background writer thread through a
               bounded queue, one uncompressed maps.npz per frame + contact sheet / BEV / agents PNGs,
               one file-system flush per run, frames released once written
Rows alternate previous/streamed per run so that machine load hits both alike; medians are printed.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
os.environ.setdefault("MPLBACKEND", "Agg")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _scenario_file(frames: int, folder: Path) -> Path:
    from engine.demo import build_demo_scenario
    from engine.scenario.io import save_scenario

    s = build_demo_scenario()
    s = replace(s, duration=(frames + 0.5) / s.fps)
    assert s.num_frames == frames, (s.num_frames, frames)
    path = folder / f"scenario_{frames}.json"
    save_scenario(s, path)
    return path


def _previous(scenario_path: str, out: str, size: tuple[int, int]) -> None:
    """The pre-streaming `guidance` loop (kept here verbatim as the baseline)."""
    from engine.assets.library import AssetLibrary
    from engine.render.guidance import GuidanceRenderer
    from engine.render.write import write_frame, write_manifest
    from engine.rig.rig import CameraRig
    from engine.scenario.io import load_scenario

    scenario = load_scenario(scenario_path)
    rig = CameraRig.default(size)
    out = Path(out)
    written = []
    with GuidanceRenderer(rig, AssetLibrary(search_dirs=[Path(scenario_path).parent])) as renderer:
        renderer.set_scenario(scenario)
        times = scenario.frame_times()
        for i in range(scenario.num_frames):
            frame = renderer.render(float(times[i]))
            write_frame(frame, out / f"frame_{i:04d}", title=f"{scenario.name}  frame {i}  t = {frame.time:.3f} s",
                        classes={a.id: a.cls for a in scenario.agents})
            written.append((i, frame))
    write_manifest(out, scenario.name, written)


def _child(mode: str, scenario_path: str, out: str, size: str) -> None:
    t0 = time.perf_counter()
    if mode == "previous":
        _previous(scenario_path, out, tuple(int(v) for v in size.split("x")))
    else:
        from engine.cli import build_parser

        ns = build_parser().parse_args(["guidance", scenario_path, "-o", out, "--size", size])
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):
            rc = ns._module.run(ns)
        assert rc == 0
    print(json.dumps({"seconds": time.perf_counter() - t0}))


def _measure(mode: str, scenario_path: Path, size: str, tmp: Path) -> tuple[float, float, float]:
    """(seconds, peak RSS MiB, output MiB) of one child run."""
    out = tmp / f"out_{mode}"
    shutil.rmtree(out, ignore_errors=True)
    proc = subprocess.Popen([sys.executable, __file__, "--child", mode, str(scenario_path), str(out), size],
                            stdout=subprocess.PIPE, cwd=REPO)
    stdout = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} child failed with exit code {proc.returncode}")
    seconds = json.loads(stdout.decode().strip().splitlines()[-1])["seconds"]
    size_mb = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 2**20
    shutil.rmtree(out, ignore_errors=True)
    return seconds, usage.ru_maxrss / 1024.0, size_mb


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(*sys.argv[2:6])
        return 0
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, nargs="+", default=[33, 240])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--previous-runs", type=int, default=None,
                   help="runs of the (slow) previous writer per frame count (default: --runs)")
    p.add_argument("--size", default="448x256")
    args = p.parse_args(argv)
    prev_runs = args.runs if args.previous_runs is None else args.previous_runs
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_guidance_files_") as td:
        tmp = Path(td)
        for n in args.frames:
            path = _scenario_file(n, tmp)
            res = {"previous": [], "streamed": []}
            for r in range(max(args.runs, prev_runs)):
                if r < prev_runs:
                    res["previous"].append(_measure("previous", path, args.size, tmp))
                if r < args.runs:
                    res["streamed"].append(_measure("streamed", path, args.size, tmp))
            rows.append((n, res))
    print(f"`guidance` command, demo scene, 6 cameras at {args.size}; median of runs, each a fresh process "
          f"(load average {os.getloadavg()[0]:.2f})")
    print(f"{'frames':>6s} {'writer':10s} {'runs':>4s} {'s/frame':>8s} {'total s':>8s} {'peak RSS MiB':>13s} "
          f"{'output MiB':>11s} {'speed-up':>9s}")
    for n, res in rows:
        base = statistics.median(s for s, _, _ in res["previous"]) / n if res["previous"] else None
        for mode in ("previous", "streamed"):
            if not res[mode]:
                continue
            spf = statistics.median(s for s, _, _ in res[mode]) / n
            rss = statistics.median(m for _, m, _ in res[mode])
            out = statistics.median(o for _, _, o in res[mode])
            ratio = f"{base / spf:8.1f}x" if base else "      -"
            print(f"{n:6d} {mode:10s} {len(res[mode]):4d} {spf:8.3f} {spf * n:8.1f} {rss:13.0f} {out:11.0f} {ratio:>9s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
