"""nuscenes-devkit's geometry helpers without the devkit package's 1.4 s import.

`import nuscenes.utils.geometry_utils` first runs `nuscenes/__init__.py`, which imports the `NuScenes`
database class and with it matplotlib, scikit-learn and pandas: about 1.4 s before any command that
touches a camera could start (and again in every batch worker's fork server). The geometry module
itself needs only numpy and pyquaternion. `geometry_utils()` returns the devkit's own module, loaded
from its file under its own name when the package is not imported yet; a later `import nuscenes`
(to read a dataset) finds it in `sys.modules` and uses the same module object.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType

GEOMETRY_UTILS = "nuscenes.utils.geometry_utils"


def _load_without_package(name: str) -> ModuleType:
    """Import the devkit submodule `name` from its file, leaving `nuscenes/__init__.py` unrun."""
    package = importlib.util.find_spec("nuscenes")
    if package is None or not package.submodule_search_locations:
        raise ImportError("nuscenes-devkit is not installed (pip install nuscenes-devkit)")
    root = list(package.submodule_search_locations)[0]
    path = f"{root}/{'/'.join(name.split('.')[1:])}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {name} from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def geometry_utils() -> ModuleType:
    """nuscenes-devkit's `nuscenes.utils.geometry_utils` (transform_matrix, view_points, ...)."""
    loaded = sys.modules.get(GEOMETRY_UTILS)
    if loaded is not None:
        return loaded
    if "nuscenes" in sys.modules:      # the package is imported already: the ordinary import is free
        return importlib.import_module(GEOMETRY_UTILS)
    return _load_without_package(GEOMETRY_UTILS)
