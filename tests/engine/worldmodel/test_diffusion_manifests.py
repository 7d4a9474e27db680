"""The product's realistic-size modules against the committed public key manifests (SD-1.5 UNet, VAE,
ControlNet v1.1), allowing only the committed, explained deltas."""
from __future__ import annotations

import json
import math

import pytest
import torch

from engine.worldmodel.diffusion.configs import MANIFEST_CONFIGS

MANIFESTS = MANIFEST_CONFIGS.parent


def _load(name: str) -> dict:
    return json.loads((MANIFESTS / f"{name}.json").read_text())


def _shapes(module) -> dict[str, list[int]]:
    return {k: list(v.shape) for k, v in module.state_dict().items()}


def _diff(public: dict, product: dict) -> dict:
    return {
        "changed": {k: {"public": public[k], "product": product[k]} for k in public
                    if k in product and public[k] != product[k]},
        "added": {k: {"product": product[k]} for k in product if k not in public},
        "removed": {k: {"public": public[k]} for k in public if k not in product},
    }


def _strip(deltas: dict) -> dict:
    return {kind: {k: {f: v for f, v in entry.items() if f != "why"} for k, entry in deltas[kind].items()}
            for kind in ("changed", "added", "removed")}


@pytest.fixture(scope="module")
def realistic_product():
    """The product's realistic-size modules, built on the meta device through the converter's own code."""
    from diffusers import UNet2DConditionModel

    from engine.worldmodel.diffusion.configs import build_public
    from engine.worldmodel.diffusion.convert import product_unet_config

    public = build_public("realistic", seed=0, controlnets=("depth",), with_text_encoder=False, meta=True)
    with torch.device("meta"):
        unet = UNet2DConditionModel.from_config(product_unet_config(dict(public.unet.config)))
    return {"unet": unet, "vae": public.vae, "controlnet": public.controlnets["depth"], "public_unet": public.unet}


def test_manifests_match_the_published_parameter_counts():
    """Independent truth: SD-1.5's UNet has 859.5 M parameters, its VAE 83.7 M, a ControlNet v1.1 361.3 M."""
    counts = {n: sum(math.prod(s) for s in _load(n).values()) / 1e6
              for n in ("sd15_unet", "sd15_vae", "controlnet_v11_sd15")}
    assert counts["sd15_unet"] == pytest.approx(859.52, abs=0.01)
    assert counts["sd15_vae"] == pytest.approx(83.65, abs=0.01)
    assert counts["controlnet_v11_sd15"] == pytest.approx(361.28, abs=0.01)


@pytest.mark.parametrize("module,manifest", [("unet", "sd15_unet"), ("vae", "sd15_vae"),
                                             ("controlnet", "controlnet_v11_sd15")])
def test_product_modules_match_public_manifests_except_committed_deltas(realistic_product, module, manifest):
    deltas = json.loads((MANIFESTS / "sd15_product_deltas.json").read_text())
    found = _diff(_load(manifest), _shapes(realistic_product[module]))
    assert found == _strip(deltas[module])
    for kind in ("changed", "added", "removed"):
        assert all(entry.get("why") for entry in deltas[module][kind].values())


def test_public_realistic_unet_is_the_manifest_exactly(realistic_product):
    assert _shapes(realistic_product["public_unet"]) == _load("sd15_unet")
