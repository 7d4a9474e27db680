"""nuscenes-devkit's geometry helpers without the devkit package's 1.4 s import.

`import nuscenes.utils.geometry_utils` first runs `nuscenes/__init__.py`, which imports the `NuScenes`
database class and with it matplotlib, scikit-learn and pandas: about 1.4 s before any command that
touches a camera could start (and again in every batch worker's fork server). The geometry module
itself needs only numpy and pyquaternion. This module re-exports the devkit's own functions, loaded
from its file under its own name when the package is not imported yet; a later `import nuscenes`
(to read a dataset) finds it in `sys.modules` and uses the same module object.
"""
from __future__ import annotations

from engine.importing import import_skipping_package_inits

_geometry_utils = import_skipping_package_inits("nuscenes.utils.geometry_utils")
transform_matrix = _geometry_utils.transform_matrix
view_points = _geometry_utils.view_points
