"""The port's realistic-size modules have exactly the state-dict keys and shapes of MagicDrive's released
224x400 checkpoint. The manifest was derived from the ORIGINAL module definitions with the released
config on the meta device (tools/magicdrive_golden/make_manifest.py); the port is built here on the
meta device too (no memory, no weights)."""
from __future__ import annotations

import json

import pytest
import torch

from engine.paths import RESOURCES_DIR
from engine.worldmodel.magicdrive.controlnet import BEVControlNet
from engine.worldmodel.magicdrive.unet import build_multiview_unet

VARIANTS = ("224x400", "272x736", "424x800")


@pytest.fixture(scope="module", params=VARIANTS)
def manifest(request):
    return json.loads((RESOURCES_DIR / "manifests" / f"magicdrive_{request.param}.json").read_text())


def _shapes(module: torch.nn.Module) -> dict[str, list[int]]:
    return {k: list(v.shape) for k, v in module.state_dict().items()}


def _diff(ours: dict, theirs: dict) -> str:
    missing = sorted(set(theirs) - set(ours))[:5]
    extra = sorted(set(ours) - set(theirs))[:5]
    shapes = sorted(k for k in set(ours) & set(theirs) if ours[k] != theirs[k])[:5]
    return f"missing {missing}, extra {extra}, other shapes {shapes}"


def test_unet_keys_and_shapes_match_release(manifest):
    with torch.device("meta"):
        unet = build_multiview_unet(manifest["unet_config"])
    ours = _shapes(unet)
    assert ours == manifest["unet"], _diff(ours, manifest["unet"])
    # the multi-view additions are there: norm4 / attn4 / connector in all 16 transformer blocks
    assert sum(k.endswith("attn4.to_q.weight") for k in ours) == 16
    assert ours["mid_block.attentions.0.transformer_blocks.0.connector.weight"] == [1280, 1280]


def test_controlnet_keys_and_shapes_match_release(manifest):
    h, w = manifest["image_size"]
    with torch.device("meta"):
        net = BEVControlNet(manifest["controlnet_config"], latent_size=(h // 8, w // 8))
    ours = _shapes(net)
    assert ours == manifest["controlnet"], _diff(ours, manifest["controlnet"])
    assert ours["bbox_embedder._class_tokens"] == [10, 768]
    assert ours["cam2token.weight"] == [768, 189]
    assert ours["controlnet_cond_embedding.conv_in.weight"] == [16, 8, 3, 3]


def test_map_encoder_reaches_the_latent_grid(manifest):
    """The BEV map (200x200, or 400x400 for 424x800) lands exactly on the checkpoint's latent grid."""
    h, w = manifest["image_size"]
    cfg = manifest["controlnet_config"]
    with torch.device("meta"):
        net = BEVControlNet(cfg, latent_size=(h // 8, w // 8))
        cells = (cfg.get("map_size") or cfg["map_embedder_param"]["conditioning_size"])[1]
        out = net.controlnet_cond_embedding(torch.zeros(1, 8, cells, cells))
    assert tuple(out.shape) == (1, 320, h // 8, w // 8)
