"""Finding and loading nuScenes-format datasets: versions, a quick scene list, the devkit database.

`list_scenes` reads only the scene, log and sample tables, so a dialog can list the scenes of
v1.0-trainval in a moment; `load_nuscenes` builds the full nuscenes-devkit `NuScenes` database
(seconds to a minute for trainval) and keeps the last one in memory.
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.sources.errors import SceneSourceError

if TYPE_CHECKING:
    from nuscenes.nuscenes import NuScenes   # untyped: Any to the type checker

Record = dict[str, Any]
"""One row of a nuScenes table (JSON object: tokens, names, numbers and lists by field name)."""
TableSignature = tuple[tuple[str, int], ...]

TABLES: tuple[str, ...] = (
    "category", "attribute", "visibility", "instance", "sensor", "calibrated_sensor", "ego_pose",
    "log", "scene", "sample", "sample_data", "sample_annotation", "map",
)

_cache_lock = threading.Lock()
_cache: dict[tuple[str, str], tuple[TableSignature, NuScenes]] = {}
CACHE_SIZE = 1


@dataclass(frozen=True)
class SceneInfo:
    """One scene as listed in the dataset's tables (no sensor data read)."""

    name: str
    token: str
    description: str
    location: str
    log_name: str
    num_samples: int
    duration: float          # seconds from the first to the last key frame
    first_timestamp_us: int


def _dataroot(dataroot: str | os.PathLike[str]) -> Path:
    root = Path(dataroot).expanduser()
    if not root.exists():
        raise SceneSourceError(f"nuScenes dataroot {root} does not exist")
    if not root.is_dir():
        raise SceneSourceError(f"nuScenes dataroot {root} is not a folder")
    return root


def available_versions(dataroot: str | os.PathLike[str]) -> list[str]:
    """Sub-folders of `dataroot` that hold nuScenes tables (``v1.0-mini``, ``v1.0-trainval`` ...), sorted."""
    root = _dataroot(dataroot)
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / "scene.json").is_file())


def check_dataset(dataroot: str | os.PathLike[str], version: str) -> Path:
    """The table folder of a dataset after checking that every table is there; SceneSourceError otherwise."""
    root = _dataroot(dataroot)
    table_dir = root / version
    if not table_dir.is_dir():
        found = available_versions(root)
        hint = f"; versions found there: {', '.join(found)}" if found else "; no version folder with tables found there"
        raise SceneSourceError(f"{root}: no version folder {version!r}{hint}")
    missing = [t for t in TABLES if not (table_dir / f"{t}.json").is_file()]
    if missing:
        raise SceneSourceError(f"{table_dir}: missing table file(s) {', '.join(m + '.json' for m in missing)}")
    return table_dir


def _read_table(table_dir: Path, name: str) -> list[Record]:
    path = table_dir / f"{name}.json"
    try:
        rows = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as e:
        raise SceneSourceError(f"{path}: cannot read: {e}") from None
    except json.JSONDecodeError as e:
        raise SceneSourceError(f"{path}: invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
    if not isinstance(rows, list):
        raise SceneSourceError(f"{path}: expected a JSON list of records")
    return rows


def list_scenes(dataroot: str | os.PathLike[str], version: str) -> list[SceneInfo]:
    """Every scene of a dataset with its description, location and length, sorted by name.

    Reads the scene, log and sample tables only.
    """
    table_dir = check_dataset(dataroot, version)
    logs = {r.get("token"): r for r in _read_table(table_dir, "log")}
    samples = {r.get("token"): r for r in _read_table(table_dir, "sample")}
    out = []
    for i, sc in enumerate(_read_table(table_dir, "scene")):
        try:
            log = logs.get(sc["log_token"], {})
            first = samples.get(sc["first_sample_token"], {})
            last = samples.get(sc["last_sample_token"], {})
            t_first = int(first.get("timestamp", 0))
            t_last = int(last.get("timestamp", t_first))
            out.append(SceneInfo(
                name=str(sc["name"]), token=str(sc["token"]), description=str(sc.get("description", "")),
                location=str(log.get("location", "")), log_name=str(log.get("logfile", "")),
                num_samples=int(sc.get("nbr_samples", 0)), duration=(t_last - t_first) / 1e6,
                first_timestamp_us=t_first,
            ))
        except (KeyError, TypeError, ValueError) as e:
            raise SceneSourceError(f"{table_dir / 'scene.json'}: record {i}: malformed ({e})") from None
    return sorted(out, key=lambda s: s.name)


def _signature(table_dir: Path) -> TableSignature:
    return tuple((t, (table_dir / f"{t}.json").stat().st_mtime_ns) for t in TABLES)


def load_nuscenes(dataroot: str | os.PathLike[str], version: str) -> NuScenes:
    """The nuscenes-devkit `NuScenes` database of a dataset (cached until its tables change).

    Raises SceneSourceError naming the folder and what is wrong instead of the devkit's assertions.
    """
    table_dir = check_dataset(dataroot, version)
    key = (str(table_dir.parent.resolve()), version)
    sig = _signature(table_dir)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] == sig:
            return hit[1]
    os.environ.setdefault("MPLBACKEND", "Agg")     # the devkit imports pyplot
    from nuscenes.nuscenes import NuScenes

    from engine.sources.table_checks import check_devkit_tables, check_raw_tables

    try:
        nusc = NuScenes(version=version, dataroot=str(table_dir.parent), verbose=False)
    # the devkit raises bare Exception (its own `raise Exception(...)`), AssertionError, KeyError, TypeError...
    # for table problems; every one is re-raised as SceneSourceError (check_raw_tables names the record first)
    except Exception as e:  # noqa: BLE001
        check_raw_tables(table_dir)                 # names table, record and field when the tables say why
        if isinstance(e, AssertionError):
            raise SceneSourceError(f"{table_dir}: nuscenes-devkit refused the dataset: {e}") from None
        if isinstance(e, KeyError):
            raise SceneSourceError(f"{table_dir}: a record refers to a missing token {e}") from None
        raise SceneSourceError(f"{table_dir}: nuscenes-devkit could not load the dataset: {e}") from None
    check_devkit_tables(table_dir, nusc)            # shapes, finite numbers, dangling tokens
    with _cache_lock:
        while len(_cache) >= CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = (sig, nusc)
    return nusc


def clear_cache() -> None:
    """Forget the cached databases (frees their memory)."""
    with _cache_lock:
        _cache.clear()
