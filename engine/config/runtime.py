"""The runtime settings records the engine's workers take (plain frozen dataclasses, checked on creation):
`GenerationSettings` (one world-model run) and `NuScenesOptions` (how a scene's tables are written).
They live here, below `engine.worldmodel` and `engine.export`, so that the typed configs of
`engine.config.models` convert to them without importing upward (no import cycle)."""
from __future__ import annotations

from dataclasses import dataclass

#: The nuScenes table folder name an export writes by default.
DEFAULT_VERSION = "v1.0-cornercase"

DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("auto", "float32", "float16", "bfloat16")


@dataclass(frozen=True)
class GenerationSettings:
    """User settings of one generation run.

    steps: denoising steps per frame (ignored by the naive backend); guidance_scale: classifier-free
    guidance (<= 1 disables it); seed: makes runs repeatable; device: auto | cpu | cuda | cuda:N;
    dtype: auto (fp16/bf16 on CUDA, float32 on CPU) or an explicit torch dtype name;
    preview_every: steps between intermediate previews (0: none).
    """

    steps: int = 20
    guidance_scale: float = 4.0
    seed: int = 0
    device: str = "auto"
    dtype: str = "auto"
    preview_every: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.steps, int) or self.steps < 1:
            raise ValueError(f"steps must be a positive integer, got {self.steps!r}")
        if not self.guidance_scale >= 0:
            raise ValueError(f"guidance_scale must be >= 0, got {self.guidance_scale!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        dev = str(self.device)
        if not (dev in DEVICES or (dev.startswith("cuda:") and dev[5:].isdigit())):
            raise ValueError(f"device must be one of {', '.join(DEVICES)} or cuda:N, got {self.device!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        if self.preview_every < 0:
            raise ValueError(f"preview_every must be >= 0, got {self.preview_every!r}")


@dataclass(frozen=True)
class NuScenesOptions:
    """How a scene is written.

    version: the table folder name (``NuScenes(version=...)``); jpeg_quality: 1..100;
    scene_name: defaults to the scenario name; location / vehicle: log fields (None: the source
    scene's for an edited real scene, else 'cornercase-synthetic' / 'cornercase-ego');
    start_time_us: timestamp of frame 0 (default: the source scene's first sample for an edited real
    scene, else now, so scenes exported later sort later);
    lidar_stub: also write a LIDAR_TOP sample_data per key frame pointing to an empty point cloud
    (0 points), for converters (mmdet3d) that index samples by LIDAR_TOP;
    lidar_pose: LIDAR_TOP calibration (translation, rotation [w, x, y, z]) for the stub.
    """

    version: str = DEFAULT_VERSION
    jpeg_quality: int = 90
    scene_name: str | None = None
    description: str | None = None
    location: str | None = None
    vehicle: str | None = None
    start_time_us: int | None = None
    lidar_stub: bool = False
    lidar_pose: tuple[tuple[float, float, float], tuple[float, float, float, float]] = (
        (0.943713, 0.0, 1.84023), (0.7077955119163518, -0.006492242056004365, 0.010646214713995808, -0.7063073142877817))

    def __post_init__(self) -> None:
        if not 1 <= int(self.jpeg_quality) <= 100:
            raise ValueError(f"jpeg_quality must be in 1..100, got {self.jpeg_quality!r}")
        if not self.version or any(c in self.version for c in "/\\") or self.version.startswith("."):
            raise ValueError(f"version must be a plain folder name like 'v1.0-cornercase', got {self.version!r}")
