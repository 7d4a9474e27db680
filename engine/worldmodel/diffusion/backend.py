"""The `diffusion` world model: loads a `WorldModelPipeline` folder and streams its frames as events."""
from __future__ import annotations

import os
import threading
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping

import numpy as np
from numpy.typing import NDArray

from engine.worldmodel.base import CancelToken, GenerationSettings, WorldModel
from engine.worldmodel.conditions import ClipConditions
from engine.worldmodel.device import resolve_device
from engine.worldmodel.diffusion.options import DiffusionOptions
from engine.worldmodel.errors import (
    ConditionsError,
    GenerationOutOfMemory,
    ModelLoadError,
    ModelNotConfiguredError,
)
from engine.worldmodel.events import FrameReady, GeneratedClip, GenerationDone, GenerationEvent, StepProgress
from engine.worldmodel.extras import require_diffusion
from engine.worldmodel.registry import BackendName

if TYPE_CHECKING:
    import torch

    from engine.worldmodel.diffusion.pipeline import WorldModelPipeline

NO_MODEL_MESSAGE = (
    "The diffusion backend needs a model folder, and none is configured. Choose one in the generation "
    "settings (or pass --model DIR on the command line). To try it out, write a tiny random-weight pipeline "
    "with `python tools/make_tiny_pipeline.py DIR`. The naive backend works without any model."
)


def check_model_folder(model_dir: str | os.PathLike[str] | None) -> Path:
    """The folder as a Path if it looks like a pipeline folder; ModelNotConfiguredError / ModelLoadError otherwise."""
    if model_dir is None or not str(model_dir).strip():
        raise ModelNotConfiguredError(NO_MODEL_MESSAGE)
    path = Path(model_dir).expanduser()
    if not path.exists():
        raise ModelLoadError(f"model folder {path} does not exist")
    if not path.is_dir():
        raise ModelLoadError(f"model folder {path} is not a folder")
    if not (path / "model_index.json").is_file():
        raise ModelLoadError(f"{path} is not a diffusers pipeline folder: model_index.json is missing "
                             "(write one with save_pretrained or tools/make_tiny_pipeline.py)")
    for part in ("vae", "unet", "controlnet", "scheduler"):
        if not (path / part).is_dir():
            raise ModelLoadError(f"{path}: the '{part}' subfolder is missing")
    try:
        import json

        index = json.loads((path / "model_index.json").read_text())
    except (OSError, ValueError) as e:
        raise ModelLoadError(f"{path}/model_index.json is not readable JSON ({e})") from None
    if index.get("_class_name") != "WorldModelPipeline":
        raise ModelLoadError(f"{path} holds a {index.get('_class_name')}, not a product WorldModelPipeline; "
                             "convert public Stable Diffusion + ControlNet folders with `main.py model convert` "
                             "(see `main.py model check DIR`)")
    if index.get("controlnet", [None, None])[1] != "MultiControlNetModel":
        raise ModelLoadError(f"{path} is in the old single-ControlNet format (9/16 condition channels), which no "
                             "public checkpoint fits; rebuild it with `main.py model convert` or "
                             "tools/make_tiny_pipeline.py")
    return path


def controlnet_folders(path: Path) -> list[Path]:
    """controlnet/, controlnet_1/, ... in MultiControlNetModel order."""
    out, i = [], 0
    folder = path / "controlnet"
    while folder.is_dir():
        out.append(folder)
        i += 1
        folder = path / f"controlnet_{i}"
    return out


