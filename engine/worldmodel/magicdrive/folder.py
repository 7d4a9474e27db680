"""MagicDrive model folders: recognise them, check them, and convert a release once.

The studio's folder (what the backend loads):

    DIR/magicdrive.json     {"format": "magicdrive", "checkpoint": ..., "image_size": [H, W]}
    DIR/unet/               config.json + diffusion_pytorch_model.safetensors (multi-view UNet)
    DIR/controlnet/         config.json + diffusion_pytorch_model.safetensors (BEV ControlNet)
    DIR/vae/ DIR/text_encoder/ DIR/tokenizer/ DIR/scheduler/   Stable Diffusion 1.5's (diffusers format)

A release (e.g. SDv1.5mv-rawbox_2023-09-07_18-39_224x400) has unet/ and controlnet/ with pickled
`.bin` weights and hydra/config.yaml; `convert_release` turns it (plus an SD1.5 folder for the VAE,
text encoder, tokenizer and scheduler) into the folder above, reading the pickles once with
torch.load(weights_only=True).
"""
from __future__ import annotations

import json
import os
import pickle
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.worldmodel.errors import ModelLoadError, ModelNotConfiguredError

if TYPE_CHECKING:
    from engine.worldmodel.diffusion.inspect_folder import FolderReport

MARKER = "magicdrive.json"
SD_PARTS = ("vae", "text_encoder", "tokenizer", "scheduler")
DEFAULT_IMAGE_SIZE = (224, 400)  # (height, width) of the released base model
NO_MODEL_MESSAGE = (
    "The magicdrive backend needs a MagicDrive model folder, and none is configured. Convert a released "
    "checkpoint once with `main.py model convert --magicdrive RELEASE_DIR --base SD15_DIR -o OUT`, or write a tiny "
    "random-weight folder with `python tools/make_tiny_magicdrive.py DIR` to try it out.")


def _is_release(path: Path) -> bool:
    return all((path / p / "diffusion_pytorch_model.bin").is_file() or
               (path / p / "diffusion_pytorch_model.safetensors").is_file() for p in ("unet", "controlnet")) \
        and (path / "controlnet" / "config.json").is_file() and "bbox_embedder_cls" in \
        (path / "controlnet" / "config.json").read_text(errors="replace")


def _summary(p: Path) -> tuple[str, list[str]] | None:
    """(one line, problems) for a studio MagicDrive folder or a release; None when it is neither."""
    try:
        if (p / MARKER).is_file():
            try:
                info = read_marker(p)
            except ModelLoadError as exc:
                return f"MagicDrive folder {p}", [str(exc)]
            h, w = info.get("image_size", DEFAULT_IMAGE_SIZE)
            head = f"MagicDrive model ({info.get('checkpoint', 'unnamed')}), {h}x{w} per view, six views"
            problems = folder_problems(p)
            if problems:
                return head, problems
            return f"{head}; keys and shapes fit the port; backend: --backend magicdrive --model {p}", []
        if p.is_dir() and _is_release(p):
            return ("MagicDrive release (unet/ + controlnet/); convert it once with "
                    f"`main.py model convert --magicdrive {p} --base SD15_DIR -o OUT`"), []
    except OSError:
        return None
    return None


def describe_folder(path: str | os.PathLike[str]) -> str | None:
    """One line about a usable MagicDrive folder or a release (what to do with it); None when it is
    neither, or when it is a studio MagicDrive folder with problems (`folder_report` names them)."""
    summary = _summary(Path(path).expanduser())
    if summary is None or summary[1]:
        return None
    return summary[0]


