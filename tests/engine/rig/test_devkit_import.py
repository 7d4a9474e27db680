"""Commands that only need cameras and poses do not import nuscenes-devkit's package (its __init__ pulls in
the NuScenes database class, matplotlib, scikit-learn and pandas: about 1.4 s); they still run the
devkit's own geometry functions, and a later real `import nuscenes` shares the same module."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_importing_the_rig_and_the_scene_source_errors_leaves_the_devkit_package_unimported():
    code = ("import sys, engine.rig, engine.render.guidance; from engine.sources.errors import SceneSourceError; "
            "print(sorted(m for m in ('nuscenes', 'matplotlib', 'sklearn', 'pandas') if m in sys.modules))")
    assert _run(code) == "[]"


def test_the_rig_uses_the_devkits_functions_and_a_later_devkit_import_shares_them():
    code = ("import numpy as np; from engine.rig.camera import view_points, transform_matrix; "
            "from engine.rig.pose import pose_matrix; "
            "import nuscenes; from nuscenes.nuscenes import NuScenes; "
            "import nuscenes.utils.geometry_utils as g; "
            "from pyquaternion import Quaternion; "
            "same = view_points is g.view_points and transform_matrix is g.transform_matrix; "
            "m = pose_matrix(1.0, 2.0, 0.5); "
            "ref = g.transform_matrix(np.array([1.0, 2.0, 0.0]), Quaternion(axis=[0, 0, 1], angle=0.5)); "
            "print(same, np.array_equal(m, ref), view_points.__module__)")
    assert _run(code) == "True True nuscenes.utils.geometry_utils"


def test_scene_source_names_still_resolve_lazily():
    code = ("import engine.sources as s; from engine.sources import list_scenes, NuScenesScene, CameraFrame; "
            "print(list_scenes.__module__, NuScenesScene.__module__, CameraFrame.__module__, "
            "s.SceneSourceError.__module__)")
    assert _run(code) == ("engine.sources.nuscenes_db engine.sources.nuscenes_reader engine.sources.streams "
                          "engine.sources.errors")
