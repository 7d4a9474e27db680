"""World-model speed: naive six-camera frames per second, diffusion seconds per denoising step.

    python benchmarks/bench_worldmodel.py                      # naive + tiny diffusion on the CPU
    python benchmarks/bench_worldmodel.py --only naive --runs 7
    python benchmarks/bench_worldmodel.py --device cuda --realistic [--steps 20] [--dtype float16]
    python benchmarks/bench_worldmodel.py --only realistic-cpu --steps 1   # converted SD-1.5 size, CPU, s/frame
    python benchmarks/bench_worldmodel.py --only consistency --size 128x64 --frames 4 --steps 4

naive: the demo scenario rendered once by the guidance renderer at 448x256 (the conditions), then the
backend timed per environment on those frames (median of --runs runs); "with renderer" adds the
renderer's time per frame for the maps the naive backend asks for (shaded pass, depth, inserted mask;
`frames_with_maps`); the title also gives the time for every map (the baseline: what the renderer cost
the naive backend before it could ask for a subset), measured in the same run. Goal (issue 6): >= 24 six-camera frames/s, twice real time at 12 Hz;
the table gives the ratio to the goal and to real time.
diffusion (tiny, CPU): seconds per denoising step of one six-view panorama frame at 448x256, with torch
on 1 and 2 threads, and the same for the guidance-only variant (no text encoder, no layout ControlNet).
--realistic (needs CUDA): an SD-1.5-sized random-weight pipeline (UNet 320-640-1280-1280 plus two
ControlNets, CLIP ViT-L-sized text encoder) in fp16, a 33-frame six-view clip at 256x448 per view:
seconds per clip, per frame and per step, and peak GPU memory. Synthetic conditions (no OpenGL needed).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

ENVIRONMENTS = (("day", "clear"), ("dusk", "clear"), ("night", "clear"), ("day", "rain"), ("night", "rain"),
                ("day", "fog"), ("dusk", "fog"), ("day", "snow"))
GOAL_FPS = 24.0
REALTIME_FPS = 12.0


def _table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))


def bench_naive(runs: int, frames: int, size: tuple[int, int]) -> None:
    import dataclasses

    from engine.demo import build_demo_scenario
    from engine.scenario.model import Environment
    from engine.worldmodel import ClipConditions, GenerationSettings, create_backend, generate_clip
    from engine.worldmodel.scenario_conditions import conditions_for_scenario, frames_with_maps

    scenario = build_demo_scenario()
    rows = []
    backend = create_backend("naive")
    render_times, all_times = [], []
    cache = {}
    for tod in ("day", "dusk", "night"):
        s = dataclasses.replace(scenario, environment=Environment(tod, "clear"))
        with conditions_for_scenario(s, size) as c:
            subset = frames_with_maps(c, backend.required_fields)
            c.frame(0)  # warm-up: scene upload, asset loading
            subset(1)
            for _ in range(max(1, runs // 2)):   # interleaved: every map vs the naive backend's maps
                t0 = time.perf_counter()
                cache[tod] = (c.rig, [c.frame(i) for i in range(frames)])
                all_times.append((time.perf_counter() - t0) / frames)
                t0 = time.perf_counter()
                for i in range(frames):
                    subset(i)
                render_times.append((time.perf_counter() - t0) / frames)
    render_s = statistics.median(render_times)
    all_s = statistics.median(all_times)
    for tod, weather in ENVIRONMENTS:
        rig, fr = cache[tod]
        cond = ClipConditions.from_frames(rig, fr, 12.0, Environment(tod, weather), lit_for=tod)
        generate_clip(backend, cond, GenerationSettings(seed=0))  # warm-up (rays, layers, thread pool)
        per_frame = []
        for r in range(runs):
            t0 = time.perf_counter()
            generate_clip(backend, cond, GenerationSettings(seed=r))
            per_frame.append((time.perf_counter() - t0) / frames)
        med = statistics.median(per_frame)
        fps = 1.0 / med
        e2e = 1.0 / (med + render_s)
        e2e_all = 1.0 / (med + all_s)
        rows.append([f"{tod}/{weather}", f"{med * 1000:.1f}", f"{fps:.1f}", f"{fps / GOAL_FPS:.2f}x",
                     f"{fps / REALTIME_FPS:.2f}x", f"{e2e_all:.1f}", f"{e2e:.1f}", f"{e2e / GOAL_FPS:.2f}x"])
    _table(f"naive backend, six cameras at {size[0]}x{size[1]}, {frames} demo frames, median of {runs} runs "
           f"(renderer: every map {all_s * 1000:.0f} ms/frame = {1 / all_s:.1f} fps; naive maps only "
           f"{render_s * 1000:.0f} ms/frame = {1 / render_s:.1f} fps, {all_s / render_s:.1f}x)",
           ["environment", "ms/frame", "fps", "vs goal 24", "vs real time 12", "fps w/ renderer (all maps)",
            "fps w/ renderer (naive maps)", "e2e vs goal 24"], rows)


def _step_times(pipe, size, frames: int, steps: int, guidance: float, device: str, dtype) -> tuple[list[float], float]:
    """Per-step seconds (all steps of all frames) and the whole run's seconds."""
    import torch

    from engine.scenario.model import Environment
    from engine.worldmodel.diffusion.pipeline import PipelineStep
    from engine.worldmodel.diffusion.tensors import camera_ray_map, environment_vector, frame_control
    from engine.worldmodel.synthetic import plane_conditions

    cond = plane_conditions(size, frames, Environment("night", "rain"))
    rays = camera_ray_map(cond.rig)
    env = environment_vector(cond.environment)
    controls = [frame_control(cond.frame(i), rays, env) for i in range(frames)]
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    times = []
    sync()
    t0 = last = time.perf_counter()
    for ev in pipe.iter_frames(controls, "a truck cuts in at night, rain", steps, guidance,
                               torch.Generator().manual_seed(0), preview_every=0):
        if isinstance(ev, PipelineStep):
            sync()
            now = time.perf_counter()
            times.append(now - last)
            last = now
        else:
            last = time.perf_counter()
    sync()
    return times, time.perf_counter() - t0


