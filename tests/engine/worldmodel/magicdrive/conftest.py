"""A tiny MagicDrive folder per session (tools/make_tiny_magicdrive.py), small enough for a CPU."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]


def _maker():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import make_tiny_magicdrive
    finally:
        sys.path.remove(str(ROOT / "tools"))
    return make_tiny_magicdrive


@pytest.fixture(scope="session")
def tiny_magicdrive(tmp_path_factory) -> Path:
    """A seeded tiny folder generating 64x112 views (the adaptive-pool map embedder)."""
    return _maker().write_tiny(tmp_path_factory.mktemp("md") / "tiny", seed=0, image_size=(64, 112))


@pytest.fixture(scope="session")
def make_tiny():
    return _maker().write_tiny
