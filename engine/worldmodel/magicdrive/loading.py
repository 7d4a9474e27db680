"""Load MagicDrive's `unet/` and `controlnet/` folders (config.json + weights) into the port, strictly:
every key of the checkpoint must exist in the port with the same shape, and vice versa."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from engine.worldmodel.errors import ModelLoadError

if TYPE_CHECKING:
    from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel  # the class, not diffusers' lazy alias

    from engine.worldmodel.magicdrive.controlnet import BEVControlNet

WEIGHT_NAMES = ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors")
RELEASE_WEIGHT_NAMES = ("diffusion_pytorch_model.bin",)


def read_config(folder: Path) -> dict[str, Any]:
    """The component's config.json as a dict; ModelLoadError names a missing or broken file."""
    path = Path(folder) / "config.json"
    if not path.is_file():
        raise ModelLoadError(f"{path} is missing")
    try:
        cfg = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(cfg, dict):
        raise ModelLoadError(f"{path} does not hold a JSON object")
    return cfg


def weights_file(folder: Path) -> Path:
    """The safetensors weights of a component; a `.bin`-only folder needs conversion first."""
    for name in WEIGHT_NAMES:
        if (Path(folder) / name).is_file():
            return Path(folder) / name
    if any((Path(folder) / n).is_file() for n in RELEASE_WEIGHT_NAMES):
        raise ModelLoadError(f"{folder} holds the released .bin weights; convert the folder once with "
                             "`main.py model convert --magicdrive SRC --base SD15_DIR -o OUT` (safetensors, no pickle at run time)")
    raise ModelLoadError(f"{folder} has no diffusion_pytorch_model.safetensors")


def _compare(own: dict[str, tuple[int, ...]], theirs: dict[str, tuple[int, ...]], path: Path, what: str) -> None:
    missing = sorted(set(own) - set(theirs))
    unexpected = sorted(set(theirs) - set(own))
    shapes = sorted(k for k in set(own) & set(theirs) if tuple(own[k]) != tuple(theirs[k]))
    if missing or unexpected or shapes:
        def few(keys: list[str]) -> str:
            return ", ".join(keys[:4]) + (f" (+{len(keys) - 4} more)" if len(keys) > 4 else "")
        parts = [f"{len(missing)} missing: {few(missing)}" if missing else "",
                 f"{len(unexpected)} unexpected: {few(unexpected)}" if unexpected else "",
                 f"{len(shapes)} with other shapes: {few(shapes)}" if shapes else ""]
        raise ModelLoadError(f"{path} does not fit the MagicDrive {what} its config describes: "
                             + "; ".join(p for p in parts if p))


def check_weights_fit(module: torch.nn.Module, folder: Path, what: str) -> None:
    """Compare the weight file's keys and shapes with `module` (may be on the meta device) without
    reading the tensors; ModelLoadError lists missing / unexpected / mis-shaped keys."""
    from safetensors import SafetensorError, safe_open

    path = weights_file(folder)
    try:
        with safe_open(str(path), framework="pt") as f:
            theirs = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as exc:  # a damaged, unreadable or missing file
        raise ModelLoadError(f"{path} could not be read: {exc}") from None
    _compare({k: tuple(v.shape) for k, v in module.state_dict().items()}, theirs, path, what)


def load_weights(module: torch.nn.Module, folder: Path, what: str) -> None:
    """Copy the folder's weights into `module`; ModelLoadError lists missing / unexpected / mis-shaped keys."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = weights_file(folder)
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:  # a damaged, unreadable or missing file
        raise ModelLoadError(f"{path} could not be read: {exc}") from None
    _compare({k: tuple(v.shape) for k, v in module.state_dict().items()},
             {k: tuple(v.shape) for k, v in state.items()}, path, what)
    module.load_state_dict(state, strict=True)


def build_unet(folder: Path) -> UNet2DConditionModel:
    """The multi-view UNet its config.json describes (random weights; use under torch.device('meta'))."""
    from engine.worldmodel.magicdrive.unet import build_multiview_unet

    cfg = read_config(folder)
    if "video_length" in cfg or str(cfg.get("_class_name", "")).endswith("MultiviewT"):
        raise ModelLoadError(f"{folder} is a MagicDrive-t video checkpoint (temporal attention); only the "
                             "image models (224x400, 272x736, 424x800) are supported")
    try:
        return build_multiview_unet(cfg)
    except (TypeError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"{Path(folder) / 'config.json'} is not a MagicDrive multi-view UNet config: {exc}") from None


def build_controlnet(folder: Path, latent_size: tuple[int, int] | None = None) -> BEVControlNet:
    """The BEV ControlNet its config.json describes (random weights)."""
    from engine.worldmodel.magicdrive.controlnet import BEVControlNet

    try:
        return BEVControlNet(read_config(folder), latent_size=latent_size)
    except (TypeError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"{Path(folder) / 'config.json'} is not a MagicDrive BEV ControlNet config: {exc}") from None


def load_unet(folder: Path, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> UNet2DConditionModel:
    """The multi-view UNet of `folder` (config.json + safetensors), in eval mode."""
    unet = build_unet(folder)
    load_weights(unet, folder, "UNet")
    # nn.Module.to: diffusers' ModelMixin.to warns about fp32-only modules the UNet does not have
    return torch.nn.Module.to(unet, device=device, dtype=dtype).eval()


def load_controlnet(folder: Path, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32,
                    latent_size: tuple[int, int] | None = None) -> BEVControlNet:
    """The BEV ControlNet of `folder` (config.json + safetensors), in eval mode."""
    net = build_controlnet(folder, latent_size)
    load_weights(net, folder, "ControlNet")
    return net.to(device=device, dtype=dtype).eval()
