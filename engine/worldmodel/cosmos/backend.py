"""The `cosmos` world model: Cosmos-Transfer2.5 from a local folder, each camera's video generated
independently with one of the product's guidance maps as the control video.

    backend = CosmosBackend(folder, control="edge")      # refuses without the licence's guardrail
    clip = generate_clip(backend, conditions, GenerationSettings(steps=35))

Views are not coupled (no panorama, no cross-view attention): the same seed is used for every camera.
Progress is reported per camera (StepProgress.frame = camera index, num_frames = cameras); the frames
arrive when every camera is done.
"""
from __future__ import annotations

import math
import os
import threading
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np
from numpy.typing import NDArray

from engine.worldmodel.base import CancelToken, GenerationSettings, WorldModel
from engine.worldmodel.conditions import ClipConditions
from engine.worldmodel.device import resolve_device
from engine.worldmodel.errors import ConditionsError, GenerationCancelled, GenerationOutOfMemory, ModelLoadError
from engine.worldmodel.events import FrameReady, GeneratedClip, GenerationDone, GenerationEvent, StepProgress
from engine.worldmodel.extras import require_diffusion

if TYPE_CHECKING:
    import torch
    # the class itself, not diffusers' lazy top-level alias
    from diffusers.pipelines.cosmos.pipeline_cosmos2_5_transfer import Cosmos2_5_TransferPipeline

    from engine.worldmodel.cosmos.folder import SafetyChecker

CONTROLS = {"edge": "canny", "depth": "depth", "seg": "seg"}  # Cosmos control -> product channel selector
MAX_CHUNK = 93  # frames per chunk of Cosmos-Transfer2.5
FEATURE = "the cosmos backend"


def quiet_loading() -> None:
    """No progress bars or warnings from diffusers and transformers while a pipeline loads or saves."""
    import diffusers
    import transformers

    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # transformers: unannotated
    diffusers.utils.logging.set_verbosity_error()


