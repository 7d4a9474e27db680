"""Importing one submodule of a third-party package without running the package's `__init__`.

Some packages import far more in their `__init__` than the submodule we use needs: nuscenes-devkit's
imports the `NuScenes` database class with matplotlib, scikit-learn and pandas (about 1.4 s) before
`nuscenes.utils.geometry_utils` (numpy and pyquaternion); scipy.spatial's imports qhull, distance
metrics and rotations (about 0.1 s) before its k-d tree. `import_skipping_package_inits` loads the
submodule from its file under its own name, so it is the library's own code; a later ordinary import
of the package finds the submodule in `sys.modules` and shares the module object.

Later imports of the submodule work in the `from pkg.sub.mod import name` form (what the libraries and
this code base use) and once the parent package has been imported; a bare `import pkg.sub.mod` while
`pkg.sub` itself was never imported does not (Python then looks the parent up as an attribute).
"""
from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
from types import ModuleType


def import_skipping_package_inits(name: str) -> ModuleType:
    """The module `name` ("pkg.sub.mod"), its parent packages' `__init__` left unrun when they are not
    imported yet (an ordinary import when the parent is). ImportError when it cannot be found or loaded."""
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    parent = name.rpartition(".")[0]
    if not parent or parent in sys.modules:
        return importlib.import_module(name)
    top, *middle, _ = name.split(".")
    top_spec = importlib.util.find_spec(top)            # finds the package without running it
    if top_spec is None or not top_spec.submodule_search_locations:
        raise ImportError(f"{top} is not an installed package (needed for {name})", name=name)
    dirs = [os.path.join(d, *middle) for d in top_spec.submodule_search_locations]
    spec = importlib.machinery.PathFinder.find_spec(name, dirs)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot find {name} in {', '.join(dirs)}", name=name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module
