"""Frozen, validated settings that cross layers, serialisable like diffusers' configs.

    cfg = GenerationConfig(backend="diffusion", model_dir="/models/wm", steps=30, size="448x256")
    text = cfg.model_dump_json()                      # {"backend": "diffusion", ..., "size": "448x256"}
    again = GenerationConfig.model_validate_json(text) # == cfg
    settings = cfg.settings(scenario.seed)            # the world model's GenerationSettings

The command line (`generate`, `export`, `batch`), the editor's QSettings and batch JSON all map onto
these models; a bad value raises pydantic's ValidationError (a ValueError) naming the field.
`backend_options` carries backend-specific settings (e.g. ControlNet scales) without a schema change.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator

from engine.config.runtime import DEVICES, DTYPES, GenerationSettings, NuScenesOptions
from engine.config.size import DEFAULT_SIZE, ImageSize

if TYPE_CHECKING:
    from engine.realscene.backgrounds import RealDepthSettings

DEVICE_NAMES = DEVICES
DTYPE_NAMES = DTYPES
DepthSource = Literal["auto", "lidar", "mono"]
CONFIG_FILE = "config.json"


def error_message(error: Exception) -> str:
    """One line per problem, 'field.path: reason (got value)', for a pydantic ValidationError; str(error) otherwise."""
    from pydantic import ValidationError

    if not isinstance(error, ValidationError):
        return str(error)
    parts = []
    for err in error.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()))
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        got = err.get("input")
        tail = "" if isinstance(got, dict) or "got" in msg else f" (got {got!r})"
        parts.append(f"{error.title}.{loc}: {msg}{tail}" if loc else f"{error.title}: {msg}{tail}")
    return "; ".join(parts)


class _Config(BaseModel):
    """Base: frozen, unknown keys refused, JSON save/load like diffusers' `save_config`/`from_config`."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the config as JSON to `path` (a file, or a folder that gets config.json); atomic."""
        from engine.fileio import atomic_write_text

        p = Path(path)
        if p.is_dir():
            p = p / CONFIG_FILE
        atomic_write_text(p, self.model_dump_json(indent=2) + "\n")
        return p

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self:
        """Read a config written by `save` (a file or a folder with config.json); ValueError names the file."""
        p = Path(path)
        if p.is_dir():
            p = p / CONFIG_FILE
        try:
            return cls.model_validate(json.loads(p.read_text()))
        except (OSError, json.JSONDecodeError) as e:
            raise ValueError(f"{p}: cannot read the {cls.__name__}: {e}") from None
        except ValueError as e:
            raise ValueError(f"{p}: {e}") from None

    def replace(self, **changes: Any) -> Self:
        """A validated copy with `changes` applied (model_copy does not validate)."""
        return type(self).model_validate({**self.model_dump(), **changes})


class RenderConfig(_Config):
    """How a scenario is rendered into conditions: image size, frames, real-scene depth.

    frames: only the first N frames (None: all); depth_source / depth_model_dir / max_depth: real scenes'
    depth (`engine.realscene.RealDepthSettings`; depth_model_dir None: the CORNERCASE_DEPTH_MODEL folder).
    """

    size: ImageSize = Field(default_factory=lambda: ImageSize.parse(DEFAULT_SIZE))
    frames: int | None = Field(default=None, ge=1)
    depth_source: DepthSource = "auto"
    depth_model_dir: str | None = None
    max_depth: float = Field(default=100.0, gt=0)

    def depth_settings(self) -> RealDepthSettings:
        """The `engine.realscene.RealDepthSettings` these fields describe."""
        from engine.realscene.backgrounds import RealDepthSettings

        return RealDepthSettings(source=self.depth_source, max_depth=self.max_depth, model_dir=self.depth_model_dir)


