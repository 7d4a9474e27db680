"""The port against the ORIGINAL MagicDrive code: golden/ holds tiny seeded weights saved by the
original modules (diffusers 0.17.1 fork) and their outputs for fixed inputs
(tools/magicdrive_golden/make_golden.py made them; the original code is not needed here)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.worldmodel.magicdrive.loading import load_controlnet, load_unet
from engine.worldmodel.magicdrive.pipeline import MagicDriveSampler, SamplerInputs, magicdrive_scheduler

GOLDEN = Path(__file__).parent / "golden"
ATOL = 1e-5


@pytest.fixture(scope="module")
def golden():
    data = dict(np.load(GOLDEN / "golden.npz"))
    torch.manual_seed(0)
    unet = load_unet(GOLDEN / "unet")
    controlnet = load_controlnet(GOLDEN / "controlnet")
    return data, unet, controlnet


def _t(a):
    return torch.from_numpy(np.asarray(a))


def _inputs(data):
    boxes = {"bboxes": _t(data["bboxes"]), "classes": _t(data["classes"]), "masks": _t(data["masks"])}
    return boxes, _t(data["camera_param"]), _t(data["bev_map"]).float(), _t(data["prompt_embeds"])


def _close(actual: torch.Tensor, expected: np.ndarray, name: str, atol: float = ATOL) -> None:
    a = actual.detach().numpy()
    assert a.shape == expected.shape, f"{name}: shape {a.shape} != {expected.shape}"
    err = float(np.abs(a - expected).max())
    # the reference is far from trivial, so matching it means something
    assert float(np.abs(expected).max()) > 1e-3, name
    assert err <= atol * max(1.0, float(np.abs(expected).max())), f"{name}: max abs error {err:.3g}"


def test_box_embedder_matches_original(golden):
    data, _, controlnet = golden
    boxes, *_ = _inputs(data)
    with torch.no_grad():
        emb = controlnet.bbox_embedder(boxes["bboxes"].flatten(0, 1), boxes["classes"].flatten(0, 1),
                                       boxes["masks"].flatten(0, 1))
        null = controlnet.bbox_embedder.null_token()
    _close(emb, data["out_bbox_emb"], "box tokens")
    _close(null[None], data["out_bbox_null"], "null box token")
    # masked boxes are exactly the null token (a property of the original too)
    masks = data["masks"].reshape(-1, data["masks"].shape[-1])
    np.testing.assert_allclose(emb.numpy()[~masks], np.broadcast_to(data["out_bbox_null"], emb.numpy()[~masks].shape),
                               atol=1e-6)


def test_controlnet_forward_matches_original(golden):
    data, _, controlnet = golden
    boxes, cam, bev, prompt = _inputs(data)
    sample = torch.stack([_t(data["latents"])] * cam.shape[1], dim=1)
    with torch.no_grad():
        down, mid, ctx = controlnet(sample, _t(data["timestep"]).repeat(1), cam, boxes, prompt, bev)
        uncond = controlnet.uncond_cam_param(1, cam.shape[1])
    assert len(down) == len([k for k in data if k.startswith("out_cn_down_")])
    for i, d in enumerate(down):
        _close(d, data[f"out_cn_down_{i}"], f"down residual {i}")
    _close(mid, data["out_cn_mid"], "mid residual")
    _close(ctx, data["out_cn_context"], "cross-attention context")
    _close(uncond, data["out_cn_uncond_cam"], "uncond camera")


def test_unet_forward_matches_original(golden):
    data, unet, controlnet = golden
    boxes, cam, bev, prompt = _inputs(data)
    sample = torch.stack([_t(data["latents"])] * cam.shape[1], dim=1)
    t = _t(data["timestep"])
    with torch.no_grad():
        down, mid, ctx = controlnet(sample, t.repeat(1), cam, boxes, prompt, bev)
        noise = unet(sample.flatten(0, 1), t, encoder_hidden_states=ctx, down_block_additional_residuals=down,
                     mid_block_additional_residual=mid).sample
        plain = unet(sample.flatten(0, 1), t, encoder_hidden_states=_t(data["out_cn_context"])).sample
    _close(noise, data["out_unet"], "UNet noise prediction (with ControlNet)")
    _close(plain, data["out_unet_plain"], "UNet noise prediction (alone)")


def test_cross_view_block_mixes_neighbours_only(golden):
    """In one multi-view block, changing view 3 changes the output of views 2, 3 and 4 (its
    neighbours in the ring FL-F-FR-BR-B-BL) and leaves views 0, 1 and 5 bit-identical."""
    from engine.worldmodel.magicdrive.unet import MultiviewTransformerBlock

    _, unet, _ = golden
    block = next(m for m in unet.modules() if isinstance(m, MultiviewTransformerBlock))
    g = torch.Generator().manual_seed(3)
    x = torch.randn(6, 12, block.dim, generator=g)
    ctx = torch.randn(6, 4, block.cross_attention_dim, generator=g)
    with torch.no_grad():
        ref = block(x, encoder_hidden_states=ctx)
        x2 = x.clone()
        x2[3] += torch.randn(x2[3].shape, generator=g)  # not a constant: LayerNorm would remove it
        out = block(x2, encoder_hidden_states=ctx)
    diff = (out - ref).abs().flatten(1).amax(1)
    assert diff[3] > 1e-3 and diff[2] > 1e-4 and diff[4] > 1e-4
    assert float(diff[[0, 1, 5]].max()) == 0.0


@pytest.mark.parametrize("name", ["unipc1", "unipc3"])
def test_pipeline_steps_match_original(golden, name):
    data, unet, controlnet = golden
    boxes, cam, bev, prompt = _inputs(data)
    cfg = json.loads((GOLDEN / "scheduler_config.json").read_text())
    sampler = MagicDriveSampler(unet, controlnet, magicdrive_scheduler(cfg))
    inputs = SamplerInputs(prompt, _t(data["negative_prompt_embeds"]), bev, cam, boxes)
    steps = list(sampler.sample(inputs, _t(data["latents"]), int(data[f"steps_pipe_{name}"]), guidance_scale=2.0))
    assert [i for i, _ in steps] == list(range(int(data[f"steps_pipe_{name}"])))
    _close(steps[-1][1], data[f"out_pipe_{name}"], f"pipeline latents ({name})", atol=5e-5)


def test_adaptive_pool_map_encoder_matches_original(golden):
    """The map encoder of the 272x736 release (BEVControlNetConditioningEmbeddingPlus)."""
    from engine.worldmodel.magicdrive.map_embedder import BEVMapEmbedding

    data, _, _ = golden
    enc = BEVMapEmbedding(16, (8, 200, 200), (4, 8, 8, 16), plus=True, conditioning_embedding_size=(8, 14))
    state = {k.split("/", 1)[1]: _t(v) for k, v in data.items() if k.startswith("plus_weights/")}
    enc.load_state_dict(state, strict=True)
    with torch.no_grad():
        out = enc(_t(data["bev_map"]).float())
    _close(out, data["out_map_plus"], "adaptive-pool map encoder")
