"""Fixtures for the training tests: the small nuScenes-format dataset, a tiny seeded pipeline, a prepared cache.

Torch runs single-threaded here: the tiny models are far faster that way on a shared CPU.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.fixtures.nuscenes_fixture import nuscenes_dataset  # noqa: F401 (fixture)
from training_helpers import SIZE

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny seeded WorldModelPipeline folder (the same as tools/make_tiny_pipeline.py writes)."""
    from engine.worldmodel.diffusion.configs import write_pipeline_folder

    return write_pipeline_folder(tmp_path_factory.mktemp("tiny") / "model", "tiny", seed=0)


@pytest.fixture(scope="session")
def prepared(nuscenes_dataset, tmp_path_factory):  # noqa: F811
    """(cache folder, PrepareReport): every scene, 64x32, half the samples with an insertion, 4 per shard."""
    from engine.training.prepare import prepare_cache
    from engine.training.samples import PrepareSettings

    out = tmp_path_factory.mktemp("cache") / "cache"
    settings = PrepareSettings(size=SIZE, insert_share=0.6, shard_size=4, seed=3)
    report = prepare_cache(str(nuscenes_dataset.dataroot), nuscenes_dataset.version, out, settings, progress=False)
    return out, report
