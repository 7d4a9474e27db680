"""The [diffusion] extra is optional: the core never imports it, and its absence is one clear message.

Backend names are a closed StrEnum whose values are the strings of the CLI, settings and saved files.
"""
from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from engine.worldmodel import MissingExtraError, WorldModelError, create_backend
from engine.worldmodel.registry import BACKEND_NAMES, DEFAULT_BACKEND, BackendName

EXTRA_PACKAGES = ("diffusers", "transformers", "accelerate", "peft")
HINT = "pip install 'cornercase-studio[diffusion]'"


def _hide(monkeypatch: pytest.MonkeyPatch, package: str) -> None:
    """Make `package` (and its already imported submodules) unimportable, as if it were not installed."""
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, package, None)


def test_diffusion_backend_without_diffusers_names_the_extra(monkeypatch, tmp_path):
    _hide(monkeypatch, "diffusers")
    with pytest.raises(MissingExtraError) as info:
        create_backend("diffusion", tmp_path)
    assert str(info.value) == f"the diffusion backend needs diffusers: {HINT}"
    assert info.value.name == "diffusers"
    assert isinstance(info.value, WorldModelError) and isinstance(info.value, ImportError)


def test_diffusion_backend_without_transformers_names_it(monkeypatch, tmp_path):
    _hide(monkeypatch, "transformers")
    with pytest.raises(MissingExtraError, match=r"the diffusion backend needs transformers: pip install"):
        create_backend(BackendName.DIFFUSION, tmp_path)


def test_importing_the_pipeline_without_diffusers_is_one_clear_error(monkeypatch):
    _hide(monkeypatch, "diffusers")
    for module in ("engine.worldmodel.diffusion.pipeline", "engine.worldmodel.diffusion.convert",
                   "engine.worldmodel.diffusion.configs", "engine.worldmodel.diffusion.tensors"):
        if module in sys.modules:
            monkeypatch.delitem(sys.modules, module)
    with pytest.raises(MissingExtraError) as info:
        importlib.import_module("engine.worldmodel.diffusion.convert")
    assert str(info.value) == f"the diffusion backend needs diffusers: {HINT}"
    assert isinstance(info.value.__cause__, ImportError)


def test_core_and_naive_backend_never_import_the_diffusion_extra():
    """A fresh interpreter: import engine.worldmodel, generate a naive clip, list the extra's packages loaded."""
    code = (
        "import json, sys\n"
        "import engine.worldmodel as wm\n"
        "from engine.worldmodel.synthetic import plane_conditions\n"
        "from engine.rig import CameraRig\n"
        "c = plane_conditions((64, 32), 2, rig=CameraRig.default((64, 32)))\n"
        "clip = wm.generate_clip(wm.create_backend('naive'), c, wm.GenerationSettings(seed=1))\n"
        f"print(json.dumps([clip.backend, clip.frames.shape[0], [m for m in {EXTRA_PACKAGES!r} if m in sys.modules]]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    backend, frames, loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert (backend, frames) == ("naive", 2)
    assert loaded == []


def test_backend_names_are_a_str_enum_equal_to_their_strings():
    assert [b.value for b in BackendName] == ["naive", "diffusion", "cosmos", "magicdrive"]
    assert BACKEND_NAMES == ("naive", "diffusion", "cosmos", "magicdrive")
    assert DEFAULT_BACKEND == "naive" and BackendName("magicdrive") is BackendName.MAGICDRIVE
    assert json.dumps({"backend": BackendName.COSMOS}) == '{"backend": "cosmos"}'
    assert f"{BackendName.DIFFUSION}" == "diffusion"
    assert create_backend("naive").name == BackendName.NAIVE == create_backend(BackendName.NAIVE).name
    with pytest.raises(ValueError, match="unknown world-model backend 'dreamer'; choose one of naive, diffusion"):
        create_backend("dreamer")


@pytest.mark.parametrize("argv", [["model", "convert", "--base", "SD", "--controlnet", "depth=CN", "-o", "OUT"],
                                  ["generate", "DEMO", "-o", "OUT", "--backend", "diffusion", "--model", "M"]])
def test_the_cli_names_the_missing_extra_and_exits_2(argv, tmp_path):
    """A command that needs the [diffusion] extra, run where diffusers cannot be imported: exit 2, one line
    naming the extra, no traceback (a fresh interpreter: the package is hidden before anything imports it)."""
    from pathlib import Path

    demo = Path(__file__).resolve().parents[3] / "resources" / "demo" / "demo_intersection.json"
    argv = [a.replace("DEMO", str(demo)).replace("OUT", str(tmp_path / "out")) for a in argv]
    for name in ("SD", "CN", "M"):
        (tmp_path / name).mkdir()
    argv = [str(tmp_path / a) if a in ("SD", "M") else a for a in argv]
    argv = [a.replace("depth=CN", f"depth={tmp_path / 'CN'}") for a in argv]
    code = ("import sys; sys.modules['diffusers'] = None; from main import main; "
            f"sys.exit(main({argv!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 2, out.stderr
    assert HINT in out.stderr and "Traceback" not in out.stderr
