"""The cosmos backend on a tiny Cosmos-Transfer2.5 (same architecture as the public model, tiny configs)."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from engine.worldmodel import GenerationSettings, ModelLoadError, ModelNotConfiguredError, create_backend, generate_clip
from engine.worldmodel.conditions import ClipConditions
from wm_helpers import plane_frames

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny_cosmos(tmp_path_factory):
    from engine.worldmodel.cosmos.configs import write_tiny_cosmos

    return write_tiny_cosmos(tmp_path_factory.mktemp("cosmos") / "tiny", seed=0)


@pytest.fixture()
def one_camera_two_frames():
    from engine.rig import CameraRig

    rig = CameraRig.default((64, 32)).subset(["CAM_FRONT"])
    return ClipConditions.from_frames(rig, plane_frames(rig, 2), 12.0, text="a wet road")


def test_generates_two_frames_of_one_camera_on_cpu(tiny_cosmos, one_camera_two_frames):
    from engine.worldmodel.cosmos.configs import ApprovingSafetyChecker

    backend = create_backend("cosmos", tiny_cosmos, safety_checker=ApprovingSafetyChecker())
    settings = GenerationSettings(steps=2, guidance_scale=3.0, seed=1, device="cpu")
    clip = generate_clip(backend, one_camera_two_frames, settings)
    assert clip.frames.shape == (2, 1, 32, 64, 3) and clip.frames.dtype == np.uint8
    assert clip.frames.std() > 1.0  # not a blank picture
    again = generate_clip(backend, one_camera_two_frames, settings)
    assert np.array_equal(clip.frames, again.frames)  # seeded


def test_control_video_is_the_chosen_guidance_map(tiny_cosmos, one_camera_two_frames):
    from engine.worldmodel.cosmos.backend import CosmosBackend

    edge = CosmosBackend(tiny_cosmos, control="edge").control_videos(one_camera_two_frames)
    depth = CosmosBackend(tiny_cosmos, control="depth").control_videos(one_camera_two_frames)
    f0 = one_camera_two_frames.frame(0)
    assert edge.shape == (1, 2, 3, 32, 64)
    assert np.allclose(edge[0, 0, 1], f0.edge[0] / 255.0)
    assert np.allclose(depth[0, 0, 2], f0.guidance[0, ..., 0])


def test_refuses_without_the_guardrail_naming_what_is_missing(tiny_cosmos, one_camera_two_frames):
    backend = create_backend("cosmos", tiny_cosmos)
    with pytest.raises(ModelLoadError, match="guardrail") as err:
        backend.pipeline("cpu")
    assert "cosmos_guardrail" in str(err.value) or "guardrail is missing" in str(err.value)


def test_missing_and_incomplete_folders_are_clear_errors(tiny_cosmos, tmp_path):
    with pytest.raises(ModelNotConfiguredError):
        create_backend("cosmos", None)
    with pytest.raises(ModelLoadError, match="does not exist"):
        create_backend("cosmos", tmp_path / "nope")
    broken = tmp_path / "broken"
    shutil.copytree(tiny_cosmos, broken)
    shutil.rmtree(broken / "controlnet")
    with pytest.raises(ModelLoadError, match="missing controlnet"):
        create_backend("cosmos", broken)
    other = tmp_path / "other"
    shutil.copytree(tiny_cosmos, other)
    index = json.loads((other / "model_index.json").read_text())
    index["_class_name"] = "StableDiffusionPipeline"
    (other / "model_index.json").write_text(json.dumps(index))
    with pytest.raises(ModelLoadError, match="not a Cosmos2_5_TransferPipeline"):
        create_backend("cosmos", other)


def test_model_check_describes_a_cosmos_folder(tiny_cosmos, capsys):
    from engine.cli import build_parser

    args = build_parser().parse_args(["model", "check", str(tiny_cosmos)])
    assert args._module.run(args) == 2  # no guardrail here
    out = capsys.readouterr()
    assert "Cosmos2_5_TransferPipeline" in out.out and "guardrail" in out.out and "MISSING" in out.out
    assert "guardrail" in out.err


def test_generate_cli_refuses_cosmos_without_guardrail(tiny_cosmos, tmp_path, capsys):
    from engine.cli import build_parser
    from engine.paths import DEMO_SCENARIO

    args = build_parser().parse_args(["generate", str(DEMO_SCENARIO), "-o", str(tmp_path / "o"), "--backend", "cosmos",
                                      "--model", str(tiny_cosmos), "--frames", "2", "--size", "64x32",
                                      "--device", "cpu", "--quiet"])
    assert args._module.run(args) == 2
    err = capsys.readouterr().err
    assert "guardrail" in err and "Traceback" not in err and not (tmp_path / "o").exists()


def test_generate_without_the_diffusion_extra_names_it_and_exits_2(monkeypatch, tmp_path, capsys):
    """diffusers not installed (simulated: sys.modules['diffusers'] = None): one line naming the extra, exit 2."""
    import sys

    from engine.paths import DEMO_SCENARIO
    from main import main

    folder = tmp_path / "cosmos"   # the layout check_cosmos_folder accepts; nothing is loaded before the extra check
    for part in ("transformer", "controlnet", "vae", "scheduler", "text_encoder", "tokenizer"):
        (folder / part).mkdir(parents=True)
    for part in ("transformer", "controlnet", "vae"):
        (folder / part / "diffusion_pytorch_model.safetensors").write_bytes(b"")
    (folder / "model_index.json").write_text(json.dumps({"_class_name": "Cosmos2_5_TransferPipeline"}))
    monkeypatch.setitem(sys.modules, "diffusers", None)
    rc = main(["generate", str(DEMO_SCENARIO), "-o", str(tmp_path / "o"), "--backend", "cosmos", "--model",
               str(folder), "--frames", "2", "--size", "64x32", "--device", "cpu", "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "the cosmos backend needs diffusers: pip install 'cornercase-studio[diffusion]'" in err
    assert "Traceback" not in err and not (tmp_path / "o").exists()