def bench_tiny_cpu(runs: int, size: tuple[int, int]) -> None:
    import torch

    from engine.worldmodel.diffusion.configs import build_pipeline

    rows = []
    for variant, kw in (("tiny (text + 2 ControlNets)", {}),
                        ("tiny, guidance ControlNet only", dict(with_text_encoder=False, with_layout_controlnet=False))):
        pipe = build_pipeline("tiny", 0, **kw)
        for threads in (1, 2):
            torch.set_num_threads(threads)
            _step_times(pipe, size, 1, 2, 4.0, "cpu", torch.float32)  # warm-up
            per_step = []
            for _ in range(runs):
                t, _total = _step_times(pipe, size, 2, 3, 4.0, "cpu", torch.float32)
                per_step.extend(t)
            med = statistics.median(per_step)
            rows.append([variant, str(threads), f"{med:.3f}", f"{med * 20 * 33:.0f}"])
    _table(f"diffusion backend on the CPU, one six-view panorama frame at {size[0]}x{size[1]} per step "
           f"(CFG batch of 2), median over {runs} runs x 6 steps",
           ["pipeline", "torch threads", "s/step", "s per 33-frame clip at 20 steps"], rows)


def bench_realistic_cuda(steps: int, frames: int, size: tuple[int, int], dtype_name: str, device: str) -> None:
    import torch

    from engine.worldmodel.diffusion.configs import build_pipeline

    if not torch.cuda.is_available():
        print("\n--realistic needs a CUDA device; none is available here (skipped).")
        return
    dtype = {"float16": torch.float16, "bfloat16": torch.bfloat16}[dtype_name]
    t0 = time.perf_counter()
    with torch.device(device):
        pipe = build_pipeline("realistic", 0)
    pipe.to(device, dtype)
    build_s = time.perf_counter() - t0
    params = {n: sum(p.numel() for p in getattr(pipe, n).parameters()) / 1e6
              for n in ("unet", "controlnet", "layout_controlnet", "vae", "text_encoder")}
    _step_times(pipe, size, 1, 2, 4.0, device, dtype)  # warm-up (kernels, allocator)
    torch.cuda.reset_peak_memory_stats()
    per_step, total = _step_times(pipe, size, frames, steps, 4.0, device, dtype)
    peak = torch.cuda.max_memory_allocated() / 2 ** 30
    rows = [[f"{frames} frames x 6 views, {size[0]}x{size[1]}", str(steps), dtype_name, f"{total:.1f}",
             f"{total / frames:.2f}", f"{statistics.median(per_step):.3f}", f"{peak:.1f}"]]
    _table(f"diffusion backend, SD-1.5-sized random weights on {torch.cuda.get_device_name()} "
           f"(params M: " + ", ".join(f"{k} {v:.0f}" for k, v in params.items()) + f"; built in {build_s:.0f} s)",
           ["clip", "steps", "dtype", "s/clip", "s/frame", "s/step (median)", "peak GiB"], rows)


def bench_realistic_cpu(sizes: list[tuple[int, int]], steps: int, guidances: tuple[float, ...] = (1.0,)) -> None:
    """Seconds per six-camera frame of the converted SD-1.5 + 2 ControlNet architecture (random weights) on the CPU."""
    import torch

    from engine.worldmodel.diffusion.configs import build_pipeline

    t0 = time.perf_counter()
    pipe = build_pipeline("realistic", 0, with_layout_controlnet=False)
    build_s = time.perf_counter() - t0
    params = {n: sum(p.numel() for p in getattr(pipe, n).parameters()) / 1e6
              for n in ("unet", "controlnet", "vae", "text_encoder")}
    rows = []
    print(f"built the realistic pipeline in {build_s:.0f} s", flush=True)
    for size in sizes:
        for guidance in guidances:
            per_step, total = _step_times(pipe, size, 1, steps, guidance, "cpu", torch.float32)
            step_s = statistics.median(per_step)
            rows.append([f"{size[0]}x{size[1]}", str(steps), "off (batch 1)" if guidance <= 1 else "on (batch 2)",
                         f"{total:.1f}", f"{step_s:.1f}", f"{total - step_s * steps:.1f}",
                         f"{(step_s * 20 + total - step_s * steps) / 60:.1f}"])
            print("  row: " + "  ".join(rows[-1]), flush=True)
    _table(f"converted SD-1.5 + depth + canny ControlNets (random weights), CPU float32, {torch.get_num_threads()} "
           f"torch threads; one six-camera frame (params M: " + ", ".join(f"{k} {v:.0f}" for k, v in params.items())
           + f"; built in {build_s:.0f} s)",
           ["size/camera", "steps", "CFG", "s/frame", "s/step", "s text+VAE+rest", "min/frame at 20 steps"], rows)


