"""Where the bundled resources live."""
from __future__ import annotations

from pathlib import Path

REPO_ROOT: Path = Path(__file__).resolve().parent.parent
RESOURCES_DIR: Path = REPO_ROOT / "resources"
DATA_DIR: Path = RESOURCES_DIR / "data"
DEMO_SCENARIO: Path = RESOURCES_DIR / "demo" / "demo_intersection.json"
SCENARIO_SCHEMA: Path = RESOURCES_DIR / "scenario.schema.json"
DEFAULT_RIG: Path = DATA_DIR / "nuscenes_rig.json"
CLASSES_FILE: Path = DATA_DIR / "nuscenes_classes.json"