class GenerationConfig(_Config):
    """Which world model and how: backend, local model folder, sampling, seed, size, frames, device.

    seed None (or negative, as the editor stores it): the scenario's seed; model_dir None or "": none
    (the naive backend needs none); backend_options: backend-specific extras (JSON values).
    """

    backend: str = Field(default="naive", min_length=1, pattern=r"^[A-Za-z0-9_\-]+$")
    model_dir: str | None = None
    steps: int = Field(default=20, ge=1, le=10000)
    guidance_scale: float = Field(default=4.0, ge=0.0)
    seed: int | None = None
    size: ImageSize = Field(default_factory=lambda: ImageSize.parse(DEFAULT_SIZE))
    frames: int | None = Field(default=None, ge=1)
    device: str = "auto"
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    backend_options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("seed", mode="before")
    @classmethod
    def _negative_seed_is_the_scenarios(cls, v: Any) -> Any:
        if v is not None and not isinstance(v, bool) and isinstance(v, (int, float, str)):
            try:
                if int(v) < 0:
                    return None
            except ValueError:
                return v
        return v

    @field_validator("model_dir", mode="before")
    @classmethod
    def _empty_model_dir_is_none(cls, v: Any) -> Any:
        if isinstance(v, (str, os.PathLike)):
            text = str(v).strip()
            return text or None
        return v

    @field_validator("device")
    @classmethod
    def _known_device(cls, v: str) -> str:
        if not (v in DEVICE_NAMES or (v.startswith("cuda:") and v[5:].isdigit())):
            raise ValueError(f"device must be one of {', '.join(DEVICE_NAMES)} or cuda:N, got {v!r}")
        return v

    def settings(self, scenario_seed: int = 0) -> GenerationSettings:
        """The world model's `GenerationSettings` (seed: this config's, else `scenario_seed`)."""
        seed = int(scenario_seed) if self.seed is None else int(self.seed)
        return GenerationSettings(steps=self.steps, guidance_scale=self.guidance_scale, seed=seed,
                                  device=self.device, dtype=self.dtype)

    def image_size(self) -> tuple[int, int]:
        """(width, height) per camera."""
        return self.size.as_tuple()

    def render(self) -> RenderConfig:
        """The rendering part (size, frames) as a RenderConfig."""
        return RenderConfig(size=self.size, frames=self.frames)


class ExportConfig(_Config):
    """A nuScenes export: the clip (generation, incl. size and frames), the tables and the extras.

    version: the table folder name; scene_name None: the scenario's name; lidar_stub: also write empty
    LIDAR_TOP sample data; videos / guidance / openscenario: the per-scene extras.
    """

    generation: GenerationConfig = Field(default_factory=GenerationConfig)
    version: str = Field(default="v1.0-cornercase", min_length=1)
    scene_name: str | None = None
    jpeg_quality: int = Field(default=90, ge=1, le=100)
    lidar_stub: bool = False
    videos: bool = True
    guidance: bool = True
    openscenario: bool = True

    def settings(self) -> ExportSettings:
        """The exporter's `ExportSettings`."""
        return ExportSettings(size=self.generation.size.as_tuple(), frames=self.generation.frames,
                              generation=self.generation,
                              nuscenes=NuScenesOptions(version=self.version, jpeg_quality=self.jpeg_quality,
                                                       scene_name=self.scene_name, lidar_stub=self.lidar_stub),
                              videos=self.videos, guidance=self.guidance, openscenario=self.openscenario)


@dataclass(frozen=True)
class ExportSettings:
    """size: (width, height) of every camera image; frames: the first N frames (None: all of them);
    generation: the world model; nuscenes: table options; videos / guidance / openscenario: extras."""

    size: tuple[int, int] = (448, 256)
    frames: int | None = None
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    nuscenes: NuScenesOptions = field(default_factory=NuScenesOptions)
    videos: bool = True
    guidance: bool = True
    openscenario: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", ImageSize.parse(self.size).as_tuple())
        if self.frames is not None and int(self.frames) < 1:
            raise ValueError(f"frames must be at least 1, got {self.frames!r}")
