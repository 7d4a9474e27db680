"""`guidance SCENARIO -o DIR [--size 448x256] [--frames A:B]`: render and write every guidance map."""
from __future__ import annotations

import argparse
import sys
import time

COMMAND = "guidance"
HELP = "render the guidance maps of a scenario (PNGs, NPZ arrays and a contact sheet per frame)"
ORDER = 30


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", help="scenario JSON file")
    parser.add_argument("-o", "--out", required=True, help="output folder (created)")
    parser.add_argument("--size", default="448x256", help="image size WIDTHxHEIGHT (default 448x256)")
    parser.add_argument("--frames", default=None,
                        help="frame range A:B (Python slice, B exclusive) or one index A (default: all frames)")
    parser.add_argument("--no-npz", action="store_true", help="write PNGs and contact sheets only")
    parser.add_argument("--sheets-only", action="store_true", help="write only the contact sheets (and BEV)")
    parser.add_argument("--sheet-scale", type=float, default=0.5, help="contact-sheet tile scale (default 0.5)")
    parser.add_argument("--rig", default=None, help="camera rig JSON (default: the bundled nuScenes rig)")


def parse_size(text: str) -> tuple[int, int]:
    """'448x256' -> (448, 256); ValueError with the reason otherwise."""
    parts = text.lower().replace("*", "x").split("x")
    try:
        w, h = (int(p) for p in parts)
    except ValueError:
        raise ValueError(f"--size: expected WIDTHxHEIGHT such as 448x256, got {text!r}") from None
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise ValueError(f"--size: width and height must be between 16 and 8192, got {w}x{h}")
    return w, h


def parse_frames(text: str | None, num_frames: int) -> list[int]:
    """Frame indices of 'A:B', 'A:', ':B', 'A' (negative counts from the end); ValueError when empty or out of range."""
    if text is None:
        return list(range(num_frames))
    try:
        if ":" in text:
            a, b = text.split(":", 1)
            idx = list(range(num_frames))[slice(int(a) if a.strip() else None, int(b) if b.strip() else None)]
        else:
            i = int(text)
            if not -num_frames <= i < num_frames:
                raise IndexError
            idx = [i % num_frames]
    except ValueError:
        raise ValueError(f"--frames: expected A:B or A with integers, got {text!r}") from None
    except IndexError:
        raise ValueError(f"--frames: {text} is out of range; the scenario has {num_frames} frames (0..{num_frames - 1})") from None
    if not idx:
        raise ValueError(f"--frames: {text!r} selects no frame; the scenario has {num_frames} frames (0..{num_frames - 1})")
    return idx


def run(args: argparse.Namespace) -> int:
    from engine.scenario.errors import ScenarioFormatError
    from engine.scenario.io import load_scenario

    try:
        size = parse_size(args.size)
        scenario = load_scenario(args.scenario)
        frames = parse_frames(args.frames, scenario.num_frames)
        if args.sheet_scale <= 0 or args.sheet_scale > 4:
            raise ValueError(f"--sheet-scale: expected a number in (0, 4], got {args.sheet_scale}")
    except (ScenarioFormatError, ValueError) as e:
        print(str(e), file=sys.stderr)
        return 2

    from pathlib import Path

    from engine.assets.library import AssetLibrary
    from engine.render.guidance import GuidanceRenderer
    from engine.render.write import write_frame, write_manifest
    from engine.rig.rig import CameraRig, RigFormatError

    try:
        rig = CameraRig.from_json(args.rig, size) if args.rig else CameraRig.default(size)
    except RigFormatError as e:
        print(str(e), file=sys.stderr)
        return 2
    out = Path(args.out)
    library = AssetLibrary(search_dirs=[Path(args.scenario).resolve().parent])
    written = []
    t0 = time.perf_counter()
    with GuidanceRenderer(rig, library) as renderer:
        renderer.set_scenario(scenario)
        times = scenario.frame_times()
        for i in frames:
            frame = renderer.render(float(times[i]))
            write_frame(frame, out / f"frame_{i:04d}", pngs=not args.sheets_only,
                        npz=not (args.no_npz or args.sheets_only), sheet_scale=args.sheet_scale,
                        title=f"{scenario.name}  frame {i}  t = {frame.time:.3f} s",
                        classes={a.id: a.cls for a in scenario.agents})
            written.append((i, frame))
            print(f"frame {i:3d}  t = {frame.time:6.3f} s  -> {out / f'frame_{i:04d}'}", flush=True)
    for w in sorted({w for _, f in written for w in f.warnings}):
        print(f"warning: {w}", file=sys.stderr)
    write_manifest(out, scenario.name, written)
    print(f"{len(written)} frames x {len(rig)} cameras at {size[0]}x{size[1]} in {time.perf_counter() - t0:.1f} s -> {out}")
    return 0