def bench_consistency(size: tuple[int, int], frames: int, steps: int) -> None:
    """Cross-frame and cross-view consistency of the converted tiny model on the demo, per technique."""
    import torch

    from engine.demo import build_demo_scenario
    from engine.worldmodel import GenerationSettings, generate_clip
    from engine.worldmodel.diffusion.backend import DiffusionBackend
    from engine.worldmodel.diffusion.configs import write_pipeline_folder
    from engine.worldmodel.diffusion.consistency import cross_frame, cross_view
    from engine.worldmodel.scenario_conditions import conditions_for_scenario

    import tempfile

    torch.set_num_threads(1)
    folder = write_pipeline_folder(Path(tempfile.mkdtemp()) / "tiny", "tiny", 0, with_layout_controlnet=False)
    techniques = [
        ("none (independent frames, no wrap)", dict(wrap=False)),
        ("+ panorama wrap-around", dict(wrap=True)),
        ("+ shared noise across views", dict(wrap=True, view_noise_sharing=1.0)),
        ("+ fixed noise per clip", dict(wrap=True, noise_sharing=1.0)),
        ("+ previous-frame start (strength 0.6)", dict(wrap=True, temporal_strength=0.6)),
        ("+ previous-frame latent blend 0.5", dict(wrap=True, prev_blend=0.5)),
        ("all: wrap, fixed noise, strength 0.6, blend 0.3",
         dict(wrap=True, noise_sharing=1.0, temporal_strength=0.6, prev_blend=0.3)),
    ]
    scenario = build_demo_scenario()
    with conditions_for_scenario(scenario, size) as cond:
        frames_list = [cond.frame(i) for i in range(frames)]
        from engine.worldmodel.conditions import ClipConditions

        clip_cond = ClipConditions.from_frames(cond.rig, frames_list, cond.fps, scenario.environment,
                                               text=cond.text)
    rows = []
    base = None
    for label, opts in techniques:
        backend = DiffusionBackend(folder, **opts)
        clip = generate_clip(backend, clip_cond, GenerationSettings(steps=steps, guidance_scale=3.0, seed=0,
                                                                  device="cpu"))
        cf, cv = cross_frame(clip.frames), cross_view(clip.frames)
        if base is None:
            base = (cf, cv)
        rows.append([label, f"{cf:.2f}", f"{cf / base[0]:.2f}", f"{cv:.2f}", f"{cv / base[1]:.2f}"])
    _table(f"consistency without training: converted tiny model (random weights), demo scenario, {frames} frames x 6 "
           f"cameras at {size[0]}x{size[1]}, {steps} DDIM steps; lower is more consistent",
           ["technique", "cross-frame |dI|", "vs none", "cross-view seam ratio", "vs none"], rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=("naive", "diffusion", "realistic-cpu", "consistency"), default=None)
    ap.add_argument("--cpu-sizes", default="448x256,768x432", help="sizes for --only realistic-cpu")
    ap.add_argument("--cpu-cfg", action="store_true", help="--only realistic-cpu: also time guidance on (batch 2)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--frames", type=int, default=12, help="demo frames for the naive benchmark")
    ap.add_argument("--size", default="448x256")
    ap.add_argument("--device", default="cpu", help="cpu (default) or cuda for --realistic")
    ap.add_argument("--realistic", action="store_true", help="SD-1.5-sized pipeline on CUDA (33-frame clip)")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--clip-frames", type=int, default=33)
    ap.add_argument("--dtype", choices=("float16", "bfloat16"), default="float16")
    args = ap.parse_args()
    from engine.cli.generate import parse_size

    size = parse_size(args.size)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.realistic:
        bench_realistic_cuda(args.steps, args.clip_frames, size, args.dtype, args.device)
        return 0
    if args.only in (None, "naive"):
        bench_naive(args.runs, args.frames, size)
    if args.only in (None, "diffusion"):
        bench_tiny_cpu(max(1, args.runs // 2), size)
    if args.only == "realistic-cpu":
        bench_realistic_cpu([parse_size(s) for s in args.cpu_sizes.split(",")], min(args.steps, 2),
                            (1.0, 4.0) if args.cpu_cfg else (1.0,))
    if args.only == "consistency":
        bench_consistency(size, min(args.frames, 6), min(args.steps, 4))
    return 0


if __name__ == "__main__":
    sys.exit(main())
