"""A nuScenes dataset folder that grows scene by scene, safely.

Every export writes its scene into a staging dataset (``<root>/.staging/<id>/``, see
`nuscenes_writer.SceneWriter`) and then `merge_scene` appends it to the dataset at ``<root>``:

1. take the dataset lock (``<root>/.lock``; several processes may export into one folder);
2. finish or roll back a commit that a crash interrupted (`recover`);
3. load the current tables, match the vocabulary (category, attribute, visibility, sensor by name)
   and append the new scene's records; a scene name already present gets a suffix (``-2``, ...);
4. move the new media (JPEGs, map mask, the scene's extra folder) into place: new, unique names
   that no table references yet, so a crash here leaves only unreferenced files;
5. commit the tables and the dataset manifest: write them all into ``<root>/.pending-<id>/`` and
   flush them to disk together (one pass of fsyncs after all the writes, so the file system commits
   them in one go instead of once per table), then write the journal ``<root>/.commit.json`` (the
   commit point), then move each file into place
   and delete the journal. A crash before the journal leaves the old tables; after it, `recover`
   rolls the move forward. Either way the dataset holds all earlier scenes and the new one wholly
   or not at all.
"""
from __future__ import annotations

import json
import os
import shutil
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from engine.export.nuscenes_schema import DEFAULT_VERSION, TABLES, VOCABULARY_TABLES, Record, Tables
from engine.fileio import atomic_write_json

LOCK_FILE = ".lock"
JOURNAL = ".commit.json"
STAGING_DIR = ".staging"
DATASET_MANIFEST = "manifest.json"
EXTRA_DIR = "cornercase"
LOCK_TIMEOUT_S = 600.0


class NuScenesDatasetError(ValueError):
    """The dataset folder is unreadable or inconsistent; the message names the file or record."""


@dataclass(frozen=True)
class MergeResult:
    """What `merge_scene` added: the scene's final name and token, and the dataset's scene count."""

    scene_name: str
    scene_token: str
    num_scenes: int
    files_moved: int


