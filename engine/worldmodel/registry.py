"""Backends by name: `create_backend("naive")`, `create_backend("diffusion", model_dir=...)`.

`BackendName` is the closed set of backend names; its values are the strings used on the command line,
in settings and in saved files (a `StrEnum`, so a member equals its string and serialises as it).
"""
from __future__ import annotations

import os
from enum import StrEnum
from typing import Any

from engine.worldmodel.base import WorldModel


class BackendName(StrEnum):
    """The world-model backends: naive (embedded, no model), diffusion (SD 1.x + ControlNets folder),
    cosmos (Cosmos-Transfer2.5 folder), magicdrive (converted MagicDrive folder)."""

    NAIVE = "naive"
    DIFFUSION = "diffusion"
    COSMOS = "cosmos"
    MAGICDRIVE = "magicdrive"


BACKEND_NAMES: tuple[str, ...] = tuple(b.value for b in BackendName)
DEFAULT_BACKEND = BackendName.NAIVE


def create_backend(name: BackendName | str = DEFAULT_BACKEND, model_dir: str | os.PathLike[str] | None = None,
                   **options: Any) -> WorldModel:
    """A world model by name (a `BackendName` or its string).

    naive: the embedded default, needs no model. diffusion: needs `model_dir`, a local pipeline folder
    (ModelNotConfiguredError without one, ModelLoadError for a bad one); options: DiffusionOptions fields
    (controlnet_scales, noise_sharing, ...). cosmos: a local Cosmos-Transfer2.5 folder.
    ValueError names an unknown backend; MissingExtraError names the extra a backend's packages come from.
    """
    try:
        backend = BackendName(name)
    except ValueError:
        raise ValueError(f"unknown world-model backend {name!r}; choose one of {', '.join(BACKEND_NAMES)}") from None
    if backend is BackendName.NAIVE:
        from engine.worldmodel.naive.backend import NaiveBackend

        return NaiveBackend(**options)
    if backend is BackendName.DIFFUSION:
        from engine.worldmodel.diffusion.backend import DiffusionBackend

        return DiffusionBackend(model_dir, **options)
    if backend is BackendName.COSMOS:  # Cosmos-Transfer2.5 from a local folder, per camera (engine/worldmodel/cosmos)
        from engine.worldmodel.cosmos.backend import CosmosBackend

        return CosmosBackend(model_dir, **options)
    # magicdrive: MagicDrive's six-view model from a converted folder (engine/worldmodel/magicdrive)
    from engine.worldmodel.magicdrive.backend import MagicDriveBackend

    return MagicDriveBackend(model_dir, **options)
