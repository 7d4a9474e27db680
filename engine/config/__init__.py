"""Typed configuration (pydantic, frozen, JSON round trip): one image-size type and the settings that
cross layers. See `size` (ImageSize, parse_size), `models` (RenderConfig, GenerationConfig, ExportConfig) and
`batch` (BatchRunConfig, BatchExportConfig: a batch spec's run settings and `export` object).

    from engine.config import GenerationConfig, ImageSize
    cfg = GenerationConfig.model_validate_json(path.read_text())
"""
from engine.config.batch import BatchExportConfig, BatchRunConfig, field_problems, parse_batch_export, parse_batch_run
from engine.config.models import (
    DEVICE_NAMES, DTYPE_NAMES, ExportConfig, GenerationConfig, RenderConfig, error_message,
)
from engine.config.size import DEFAULT_SIZE, MAX_SIDE, MIN_SIDE, ImageSize, parse_size

__all__ = [
    "DEFAULT_SIZE", "DEVICE_NAMES", "DTYPE_NAMES", "MAX_SIDE", "MIN_SIDE", "BatchExportConfig", "BatchRunConfig",
    "ExportConfig", "GenerationConfig", "ImageSize", "RenderConfig", "error_message", "field_problems",
    "parse_batch_export", "parse_batch_run", "parse_size",
]
