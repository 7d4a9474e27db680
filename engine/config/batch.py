"""A batch spec's settings as frozen, validated configs (the batch JSON's part of `engine.config`).

    run, problems = parse_batch_run(doc, BACKEND_NAMES)       # interpreter, seeds, max_variants, export
    cfg, problems = parse_batch_export(doc.get("export"), BACKEND_NAMES)    # just the `export` object
    cfg = BatchExportConfig.model_validate(export_doc, context={"backends": BACKEND_NAMES})  # ValidationError ...
    problems = field_problems(error, "export")                # ... as ["export.size: ...", ...] (BatchSpecError form)
    cfg.generation(seed)                                      # the GenerationConfig of each variant's clip
    cfg.export_config(seed)                                   # the ExportConfig of its nuScenes export
    ExportSpec(**cfg.spec_fields())                           # engine.batch.spec's record of the same fields

The fields and their checks are those of `engine.batch.spec.ExportSpec` (formats, size, frames,
backend, model_dir, steps, guidance_scale, device, version, lidar_stub, videos, guidance,
jpeg_quality, osc_version), with the same bounds; values are strict (no true for 1, no "20" for 20).
`size` is the one size type, `ImageSize` (also "448x256"), at most BATCH_MAX_SIDE pixels a side.
"""
from __future__ import annotations

from typing import Any, Literal, Mapping, Sequence

from pydantic import ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from engine.config.models import ExportConfig, GenerationConfig, _Config
from engine.config.size import DEFAULT_SIZE, ImageSize

#: What each variant can be exported as (the spec's ``export.formats`` strings).
ExportFormatName = Literal["nuscenes", "openscenario"]
EXPORT_FORMATS: tuple[ExportFormatName, ...] = ("nuscenes", "openscenario")
#: A batch renders at most this many pixels a side (a worker holds six cameras' frames of it).
BATCH_MAX_SIDE = 4096


class BatchExportConfig(_Config):
    """How each variant of a batch is exported: formats, the clip (backend, size, sampling) and the tables."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True, strict=True)

    formats: tuple[ExportFormatName, ...] = EXPORT_FORMATS
    size: ImageSize = Field(default_factory=lambda: ImageSize.parse(DEFAULT_SIZE))
    frames: int | None = Field(default=None, ge=1)
    backend: str = Field(default="naive", min_length=1)
    model_dir: str | None = None
    steps: int = Field(default=20, ge=1, le=1000)
    guidance_scale: float = Field(default=4.0, ge=0.0)
    device: str = Field(default="auto", min_length=1)
    version: str = Field(default="v1.0-cornercase", min_length=1)
    lidar_stub: bool = False
    videos: bool = True
    guidance: bool = True
    jpeg_quality: int = Field(default=90, ge=1, le=100)
    osc_version: int = Field(default=2, ge=0, le=3)

    @field_validator("formats", mode="before")
    @classmethod
    def _one_or_many_formats(cls, v: Any) -> Any:
        """'nuscenes' or a list of formats; repeated formats count once (in the order given)."""
        if isinstance(v, str):
            v = [v]
        if isinstance(v, (list, tuple)) and not v:
            raise ValueError(f"expected a non-empty list of {', '.join(EXPORT_FORMATS)}")
        if isinstance(v, list):
            return tuple(dict.fromkeys(v)) if all(isinstance(f, str) for f in v) else tuple(v)
        return v

    @field_validator("size", mode="before")
    @classmethod
    def _size_within_batch_limit(cls, v: Any) -> ImageSize:
        size = ImageSize.parse(v)
        if max(size.width, size.height) > BATCH_MAX_SIDE:
            raise ValueError(f"width and height must be at most {BATCH_MAX_SIDE} pixels in a batch, got {size}")
        return size

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, v: str, info: ValidationInfo) -> str:
        """Checked against the validation context's "backends" when the caller gives them (engine.config
        does not import the world models: they import it)."""
        backends = info.context.get("backends") if isinstance(info.context, dict) else None
        if backends is not None and v not in backends:
            raise ValueError(f"unknown backend {v!r}; use one of {', '.join(backends)}")
        return v

    @model_validator(mode="after")
    def _diffusion_needs_a_model(self) -> BatchExportConfig:
        if self.backend == "diffusion" and not self.model_dir and "nuscenes" in self.formats:
            raise ValueError("model_dir: the diffusion backend needs a local model folder")
        return self

    @property
    def needs_gpu(self) -> bool:
        """Whether a worker should be given a GPU (the diffusion backend, unless forced onto the CPU)."""
        return "nuscenes" in self.formats and self.backend == "diffusion" and self.device != "cpu"

    def spec_fields(self) -> dict[str, Any]:
        """The fields as `engine.batch.spec.ExportSpec` holds them (size and formats as tuples)."""
        out = self.model_dump()
        out["size"] = self.size.as_tuple()
        out["formats"] = tuple(self.formats)
        return out

    def generation(self, seed: int | None = None) -> GenerationConfig:
        """The GenerationConfig of each variant's clip (seed None: the variant scenario's seed)."""
        return GenerationConfig(backend=self.backend, model_dir=self.model_dir, steps=self.steps,
                                guidance_scale=self.guidance_scale, seed=seed, size=self.size, frames=self.frames,
                                device=self.device)

    def export_config(self, seed: int | None = None) -> ExportConfig:
        """The ExportConfig of each variant's nuScenes export (OpenSCENARIO is the `formats` entry)."""
        return ExportConfig(generation=self.generation(seed), version=self.version, jpeg_quality=self.jpeg_quality,
                            lidar_stub=self.lidar_stub, videos=self.videos, guidance=self.guidance,
                            openscenario="openscenario" in self.formats)


