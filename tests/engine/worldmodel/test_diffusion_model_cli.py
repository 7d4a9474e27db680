"""`main.py model convert` / `model check` and `generate --backend diffusion` on tiny public-layout folders."""
from __future__ import annotations

import json
import pickle
import shutil

import pytest
import torch

from engine.cli import build_parser

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _run(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    return args._module.run(args)


@pytest.fixture(scope="module")
def public(tmp_path_factory):
    from engine.worldmodel.diffusion.configs import write_public_folders

    root = tmp_path_factory.mktemp("pub")
    sd, nets = write_public_folders(root, "tiny", seed=1, controlnets=("depth", "canny", "normal", "seg"))
    return root, sd, nets


@pytest.fixture(scope="module")
def converted(public, tmp_path_factory):
    _, sd, nets = public
    out = tmp_path_factory.mktemp("conv") / "wm"
    assert _run(["model", "convert", "--base", str(sd), "--controlnet", f"depth={nets['depth']}",
                 "--controlnet", f"canny={nets['canny']}", "--controlnet", f"normal={nets['normal']}",
                 "--controlnet", f"seg={nets['seg']}", "--scale", "canny=0.5", "-o", str(out)]) == 0
    return out


def test_convert_writes_safetensors_and_check_describes_the_wiring(converted, capsys):
    assert not list(converted.rglob("*.bin"))
    assert len(list(converted.rglob("*.safetensors"))) >= 7
    index = json.loads((converted / "model_index.json").read_text())
    assert [c["name"] for c in index["controls"]] == ["depth", "canny", "normal", "seg"]
    assert [c["scale"] for c in index["controls"]] == [1.0, 0.5, 1.0, 1.0]
    assert index["objects_in_controls"] is True       # public nets never learnt O/M: assets stay in D/N/E
    capsys.readouterr()
    assert _run(["model", "check", str(converted)]) == 0
    out = capsys.readouterr().out
    assert "in 9 out 4" in out and "previous-frame latent 4 + flag 1" in out
    assert "controlnet[0] depth" in out and "<- D (disparity)" in out
    assert "controlnet[3] seg" in out and "<- O (object colouring)" in out and "scale 0.5" in out
    assert "loads: yes" in out and "float32" in out


def test_converted_unet_counts_match_the_public_unet_plus_the_additions(public, converted):
    """Parameter count = public UNet + 5 extra conv_in input channels + the class-embedding MLP."""
    from diffusers import UNet2DConditionModel

    _, sd, _ = public
    pub = UNet2DConditionModel.from_pretrained(str(sd / "unet"))
    ours = UNet2DConditionModel.from_pretrained(str(converted / "unet"))
    out_ch, _, kh, kw = pub.conv_in.weight.shape
    temb = pub.time_embedding.linear_2.out_features
    extra = out_ch * 5 * kh * kw + (7 * temb + temb) + (temb * temb + temb)
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in pub.parameters()) + extra


def _capture(capsys):
    cap = capsys.readouterr()
    return cap.out + cap.err


def test_incompatible_controlnet_exits_2_naming_folder_and_mismatch(public, tmp_path, capsys):
    from diffusers import ControlNetModel, UNet2DConditionModel

    _, sd, nets = public
    other = UNet2DConditionModel(sample_size=8, in_channels=4, out_channels=4, layers_per_block=1, norm_num_groups=8,
                                 block_out_channels=(16, 32, 64),
                                 down_block_types=("DownBlock2D", "DownBlock2D", "CrossAttnDownBlock2D"),
                                 up_block_types=("CrossAttnUpBlock2D", "UpBlock2D", "UpBlock2D"),
                                 cross_attention_dim=16, attention_head_dim=8)
    bad = tmp_path / "cn_bad"
    ControlNetModel.from_unet(other, conditioning_embedding_out_channels=(8, 8, 8, 16)).save_pretrained(bad)
    capsys.readouterr()
    rc = _run(["model", "convert", "--base", str(sd), "--controlnet", f"depth={bad}", "-o", str(tmp_path / "o")])
    text = _capture(capsys)
    assert rc == 2 and str(bad) in text and "block_out_channels [16, 32, 64]" in text
    assert "Traceback" not in text and not (tmp_path / "o").exists()


