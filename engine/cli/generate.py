"""`generate SCENARIO -o DIR`: six-camera video of a scenario from a world model, headless.

Writes per-camera MP4s, a panorama MP4, per-frame JPEGs and generation.json into DIR (see
engine/video/clip_output.py); everything is staged and moved into place at the end, so a failed or
interrupted run leaves earlier outputs in DIR intact. Exit codes: 0 done, 1 generation failed,
2 bad input (scenario file, size, model folder, device), 130 interrupted.
"""
from __future__ import annotations

import argparse
import sys
import time

COMMAND = "generate"
HELP = "generate the six-camera video of a scenario (MP4 per camera, panorama MP4, JPEG frames)"
ORDER = 40


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", help="scenario JSON file")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder (created if missing)")
    parser.add_argument("--backend", choices=("naive", "diffusion"), default="naive",
                        help="world model: naive (embedded, no model needed) or diffusion (needs --model)")
    parser.add_argument("--model", metavar="DIR", default=None, help="diffusion pipeline folder (local, never downloaded)")
    parser.add_argument("--steps", type=int, default=20, help="denoising steps per frame (diffusion)")
    parser.add_argument("--guidance-scale", type=float, default=4.0, help="classifier-free guidance (diffusion)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: the scenario's seed)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default auto: CUDA if present)")
    parser.add_argument("--size", default="448x256", metavar="WxH", help="image size per camera (default 448x256)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def parse_size(text: str) -> tuple[int, int]:
    """'448x256' -> (448, 256); ValueError with the reason otherwise."""
    parts = text.lower().replace("×", "x").split("x")
    if len(parts) != 2:
        raise ValueError(f"size must look like 448x256 (width x height), got {text!r}")
    try:
        w, h = int(parts[0]), int(parts[1])
    except ValueError:
        raise ValueError(f"size must be two whole numbers like 448x256, got {text!r}") from None
    if not (16 <= w <= 4096 and 16 <= h <= 4096):
        raise ValueError(f"width and height must be between 16 and 4096 pixels, got {w}x{h}")
    return w, h


class ProgressBar:
    """A one-line text progress bar on stderr: overall fraction, frame and step."""

    def __init__(self, stream=sys.stderr, width: int = 30, enabled: bool = True) -> None:
        self.stream, self.width, self.enabled = stream, width, enabled
        self.start = time.perf_counter()
        self._last = 0.0

    def __call__(self, event) -> None:
        from engine.worldmodel.events import StepProgress

        if not self.enabled or not isinstance(event, StepProgress):
            return
        now = time.perf_counter()
        done = event.step == event.num_steps and event.frame == event.num_frames - 1
        if now - self._last < 0.1 and not done:
            return
        self._last = now
        frac = event.fraction
        fill = int(round(frac * self.width))
        elapsed = now - self.start
        eta = elapsed / frac - elapsed if frac > 0 else 0.0
        self.stream.write(f"\r[{'#' * fill}{'.' * (self.width - fill)}] {frac * 100:5.1f}%  frame "
                          f"{event.frame + 1}/{event.num_frames}  step {event.step}/{event.num_steps}  "
                          f"{elapsed:5.1f}s elapsed, ~{eta:4.0f}s left ")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def run(args: argparse.Namespace) -> int:
    from engine.scenario.errors import ScenarioFormatError
    from engine.scenario.io import load_scenario
    from engine.video import write_clip_outputs
    from engine.worldmodel import (
        GenerationCancelled,
        GenerationSettings,
        ModelLoadError,
        ModelNotConfiguredError,
        WorldModelError,
        create_backend,
        generate_clip,
    )
    from engine.worldmodel.errors import ConditionsError, DeviceError
    from engine.worldmodel.scenario_conditions import conditions_for_scenario

    def fail(msg: str, code: int) -> int:
        print(f"generate: {msg}", file=sys.stderr)
        return code

    try:
        scenario = load_scenario(args.scenario)
    except ScenarioFormatError as e:
        return fail(str(e), 2)
    try:
        size = parse_size(args.size)
        settings = GenerationSettings(steps=args.steps, guidance_scale=args.guidance_scale,
                                      seed=scenario.seed if args.seed is None else args.seed, device=args.device)
    except ValueError as e:
        return fail(str(e), 2)
    try:
        backend = create_backend(args.backend, args.model)
        if args.backend == "diffusion":
            backend.pipeline(settings.device, settings.dtype)  # load now: a bad folder is bad input
    except (ModelNotConfiguredError, ModelLoadError, DeviceError) as e:
        return fail(str(e), 2)

    bar = ProgressBar(enabled=not args.quiet)
    print(f"{scenario.name}: {scenario.num_frames} frames x 6 cameras at {size[0]}x{size[1]}, "
          f"backend {backend.describe()}, seed {settings.seed}", file=sys.stderr)
    try:
        with conditions_for_scenario(scenario, size) as conditions:
            clip = generate_clip(backend, conditions, settings, on_event=bar)
    except KeyboardInterrupt:
        bar.finish()
        return fail("interrupted; nothing was written", 130)
    except GenerationCancelled:
        bar.finish()
        return fail("cancelled; nothing was written", 130)
    except (ConditionsError, DeviceError) as e:
        bar.finish()
        return fail(str(e), 2)
    except WorldModelError as e:
        bar.finish()
        return fail(f"{e}; nothing was written", 1)
    bar.finish()
    try:
        files = write_clip_outputs(clip, args.output, extra_manifest={
            "scenario": str(args.scenario), "scenario_name": scenario.name,
            "environment": {"time_of_day": scenario.environment.time_of_day, "weather": scenario.environment.weather}})
    except OSError as e:
        return fail(f"cannot write to {args.output}: {e}", 1)
    n_img = sum(len(v) for v in files.frame_images.values())
    print(f"wrote {len(files.camera_videos)} camera videos, {files.panorama_video.name} and {n_img} JPEG frames "
          f"to {files.out_dir}")
    return 0
