"""`scene DATAROOT`: list the scenes of a nuScenes-format dataset, or turn one into a scenario file.

The scenario refers to the real scene (dataroot, version, scene name); images are not copied.
With --insert CLASS it also adds the best collision-free insertion proposal (Dream4Drive's
straight-line insertions at 2, 5 or 8 m/s), ready for `guidance`, `generate` and `export`.
"""
from __future__ import annotations

import argparse
import sys

COMMAND = "scene"
HELP = "list the scenes of a nuScenes dataset, or write one as a scenario (optionally with an inserted agent)"
ORDER = 15
MAX_INSERT_SPEED = 70.0   # m/s (252 km/h): above it --speed is a typo, not a corner case


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataroot", help="nuScenes dataset folder (holds samples/, sweeps/ and the version folder)")
    parser.add_argument("--version", default=None, help="table folder, e.g. v1.0-mini (default: the only one found)")
    parser.add_argument("--scene", default=None, help="scene name or token; without it the scenes are listed")
    parser.add_argument("-o", "--out", default=None, help="scenario JSON to write (with --scene)")
    parser.add_argument("--start", type=float, default=0.0, metavar="SECONDS",
                        help="seconds into the scene where the scenario starts (default 0: its first key frame)")
    parser.add_argument("--duration", type=float, default=None,
                        help="seconds from the start (default: the rest of the scene)")
    parser.add_argument("--insert", default=None, metavar="CLASS",
                        help="also insert one agent of this class at the best proposed collision-free place")
    parser.add_argument("--speed", type=float, default=None, help="speed of the inserted agent in m/s (2, 5 or 8 ...)")


def run(args: argparse.Namespace) -> int:
    import math

    from engine.sources import SceneSourceError, available_versions, list_scenes, open_nuscenes_scene

    if args.speed is not None and not (math.isfinite(args.speed) and 0 < args.speed <= MAX_INSERT_SPEED):
        print(f"--speed: expected a speed in (0, {MAX_INSERT_SPEED:g}] m/s, got {args.speed}", file=sys.stderr)
        return 2

    try:
        version = args.version
        if version is None:
            found = available_versions(args.dataroot)
            if len(found) != 1:
                print(f"{args.dataroot}: name the version with --version (found: {', '.join(found) or 'none'})",
                      file=sys.stderr)
                return 2
            version = found[0]
        if args.scene is None:
            for s in list_scenes(args.dataroot, version):
                print(f"{s.name:12s} {s.duration:6.1f} s  {s.location:24s} {s.description}")
            return 0
        if not args.out:
            print("--out is needed with --scene", file=sys.stderr)
            return 2
        scene = open_nuscenes_scene(args.dataroot, version, args.scene, duration=args.duration,
                                    start=getattr(args, "start", 0.0))
    except SceneSourceError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    scenario = scene.scenario
    for w in scene.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if args.insert:
        from dataclasses import replace

        from engine.classes import class_names
        from engine.realscene import propose_insertions

        if args.insert not in class_names():
            print(f"--insert: unknown class {args.insert!r}; expected one of {', '.join(class_names())}", file=sys.stderr)
            return 2
        speeds = (args.speed,) if args.speed is not None else (2.0, 5.0, 8.0)
        proposals = propose_insertions(scenario, args.insert, speeds=speeds, count=1)
        if not proposals:
            print(f"no collision-free place for a {args.insert} was found in {args.scene}", file=sys.stderr)
            return 1
        p = proposals[0]
        scenario = scenario.with_agent(replace(p.agent, id=scenario.new_agent_id(args.insert)))
        print(f"inserted a {args.insert} at {p.speed:g} m/s, {p.distance:.1f} m from the ego, "
              f"clearance {p.clearance:.2f} m")
    from engine.scenario.io import save_scenario

    try:
        save_scenario(scenario, args.out)
    except OSError as e:   # a folder or a file in the way, read-only, disk full: nothing half-written (atomic save)
        from engine.fileio import write_error_message

        print(f"scene: {write_error_message(args.out, e)}", file=sys.stderr)
        return 2
    locked = sum(a.locked for a in scenario.agents)
    at = f" from {scene.source.start:g} s" if scene.source.start else ""
    source = scene.scenario.source
    print(f"wrote {args.out}: {source.scene if source is not None else args.scene} ({version}){at}, {scenario.num_frames} frames, "
          f"{locked} recorded agents, {len(scenario.agents) - locked} inserted")
    return 0
