"""Time opening a nuScenes scene and producing the guidance maps of one real six-camera frame.

    python benchmarks/bench_realscene.py [--dataroot DIR --version V --scene NAME] [--runs 5] [--size 448x256]

Without --dataroot it builds (once, cached under --workdir) a nuScenes-format dataset with the
test builder at nuScenes scale: one 20 s scene, six 1600x900 cameras at 12 Hz, a 32-beam LiDAR
with 1080 azimuth steps at 20 Hz. Prints the median (min / max) of several runs and the ratio
against baselines measured in the same run (the issue names none, so the nearest devkit work):

  open scene (cold)   open_nuscenes_scene with an empty cache  vs  NuScenes(...) table load alone
  open scene (warm)   open_nuscenes_scene, database cached     vs  the same devkit load
  real depth, 6 cams  LiDAR projection + IP-Basic densification + image load and resize
                      vs  devkit NuScenesExplorer.map_pointcloud_to_image for the six cameras
  guidance frame      the above + GuidanceRenderer.set_backgrounds + render (all maps, six cameras,
                      three inserted cars)  vs  the same renderer on the synthetic scene (no real
                      frames: the recorded agents drawn as assets on the map's static scene)
  generate, per frame `engine.conditions.clip_conditions` + the naive world model over the real frames
                      (what `main.py generate` runs), per six-camera frame  vs  the same on the
                      synthetic scenario (the scene without its source: every agent drawn as a mesh)

--quick builds a smaller dataset (4 s, 800x450 cameras) for a loaded machine.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.realscene.backgrounds import real_backgrounds, real_rig, without_recorded  # noqa: E402
from engine.sources import nuscenes_db, open_nuscenes_scene  # noqa: E402


def _timed(fn, runs: int) -> tuple[float, float, float]:
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t) * 1000.0)
    return statistics.median(ts), min(ts), max(ts)


def _dataset(workdir: Path, quick: bool = False) -> tuple[Path, str, str]:
    from tests.fixtures.nuscenes_builder import cached_dataset, default_scenes

    workdir.mkdir(parents=True, exist_ok=True)
    print(f"building / reusing the benchmark dataset under {workdir} (first time: a few minutes) ...", flush=True)
    t = time.perf_counter()
    ds = cached_dataset(workdir, image_size=(800, 450) if quick else (1600, 900), duration=4.0 if quick else 20.0,
                        lidar_azimuth_steps=1080, scenes=(default_scenes()[0],))
    print(f"  ready in {time.perf_counter() - t:.1f} s", flush=True)
    return ds.dataroot, ds.version, "scene-0001"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataroot")
    p.add_argument("--version", default="v1.0-mini")
    p.add_argument("--scene", default="scene-0001")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--size", default="448x256", help="guidance map size per camera, WxH")
    p.add_argument("--frame", type=int, default=24)
    p.add_argument("--workdir", default="/tmp/cornercase_bench_nuscenes")
    p.add_argument("--quick", action="store_true", help="a smaller built dataset (4 s, 800x450 cameras)")
    p.add_argument("--gen-frames", type=int, default=6, help="frames generated per `generate` run")
    a = p.parse_args(argv)
    from engine.config import parse_size

    size = parse_size(a.size)
    if a.dataroot:
        root, version, scene_name = Path(a.dataroot), a.version, a.scene
    else:
        root, version, scene_name = _dataset(Path(a.workdir) / ("quick" if a.quick else "full"), a.quick)

    from nuscenes.nuscenes import NuScenes

    rows = []
    devkit = _timed(lambda: NuScenes(version=version, dataroot=str(root), verbose=False), a.runs)

    def cold():
        nuscenes_db.clear_cache()
        open_nuscenes_scene(root, version, scene_name)

    rows.append(("open scene (cold)", _timed(cold, a.runs), "devkit NuScenes() load", devkit))
    scene = open_nuscenes_scene(root, version, scene_name)
    rows.append(("open scene (warm db)", _timed(lambda: open_nuscenes_scene(root, version, scene_name), a.runs),
                 "devkit NuScenes() load", devkit))

    rig = real_rig(scene, size)
    k = min(a.frame, scene.num_frames - 1)
    nusc = nuscenes_db.load_nuscenes(root, version)
    lidar_tok = scene.sweeps_for(scene.frame(k, "CAM_FRONT"))[0].token

    def devkit_projection():
        for cam in rig.names:
            nusc.explorer.map_pointcloud_to_image(lidar_tok, scene.frame(k, cam).token)

    from engine.realscene import lidar_depth

    def depth_six():
        lidar_depth._load_points.cache_clear()
        real_backgrounds(scene, k, rig)

    base_proj = _timed(devkit_projection, a.runs)
    rows.append(("real depth, 6 cams", _timed(depth_six, a.runs), "devkit map_pointcloud_to_image x6", base_proj))

    from engine.render.guidance import GuidanceRenderer

    from engine.realscene.proposals import propose_insertions

    edited = without_recorded(scene.scenario)          # what is drawn over real frames: the insertions
    for prop in propose_insertions(scene.scenario, "car", count=3):
        edited = edited.with_agent(prop.agent)
    with GuidanceRenderer(rig) as r:
        r.set_scenario(edited)
        r.render_frame(k)

        def synthetic():
            r.set_scenario(scene.scenario.with_agent(edited.agents[0]))
            r.set_backgrounds(None)
            r.render_frame(k)

        def real():
            lidar_depth._load_points.cache_clear()
            r.set_scenario(edited)
            r.set_backgrounds(real_backgrounds(scene, k, rig))
            r.render_frame(k)

        base_synth = _timed(synthetic, a.runs)
        rows.append(("guidance frame, real", _timed(real, a.runs), "same renderer, synthetic scene", base_synth))
        gl = r.gl_renderer

    rows.append(_generate_rows(scene, edited, size, k, a))

    print()
    print(f"scene {scene_name} ({version}): {scene.num_frames} frames, {len(scene.scenario.agents)} annotated agents, "
          f"{len(scene.lidar)} sweeps, map from {scene.map_source}; maps {size[0]}x{size[1]} x 6 cameras; GL: {gl}")
    print(f"median of {a.runs} runs (min / max), milliseconds")
    print(f"{'what':<24} {'median':>9} {'min':>9} {'max':>9}   {'baseline':<34} {'median':>9}  {'ratio':>6}")
    for name, (m, lo, hi), bname, (bm, _, _) in rows:
        print(f"{name:<24} {m:9.1f} {lo:9.1f} {hi:9.1f}   {bname:<34} {bm:9.1f}  {m / bm:6.2f}")
    return 0


def _generate_rows(scene, edited, size, k: int, a):
    """`generate` per six-camera frame on the real scene vs the same scenario without its source (synthetic)."""
    from dataclasses import replace

    from engine.conditions import clip_conditions
    from engine.config import GenerationConfig
    from engine.worldmodel import create_backend, generate_clip

    n = max(1, min(a.gen_frames, scene.num_frames))
    real = replace(scene.scenario, agents=scene.scenario.agents + tuple(x for x in edited.agents if not x.locked))
    synthetic = replace(real, source=None)
    backend = create_backend("naive")

    def run(scenario):
        from engine.realscene import lidar_depth

        lidar_depth._load_points.cache_clear()
        cfg = GenerationConfig(size=size, frames=n, seed=0)
        with clip_conditions(scenario, cfg) as c:
            generate_clip(backend, c, cfg.settings(0))

    per = lambda stats: tuple(v / n for v in stats)  # noqa: E731
    return (f"generate, real ({n} fr)", per(_timed(lambda: run(real), a.runs)),
            "generate, synthetic scenario", per(_timed(lambda: run(synthetic), a.runs)))


if __name__ == "__main__":
    raise SystemExit(main())
