"""`engine.importing.import_skipping_package_inits`: a submodule loaded without its packages' `__init__`,
shared with a later ordinary import; and the checks use scipy's own k-d tree that way."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(code: str, cwd: Path, extra_path: Path | None = None) -> str:
    prefix = f"import sys; sys.path.insert(0, {str(extra_path)!r}); sys.path.insert(0, {str(REPO)!r}); " if extra_path else ""
    out = subprocess.run([sys.executable, "-c", prefix + code], cwd=cwd, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_a_submodule_loads_without_running_its_packages_and_is_shared_later(tmp_path):
    pkg = tmp_path / "heavy_pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("import builtins\nbuiltins.RAN = getattr(builtins, 'RAN', []) + ['pkg']\n")
    (pkg / "sub" / "__init__.py").write_text("import builtins\nbuiltins.RAN = getattr(builtins, 'RAN', []) + ['sub']\n")
    (pkg / "sub" / "leaf.py").write_text(textwrap.dedent("""
        def answer():
            return 42
    """))
    code = ("import builtins; from engine.importing import import_skipping_package_inits as imp; "
            "m = imp('heavy_pkg.sub.leaf'); print(m.answer(), getattr(builtins, 'RAN', [])); "
            "from heavy_pkg.sub.leaf import answer; print(answer is m.answer, getattr(builtins, 'RAN', [])); "
            "import heavy_pkg.sub; import heavy_pkg.sub.leaf as again; print(again is m, builtins.RAN)")
    assert _run(code, tmp_path, tmp_path).splitlines() == ["42 []", "True []", "True ['pkg', 'sub']"]


def test_a_missing_module_is_an_import_error(tmp_path):
    code = ("from engine.importing import import_skipping_package_inits as imp\n"
            "for name in ('no_such_pkg_xyz.mod', 'json.no_such_mod'):\n"
            "    try:\n        imp(name)\n    except ImportError as e:\n        print('ImportError', e.name)\n")
    assert _run(code, tmp_path, tmp_path).splitlines() == ["ImportError no_such_pkg_xyz.mod", "ImportError json.no_such_mod"]


def test_checking_the_demo_uses_scipys_kd_tree_without_importing_scipy_spatial():
    code = ("import sys; from engine.paths import DEMO_SCENARIO; from engine.scenario.io import load_scenario; "
            "from engine.checks import check_scenario; from engine.checks.lanes import _kd_tree_class; "
            "check_scenario(load_scenario(DEMO_SCENARIO)); print('scipy.spatial' in sys.modules); "
            "C = _kd_tree_class(); import scipy.spatial; print(C is scipy.spatial.cKDTree)")
    assert _run(code, REPO).splitlines() == ["False", "True"]
