"""What a model folder is, read from its config files and safetensors headers (no weights loaded).

    describe(path) -> FolderReport(kind, lines, loadable_by, problems)

Kinds: `world-model` (the product's pipeline, format 2), `world-model-v1` (the old format),
`stable-diffusion` (a public SD 1.x/2.x diffusers folder), `controlnet` (a public ControlNetModel
folder), `cosmos` (a Cosmos-Transfer2.5 diffusers folder), `unknown`.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


@dataclass
class FolderReport:
    """kind: see the module doc; lines: the human summary; problems: why the product cannot use it (empty: it can)."""

    path: Path
    kind: str
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def safetensors_header(path: Path) -> dict[str, Any]:
    """{key: {"dtype", "shape", ...}} of a safetensors file (reads only the header).

    ValueError names the file where it is not a safetensors file (too short, implausible length, bad JSON).
    """
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ValueError(f"{path}: not a safetensors file ({len(head)} bytes)")
        n = struct.unpack("<Q", head)[0]
        if n > 100_000_000:
            raise ValueError(f"{path}: implausible safetensors header ({n} bytes)")
        try:
            header = json.loads(f.read(n))
        except ValueError as e:   # JSONDecodeError, UnicodeDecodeError
            raise ValueError(f"{path}: unreadable safetensors header: {e}") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path}: unreadable safetensors header: not a JSON object")
    header.pop("__metadata__", None)
    return header


def weights_summary(folder: Path) -> tuple[int, str, str]:
    """(parameter count, dtype(s), file name) of a component folder from its safetensors header; (0, '?', '') if none."""
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        bins = sorted(folder.glob("*.bin"))
        return 0, "?", bins[0].name + " (pickled; not read)" if bins else "no weights file"
    header = safetensors_header(files[0])
    n = 0
    dtypes = set()
    for key, v in header.items():
        try:
            count = 1
            for s in v["shape"]:
                count *= int(s)
            dtypes.add(str(v["dtype"]))
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{files[0]}: tensor {key!r} has no valid dtype/shape in the header") from None
        n += count
    names = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}
    return n, "/".join(sorted(names.get(d, d) for d in dtypes)), files[0].name


def _params(n: int) -> str:
    return f"{n / 1e6:8.2f} M" if n >= 1e5 else f"{n / 1e3:8.1f} k"


def _read(path: Path) -> dict[str, Any] | None:
    """The JSON object in `path`; None where it is missing, unreadable or not an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _component_line(label: str, folder: Path, detail: str) -> str:
    if not folder.is_dir():
        return f"  {label:<22} (missing)"
    n, dt, fname = weights_summary(folder)
    return f"  {label:<22} {_params(n)} params  {dt:<9} {detail}"


def _unet_detail(cfg: dict[str, Any]) -> str:
    extra = ""
    if cfg.get("class_embed_type") == "projection":
        extra = f", env class embedding {cfg.get('projection_class_embeddings_input_dim')}-d"
    return (f"UNet2DConditionModel in {cfg.get('in_channels')} out {cfg.get('out_channels')}, blocks "
            f"{cfg.get('block_out_channels')}, cross-attention {cfg.get('cross_attention_dim')}{extra}")


def describe(path: str | Path) -> FolderReport:
    """Summarise a folder; never loads weights. Malformed files (a garbage safetensors header, a config of the
    wrong shape) become a problem naming the file, not an exception."""
    path = Path(path).expanduser()
    try:
        return _describe(path)
    except (ValueError, OSError) as e:  # an unreadable file (the message names it)
        return FolderReport(path, "unknown", [], [f"unreadable model files: {e}"])
    except (TypeError, KeyError, AttributeError, IndexError) as e:  # a config field of the wrong type or shape
        return FolderReport(path, "unknown", [], [
            f"{path / 'model_index.json'} or a component's config.json has a field of the wrong type or shape "
            f"({type(e).__name__}: {e})"])


def _describe(path: Path) -> FolderReport:
    if not path.exists():
        return FolderReport(path, "missing", [], [f"{path} does not exist"])
    if not path.is_dir():
        return FolderReport(path, "unknown", [], [f"{path} is not a folder"])
    index = _read(path / "model_index.json")
    config = _read(path / "config.json")
    if index is not None:
        cls = str(index.get("_class_name", ""))
        if cls == "WorldModelPipeline":
            return _describe_world_model(path, index)
        if cls.startswith("StableDiffusion"):
            return _describe_sd(path, index)
        if cls.startswith("Cosmos"):
            from engine.worldmodel.cosmos.folder import describe_cosmos

            cosmos: FolderReport = describe_cosmos(path, index)
            return cosmos
    from engine.worldmodel.magicdrive.folder import folder_report, is_magicdrive_folder  # issue 14

    if is_magicdrive_folder(path):
        magicdrive: FolderReport = folder_report(path)
        return magicdrive
    if config is not None and config.get("_class_name") == "ControlNetModel":
        rep = FolderReport(path, "controlnet")
        rep.lines.append(f"{path}: a public ControlNetModel folder (convert it with the base: main.py model convert "
                         f"--base SD_DIR --controlnet NAME={path} -o OUT)")
        rep.lines.append(_component_line("controlnet", path, f"conditioning channels "
                                         f"{config.get('conditioning_channels', 3)}, cross-attention "
                                         f"{config.get('cross_attention_dim')}"))
        rep.problems.append("a single ControlNet is not a pipeline; convert it together with a Stable Diffusion base")
        return rep
    return FolderReport(path, "unknown", [], [
        f"{path} is not a folder the product knows: expected a world-model pipeline (model_index.json with "
        "WorldModelPipeline), a Stable Diffusion or ControlNet folder in the diffusers layout, a Cosmos-Transfer2.5 "
        "folder or a MagicDrive checkpoint"])