def folder_problems(path: str | os.PathLike[str]) -> list[str]:
    """What keeps a studio MagicDrive folder from loading (layout, configs, weight keys and shapes,
    checked on the meta device without reading the weights); empty when it should load."""
    import torch

    from engine.worldmodel.magicdrive.loading import build_controlnet, build_unet, check_weights_fit

    try:
        p = check_folder(path)
        h, w = read_marker(p).get("image_size", DEFAULT_IMAGE_SIZE)
        with torch.device("meta"):
            controlnet = build_controlnet(p / "controlnet", latent_size=(h // 8, w // 8))
            unet = build_unet(p / "unet")
        check_weights_fit(controlnet, p / "controlnet", "ControlNet")
        check_weights_fit(unet, p / "unet", "UNet")
    except (ModelLoadError, ModelNotConfiguredError) as exc:
        return [str(exc)]
    return []


def read_marker(path: Path) -> dict[str, Any]:
    """magicdrive.json as a dict; ModelLoadError names a broken one."""
    f = Path(path) / MARKER
    try:
        info = json.loads(f.read_text())
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{f} is not readable JSON ({exc})") from None
    if not isinstance(info, dict) or info.get("format") != "magicdrive":
        raise ModelLoadError(f"{f} does not say format 'magicdrive'")
    size = info.get("image_size", list(DEFAULT_IMAGE_SIZE))
    if not (isinstance(size, list) and len(size) == 2 and all(isinstance(s, int) and s > 0 and s % 8 == 0 for s in size)):
        raise ModelLoadError(f"{f}: image_size must be [height, width], multiples of 8, got {size!r}")
    return info


def check_folder(model_dir: str | os.PathLike[str] | None) -> Path:
    """The folder as a Path when it is a usable studio MagicDrive folder; ModelNotConfiguredError or
    ModelLoadError (naming the folder and the missing part) otherwise."""
    if model_dir is None or not str(model_dir).strip():
        raise ModelNotConfiguredError(NO_MODEL_MESSAGE)
    p = Path(model_dir).expanduser()
    if not p.exists():
        raise ModelLoadError(f"model folder {p} does not exist")
    if not p.is_dir():
        raise ModelLoadError(f"model folder {p} is not a folder")
    if not (p / MARKER).is_file():
        if _is_release(p):
            raise ModelLoadError(f"{p} is a MagicDrive release; convert it once with "
                                 f"`main.py model convert --magicdrive {p} --base SD15_DIR -o OUT` and use OUT")
        raise ModelLoadError(f"{p} is not a MagicDrive folder: {MARKER} is missing "
                             "(write one with `main.py model convert --magicdrive` or tools/make_tiny_magicdrive.py)")
    read_marker(p)
    for part in ("unet", "controlnet") + SD_PARTS:
        if not (p / part).is_dir():
            raise ModelLoadError(f"{p}: the '{part}' subfolder is missing")
    for part in ("unet", "controlnet"):
        if not (p / part / "config.json").is_file():
            raise ModelLoadError(f"{p / part}: config.json is missing")
    return p


# ---- conversion ------------------------------------------------------------------------------
def _bin_to_safetensors(src: Path, dst: Path) -> None:
    import torch
    from safetensors.torch import save_file

    try:
        state = torch.load(str(src), map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as exc:
        # weights_only refusing a pickled object, a damaged zip archive or pickle stream, an unreadable file
        raise ModelLoadError(f"{src} could not be read as plain tensors (weights_only=True): {exc}") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelLoadError(f"{src} does not hold a flat dict of tensors")
    save_file({k: v.contiguous() for k, v in state.items()}, str(dst))


def _copy_component(src: Path, dst: Path) -> None:
    """Copy a diffusers/transformers component folder, turning every *.bin weight file into safetensors."""
    dst.mkdir(parents=True, exist_ok=True)
    names = {f.name for f in src.iterdir() if f.is_file()}
    for f in sorted(src.iterdir()):
        if not f.is_file():
            continue
        if f.suffix == ".bin":
            target = "model.safetensors" if f.name == "pytorch_model.bin" else f.stem + ".safetensors"
            if target not in names:
                _bin_to_safetensors(f, dst / target)
        elif f.suffix in (".json", ".txt", ".safetensors", ".model"):
            shutil.copy2(f, dst / f.name)


def _hydra_image_size(cfg_file: Path) -> list[int] | None:
    """dataset.image_size [H, W] of a release's hydra config; None when PyYAML is missing or the file does not say."""
    try:
        import yaml
    except ImportError:
        return None
    try:
        cfg = yaml.safe_load(cfg_file.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    dataset = cfg.get("dataset", {}) if isinstance(cfg, dict) else None
    size = dataset.get("image_size") if isinstance(dataset, dict) else None
    if isinstance(size, list) and len(size) == 2:
        try:
            return [int(size[0]), int(size[1])]
        except (TypeError, ValueError):
            return None
    return None


def _image_size_from_release(src: Path) -> list[int]:
    cfg_file = src / "hydra" / "config.yaml"
    if cfg_file.is_file():
        size = _hydra_image_size(cfg_file)   # a hydra file we cannot parse: fall back to the UNet config
        if size is not None:
            return size
    try:
        size = json.loads((src / "unet" / "config.json").read_text()).get("img_size")
        if isinstance(size, list) and len(size) == 2:
            return [int(size[0]), int(size[1])]
    except (OSError, ValueError):
        pass
    return list(DEFAULT_IMAGE_SIZE)


def convert_release(src: str | os.PathLike[str], out: str | os.PathLike[str], sd15: str | os.PathLike[str] | None = None,
                    checkpoint: str | None = None) -> Path:
    """Turn a MagicDrive release folder into the studio's folder at `out` (written atomically).

    src: the release (unet/, controlnet/, optionally hydra/ and SD1.5's parts); sd15: a Stable
    Diffusion 1.5 diffusers folder for the parts the release lacks. Returns `out`. ModelLoadError
    names what is missing or unreadable; nothing is left at `out` on failure.
    """
    src_p, out_p = Path(src).expanduser(), Path(out).expanduser()
    if not src_p.is_dir():
        raise ModelLoadError(f"release folder {src_p} " + ("is not a folder" if src_p.exists() else "does not exist"))
    if not _is_release(src_p):
        raise ModelLoadError(f"{src_p} is not a MagicDrive release: it needs unet/ and controlnet/ with "
                             "config.json and diffusion_pytorch_model.bin (or .safetensors)")
    if out_p.exists():
        raise ModelLoadError(f"{out_p} already exists; choose a new output folder")
    base = Path(sd15).expanduser() if sd15 else None
    parts: dict[str, Path] = {}
    for part in SD_PARTS:
        for root in (src_p, base):
            if root is not None and (root / part).is_dir():
                parts[part] = root / part
                break
        else:
            raise ModelLoadError(f"no '{part}' folder in {src_p}" + (f" or {base}" if base else "")
                                 + "; pass the Stable Diffusion 1.5 folder (diffusers layout) with --base")
    out_p.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_p.name}.", dir=out_p.parent))
    try:
        for part in ("unet", "controlnet"):
            _copy_component(src_p / part, tmp / part)
        for part, folder in parts.items():
            _copy_component(folder, tmp / part)
        info: dict[str, Any] = {"format": "magicdrive", "checkpoint": checkpoint or src_p.name,
                "image_size": _image_size_from_release(src_p), "source": str(src_p)}
        (tmp / MARKER).write_text(json.dumps(info, indent=1) + "\n")
        # the port must accept the weights as they are: compare keys and shapes before publishing
        import torch

        from engine.worldmodel.magicdrive.loading import build_controlnet, build_unet, check_weights_fit

        h, w = info["image_size"]
        with torch.device("meta"):
            controlnet = build_controlnet(tmp / "controlnet", latent_size=(h // 8, w // 8))
            unet = build_unet(tmp / "unet")
        check_weights_fit(controlnet, tmp / "controlnet", "ControlNet")
        check_weights_fit(unet, tmp / "unet", "UNet")
        os.replace(tmp, out_p)
    except BaseException:  # any exit, Ctrl-C included, leaves nothing at `out`; re-raised
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_p


def folder_report(path: str | os.PathLike[str]) -> FolderReport:
    """The folder summary `engine.worldmodel.diffusion.inspect_folder.describe` shows (GUI and
    `model check`): kind 'magicdrive' or 'magicdrive-release', problems empty when it loads."""
    from engine.worldmodel.diffusion.inspect_folder import FolderReport

    p = Path(path).expanduser()
    summary = _summary(p) or (f"{p} is not a MagicDrive folder", [f"{p} is not a MagicDrive folder"])
    if (p / MARKER).is_file():
        return FolderReport(p, "magicdrive", [summary[0]], list(summary[1]))
    return FolderReport(p, "magicdrive-release", [summary[0]], [
        f"a MagicDrive release must be converted once: main.py model convert --magicdrive {p} --base SD15_DIR -o OUT"])


def is_magicdrive_folder(path: str | os.PathLike[str]) -> bool:
    """True for the studio's MagicDrive folders and for MagicDrive releases."""
    p = Path(path).expanduser()
    try:
        return (p / MARKER).is_file() or (p.is_dir() and _is_release(p))
    except OSError:
        return False
