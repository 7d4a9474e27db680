"""Backends by name: `create_backend("naive")`, `create_backend("diffusion", model_dir=...)`."""
from __future__ import annotations

import os

from engine.worldmodel.base import WorldModel

BACKEND_NAMES: tuple[str, ...] = ("naive", "diffusion", "cosmos", "magicdrive")
DEFAULT_BACKEND = "naive"


def create_backend(name: str = DEFAULT_BACKEND, model_dir: str | os.PathLike | None = None, **options) -> WorldModel:
    """A world model by name.

    naive: the embedded default, needs no model. diffusion: needs `model_dir`, a local pipeline folder
    (ModelNotConfiguredError without one, ModelLoadError for a bad one); options: DiffusionOptions fields
    (controlnet_scales, noise_sharing, ...). cosmos: a local Cosmos-Transfer2.5 folder.
    ValueError names an unknown backend.
    """
    if name == "naive":
        from engine.worldmodel.naive.backend import NaiveBackend

        return NaiveBackend(**options)
    if name == "diffusion":
        from engine.worldmodel.diffusion.backend import DiffusionBackend

        return DiffusionBackend(model_dir, **options)
    if name == "cosmos":  # Cosmos-Transfer2.5 from a local folder, per camera (engine/worldmodel/cosmos)
        from engine.worldmodel.cosmos.backend import CosmosBackend

        return CosmosBackend(model_dir, **options)
    if name == "magicdrive":  # MagicDrive's six-view model from a converted folder (engine/worldmodel/magicdrive)
        from engine.worldmodel.magicdrive.backend import MagicDriveBackend

        return MagicDriveBackend(model_dir, **options)
    raise ValueError(f"unknown world-model backend {name!r}; choose one of {', '.join(BACKEND_NAMES)}")
