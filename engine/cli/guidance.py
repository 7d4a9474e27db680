"""`guidance SCENARIO -o DIR [--size 448x256] [--frames A:B] [--png]`: render and stream every guidance map.

Frames are written as they are rendered, on a background writer thread (engine.render.stream): one
uncompressed ``maps.npz`` per frame with every numeric map stacked over the cameras, the contact sheet,
BEV and agent close-ups as PNGs, per-camera map PNGs only with ``--png``; memory does not grow with
the clip length.
"""
from __future__ import annotations

import argparse
import sys
import time

COMMAND = "guidance"
HELP = "render the guidance maps of a scenario (one array file and a contact sheet per frame, streamed)"
ORDER = 30


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", help="scenario JSON file")
    parser.add_argument("-o", "--out", required=True, help="output folder (created)")
    parser.add_argument("--size", default="448x256", help="image size WIDTHxHEIGHT (default 448x256)")
    parser.add_argument("--frames", default=None,
                        help="frame range A:B (Python slice, B exclusive) or one index A (default: all frames)")
    parser.add_argument("--no-npz", action="store_true", help="skip the array file (maps.npz) of each frame")
    parser.add_argument("--png", action="store_true",
                        help="also write a colourised PNG of every map of every camera (frame_N/CAM/<map>.png)")
    parser.add_argument("--sheets-only", action="store_true", help="write only the contact sheets (and BEV)")
    parser.add_argument("--fsync", choices=("run", "frame", "none"), default="run",
                        help="flush to disk once per run (default), once per frame, or never")
    parser.add_argument("--sheet-scale", type=float, default=0.5, help="contact-sheet tile scale (default 0.5)")
    parser.add_argument("--rig", default=None, help="camera rig JSON (default: the bundled nuScenes rig)")


def parse_size(text: str) -> tuple[int, int]:
    """'448x256' -> (448, 256): `engine.config.size.parse_size` (the one size parser), imported when
    called so that `guidance --help` does not load pydantic."""
    from engine.config.size import parse_size as parse

    return parse(text)


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
        if not 0 < args.sheet_scale <= 4:   # also NaN
            raise ValueError(f"--sheet-scale: expected a number in (0, 4], got {args.sheet_scale}")
    except (ScenarioFormatError, ValueError) as e:
        print(str(e), file=sys.stderr)
        return 2

    from pathlib import Path

    from engine.assets.library import AssetLibrary
    from engine.render.guidance import GuidanceRenderer
    from engine.render.stream import GuidanceStreamWriter, StreamOptions
    from engine.rig.rig import CameraRig, RigFormatError

    from engine.conditions import scene_inputs
    from engine.sources.errors import SceneSourceError

    try:   # the one path: an edited real scene gets its log's rig and its recorded frames as backgrounds
        inputs = scene_inputs(scenario, size, rig=CameraRig.from_json(args.rig, size) if args.rig else None)
        rig = inputs.rig
    except (RigFormatError, ValueError, SceneSourceError) as e:
        print(str(e), file=sys.stderr)
        return 2
    out = Path(args.out)
    try:   # an unwritable output (a file, a read-only folder) is bad input: exit 2 before anything is rendered
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        from engine.fileio import write_error_message

        print(f"guidance: {write_error_message(out, e)}", file=sys.stderr)
        return 2
    library = AssetLibrary(search_dirs=[Path(args.scenario).resolve().parent])
    options = StreamOptions(arrays=not (args.no_npz or args.sheets_only), pngs=args.png and not args.sheets_only,
                            sheet_scale=args.sheet_scale, fsync=args.fsync)
    classes = {a.id: a.cls for a in scenario.agents}
    warnings: set[str] = set()
    t0 = time.perf_counter()
    try:
        with GuidanceRenderer(rig, library) as renderer, \
                GuidanceStreamWriter(out, options, scenario.name) as writer:
            renderer.set_scenario(scenario)
            times = scenario.frame_times()
            for i in frames:
                inputs.apply_to(renderer, i)
                frame = renderer.render(float(times[i]))
                writer.submit(i, frame, title=f"{scenario.name}  frame {i}  t = {frame.time:.3f} s", classes=classes)
                warnings.update(frame.warnings)
                print(f"frame {i:3d}  t = {frame.time:6.3f} s  -> {out / f'frame_{i:04d}'}", flush=True)
                del frame   # the writer holds it until written, then it is released
    except OSError as e:   # the disk, not the input: whole frames written so far stay, no manifest
        print(f"guidance: writing to {out} failed: {e}", file=sys.stderr)
        return 1
    for w in sorted(warnings):
        print(f"warning: {w}", file=sys.stderr)
    print(f"{len(frames)} frames x {len(rig)} cameras at {size[0]}x{size[1]} in {time.perf_counter() - t0:.1f} s -> {out}")
    return 0