class CosmosBackend(WorldModel):
    """Per-camera Cosmos-Transfer2.5 video from a local diffusers folder.

    control: which guidance map is the control video (edge <- E, depth <- D, seg <- O; match the
    folder's ControlNet); controls_conditioning_scale: the ControlNet's scale; safety_checker: None
    loads the licence's guardrail from the folder (refusing when it is missing); tests pass a stand-in.
    """

    name = "cosmos"
    uses_steps = True

    def __init__(self, model_dir: str | os.PathLike[str] | None, control: str = "edge",
                 controls_conditioning_scale: float = 1.0, safety_checker: SafetyChecker | None = None,
                 max_sequence_length: int = 512, **unused: Any) -> None:
        from engine.worldmodel.cosmos.folder import check_cosmos_folder

        if unused:
            raise ValueError(f"unknown cosmos option(s) {', '.join(sorted(unused))}; known: control, "
                             "controls_conditioning_scale")
        if control not in CONTROLS:
            raise ValueError(f"cosmos control must be one of {', '.join(CONTROLS)}, got {control!r}")
        self.model_dir = check_cosmos_folder(model_dir)
        self.control = control
        self.scale = float(controls_conditioning_scale)
        self.max_sequence_length = int(max_sequence_length)
        self._safety_checker = safety_checker
        self._pipe: Cosmos2_5_TransferPipeline | None = None
        self._placement: tuple[torch.device | None, torch.dtype] | None = None   # (device, dtype) of _pipe
        self._lock = threading.Lock()

    def describe(self) -> str:
        return f"cosmos ({self.model_dir}, control {self.control})"

    def pipeline(self, device: str = "auto", dtype: str = "auto") -> Cosmos2_5_TransferPipeline:
        """The loaded Cosmos2_5_TransferPipeline (with its guardrail) on the resolved device and dtype.

        MissingExtraError when the [diffusion] extra (diffusers, transformers) is not installed."""
        require_diffusion(FEATURE)
        from diffusers.pipelines.cosmos.pipeline_cosmos2_5_transfer import Cosmos2_5_TransferPipeline

        from engine.worldmodel.cosmos.compat import ensure_resize
        from engine.worldmodel.cosmos.folder import load_guardrail

        dev, dt = resolve_device(device, dtype)
        with self._lock:
            pipe, placement = self._pipe, self._placement
            if pipe is None or placement is None or placement[1] != dt:
                checker = self._safety_checker if self._safety_checker is not None else load_guardrail(self.model_dir)
                ensure_resize()
                quiet_loading()
                try:
                    pipe = Cosmos2_5_TransferPipeline.from_pretrained(
                        str(self.model_dir), safety_checker=checker, local_files_only=True, dtype=dt)
                except Exception as e:  # diffusers raises many kinds (OSError, ValueError, KeyError, safetensors
                    # errors, ...) for a folder it cannot load; each one means: not loadable
                    raise ModelLoadError(f"cannot load the Cosmos pipeline in {self.model_dir}: "
                                         f"{type(e).__name__}: {e}") from e
                pipe.set_progress_bar_config(disable=True)  # type: ignore[no-untyped-call]  # diffusers: unannotated
                placement = (None, dt)
                self._pipe, self._placement = pipe, placement
            if placement[0] != dev:
                pipe.to(dev)
                self._placement = (dev, dt)
            return pipe

    def control_videos(self, conditions: ClipConditions) -> NDArray[np.float32]:
        """(V, T, 3, H, W) float32 in [0, 1]: each camera's control video from the chosen guidance map."""
        import torch

        from engine.worldmodel.diffusion.selectors import select

        spec = CONTROLS[self.control]
        frames = []
        for i in range(conditions.num_frames):
            g = torch.from_numpy(conditions.frame(i).guidance_with_objects).permute(0, 3, 1, 2)  # (V, 9, H, W)
            frames.append(select(spec, g).numpy())
        return np.stack(frames, axis=1)

    def generate(self, conditions: ClipConditions, settings: GenerationSettings,
                 cancel: CancelToken | None = None) -> Iterator[GenerationEvent]:
        import torch

        from engine.worldmodel.diffusion.tensors import prompt_text

        if cancel is not None:
            cancel.raise_if_cancelled()
        w, h = conditions.image_size
        if w % 16 or h % 16:
            raise ConditionsError(f"Cosmos-Transfer2.5 needs image sizes that are multiples of 16; got {w}x{h}")
        pipe = self.pipeline(settings.device, settings.dtype)
        t_frames, views = conditions.num_frames, conditions.num_views
        chunk = min(MAX_CHUNK, 4 * math.ceil(max(t_frames - 1, 1) / 4) + 1)
        videos = self.control_videos(conditions)
        prompt = prompt_text(conditions.text, conditions.environment)
        out = np.empty((t_frames, views, h, w, 3), np.uint8)
        steps = settings.steps

        for v in range(views):
            events: list[StepProgress] = []

            def on_step(p: Any, i: int, t: Any, kwargs: dict[str, Any], v: int = v) -> dict[str, Any]:
                if cancel is not None and cancel.cancelled:
                    raise GenerationCancelled(f"cancelled at camera {v}, step {i}")
                events.append(StepProgress(min(i + 1, steps), steps, v, views))
                return kwargs

            generator = torch.Generator("cpu").manual_seed(settings.seed)
            try:
                result = pipe(controls=[torch.from_numpy(videos[v])], controls_conditioning_scale=self.scale,
                              prompt=prompt, height=h, width=w, num_frames=t_frames, num_frames_per_chunk=chunk,
                              num_inference_steps=steps, guidance_scale=settings.guidance_scale, generator=generator,
                              output_type="np", max_sequence_length=self.max_sequence_length,
                              callback_on_step_end=on_step)
            except torch.cuda.OutOfMemoryError as e:
                raise GenerationOutOfMemory(f"out of memory generating camera {conditions.camera_names[v]} with "
                                            f"Cosmos at {w}x{h}: {e}") from e
            except ValueError as e:
                if "Guardrail" in str(e):
                    raise ConditionsError(f"the Cosmos guardrail refused the prompt: {e}") from e
                raise
            yield from events
            video = np.asarray(result.frames[0])[:t_frames]  # (T, H, W, 3) in [0, 1]
            out[:, v] = (np.clip(video, 0.0, 1.0) * 255.0).round().astype(np.uint8)
        for i in range(t_frames):
            yield FrameReady(i, t_frames, out[i])
        clip = GeneratedClip(out, conditions.camera_names, conditions.fps, self.name, settings.seed,
                             conditions.times.copy(),
                             {"model": str(self.model_dir), "steps": steps, "guidance_scale": settings.guidance_scale,
                              "control": self.control, "controls_conditioning_scale": self.scale,
                              "views": "generated independently per camera"})
        yield GenerationDone(clip)
