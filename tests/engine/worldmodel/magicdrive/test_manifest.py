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

MANIFEST = RESOURCES_DIR / "manifests" / "magicdrive_224x400.json"


@pytest.fixture(scope="module")
def manifest():
    return json.loads(MANIFEST.read_text())


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
    with torch.device("meta"):
        net = BEVControlNet(manifest["controlnet_config"])
    ours = _shapes(net)
    assert ours == manifest["controlnet"], _diff(ours, manifest["controlnet"])
    assert ours["bbox_embedder._class_tokens"] == [10, 768]
    assert ours["cam2token.weight"] == [768, 189]
    assert ours["controlnet_cond_embedding.conv_in.weight"] == [16, 8, 3, 3]
