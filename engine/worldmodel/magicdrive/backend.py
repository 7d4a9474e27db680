"""The `magicdrive` world model: MagicDrive's six-view image model, one frame at a time.

Per frame: the scenario's agents become LiDAR-frame boxes (filtered per camera), its road map a
200x200 BEV raster around the ego, the rig MagicDrive's camera parameters and the environment a
caption; the sampler denoises at the checkpoint's resolution (224x400 for the released base model)
and the views are resized to the requested size. The released checkpoints are image models: frames
are generated independently (no temporal attention), all from the same initial noise.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, TypedDict

import numpy as np
from numpy.typing import NDArray

from engine.worldmodel.base import CancelToken, GenerationSettings, WorldModel
from engine.worldmodel.conditions import ClipConditions
from engine.worldmodel.device import resolve_device
from engine.worldmodel.errors import ConditionsError, GenerationOutOfMemory, ModelLoadError
from engine.worldmodel.events import FrameReady, GeneratedClip, GenerationDone, GenerationEvent, StepProgress
from engine.worldmodel.extras import require_diffusion
from engine.worldmodel.magicdrive import conditions as mdc
from engine.worldmodel.magicdrive.folder import check_folder, read_marker

if TYPE_CHECKING:
    import torch

    from engine.conditions import FrameConditions, FrameSource
    from engine.scenario.map_elements import RoadMap

FEATURE = "the magicdrive backend"

# SD1.5 latent -> RGB, a common linear approximation used for step previews only
_LATENT_RGB = np.array([[0.298, 0.207, 0.208], [0.187, 0.286, 0.173],
                        [-0.158, 0.189, 0.264], [-0.184, -0.271, -0.473]], dtype=np.float32)


class FrameInputs(TypedDict):
    """MagicDrive's numpy conditions of one frame (see `conditions`): per-view boxes, the (8, cells, cells)
    BEV map, (6, 3, 7) camera parameters and the caption."""

    boxes: mdc.BoxConditions
    bev_map: NDArray[np.float32]
    camera_param: NDArray[np.float32]
    prompt: str


class LoadedMagicDrive:
    """The loaded pieces on one device / dtype."""

    def __init__(self, folder: Path, device: torch.device, dtype: torch.dtype) -> None:
        import json

        import torch
        from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL
        from transformers.models.clip.modeling_clip import CLIPTextModel
        from transformers.models.clip.tokenization_clip import CLIPTokenizer

        from engine.worldmodel.magicdrive.loading import load_controlnet, load_unet
        from engine.worldmodel.magicdrive.pipeline import MagicDriveSampler, magicdrive_scheduler

        info = read_marker(folder)
        self.image_size = tuple(int(s) for s in info.get("image_size", (224, 400)))  # (H, W)
        self.checkpoint = str(info.get("checkpoint", folder.name))
        self.location = str(info.get("location", "boston-seaport"))
        latent = (self.image_size[0] // 8, self.image_size[1] // 8)
        try:
            unet = load_unet(folder / "unet", device, dtype)
            controlnet = load_controlnet(folder / "controlnet", device, dtype, latent_size=latent)
            vae = AutoencoderKL.from_pretrained(str(folder / "vae"), local_files_only=True, use_safetensors=True,
                                                torch_dtype=dtype).to(device).eval()
            text_encoder = CLIPTextModel.from_pretrained(str(folder / "text_encoder"), local_files_only=True,
                                                         use_safetensors=True, torch_dtype=dtype)
            text_encoder.to(device)  # type: ignore[arg-type]  # functools.wraps on PreTrainedModel.to hides the bound self
            text_encoder.eval()  # type: ignore[no-untyped-call]  # transformers' PreTrainedModel.eval is unannotated
            tokenizer = CLIPTokenizer.from_pretrained(str(folder / "tokenizer"), local_files_only=True)
            sched_cfg = json.loads((folder / "scheduler" / "scheduler_config.json").read_text())
        except ModelLoadError:
            raise
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise ModelLoadError(f"{folder}: could not load the Stable Diffusion parts: {exc}") from None
        emb = controlnet.controlnet_cond_embedding
        self.map_channels = int(emb.conv_in.in_channels)
        self.map_cells = int((controlnet.config.get("map_size") or
                              (controlnet.config.get("map_embedder_param") or {}).get("conditioning_size")
                              or (8, 200, 200))[1])
        if self.map_channels != len(mdc.MAP_CLASSES):
            raise ModelLoadError(f"{folder}: the ControlNet takes {self.map_channels} map channels; MagicDrive's "
                                 f"released models take {len(mdc.MAP_CLASSES)} ({', '.join(mdc.MAP_CLASSES)})")
        self.sampler = MagicDriveSampler(unet, controlnet, magicdrive_scheduler(sched_cfg), vae, text_encoder,
                                         tokenizer)
        self.device, self.dtype = torch.device(device), dtype


class MagicDriveBackend(WorldModel):
    """MagicDrive from a converted model folder (see engine/worldmodel/magicdrive/folder.py).

    location: the nuScenes location named in the caption (boston-seaport, singapore-onenorth, ...);
    road_map: a RoadMap to rasterise when the conditions do not carry their scenario.
    """

    name = "magicdrive"
    uses_steps = True

    def __init__(self, model_dir: str | os.PathLike[str] | None, location: str | None = None,
                 road_map: RoadMap | None = None, **unknown: Any) -> None:
        if unknown:
            raise ValueError(f"the magicdrive backend has no option {', '.join(sorted(unknown))} "
                             "(those are diffusion-backend settings)")
        self.model_dir = check_folder(model_dir)
        self.location = location
        self.road_map = road_map
        self._loaded: LoadedMagicDrive | None = None
        self._lock = threading.Lock()

    def describe(self) -> str:
        return f"magicdrive ({self.model_dir})"

    def load(self, device: str = "auto", dtype: str = "auto") -> LoadedMagicDrive:
        """The loaded model on the resolved device and dtype (loaded once per placement).

        MissingExtraError when the [diffusion] extra (diffusers, transformers) is not installed."""
        require_diffusion(FEATURE)
        dev, dt = resolve_device(device, dtype)
        with self._lock:
            if self._loaded is None or self._loaded.device != dev or self._loaded.dtype != dt:
                self._loaded = None
                self._loaded = LoadedMagicDrive(self.model_dir, dev, dt)
            return self._loaded

    def pipeline(self, device: str = "auto", dtype: str = "auto") -> LoadedMagicDrive:
        """Same as `load` (the name the CLI uses to load a backend's model up front)."""
        return self.load(device, dtype)

    # ---- conditions ------------------------------------------------------------------------
    def _road_map(self, conditions: ClipConditions) -> RoadMap | None:
        if self.road_map is not None:
            return self.road_map
        scenario = getattr(conditions.source, "scenario", None)
        road_map: RoadMap | None = getattr(scenario, "map", None)
        return road_map

    def _frame_reader(self, conditions: ClipConditions) -> FrameSource:
        """frame(i) that skips the guidance maps MagicDrive does not use, where the source allows it."""
        src = conditions.source
        if hasattr(src, "with_maps"):
            try:
                reader: FrameSource = src.with_maps({"depth"})
                return reader
            except (TypeError, ValueError, KeyError, NotImplementedError):  # cannot subset: render everything
                pass
        return conditions.frame

    def frame_inputs(self, conditions: ClipConditions, index: int, frame: FrameConditions | None = None) -> FrameInputs:
        """MagicDrive's numpy conditions of frame `index`: boxes, bev_map, camera_param, prompt."""
        fc = frame if frame is not None else conditions.frame(index)
        params, lidar2cam = mdc.camera_params(conditions.rig)
        boxes = mdc.box_conditions(fc.agents, lidar2cam)
        cells = self._loaded.map_cells if self._loaded is not None else 200
        bev = mdc.bev_map(self._road_map(conditions), fc.world_from_ego, cells=cells)
        env = conditions.environment
        loc = self.location or (self._loaded.location if self._loaded else "boston-seaport")
        prompt = mdc.prompt_for(env.time_of_day, env.weather, conditions.text, loc)
        return FrameInputs(boxes=boxes, bev_map=bev, camera_param=params, prompt=prompt)

    # ---- generation ------------------------------------------------------------------------
    def generate(self, conditions: ClipConditions, settings: GenerationSettings,
                 cancel: CancelToken | None = None) -> Iterator[GenerationEvent]:
        import torch
        from PIL import Image

        from engine.worldmodel.magicdrive.pipeline import SamplerInputs

        if cancel is not None:
            cancel.raise_if_cancelled()
        if tuple(conditions.camera_names) != mdc.VIEW_ORDER:
            raise ConditionsError("MagicDrive generates the six nuScenes cameras in the order "
                                  f"{', '.join(mdc.VIEW_ORDER)}; the rig has {', '.join(conditions.camera_names)}")
        model = self.load(settings.device, settings.dtype)
        sampler, dev, dt = model.sampler, model.device, model.dtype
        h, w = model.image_size
        out_w, out_h = conditions.image_size
        num_frames = conditions.num_frames
        read = self._frame_reader(conditions)
        generator = torch.Generator("cpu").manual_seed(settings.seed)
        # one initial noise for the whole clip (shared by the six views, as MagicDrive does, and by the
        # frames, which keeps still parts of the scene from flickering between independent frames)
        noise = torch.randn((1, 4, h // 8, w // 8), generator=generator).to(dev, dt)
        frames: list[NDArray[np.uint8]] = []
        try:
            for fi in range(num_frames):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                inputs = self.frame_inputs(conditions, fi, read(fi))
                prompt, negative = sampler.encode_prompts([inputs["prompt"]])
                b = inputs["boxes"]
                boxes = None if b.empty else {
                    "bboxes": torch.from_numpy(b.bboxes)[None].to(dev, dt),
                    "classes": torch.from_numpy(b.classes)[None].to(dev),
                    "masks": torch.from_numpy(b.masks)[None].to(dev)}
                sin = SamplerInputs(prompt.to(dt), negative.to(dt), torch.from_numpy(inputs["bev_map"])[None].to(dev, dt),
                                    torch.from_numpy(inputs["camera_param"])[None].to(dev, dt), boxes)
                latents = None
                for step, latents in sampler.sample(sin, noise, settings.steps, settings.guidance_scale):
                    preview = None
                    if settings.preview_every and ((step + 1) % settings.preview_every == 0):
                        preview = _latent_preview(latents[0])
                    yield StepProgress(step + 1, settings.steps, fi, num_frames, preview)
                    if cancel is not None and step + 1 < settings.steps:
                        cancel.raise_if_cancelled()
                assert latents is not None, "GenerationSettings.steps is at least 1"
                images = sampler.decode(latents)[0].float().cpu().numpy()  # V, 3, H, W in [0, 1]
                views = []
                for img in images:
                    arr = np.clip(np.rint(img.transpose(1, 2, 0) * 255.0), 0, 255).astype(np.uint8)
                    if (arr.shape[1], arr.shape[0]) != (out_w, out_h):
                        arr = np.asarray(Image.fromarray(arr).resize((out_w, out_h), Image.Resampling.BICUBIC))
                    views.append(arr)
                frame = np.stack(views)
                frames.append(frame)
                yield FrameReady(fi, num_frames, frame)
        except torch.cuda.OutOfMemoryError as e:
            raise GenerationOutOfMemory(_oom_message(settings, str(e))) from e
        except RuntimeError as e:
            if "out of memory" in str(e).lower() or "can't allocate memory" in str(e).lower():
                raise GenerationOutOfMemory(_oom_message(settings, str(e))) from e
            raise
        finally:
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        clip = GeneratedClip(np.stack(frames), conditions.camera_names, conditions.fps, self.name, settings.seed,
                             conditions.times.copy(),
                             {"model": str(self.model_dir), "checkpoint": model.checkpoint,
                              "model_resolution": [h, w], "steps": settings.steps,
                              "guidance_scale": settings.guidance_scale, "device": str(dev),
                              "dtype": str(dt).replace("torch.", ""), "sampler": "UniPC",
                              "map": "rasterised" if self._road_map(conditions) is not None else "none"})
        yield GenerationDone(clip)


def _latent_preview(latents: torch.Tensor) -> NDArray[np.uint8]:
    """(V, 4, h, w) latents -> (V, h, w, 3) uint8, a rough colour preview."""
    lat: NDArray[np.float32] = latents.float().cpu().numpy().transpose(0, 2, 3, 1)
    rgb = lat @ _LATENT_RGB
    return np.clip((rgb + 1.0) * 127.5, 0, 255).astype(np.uint8)


def _oom_message(settings: GenerationSettings, detail: str) -> str:
    return (f"out of memory running MagicDrive on {settings.device}: {detail.splitlines()[0] if detail else ''}. "
            "Each step runs an SD1.5-size UNet and ControlNet on 12 images (6 views x 2 for guidance); try "
            "float16/bfloat16, guidance scale 1 (halves the batch) or the CPU.")
