"""MagicDrive folders: recognising, checking and converting a release (`.bin` -> safetensors)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from engine.worldmodel.errors import ModelLoadError, ModelNotConfiguredError
from engine.worldmodel.magicdrive.folder import check_folder, convert_release, describe_folder, folder_problems

ROOT = Path(__file__).resolve().parents[4]


def _fake_release(tiny: Path, dst: Path, with_sd: bool = False) -> Path:
    """A folder shaped like MagicDrive's release: unet/ and controlnet/ with pickled .bin weights."""
    dst.mkdir()
    for part in ("unet", "controlnet"):
        (dst / part).mkdir()
        shutil.copy(tiny / part / "config.json", dst / part / "config.json")
        torch.save(load_file(str(tiny / part / "diffusion_pytorch_model.safetensors")),
                   dst / part / "diffusion_pytorch_model.bin")
    (dst / "hydra").mkdir()
    (dst / "hydra" / "config.yaml").write_text("dataset:\n  image_size: [64, 112]\n")
    if with_sd:
        for part in ("vae", "text_encoder", "tokenizer", "scheduler"):
            shutil.copytree(tiny / part, dst / part)
    return dst


def _sd15(tiny: Path, dst: Path) -> Path:
    dst.mkdir()
    for part in ("vae", "text_encoder", "tokenizer", "scheduler"):
        shutil.copytree(tiny / part, dst / part)
    return dst


def test_describe_recognises_studio_folder_release_and_other(tiny_magicdrive, tmp_path):
    assert "MagicDrive model" in describe_folder(tiny_magicdrive)
    assert "keys and shapes fit" in describe_folder(tiny_magicdrive)
    release = _fake_release(tiny_magicdrive, tmp_path / "rel")
    assert "MagicDrive release" in describe_folder(release)
    assert describe_folder(tmp_path) is None
    assert describe_folder(tmp_path / "missing") is None


def test_check_folder_messages(tiny_magicdrive, tmp_path):
    assert check_folder(tiny_magicdrive) == tiny_magicdrive
    with pytest.raises(ModelNotConfiguredError, match="tools/make_tiny_magicdrive.py"):
        check_folder(None)
    with pytest.raises(ModelLoadError, match="does not exist"):
        check_folder(tmp_path / "nope")
    with pytest.raises(ModelLoadError, match="magicdrive.json is missing"):
        check_folder(tmp_path)
    release = _fake_release(tiny_magicdrive, tmp_path / "rel")
    with pytest.raises(ModelLoadError, match="convert it once"):
        check_folder(release)
    broken = tmp_path / "broken"
    shutil.copytree(tiny_magicdrive, broken)
    shutil.rmtree(broken / "vae")
    with pytest.raises(ModelLoadError, match="'vae' subfolder is missing"):
        check_folder(broken)


def test_weights_that_do_not_fit_are_named(tiny_magicdrive, tmp_path):
    from safetensors.torch import save_file

    bad = tmp_path / "bad"
    shutil.copytree(tiny_magicdrive, bad)
    f = bad / "unet" / "diffusion_pytorch_model.safetensors"
    state = load_file(str(f))
    state.pop("conv_in.weight")
    state["extra.weight"] = torch.zeros(1)
    save_file(state, str(f))
    problems = folder_problems(bad)
    assert len(problems) == 1 and "conv_in.weight" in problems[0] and "extra.weight" in problems[0]
    assert describe_folder(bad) is None  # `model check` then reports the problem and exits 2
    from engine.worldmodel.diffusion.inspect_folder import describe

    assert describe(bad).problems == problems
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "model", "check", str(bad)], capture_output=True,
                       text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 2 and "conv_in.weight" in r.stderr and "Traceback" not in r.stderr


def test_convert_release_round_trips_the_tensors(tiny_magicdrive, tmp_path):
    release = _fake_release(tiny_magicdrive, tmp_path / "rel")
    out = convert_release(release, tmp_path / "out", sd15=_sd15(tiny_magicdrive, tmp_path / "sd15"))
    assert check_folder(out) == out and folder_problems(out) == []
    info = json.loads((out / "magicdrive.json").read_text())
    assert info["image_size"] == [64, 112] and info["checkpoint"] == "rel"
    for part in ("unet", "controlnet"):
        a = load_file(str(out / part / "diffusion_pytorch_model.safetensors"))
        b = load_file(str(tiny_magicdrive / part / "diffusion_pytorch_model.safetensors"))
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
        assert not (out / part / "diffusion_pytorch_model.bin").exists()


def test_convert_refuses_pickled_code_and_leaves_nothing(tiny_magicdrive, tmp_path):
    release = _fake_release(tiny_magicdrive, tmp_path / "rel", with_sd=True)
    torch.save({"w": torch.zeros(2), "evil": Path("x")}, release / "unet" / "diffusion_pytorch_model.bin")
    with pytest.raises(ModelLoadError, match="weights_only"):
        convert_release(release, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_convert_needs_the_sd_parts(tiny_magicdrive, tmp_path):
    release = _fake_release(tiny_magicdrive, tmp_path / "rel")
    with pytest.raises(ModelLoadError, match="--base"):
        convert_release(release, tmp_path / "out")


def test_cli_convert_and_check(tiny_magicdrive, tmp_path):
    release = _fake_release(tiny_magicdrive, tmp_path / "rel")
    sd = _sd15(tiny_magicdrive, tmp_path / "sd15")
    run = lambda *a: subprocess.run([sys.executable, str(ROOT / "main.py"), "model", *a], capture_output=True,
                                    text=True, cwd=ROOT, timeout=600)
    r = run("convert", "--magicdrive", str(release), "--base", str(sd), "-o", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    r = run("check", str(tmp_path / "out"))
    assert r.returncode == 0 and "MagicDrive model" in r.stdout
    r = run("convert", "--magicdrive", str(release), "--base", str(sd), "-o", str(tmp_path / "out"))
    assert r.returncode == 2 and "already exists" in r.stderr and "Traceback" not in r.stderr
    r = run("convert", "--magicdrive", str(tmp_path / "nothing"), "--base", str(sd), "-o", str(tmp_path / "o2"))
    assert r.returncode == 2 and "does not exist" in r.stderr and "Traceback" not in r.stderr


def test_generic_folder_summary_delegates(tiny_magicdrive, tmp_path):
    """The Generate panel's and `model check`'s summary (inspect_folder.describe) knows MagicDrive folders."""
    from engine.worldmodel.diffusion.inspect_folder import describe

    rep = describe(tiny_magicdrive)
    assert rep.kind == "magicdrive" and rep.problems == [] and "MagicDrive model" in rep.lines[0]
    rep = describe(_fake_release(tiny_magicdrive, tmp_path / "rel"))
    assert rep.kind == "magicdrive-release" and "convert" in rep.problems[0]


def test_video_checkpoint_is_refused_by_name(tiny_magicdrive, tmp_path):
    video = tmp_path / "video"
    shutil.copytree(tiny_magicdrive, video)
    cfg = json.loads((video / "unet" / "config.json").read_text())
    cfg.update({"_class_name": "UNet2DConditionModelMultiviewT", "video_length": 16})
    (video / "unet" / "config.json").write_text(json.dumps(cfg))
    problems = folder_problems(video)
    assert len(problems) == 1 and "video checkpoint" in problems[0]