def preflight_configs(path: Path) -> None:
    """Check the components' config.json files against each other before any weight is read; ModelLoadError
    names the subfolder and the mismatch."""
    import json

    from engine.worldmodel.diffusion.convert import compatibility_problems

    def cfg(folder: Path) -> dict[str, Any]:
        try:
            config: dict[str, Any] = json.loads((folder / "config.json").read_text())
            return config
        except (OSError, ValueError) as e:
            raise ModelLoadError(f"{folder}/config.json is missing or unreadable ({e})") from None

    unet = cfg(path / "unet")
    public_unet = {**unet, "in_channels": (int(unet.get("in_channels", 9)) - 1) // 2}
    index = json.loads((path / "model_index.json").read_text())
    nets = controlnet_folders(path)
    controls = index.get("controls") or []
    if len(controls) != len(nets):
        raise ModelLoadError(f"{path}: model_index.json names {len(controls)} controls but there are {len(nets)} "
                             f"ControlNet folders ({', '.join(n.name for n in nets)})")
    for folder in nets:
        problems = compatibility_problems(public_unet, cfg(folder))
        if problems:
            raise ModelLoadError(f"{folder}: this ControlNet does not fit the unet: " + "; ".join(problems))


def load_pipeline(model_dir: str | os.PathLike[str], torch_dtype: torch.dtype | None = None) -> WorldModelPipeline:
    """Load a WorldModelPipeline from a local folder (never downloads); ModelLoadError says what is wrong,
    MissingExtraError when the [diffusion] extra is not installed.

    torch_dtype: load the weights in this dtype (default: as saved)."""
    from engine.worldmodel.diffusion.pipeline import WorldModelPipeline, disable_progress_bars

    path = check_model_folder(model_dir)
    preflight_configs(path)
    disable_progress_bars()
    try:
        kwargs: dict[str, Any] = {} if torch_dtype is None else {"dtype": torch_dtype}
        loaded = WorldModelPipeline.from_pretrained(str(path), local_files_only=True, **kwargs)
    except ModelLoadError:
        raise
    except Exception as e:  # diffusers raises many kinds (OSError, ValueError, KeyError, safetensors errors) for broken folders
        raise ModelLoadError(f"cannot load the pipeline in {path}: {type(e).__name__}: {e}") from e
    if not isinstance(loaded, WorldModelPipeline):   # from_pretrained follows model_index.json's class name
        raise ModelLoadError(f"{path} loads as a {type(loaded).__name__}, not a WorldModelPipeline")
    loaded.check_components(str(path))
    return loaded


class DiffusionBackend(WorldModel):
    """Six-view panorama diffusion from a local pipeline folder (loaded once, kept per device and dtype)."""

    name = BackendName.DIFFUSION
    uses_steps = True

    def __init__(self, model_dir: str | os.PathLike[str] | None,
                 options: DiffusionOptions | Mapping[str, Any] | None = None, **option_fields: Any) -> None:
        """options: DiffusionOptions or a dict of its fields (also accepted as keyword arguments, e.g.
        noise_sharing=1.0, controlnet_scales={"depth": 0.8}); ValueError names a bad one.
        MissingExtraError when the [diffusion] extra (diffusers, transformers) is not installed."""
        require_diffusion()
        self.model_dir = check_model_folder(model_dir)
        if isinstance(options, DiffusionOptions):
            base = {f.name: getattr(options, f.name) for f in fields(options)}
        else:
            base = dict(options or {})
        self.options = DiffusionOptions.from_mapping({**base, **option_fields})
        self._pipe: WorldModelPipeline | None = None
        self._placement: tuple[torch.device, torch.dtype] | None = None   # where _pipe lives
        self._lock = threading.Lock()

    def describe(self) -> str:
        return f"diffusion ({self.model_dir})"

    def pipeline(self, device: str = "auto", dtype: str = "auto") -> WorldModelPipeline:
        """The loaded pipeline on the resolved device and dtype (loaded once; reloaded for another dtype)."""
        import torch

        dev, dt = resolve_device(device, dtype)
        with self._lock:
            if self._pipe is None or self._placement is None or self._placement[1] != dt:
                self._pipe = None   # drop the old weights before the new ones load
                self._pipe = load_pipeline(self.model_dir, torch_dtype=dt)
                self._placement = (torch.device("cpu"), dt)
            pipe, placement = self._pipe, self._placement
            if placement[0] != dev:
                pipe.to(dev)
                self._placement = (dev, dt)
            return pipe

    def generate(self, conditions: ClipConditions, settings: GenerationSettings,
                 cancel: CancelToken | None = None) -> Iterator[GenerationEvent]:
        import torch

        from engine.worldmodel.diffusion.pipeline import PipelineFrame
        from engine.worldmodel.diffusion.tensors import (
            camera_ray_map,
            environment_vector,
            frame_control,
            prompt_text,
            unstitch_panorama,
        )

        if cancel is not None:
            cancel.raise_if_cancelled()
        pipe = self.pipeline(settings.device, settings.dtype)
        try:
            pipe.resolve_scales(self.options)
        except ValueError as e:
            raise ConditionsError(f"{self.model_dir}: {e}") from None
        views = int(pipe.config["num_views"])
        if conditions.num_views != views:
            raise ConditionsError(f"the model in {self.model_dir} generates {views} views; the rig has "
                                  f"{conditions.num_views} ({', '.join(conditions.camera_names)})")
        num_frames = conditions.num_frames
        rays = camera_ray_map(conditions.rig)
        env = environment_vector(conditions.environment)
        with_objects = bool(pipe.config.get("objects_in_controls", False))
        controls = (frame_control(conditions.frame(i), rays, env, with_objects) for i in range(num_frames))
        generator = torch.Generator("cpu").manual_seed(settings.seed)
        frames: list[NDArray[np.uint8]] = []
        steps = pipe.iter_frames(
            controls, prompt_text(conditions.text, conditions.environment), settings.steps,
            settings.guidance_scale, generator, options=self.options, preview_every=settings.preview_every,
            should_stop=(lambda: cancel.cancelled) if cancel is not None else None)
        try:
            for ev in steps:
                if isinstance(ev, PipelineFrame):
                    images = unstitch_panorama(ev.image, views)
                    frames.append(images)
                    yield FrameReady(ev.frame, num_frames, images)
                else:
                    preview = None if ev.preview is None else unstitch_panorama(ev.preview, views)
                    yield StepProgress(ev.step, ev.num_steps, ev.frame, num_frames, preview)
        except torch.cuda.OutOfMemoryError as e:
            raise GenerationOutOfMemory(_oom_message(conditions, settings, str(e))) from e
        except RuntimeError as e:
            if "out of memory" in str(e).lower() or "can't allocate memory" in str(e).lower():
                raise GenerationOutOfMemory(_oom_message(conditions, settings, str(e))) from e
            raise
        finally:
            steps.close()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        clip = GeneratedClip(np.stack(frames), conditions.camera_names, conditions.fps, self.name, settings.seed,
                             conditions.times.copy(),
                             {"model": str(self.model_dir), "steps": settings.steps,
                              "guidance_scale": settings.guidance_scale, "device": str(pipe.device),
                              "controlnet_scales": dict(zip(pipe.control_names, pipe.resolve_scales(self.options))),
                              "dtype": str(pipe.unet.dtype).replace("torch.", "")})
        yield GenerationDone(clip)


def _oom_message(conditions: ClipConditions, settings: GenerationSettings, detail: str) -> str:
    w, h = conditions.image_size
    return (f"out of memory generating {conditions.num_views} views of {w}x{h} on {settings.device}: "
            f"{detail.splitlines()[0] if detail else ''}. Try a smaller image size, guidance scale 1 "
            "(halves the batch), float16/bfloat16, or the CPU.")