_SD_FAMILIES: dict[object, str] = {768: "Stable Diffusion 1.x", 1024: "Stable Diffusion 2.x"}


def _describe_sd(path: Path, index: dict[str, Any]) -> FolderReport:
    rep = FolderReport(path, "stable-diffusion")
    ucfg = _read(path / "unet" / "config.json") or {}
    dim = ucfg.get("cross_attention_dim")
    family = _SD_FAMILIES.get(dim, f"cross-attention {dim}")
    rep.lines.append(f"{path}: a public {index.get('_class_name')} folder ({family}); convert it with "
                     f"main.py model convert --base {path} --controlnet depth=DIR ... -o OUT")
    for part in ("unet", "vae", "text_encoder"):
        cfg = _read(path / part / "config.json") or {}
        detail = _unet_detail(cfg) if part == "unet" else str(cfg.get("_class_name", cfg.get("architectures", "")))
        rep.lines.append(_component_line(part, path / part, detail))
    rep.problems.append("a public base is not a product pipeline yet: run `main.py model convert`")
    return rep


def _describe_world_model(path: Path, index: dict[str, Any]) -> FolderReport:
    from engine.worldmodel.diffusion import selectors
    from engine.worldmodel.diffusion.backend import controlnet_folders

    rep = FolderReport(path, "world-model")
    if index.get("controlnet", [None, None])[1] != "MultiControlNetModel":
        rep.kind = "world-model-v1"
        rep.problems.append("the old single-ControlNet format (9/16 condition channels), which no public checkpoint "
                            "fits; rebuild it with `main.py model convert`")
        return rep
    ucfg = _read(path / "unet" / "config.json") or {}
    c = (int(ucfg.get("in_channels", 9)) - 1) // 2
    rep.lines.append(f"{path}: product world-model pipeline (WorldModelPipeline, format "
                     f"{index.get('format_version')}), {index.get('num_views')} views stitched into one panorama")
    rep.lines.append(_component_line("unet", path / "unet", _unet_detail(ucfg)))
    rep.lines.append(f"  {'':<22} inputs: noisy latent {c} + previous-frame latent {c} + flag 1")
    controls = index.get("controls") or []
    for i, folder in enumerate(controlnet_folders(path)):
        ctl = controls[i] if i < len(controls) else {"name": "?", "selector": "?", "scale": "?"}
        cfg = _read(folder / "config.json") or {}
        try:
            wiring = selectors.describe_selector(str(ctl.get("selector")))
        except ValueError as e:
            wiring = f"INVALID ({e})"
            rep.problems.append(str(e))
        rep.lines.append(_component_line(f"controlnet[{i}] {ctl.get('name')}", folder,
                                         f"<- {wiring}; scale {ctl.get('scale')}; cond channels "
                                         f"{cfg.get('conditioning_channels', 3)}  ({folder.name}/)"))
    if (path / "layout_controlnet").is_dir():
        rep.lines.append(_component_line("layout_controlnet", path / "layout_controlnet",
                                         f"<- boxes (10 classes) + HD map (3) + camera rays (3); scale "
                                         f"{index.get('layout_scale')}"))
    vcfg = _read(path / "vae" / "config.json") or {}
    rep.lines.append(_component_line("vae", path / "vae", f"AutoencoderKL latent {vcfg.get('latent_channels')}, "
                                     f"factor {2 ** (len(vcfg.get('block_out_channels', [0])) - 1)}"))
    if (path / "text_encoder").is_dir():
        tcfg = _read(path / "text_encoder" / "config.json") or {}
        rep.lines.append(_component_line("text_encoder", path / "text_encoder",
                                         f"CLIP text, hidden {tcfg.get('hidden_size')}, {tcfg.get('num_hidden_layers')} layers"))
    else:
        rep.lines.append(f"  {'text_encoder':<22} none (prompts are ignored)")
    sched = (index.get("scheduler") or [None, None])[1]
    rep.lines.append(f"  {'scheduler':<22} {sched}")
    conv = _read(path / "conversion.json")
    if conv:
        rep.lines.append(f"  converted from: {', '.join(f'{k}={v}' for k, v in conv.get('sources', {}).items())}")
    return rep
