"""Write the bundled demo scenario to resources/demo/demo_intersection.json."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.demo import build_demo_scenario  # noqa: E402
from engine.paths import DEMO_SCENARIO  # noqa: E402
from engine.scenario.io import save_scenario  # noqa: E402

if __name__ == "__main__":
    save_scenario(build_demo_scenario(), DEMO_SCENARIO)
    print(f"wrote {DEMO_SCENARIO}")
