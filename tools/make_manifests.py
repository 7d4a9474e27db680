"""Write the committed key manifests ({key: shape}) of the public SD-1.5 UNet, VAE and ControlNet v1.1.

    python tools/make_manifests.py [--out resources/manifests]

The architectures are built with diffusers on the meta device (no weights, nothing downloaded) from the
published configs written down in resources/manifests/configs/ (sd15_unet.json, sd15_vae.json,
controlnet_v11_sd15.json). tests/engine/worldmodel/test_diffusion_manifests.py checks the product's
realistic-size modules against these manifests, allowing only the deltas listed in
resources/manifests/sd15_product_deltas.json.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MANIFESTS = {
    "sd15_unet": ("UNet2DConditionModel", "sd15_unet"),
    "sd15_vae": ("AutoencoderKL", "sd15_vae"),
    "controlnet_v11_sd15": ("ControlNetModel", "controlnet_v11_sd15"),
}


def key_shapes(module) -> dict[str, list[int]]:
    """{state-dict key: shape} of a module (meta tensors are fine)."""
    return {k: list(v.shape) for k, v in module.state_dict().items()}


def build_meta(class_name: str, config_name: str):
    """The public module from its published config, on the meta device."""
    import diffusers
    import torch

    from engine.worldmodel.diffusion.configs import published_config

    with torch.device("meta"):
        return getattr(diffusers, class_name)(**published_config(config_name))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "resources" / "manifests"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, (cls, cfg) in MANIFESTS.items():
        shapes = key_shapes(build_meta(cls, cfg))
        path = out / f"{name}.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(shapes, indent=0, sort_keys=True) + "\n")
        tmp.replace(path)
        n = sum(1 for _ in shapes)
        params = sum(int(__import__("math").prod(s)) for s in shapes.values())
        print(f"{path}: {n} tensors, {params / 1e6:.1f} M parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