@contextmanager
def dataset_lock(root: str | os.PathLike[str], timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Exclusive lock on a dataset folder across processes (a `filelock.FileLock` on ``<root>/.lock``)."""
    from filelock import FileLock, Timeout

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(root / LOCK_FILE))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise NuScenesDatasetError(f"{root}: another export holds the dataset lock for more than {timeout:g} s") from None
    try:
        yield
    finally:
        lock.release()


def empty_tables() -> Tables:
    return {name: [] for name in TABLES}


def load_tables(root: str | os.PathLike[str], version: str = DEFAULT_VERSION) -> Tables:
    """The 13 tables of the dataset at `root` (all empty when the version folder does not exist)."""
    table_dir = Path(root) / version
    if not table_dir.is_dir():
        return empty_tables()
    missing = [n for n in TABLES if not (table_dir / f"{n}.json").is_file()]
    if missing:
        raise NuScenesDatasetError(f"{table_dir}: incomplete nuScenes tables, missing {', '.join(missing)}")
    out: Tables = {}
    for name in TABLES:
        path = table_dir / f"{name}.json"
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise NuScenesDatasetError(f"{path}: cannot read table: {e}") from None
        if not isinstance(data, list):
            raise NuScenesDatasetError(f"{path}: a table must be a JSON list of records")
        out[name] = data
    return out


def recover(root: str | os.PathLike[str]) -> bool:
    """Roll an interrupted commit forward (journal present) and drop half-written pending folders.

    Call with the dataset lock held. Returns True when a commit was rolled forward.
    """
    root = Path(root)
    journal = root / JOURNAL
    rolled = False
    if journal.is_file():
        try:
            moves = json.loads(journal.read_text())["moves"]
        except (OSError, json.JSONDecodeError, KeyError) as e:
            raise NuScenesDatasetError(f"{journal}: unreadable commit journal ({e}); inspect it by hand") from None
        for src, dst in moves:
            s, d = root / src, root / dst
            if s.exists():
                d.parent.mkdir(parents=True, exist_ok=True)
                os.replace(s, d)
        journal.unlink()
        rolled = True
    for pending in root.glob(".pending-*"):
        shutil.rmtree(pending, ignore_errors=True)
    return rolled


def _write_pending(pending: Path, files: dict[str, object]) -> list[Path]:
    """Write the JSON files into the new private folder `pending` (tables compact, the rest indented),
    then fsync them all: the writes first, the flushes after, so that the first fsync commits every
    file's data at once and the others find nothing left to do. Returns the paths written."""
    paths = []
    for rel, obj in files.items():
        path = pending / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps(obj, indent=None if "/" in rel else 2, allow_nan=False) + "\n"
        with open(path, "w", encoding="utf-8") as f:
            f.write(data)
        os.chmod(path, 0o644)
        paths.append(path)
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return paths


def commit_files(root: str | os.PathLike[str], files: dict[str, object]) -> None:
    """Replace several JSON files under `root` (relative path -> JSON value) all together (see step 5)."""
    root = Path(root)
    pending = root / f".pending-{uuid.uuid4().hex[:12]}"
    moves = []
    try:
        pending.mkdir(parents=True)
        for rel, path in zip(files, _write_pending(pending, files)):
            moves.append([str(path.relative_to(root)), rel])
        atomic_write_json(root / JOURNAL, {"moves": moves})
    except BaseException:  # clean up on any exit (Ctrl-C included), then re-raise
        shutil.rmtree(pending, ignore_errors=True)
        raise
    recover(root)


def _unique_name(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    k = 2
    while f"{name}-{k}" in taken:
        k += 1
    return f"{name}-{k}"


def merge_tables(target: Tables, new: Tables) -> tuple[Tables, dict[str, str]]:
    """Target tables with the new scene appended (vocabulary matched by name); also the scene renames."""
    out = {name: list(target.get(name, [])) for name in TABLES}
    remap: dict[str, str] = {}
    for table, key in VOCABULARY_TABLES.items():
        by_key = {r[key]: r for r in out[table]}
        for rec in new[table]:
            if rec[key] in by_key:
                remap[rec["token"]] = by_key[rec[key]]["token"]
            else:
                out[table].append(dict(rec))
                by_key[rec[key]] = rec
    fix: Callable[[str], str] = lambda tok: remap.get(tok, tok)  # noqa: E731
    taken_tokens = {name: {r["token"] for r in out[name]} for name in TABLES}
    renames: dict[str, str] = {}
    scene_names = {s["name"] for s in out["scene"]}
    for table in TABLES:
        if table in VOCABULARY_TABLES:
            continue
        for rec in new[table]:
            rec = dict(rec)
            if rec["token"] in taken_tokens[table]:
                raise NuScenesDatasetError(f"token {rec['token']} of table {table} is already in the dataset")
            if table == "instance":
                rec["category_token"] = fix(rec["category_token"])
            elif table == "calibrated_sensor":
                rec["sensor_token"] = fix(rec["sensor_token"])
            elif table == "sample_annotation":
                rec["visibility_token"] = fix(rec["visibility_token"])
                rec["attribute_tokens"] = [fix(t) for t in rec["attribute_tokens"]]
            elif table == "scene":
                name = _unique_name(rec["name"], scene_names)
                if name != rec["name"]:
                    renames[rec["name"]] = name
                rec["name"] = name
                scene_names.add(name)
            out[table].append(rec)
            taken_tokens[table].add(rec["token"])
    return out, renames


def _media_files(staging: Path, version: str) -> list[Path]:
    """Relative paths of everything in a staging dataset except its tables and the extra folder."""
    out = []
    for top in sorted(staging.iterdir()):
        if top.name in (version, EXTRA_DIR) or top.name.startswith("."):
            continue
        out += [p.relative_to(staging) for p in sorted(top.rglob("*")) if p.is_file()]
    return out


def load_dataset_manifest(root: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(root) / DATASET_MANIFEST
    if path.is_file():
        try:
            doc = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise NuScenesDatasetError(f"{path}: unreadable dataset manifest: {e}") from None
        if not isinstance(doc, dict):
            raise NuScenesDatasetError(f"{path}: the dataset manifest must be a JSON object")
        return doc
    return {}


def merge_scene(staging: str | os.PathLike[str], root: str | os.PathLike[str], version: str = DEFAULT_VERSION,
                scene_entry: dict[str, Any] | None = None, notes: dict[str, Any] | None = None,
                lock_timeout: float = LOCK_TIMEOUT_S) -> MergeResult:
    """Append the one-scene staging dataset at `staging` to the dataset at `root` (see the module docstring).

    `scene_entry` (JSON) is listed for the scene in ``<root>/manifest.json``; `notes` (JSON) are the
    dataset-wide notes of that manifest. The staging folder is removed after a successful merge.
    """
    staging, root = Path(staging), Path(root)
    new = load_tables(staging, version)
    if len(new["scene"]) != 1:
        raise NuScenesDatasetError(f"{staging}: a staging dataset holds exactly one scene, found {len(new['scene'])}")
    with dataset_lock(root, lock_timeout):
        recover(root)
        merged, renames = merge_tables(load_tables(root, version), new)
        scene = merged["scene"][-1]
        media = _media_files(staging, version)
        extra = [p for p in (staging / EXTRA_DIR).iterdir()] if (staging / EXTRA_DIR).is_dir() else []
        clashes = [str(p) for p in media if (root / p).exists()]
        clashes += [str(p.relative_to(staging)) for p in extra if (root / EXTRA_DIR / p.name).exists()]
        if clashes:
            raise NuScenesDatasetError(f"{root}: files of the new scene already exist: {', '.join(clashes[:5])}")
        moved: list[tuple[Path, Path]] = []
        try:
            for rel in media:
                dst = root / rel
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / rel, dst)
                moved.append((staging / rel, dst))
            for p in extra:
                dst = root / EXTRA_DIR / p.name
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(p, dst)
                moved.append((p, dst))
            manifest = load_dataset_manifest(root)
            manifest.setdefault("format", "nuScenes")
            manifest["version"] = version
            if notes:
                manifest["notes"] = notes
            entry = dict(scene_entry or {})
            entry.update({"scene_name": scene["name"], "scene_token": scene["token"]})
            manifest["scenes"] = [*manifest.get("scenes", []), entry]
            files: dict[str, object] = {f"{version}/{name}.json": merged[name] for name in TABLES}
            files[DATASET_MANIFEST] = manifest
            commit_files(root, files)
        except BaseException:  # clean up on any exit (Ctrl-C included), then re-raise
            if not (root / JOURNAL).exists():  # not committed: put the media back
                for src, dst in reversed(moved):
                    try:
                        src.parent.mkdir(parents=True, exist_ok=True)
                        os.replace(dst, src)
                    except OSError:
                        pass
            raise
    shutil.rmtree(staging, ignore_errors=True)
    return MergeResult(scene["name"], scene["token"], len(merged["scene"]), len(moved))


def check_tables(tables: Tables, root: str | os.PathLike[str] | None = None) -> list[str]:
    """Problems in a dataset's tables: duplicate tokens, dangling references, broken prev/next chains,
    counts that disagree, logs without a map, missing files (when `root` is given). Empty when sound."""
    problems: list[str] = []
    idx: dict[str, dict[str, Record]] = {}
    for name in TABLES:
        idx[name] = {}
        for r in tables.get(name, []):
            if r["token"] in idx[name]:
                problems.append(f"{name}: duplicate token {r['token']}")
            idx[name][r["token"]] = r

    def ref(table: str, token: str, where: str) -> None:
        if token not in idx[table]:
            problems.append(f"{where}: refers to missing {table} {token!r}")

    for r in tables["instance"]:
        ref("category", r["category_token"], f"instance {r['token']}")
    for r in tables["calibrated_sensor"]:
        ref("sensor", r["sensor_token"], f"calibrated_sensor {r['token']}")
    for r in tables["scene"]:
        ref("log", r["log_token"], f"scene {r['name']}")
    for r in tables["sample"]:
        ref("scene", r["scene_token"], f"sample {r['token']}")
    for r in tables["sample_data"]:
        w = f"sample_data {r['token']}"
        ref("sample", r["sample_token"], w)
        ref("ego_pose", r["ego_pose_token"], w)
        ref("calibrated_sensor", r["calibrated_sensor_token"], w)
        if root is not None and not (Path(root) / r["filename"]).is_file():
            problems.append(f"{w}: file {r['filename']} is missing")
    for r in tables["sample_annotation"]:
        w = f"sample_annotation {r['token']}"
        ref("sample", r["sample_token"], w)
        ref("instance", r["instance_token"], w)
        ref("visibility", r["visibility_token"], w)
        for a in r["attribute_tokens"]:
            ref("attribute", a, w)
    covered = {t for m in tables["map"] for t in m["log_tokens"]}
    for r in tables["log"]:
        if r["token"] not in covered:
            problems.append(f"log {r['token']}: no map record lists it")
    if root is not None:
        for m in tables["map"]:
            if not (Path(root) / m["filename"]).is_file():
                problems.append(f"map {m['token']}: file {m['filename']} is missing")
    for table in ("sample", "sample_data", "sample_annotation"):
        for r in tables[table]:
            for direction, back in (("next", "prev"), ("prev", "next")):
                other = r[direction]
                if other:
                    o = idx[table].get(other)
                    if o is None:
                        problems.append(f"{table} {r['token']}: {direction} {other} does not exist")
                    elif o[back] != r["token"]:
                        problems.append(f"{table} {r['token']}: {direction} link is not returned by {other}")
    for s in tables["scene"]:
        n, tok, last = 0, s["first_sample_token"], ""
        while tok and tok in idx["sample"] and n <= len(tables["sample"]):
            n, last = n + 1, tok
            tok = idx["sample"][tok]["next"]
        if n != s["nbr_samples"] or last != s["last_sample_token"]:
            problems.append(f"scene {s['name']}: sample chain has {n} samples ending at {last}, "
                            f"table says {s['nbr_samples']} ending at {s['last_sample_token']}")
    for inst in tables["instance"]:
        n, tok = 0, inst["first_annotation_token"]
        while tok and tok in idx["sample_annotation"] and n <= len(tables["sample_annotation"]):
            n += 1
            last, tok = tok, idx["sample_annotation"][tok]["next"]
        if n != inst["nbr_annotations"]:
            problems.append(f"instance {inst['token']}: chain has {n} annotations, table says {inst['nbr_annotations']}")
    return problems
