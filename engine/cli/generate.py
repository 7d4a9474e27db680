"""`generate SCENARIO -o DIR`: six-camera video of a scenario from a world model, headless.

Writes per-camera MP4s, a panorama MP4, per-frame JPEGs and generation.json into DIR (see
engine/video/clip_output.py); everything is staged and moved into place at the end, so a failed or
interrupted run leaves earlier outputs in DIR intact. Exit codes: 0 done, 1 generation failed,
2 bad input (scenario file, size, model folder, device), 130 interrupted.
"""
from __future__ import annotations

import argparse
import sys

TYPE_CHECKING = False       # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

    from engine.config import GenerationConfig

COMMAND = "generate"
HELP = "generate the six-camera video of a scenario (MP4 per camera, panorama MP4, JPEG frames)"
ORDER = 40


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", help="scenario JSON file")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder (created if missing)")
    parser.add_argument("--backend", choices=("naive", "diffusion", "cosmos", "magicdrive"), default="naive",
                        help="world model: naive (embedded, no model needed), diffusion, cosmos or magicdrive (need --model)")
    parser.add_argument("--controlnet-scale", action="append", default=[], metavar="NAME=S",
                        help="diffusion: conditioning scale of one ControlNet, e.g. depth=0.8 (repeatable)")
    parser.add_argument("--temporal-strength", type=float, default=None, metavar="S",
                        help="diffusion: frames after the first start from the previous one noised to S in (0, 1]")
    parser.add_argument("--noise-sharing", type=float, default=None, metavar="R",
                        help="diffusion: part of the initial noise shared by all frames, 0..1")
    parser.add_argument("--model", metavar="DIR", default=None, help="diffusion pipeline folder (local, never downloaded)")
    parser.add_argument("--steps", type=int, default=20, help="denoising steps per frame (diffusion)")
    parser.add_argument("--guidance-scale", type=float, default=4.0, help="classifier-free guidance (diffusion)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: the scenario's seed)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default auto: CUDA if present)")
    parser.add_argument("--size", default="448x256", metavar="WxH", help="image size per camera (default 448x256)")
    parser.add_argument("--frames", type=int, default=None, metavar="N", help="only the first N frames (default: all)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def parse_size(text: str) -> tuple[int, int]:
    """'448x256' -> (448, 256): `engine.config.size.parse_size` (the one size parser), imported when
    called so that the command line's start-up does not load pydantic."""
    from engine.config.size import parse_size as parse

    return parse(text)


def config_from_args(args: argparse.Namespace) -> GenerationConfig:
    """The `engine.config.GenerationConfig` of the command line (ValueError names a bad option)."""
    from engine.config import GenerationConfig, ImageSize

    try:
        size = ImageSize.parse(args.size)
    except ValueError as e:
        raise ValueError(f"--size: {e}") from None
    return GenerationConfig(backend=args.backend, model_dir=args.model, steps=args.steps,
                            guidance_scale=args.guidance_scale, seed=args.seed, size=size, device=args.device,
                            frames=getattr(args, "frames", None), backend_options=_backend_options(args))


def _backend_options(args: argparse.Namespace) -> dict[str, Any]:
    """Diffusion options of the command line (issue 12): per-ControlNet scales and consistency settings."""
    from engine.worldmodel.diffusion.options import parse_scale_items

    opts: dict[str, Any] = {}
    scales = parse_scale_items(getattr(args, "controlnet_scale", None))
    if scales:
        opts["controlnet_scales"] = scales
    for name in ("temporal_strength", "noise_sharing"):
        if getattr(args, name, None) is not None:
            opts[name] = getattr(args, name)
    return opts


def run(args: argparse.Namespace) -> int:
    import logging
    from typing import Protocol, runtime_checkable

    from engine.scenario.errors import ScenarioFormatError
    from engine.scenario.io import load_scenario
    from engine.video import write_clip_outputs
    from engine.worldmodel import (
        GenerationCancelled,
        ModelLoadError,
        ModelNotConfiguredError,
        WorldModelError,
        create_backend,
        generate_clip,
    )
    from engine.conditions import clip_conditions
    from engine.sources.errors import SceneSourceError
    from engine.worldmodel.errors import ConditionsError, DeviceError, MissingExtraError

    @runtime_checkable
    class LoadsPipeline(Protocol):
        """A backend whose model can be loaded ahead of generation (diffusion, cosmos, magicdrive)."""

        def pipeline(self, device: str = "auto", dtype: str = "auto") -> Any: ...

    def fail(msg: str, code: int) -> int:
        print(f"generate: {msg}", file=sys.stderr)
        return code

    try:
        scenario = load_scenario(args.scenario)
    except ScenarioFormatError as e:
        return fail(str(e), 2)
    try:
        config = config_from_args(args)
        size = config.image_size()
        settings = config.settings(scenario.seed)
    except ValueError as e:
        from engine.config import error_message

        return fail(error_message(e), 2)
    if config.backend_options and config.backend != "diffusion":
        given = ", ".join(f"--{k.replace('_', '-').replace('controlnet-scales', 'controlnet-scale')}"
                          for k in sorted(config.backend_options))
        return fail(f"{given}: only for --backend diffusion (got --backend {config.backend})", 2)
    try:
        backend = create_backend(config.backend, config.model_dir, **config.backend_options)
        if config.backend in ("diffusion", "cosmos", "magicdrive") and isinstance(backend, LoadsPipeline):
            backend.pipeline(settings.device, settings.dtype)  # load now: a bad folder is bad input
            logging.getLogger(__name__).debug("loaded the %s model from %s", config.backend, config.model_dir)
    except (ModelNotConfiguredError, ModelLoadError, DeviceError, MissingExtraError, ValueError) as e:
        return fail(str(e), 2)

    from engine.cli._progress import StepBar

    bar = StepBar(enabled=not args.quiet)
    print(f"{scenario.name}: {config.frames or scenario.num_frames} frames x 6 cameras at {size[0]}x{size[1]}, "
          f"backend {backend.describe()}, seed {settings.seed}", file=sys.stderr)
    try:
        with clip_conditions(scenario, config) as conditions:   # synthetic or real footage: one path
            clip = generate_clip(backend, conditions, settings, on_event=bar)
    except SceneSourceError as e:
        bar.finish()
        return fail(f"{e}; nothing was written", 2)
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
            "generation_config": config.model_dump(mode="json"),
            "environment": {"time_of_day": scenario.environment.time_of_day, "weather": scenario.environment.weather}})
    except OSError as e:
        from engine.fileio import write_error_message

        return fail(f"{write_error_message(args.output, e)}; nothing was changed there", 2)
    n_img = sum(len(v) for v in files.frame_images.values())
    print(f"wrote {len(files.camera_videos)} camera videos, {files.panorama_video.name} and {n_img} JPEG frames "
          f"to {files.out_dir}")
    return 0
