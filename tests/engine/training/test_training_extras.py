"""Optional dependencies: `train prepare | run | eval` without the `[ray]` / `[diffusion]` extra end with one line
naming the feature and the install command (exit 2), not an ImportError traceback; nothing is written.

A missing package is simulated the way Python itself marks one: `sys.modules[name] = None` makes every
import of it (and `importlib.util.find_spec`) fail.
"""
from __future__ import annotations

import sys

import pytest

from main import main


def _train(tmp_path, *extra: str) -> list[str]:
    return ["train", "run", "--init", str(tmp_path / "model"), "--cache", str(tmp_path / "cache"),
            "-o", str(tmp_path / "run"), "--steps", "2", "-q", *extra]


def test_train_run_ray_without_ray_names_the_ray_extra(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)
    rc = main(_train(tmp_path, "--ray", "local", "--num-workers", "2"))
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "train run --ray needs ray: pip install 'cornercase-studio[ray]'" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("package", ["diffusers", "accelerate"])
def test_train_run_without_the_diffusion_stack_names_the_diffusion_extra(package, monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, package, None)
    rc = main(_train(tmp_path))
    err = capsys.readouterr().err
    assert rc == 2, err
    assert f"train run needs {package}: pip install 'cornercase-studio[diffusion]'" in err
    assert "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_train_run_lora_without_peft_names_the_diffusion_extra(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "peft", None)
    rc = main(_train(tmp_path, "--trainable", "controlnets,unet-lora"))
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "train run --trainable unet-lora needs peft: pip install 'cornercase-studio[diffusion]'" in err


def test_train_prepare_ray_without_ray_names_the_ray_extra(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)
    rc = main(["train", "prepare", str(tmp_path / "data"), "-o", str(tmp_path / "cache"), "--ray", "local", "-q"])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "train prepare --ray needs ray: pip install 'cornercase-studio[ray]'" in err
    assert not (tmp_path / "cache").exists()


def test_train_eval_without_the_diffusion_stack_names_the_diffusion_extra(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "transformers", None)
    rc = main(["train", "eval", "--model", str(tmp_path / "model"), "--cache", str(tmp_path / "cache"), "-q"])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "train eval needs transformers: pip install 'cornercase-studio[diffusion]'" in err
    assert "Traceback" not in err
