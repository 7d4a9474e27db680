"""A local Cosmos-Transfer2.5 folder (diffusers layout): what is in it, what is missing, and its guardrail.

    check_cosmos_folder(path) -> Path            ModelNotConfiguredError / ModelLoadError naming what is missing
    load_guardrail(path) -> safety checker       ModelLoadError when the guardrail is not available locally
"""
from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Protocol

import numpy as np
from numpy.typing import NDArray

from engine.worldmodel.errors import ModelLoadError, ModelNotConfiguredError

if TYPE_CHECKING:
    from engine.worldmodel.diffusion.inspect_folder import FolderReport

PIPELINE_CLASS = "Cosmos2_5_TransferPipeline"
COMPONENTS = ("transformer", "controlnet", "vae", "scheduler", "text_encoder", "tokenizer")
GUARDRAIL_DIR = "guardrail"
GUARDRAIL_HELP = (
    "Cosmos-Transfer2.5's licence (NVIDIA Open Model License) requires its guardrail. Install the "
    "`cosmos_guardrail` package and download nvidia/Cosmos-Guardrail1 by hand into {folder}/guardrail "
    "(nothing is downloaded at run time).")
NO_MODEL_MESSAGE = (
    "The cosmos backend needs a local Cosmos-Transfer2.5 folder in the diffusers layout (e.g. the converted "
    "nvidia/Cosmos-Transfer2.5-2B with transformer, controlnet, vae, text_encoder, tokenizer, scheduler); "
    "choose one in the generation settings or pass --model DIR.")


class SafetyChecker(Protocol):
    """The guardrail interface diffusers' Cosmos pipeline calls (cosmos_guardrail's CosmosSafetyChecker)."""

    def check_text_safety(self, prompt: str) -> bool: ...

    def check_video_safety(self, video: NDArray[np.uint8]) -> NDArray[np.uint8]: ...

    def to(self, *args: Any, **kwargs: Any) -> Any: ...


def check_cosmos_folder(model_dir: str | os.PathLike[str] | None) -> Path:
    """The folder as a Path when every component is there; ModelNotConfiguredError / ModelLoadError otherwise."""
    if model_dir is None or not str(model_dir).strip():
        raise ModelNotConfiguredError(NO_MODEL_MESSAGE)
    path = Path(model_dir).expanduser()
    if not path.is_dir():
        raise ModelLoadError(f"Cosmos folder {path} does not exist or is not a folder")
    index_path = path / "model_index.json"
    if not index_path.is_file():
        raise ModelLoadError(f"{path}: model_index.json is missing; expected a diffusers {PIPELINE_CLASS} folder")
    try:
        index = json.loads(index_path.read_text())
    except (OSError, ValueError) as e:
        raise ModelLoadError(f"{index_path}: not readable JSON ({e})") from None
    if index.get("_class_name") != PIPELINE_CLASS:
        raise ModelLoadError(f"{path} holds a {index.get('_class_name')}, not a {PIPELINE_CLASS}")
    missing = [c for c in COMPONENTS if not (path / c).is_dir()]
    if missing:
        raise ModelLoadError(f"{path}: incomplete Cosmos-Transfer2.5 folder: missing {', '.join(missing)}")
    for comp in ("transformer", "controlnet", "vae"):
        if not any((path / comp).glob("*.safetensors")) and not any((path / comp).glob("*.safetensors.index.json")):
            raise ModelLoadError(f"{path / comp}: no safetensors weights")
    return path


def guardrail_problem(path: Path) -> str | None:
    """Why the guardrail cannot be used from this machine (None: it can)."""
    try:
        import cosmos_guardrail  # noqa: F401
    except ImportError:
        return "the cosmos_guardrail package is not installed. " + GUARDRAIL_HELP.format(folder=path)
    if not (path / GUARDRAIL_DIR).is_dir():
        return f"{path / GUARDRAIL_DIR} is missing. " + GUARDRAIL_HELP.format(folder=path)
    return None


@contextmanager
def _offline() -> Iterator[None]:
    old = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    os.environ.update({k: "1" for k in old})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def load_guardrail(path: Path) -> SafetyChecker:
    """The licence's CosmosSafetyChecker from the local folder (offline); ModelLoadError says what is missing."""
    problem = guardrail_problem(path)
    if problem:
        raise ModelLoadError(f"refusing to run Cosmos-Transfer2.5 without its guardrail: {problem}")
    from cosmos_guardrail import CosmosSafetyChecker

    try:
        with _offline():
            checker: SafetyChecker = CosmosSafetyChecker(checkpoint_id=str(path / GUARDRAIL_DIR))
            return checker
    except Exception as e:  # cosmos_guardrail (not a dependency) raises many kinds for missing files: all mean unusable
        raise ModelLoadError(f"refusing to run Cosmos-Transfer2.5: its guardrail in {path / GUARDRAIL_DIR} does not "
                             f"load offline ({type(e).__name__}: {e}). " + GUARDRAIL_HELP.format(folder=path)) from None


def describe_cosmos(path: Path, index: dict[str, Any]) -> FolderReport:
    """`model check` report of a Cosmos folder."""
    from engine.worldmodel.diffusion.inspect_folder import FolderReport, _component_line, _read

    rep = FolderReport(path, "cosmos")
    rep.lines.append(f"{path}: a {index.get('_class_name')} folder (backend: cosmos; each camera is generated "
                     "independently, the control video from one guidance map)")
    for comp in COMPONENTS:
        cfg = _read(path / comp / "config.json") or {}
        detail = cfg.get("_class_name") or (cfg.get("architectures") or [""])[0]
        if comp == "tokenizer":
            rep.lines.append(f"  {comp:<22} {'present' if (path / comp).is_dir() else '(missing)'}")
        elif comp == "scheduler":
            rep.lines.append(f"  {comp:<22} {(index.get('scheduler') or [None, None])[1]}")
        else:
            rep.lines.append(_component_line(comp, path / comp, str(detail)))
    try:
        check_cosmos_folder(path)
    except (ModelLoadError, ModelNotConfiguredError) as e:
        rep.problems.append(str(e))
    g = guardrail_problem(path)
    rep.lines.append(f"  {'guardrail':<22} {'present' if g is None else 'MISSING'}")
    if g:
        rep.problems.append(f"guardrail: {g}")
    return rep
