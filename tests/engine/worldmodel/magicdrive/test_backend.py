"""The `magicdrive` backend behind the world-model interface, and `generate --backend magicdrive` end to end
(tiny seeded weights, CPU)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.scenario.model import Environment
from engine.worldmodel import create_backend
from engine.worldmodel.base import CancelToken, GenerationSettings, generate_clip
from engine.worldmodel.conditions import AgentState
from engine.worldmodel.errors import GenerationCancelled, ModelLoadError, ModelNotConfiguredError
from engine.worldmodel.events import FrameReady, GenerationDone, StepProgress
from wm_helpers import plane_conditions

ROOT = Path(__file__).resolve().parents[4]
SIZE = (96, 48)
CAR = AgentState("car_1", "car", (12.0, 0.0, 0.8), (1.9, 4.5, 1.6), 0.0)


@pytest.fixture(scope="module")
def backend(tiny_magicdrive):
    return create_backend("magicdrive", tiny_magicdrive)


def _settings(seed=0, steps=2, **kw):
    return GenerationSettings(steps=steps, guidance_scale=2.0, seed=seed, device="cpu", **kw)


def test_registry_and_missing_folder(tiny_magicdrive, tmp_path):
    from engine.worldmodel import BACKEND_NAMES

    assert "magicdrive" in BACKEND_NAMES
    with pytest.raises(ValueError, match="noise_sharing"):
        create_backend("magicdrive", tiny_magicdrive, noise_sharing=0.5)
    with pytest.raises(ModelNotConfiguredError):
        create_backend("magicdrive", None)
    with pytest.raises(ModelLoadError, match="magicdrive.json"):
        create_backend("magicdrive", tmp_path)


def test_events_size_order_and_seed(backend, one_torch_thread):
    cond = plane_conditions(SIZE, num_frames=1, agents=(CAR,))
    events = list(backend.generate(cond, _settings(preview_every=1)))
    steps = [e for e in events if isinstance(e, StepProgress)]
    assert [(e.step, e.num_steps, e.frame) for e in steps] == [(1, 2, 0), (2, 2, 0)]
    assert steps[0].preview is not None and steps[0].preview.shape[0] == 6
    assert isinstance(events[-2], FrameReady) and isinstance(events[-1], GenerationDone)
    clip = events[-1].clip
    assert clip.frames.shape == (1, 6, SIZE[1], SIZE[0], 3) and clip.frames.dtype == np.uint8
    assert clip.camera_names == cond.camera_names and clip.metadata["model_resolution"] == [64, 112]
    again = generate_clip(backend, cond, _settings())
    other = generate_clip(backend, cond, _settings(seed=1))
    assert np.array_equal(clip.frames, again.frames)
    assert not np.array_equal(clip.frames, other.frames)


def test_conditions_reach_the_model(backend, one_torch_thread):
    """A box in front, the time of day: each changes the frames (same seed)."""
    base = generate_clip(backend, plane_conditions(SIZE, num_frames=1), _settings(steps=1))
    with_car = generate_clip(backend, plane_conditions(SIZE, num_frames=1, agents=(CAR,)), _settings(steps=1))
    night = generate_clip(backend, plane_conditions(SIZE, num_frames=1, environment=Environment("night", "rain")),
                          _settings(steps=1))
    assert not np.array_equal(base.frames, with_car.frames)
    assert not np.array_equal(base.frames, night.frames)
    inputs = backend.frame_inputs(plane_conditions(SIZE, num_frames=1, environment=Environment("night", "rain"),
                                                   agents=(CAR,)), 0)
    assert "Night, rain" in inputs["prompt"]
    assert inputs["boxes"].masks[1].sum() == 1  # the car is seen by CAM_FRONT


def test_cancel_between_steps(backend, one_torch_thread):
    cancel = CancelToken()
    gen = backend.generate(plane_conditions(SIZE, num_frames=2), _settings(steps=3), cancel)
    first = next(gen)
    assert isinstance(first, StepProgress)
    cancel.cancel()
    with pytest.raises(GenerationCancelled):
        for _ in gen:
            pass


def _run(*args, timeout=900):
    env = dict(os.environ, OMP_NUM_THREADS="1", QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout, env=env)


def test_generate_demo_and_prompted_scenario(tiny_magicdrive, tmp_path):
    demo = ROOT / "resources" / "demo" / "demo_intersection.json"
    r = _run("generate", str(demo), "-o", str(tmp_path / "demo"), "--backend", "magicdrive", "--model",
             str(tiny_magicdrive), "--frames", "2", "--steps", "1", "--device", "cpu", "--size", "112x64", "--quiet")
    assert r.returncode == 0, r.stderr
    manifest = json.loads((tmp_path / "demo" / "generation.json").read_text())
    assert "magicdrive" in json.dumps(manifest)
    assert len(list((tmp_path / "demo" / "frames").rglob("*.jpg"))) == 12

    r = _run("prompt", "a truck cuts in from the left at night in the rain", "-o", str(tmp_path / "p.json"))
    assert r.returncode == 0, r.stderr
    r = _run("generate", str(tmp_path / "p.json"), "-o", str(tmp_path / "prompted"), "--backend", "magicdrive",
             "--model", str(tiny_magicdrive), "--frames", "2", "--steps", "1", "--device", "cpu", "--size", "112x64",
             "--quiet")
    assert r.returncode == 0, r.stderr
    assert len(list((tmp_path / "prompted" / "frames").rglob("*.jpg"))) == 12


def test_generate_missing_or_incompatible_folder_exits_2(tiny_magicdrive, tmp_path):
    demo = ROOT / "resources" / "demo" / "demo_intersection.json"
    common = ("generate", str(demo), "-o", str(tmp_path / "o"), "--backend", "magicdrive", "--frames", "1")
    r = _run(*common)
    assert r.returncode == 2 and "needs a MagicDrive model folder" in r.stderr and "Traceback" not in r.stderr
    r = _run(*common, "--model", str(tmp_path / "absent"))
    assert r.returncode == 2 and "does not exist" in r.stderr and "Traceback" not in r.stderr
    bad = tmp_path / "bad"
    bad.mkdir()
    for part in ("unet", "controlnet", "vae", "text_encoder", "tokenizer", "scheduler"):
        (bad / part).mkdir()
    (bad / "magicdrive.json").write_text('{"format": "magicdrive", "image_size": [64, 112]}')
    (bad / "unet" / "config.json").write_text('{"block_out_channels": [16, 32]}')
    (bad / "controlnet" / "config.json").write_text("{}")
    r = _run(*common, "--model", str(bad))
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert str(bad) in r.stderr
    assert not (tmp_path / "o").exists()


def test_generate_without_the_diffusion_extra_names_it_and_exits_2(monkeypatch, tmp_path, capsys):
    """diffusers not installed (simulated: sys.modules['diffusers'] = None): one line naming the extra, exit 2."""
    from engine.paths import DEMO_SCENARIO
    from main import main

    folder = tmp_path / "md"   # the layout check_folder accepts; nothing is loaded before the extra is checked
    for part in ("unet", "controlnet", "vae", "text_encoder", "tokenizer", "scheduler"):
        (folder / part).mkdir(parents=True)
    (folder / "magicdrive.json").write_text('{"format": "magicdrive"}')
    for part in ("unet", "controlnet"):
        (folder / part / "config.json").write_text("{}")
    monkeypatch.setitem(sys.modules, "diffusers", None)
    rc = main(["generate", str(DEMO_SCENARIO), "-o", str(tmp_path / "o"), "--backend", "magicdrive", "--model",
               str(folder), "--frames", "1", "--device", "cpu", "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "the magicdrive backend needs diffusers: pip install 'cornercase-studio[diffusion]'" in err
    assert "Traceback" not in err and not (tmp_path / "o").exists()
