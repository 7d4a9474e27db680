"""Fixtures for the world-model tests: a small rig, a tiny pipeline folder, torch on one thread."""
from __future__ import annotations

import pytest

from engine.rig import CameraRig
from wm_helpers import SMALL


@pytest.fixture()
def small_rig() -> CameraRig:
    return CameraRig.default(SMALL)


@pytest.fixture(scope="session")
def tiny_pipeline_dir(tmp_path_factory):
    """A tiny seeded random-weight pipeline folder, written once per session."""
    from engine.worldmodel.diffusion.configs import write_pipeline_folder

    return write_pipeline_folder(tmp_path_factory.mktemp("models") / "tiny", "tiny", seed=0)


@pytest.fixture()
def one_torch_thread():
    """Run torch on one thread: on a shared 2-core machine OpenMP spinning makes 2 threads far slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