BatchInterpreter = Literal["offline", "llm"]
DEFAULT_MAX_VARIANTS = 10000


class BatchRunConfig(_Config):
    """The run settings of a batch spec (its top-level `interpreter`, `seeds`, `max_variants` and `export`).

    seeds: a list of integers >= 0 (repeats count once) or {"start": s, "count": n} (s, s+1, ... s+n-1);
    None: each variant keeps its scenario's seed. The spec's sources (base, script, prompts), sweep
    and filter are not settings and stay with `engine.batch.spec`.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", validate_default=True, strict=True)

    interpreter: BatchInterpreter = "offline"
    seeds: tuple[int, ...] | None = None
    max_variants: int = Field(default=DEFAULT_MAX_VARIANTS, ge=1)
    export: BatchExportConfig = Field(default_factory=BatchExportConfig)

    @field_validator("interpreter", mode="before")
    @classmethod
    def _known_interpreter(cls, v: Any) -> Any:
        if v not in ("offline", "llm"):
            raise ValueError("expected one of offline, llm")
        return v

    @field_validator("seeds", mode="before")
    @classmethod
    def _seed_list(cls, v: Any) -> Any:
        if v is None:
            return None
        if isinstance(v, Mapping):
            start, count = v.get("start", 0), v.get("count")
            if set(v) - {"start", "count"} or not isinstance(start, int) or not isinstance(count, int) \
                    or count < 1 or start < 0:
                raise ValueError('expected {"start": int >= 0, "count": int >= 1}')
            return tuple(range(start, start + count))
        if isinstance(v, list):
            if not v or any(not isinstance(s, int) or isinstance(s, bool) or s < 0 for s in v):
                raise ValueError("expected a non-empty list of integers >= 0")
            return tuple(dict.fromkeys(v))
        raise ValueError('expected a list of integers or {"start", "count"}')

    @field_validator("max_variants", mode="before")
    @classmethod
    def _positive_count(cls, v: Any) -> Any:
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError("expected a positive integer")
        return v

    @field_validator("export", mode="before")
    @classmethod
    def _export_or_defaults(cls, v: Any) -> Any:
        if v is None:
            return BatchExportConfig()
        if isinstance(v, Mapping) and not isinstance(v, dict):
            return dict(v)
        if not isinstance(v, (dict, BatchExportConfig)):
            raise ValueError("expected an object")
        return v


def _context(backends: Sequence[str] | None) -> dict[str, Any] | None:
    return None if backends is None else {"backends": tuple(backends)}


def parse_batch_run(doc: Mapping[str, Any], backends: Sequence[str] | None = None) -> tuple[BatchRunConfig, list[str]]:
    """A batch spec document's run settings and their problems ('field: reason', 'export.field: reason');
    with problems, the settings are the defaults. `backends`: the known world-model backends
    (`engine.worldmodel.BACKEND_NAMES`; None: not checked)."""
    keys = ("interpreter", "seeds", "max_variants", "export")
    try:
        return BatchRunConfig.model_validate({k: doc[k] for k in keys if k in doc}, context=_context(backends)), []
    except ValidationError as e:
        return BatchRunConfig(), field_problems(e)


def parse_batch_export(doc: Any, backends: Sequence[str] | None = None) -> tuple[BatchExportConfig, list[str]]:
    """A batch spec's `export` value as a config (the defaults when it is absent or bad) and its problems,
    each 'export.field: reason'. `backends`: as for `parse_batch_run`."""
    if doc is None:
        return BatchExportConfig(), []
    if not isinstance(doc, Mapping):
        return BatchExportConfig(), ["export: expected an object"]
    try:
        return BatchExportConfig.model_validate(dict(doc), context=_context(backends)), []
    except ValidationError as e:
        return BatchExportConfig(), field_problems(e, "export")


def field_problems(error: ValidationError, prefix: str = "") -> list[str]:
    """One 'prefix.field: reason' line per problem of a ValidationError (the batch spec's problem list form);
    a problem with one item of a list field names the item in the reason."""
    out: list[str] = []
    for err in error.errors():
        parts = [str(p) for p in err.get("loc", ()) if not isinstance(p, int)]
        items = [p for p in err.get("loc", ()) if isinstance(p, int)]
        loc = ".".join(parts)
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if items:
            msg += f" (item {items[0]}: {err.get('input')!r})"     # formats: ... (item 1: 'mp4')
        head, sep, rest = msg.partition(": ")
        if sep and head in BatchExportConfig.model_fields and parts[-1:] in ([], ["export"]):
            loc, msg = ".".join(parts + [head]), rest        # a model-level check that names its field
        where = ".".join(p for p in (prefix, loc) if p) or "(top)"
        out.append(f"{where}: {msg}")
    return out


__all__ = ["BATCH_MAX_SIDE", "DEFAULT_MAX_VARIANTS", "EXPORT_FORMATS", "BatchExportConfig", "BatchInterpreter",
           "BatchRunConfig", "ExportFormatName", "field_problems", "parse_batch_export", "parse_batch_run"]
