"""Guard rail: engine/ and editor/ never import Qt (directly or through Qt-based packages)."""
from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
QT_PACKAGES = {"PySide6", "PyQt5", "PyQt6", "qtpy", "shiboken6", "pyqtgraph", "vispy", "superqt", "pytestqt"}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module":
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                out.append((node.lineno, node.args[0].value))
    return out


def test_no_qt_below_app():
    offenders = []
    for layer in ("engine", "editor"):
        for path in sorted((REPO / layer).rglob("*.py")):
            for line, module in _imports(path):
                if module.split(".")[0] in QT_PACKAGES:
                    offenders.append(f"{path.relative_to(REPO)}:{line} imports {module}")
    assert not offenders, "Qt below app/:\n" + "\n".join(offenders)


def test_layers_only_point_down():
    """engine never imports editor or app; editor never imports app."""
    offenders = []
    forbidden = {"engine": {"editor", "app"}, "editor": {"app"}}
    for layer, banned in forbidden.items():
        for path in sorted((REPO / layer).rglob("*.py")):
            for line, module in _imports(path):
                if module.split(".")[0] in banned:
                    offenders.append(f"{path.relative_to(REPO)}:{line} imports {module}")
    assert not offenders, "\n".join(offenders)


def test_import_linter_contracts_hold():
    """The same rules, checked by import-linter on the real import graph (indirect imports too)."""
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    r = subprocess.run([exe, "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