def test_sd2_controlnet_on_sd1_base_exits_2(public, tmp_path, capsys):
    _, sd, nets = public
    sd2 = tmp_path / "cn_sd2"
    shutil.copytree(nets["depth"], sd2)
    cfg = json.loads((sd2 / "config.json").read_text())
    cfg["cross_attention_dim"] = 1024
    (sd2 / "config.json").write_text(json.dumps(cfg))
    capsys.readouterr()
    rc = _run(["model", "convert", "--base", str(sd), "--controlnet", f"depth={sd2}", "-o", str(tmp_path / "o")])
    text = _capture(capsys)
    assert rc == 2 and str(sd2) in text and "Stable Diffusion 2.x" in text and "Traceback" not in text


def test_missing_component_exits_2(public, tmp_path, capsys):
    _, sd, nets = public
    broken = tmp_path / "sd"
    shutil.copytree(sd, broken)
    shutil.rmtree(broken / "vae")
    capsys.readouterr()
    rc = _run(["model", "convert", "--base", str(broken), "--controlnet", f"depth={nets['depth']}", "-o",
               str(tmp_path / "o")])
    text = _capture(capsys)
    assert rc == 2 and "'vae' component is missing" in text and str(broken) in text


class _Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_bin_weights_load_only_with_weights_only(public, tmp_path, capsys):
    """A plain tensor .bin converts to the same weights as its safetensors; a pickle with code is refused."""
    from diffusers import ControlNetModel

    _, sd, nets = public
    as_bin = tmp_path / "cn_bin"
    ControlNetModel.from_pretrained(str(nets["depth"])).save_pretrained(as_bin, safe_serialization=False)
    assert (as_bin / "diffusion_pytorch_model.bin").is_file()
    capsys.readouterr()
    assert _run(["model", "convert", "--base", str(sd), "--controlnet", f"depth={as_bin}", "-o",
                 str(tmp_path / "ok")]) == 0
    a = ControlNetModel.from_pretrained(str(tmp_path / "ok" / "controlnet")).state_dict()
    b = ControlNetModel.from_pretrained(str(nets["depth"])).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in b)

    evil = tmp_path / "cn_evil"
    shutil.copytree(as_bin, evil)
    state = torch.load(evil / "diffusion_pytorch_model.bin", weights_only=True)
    state["payload"] = _Evil()
    with open(evil / "diffusion_pytorch_model.bin", "wb") as f:
        pickle.dump(state, f)
    capsys.readouterr()
    rc = _run(["model", "convert", "--base", str(sd), "--controlnet", f"depth={evil}", "-o", str(tmp_path / "no")])
    text = _capture(capsys)
    assert rc == 2 and "weights_only=True" in text and "this must never run" not in text


def test_check_refuses_unknown_and_public_folders(public, tmp_path, capsys):
    _, sd, nets = public
    (tmp_path / "junk").mkdir()
    assert _run(["model", "check", str(tmp_path / "junk")]) == 2
    assert "not a folder the product knows" in _capture(capsys)
    assert _run(["model", "check", str(sd)]) == 2
    assert "model convert" in _capture(capsys)
    assert _run(["model", "check", str(tmp_path / "nope")]) == 2


def test_generate_two_frames_end_to_end(converted, tmp_path, capsys):
    from engine.paths import DEMO_SCENARIO

    out = tmp_path / "clip"
    rc = _run(["generate", str(DEMO_SCENARIO), "-o", str(out), "--backend", "diffusion", "--model", str(converted),
               "--frames", "2", "--steps", "2", "--size", "64x32", "--device", "cpu", "--quiet",
               "--controlnet-scale", "depth=0.7"])
    assert rc == 0, _capture(capsys)
    manifest = json.loads((out / "generation.json").read_text())
    assert manifest["num_frames"] == 2 and len(manifest["frames"]["CAM_FRONT"]) == 2
    assert len(list((out / "frames").rglob("*.jpg"))) == 12
    capsys.readouterr()
    rc = _run(["generate", str(DEMO_SCENARIO), "-o", str(tmp_path / "x"), "--backend", "diffusion", "--model",
               str(converted), "--frames", "1", "--steps", "1", "--size", "64x32", "--device", "cpu", "--quiet",
               "--controlnet-scale", "lidar=0.7"])
    assert rc == 2 and "lidar" in _capture(capsys)
