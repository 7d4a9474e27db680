"""Shared fixtures: the demo scenario, a temporary output folder."""
from __future__ import annotations

import pytest

from engine.paths import DEMO_SCENARIO
from engine.scenario.io import load_scenario


@pytest.fixture(scope="session")
def demo_scenario():
    """The bundled demo, loaded once."""
    return load_scenario(DEMO_SCENARIO)
