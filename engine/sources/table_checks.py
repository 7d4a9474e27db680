"""Validation of nuScenes-format tables before use: shapes, finite numbers, dangling tokens, missing
files. Every problem names the table, the record's token and the field, e.g.

    ego_pose.json record 3f2a... field translation: 2 numbers, expected 3
    sample.json record 9c1e... field next: no sample with token 'dead...'

`table_problems(tables)` checks tables already in memory (the devkit's own lists, so nothing is read
twice); `check_tables` raises `SceneSourceError` with at most MAX_REPORTED problems.
`missing_files(dataroot, records)` checks that the files of the given sample_data records exist
(opening a scene already reports missing images: `engine.sources.streams`). One pass per table.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from engine.sources.errors import SceneSourceError

if TYPE_CHECKING:
    from nuscenes.nuscenes import NuScenes   # untyped: Any to the type checker

    from engine.sources.nuscenes_db import Record   # (nuscenes_db imports this module when loading)

MAX_REPORTED = 20

#: field -> table its token must exist in (fields ending in _tokens hold lists)
REFERENCES: dict[str, dict[str, str]] = {
    "scene": {"log_token": "log", "first_sample_token": "sample", "last_sample_token": "sample"},
    "sample": {"scene_token": "scene", "prev": "sample", "next": "sample"},
    "sample_data": {"sample_token": "sample", "ego_pose_token": "ego_pose",
                    "calibrated_sensor_token": "calibrated_sensor", "prev": "sample_data", "next": "sample_data"},
    "sample_annotation": {"sample_token": "sample", "instance_token": "instance", "attribute_tokens": "attribute",
                          "visibility_token": "visibility", "prev": "sample_annotation",
                          "next": "sample_annotation"},
    "instance": {"category_token": "category", "first_annotation_token": "sample_annotation",
                 "last_annotation_token": "sample_annotation"},
    "calibrated_sensor": {"sensor_token": "sensor"},
}
#: field -> (length, what): numeric vectors that must have that many finite numbers
VECTORS: dict[str, dict[str, int]] = {
    "ego_pose": {"translation": 3, "rotation": 4},
    "calibrated_sensor": {"translation": 3, "rotation": 4},
    "sample_annotation": {"translation": 3, "size": 3, "rotation": 4},
}
#: fields that must be integers (microsecond timestamps)
TIMESTAMPS = {"ego_pose": "timestamp", "sample": "timestamp", "sample_data": "timestamp"}


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _finite(v: Any) -> bool:
    try:
        return _is_num(v) and math.isfinite(float(v))
    except OverflowError:
        return False


class _Report:
    def __init__(self, limit: int) -> None:
        self.items: list[str] = []
        self.limit = limit
        self.more = 0

    def add(self, table: str, rec: Any, field: str, what: str) -> None:
        if len(self.items) >= self.limit:
            self.more += 1
            return
        token = rec.get("token") if isinstance(rec, dict) else None
        who = f"record {token!r}" if isinstance(token, str) else "a record without a token"
        self.items.append(f"{table}.json {who} field {field}: {what}")


def _vector_problem(v: Any, n: int, nonzero: bool = False, positive: bool = False) -> str | None:
    if not isinstance(v, (list, tuple)):
        return f"expected a list of {n} numbers (got {type(v).__name__})"
    if len(v) != n:
        return f"{len(v)} numbers, expected {n}"
    if not all(_finite(x) for x in v):
        return "not all numbers are finite: " + ", ".join(repr(x) for x in v)
    if nonzero and sum(float(x) ** 2 for x in v) < 1e-12:
        return "a zero quaternion (no rotation can be made from it)"
    if positive and not all(float(x) > 0 for x in v):
        return "sizes must be positive"
    return None


def table_problems(tables: Mapping[str, Iterable[Any]], limit: int = MAX_REPORTED) -> tuple[list[str], int]:
    """(problems, how many more were not listed) for the given tables (name -> list of records; a record
    that is not a JSON object is itself a problem)."""
    report = _Report(limit)
    tokens: dict[str, set[Any]] = {}
    for name, rows in tables.items():
        rows = rows if isinstance(rows, list) else list(rows)
        tokens[name] = {r.get("token") for r in rows if isinstance(r, dict)}
    for name, rows in tables.items():
        refs = REFERENCES.get(name, {})
        vecs = VECTORS.get(name, {})
        ts_field = TIMESTAMPS.get(name)
        for rec in rows:
            if not isinstance(rec, dict):
                report.add(name, {}, "(record)", f"expected an object (got {type(rec).__name__})")
                continue
            if not isinstance(rec.get("token"), str) or not rec.get("token"):
                report.add(name, rec, "token", "missing or not text")
            for field, n in vecs.items():
                if field not in rec:
                    report.add(name, rec, field, "missing")
                    continue
                why = _vector_problem(rec[field], n, nonzero=(field == "rotation"), positive=(field == "size"))
                if why:
                    report.add(name, rec, field, why)
            if ts_field is not None:
                ts = rec.get(ts_field)
                if not isinstance(ts, int) or isinstance(ts, bool):
                    report.add(name, rec, ts_field, f"expected an integer timestamp in microseconds (got {ts!r})")
            if name == "sample_data":
                fn = rec.get("filename")
                if not isinstance(fn, str) or not fn:
                    report.add(name, rec, "filename", "missing or not text")
                elif fn.startswith(("/", "\\")) or ".." in fn.replace("\\", "/").split("/") or ":" in fn:
                    report.add(name, rec, "filename", f"{fn[:200]!r} points outside the dataset folder")
            if name == "calibrated_sensor":
                k = rec.get("camera_intrinsic")
                if k not in (None, []) and (not isinstance(k, list) or len(k) != 3 or any(
                        _vector_problem(row, 3) for row in k)):
                    report.add(name, rec, "camera_intrinsic", "expected [] or a 3x3 matrix of finite numbers")
            for field, target in refs.items():
                if target not in tokens:
                    continue
                value = rec.get(field)
                values = value if field.endswith("_tokens") and isinstance(value, list) else [value]
                for v in values:
                    if v in ("", None) and field in ("prev", "next"):
                        continue
                    if v not in tokens[target]:
                        report.add(name, rec, field, f"no {target} with token {v!r}")
    return report.items, report.more


def missing_files(dataroot: str | os.PathLike[str], records: Iterable[Record], limit: int = MAX_REPORTED) -> list[str]:
    """Problems for sample_data records whose `filename` does not exist under `dataroot`."""
    report = _Report(limit)
    root = Path(dataroot)
    for rec in records:
        fn = rec.get("filename")
        if not isinstance(fn, str) or not fn:
            report.add("sample_data", rec, "filename", "missing")
        elif ".." in Path(fn).parts or Path(fn).is_absolute():
            report.add("sample_data", rec, "filename", f"{fn!r} points outside the dataset")
        elif not (root / fn).is_file():
            report.add("sample_data", rec, "filename", f"file {root / fn} does not exist")
    out = report.items
    if report.more:
        out.append(f"... and {report.more} more missing file(s)")
    return out


def _raise(where: str, problems: list[str], more: int) -> None:
    tail = [f"... and {more} more problem(s)"] if more else []
    n = len(problems) + more
    raise SceneSourceError(f"{where}: {n} problem(s) in the tables:\n" + "\n".join(f"  {p}" for p in problems + tail))


def check_tables(table_dir: str | os.PathLike[str], tables: Mapping[str, Iterable[Any]]) -> None:
    """SceneSourceError naming table, record and field when the tables are not usable."""
    problems, more = table_problems(tables)
    if problems:
        _raise(str(table_dir), problems, more)


def check_devkit_tables(table_dir: str | os.PathLike[str], nusc: NuScenes) -> None:
    """`check_tables` on a loaded nuscenes-devkit `NuScenes` (its in-memory table lists)."""
    names = list(REFERENCES) + [t for t in ("ego_pose", "log", "sensor", "category", "attribute", "visibility")]
    tables = {n: getattr(nusc, n) for n in dict.fromkeys(names) if isinstance(getattr(nusc, n, None), list)}
    check_tables(table_dir, tables)


def check_raw_tables(table_dir: str | os.PathLike[str]) -> None:
    """`check_tables` on the JSON files of a table folder (used when the devkit itself failed)."""
    import json

    folder = Path(table_dir)
    tables: dict[str, list[Any]] = {}
    for path in sorted(folder.glob("*.json")):
        try:
            rows = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(rows, list):
            tables[path.stem] = rows
    check_tables(folder, tables)


def check_scene_files(dataroot: str | os.PathLike[str], nusc: NuScenes, scene_token: str) -> None:
    """SceneSourceError when a camera file of the scene's sample_data (key frames and sweeps) is
    missing (the studio reads camera images only; lidar/radar blobs may be absent)."""
    samples = {s["token"] for s in nusc.sample if s.get("scene_token") == scene_token}
    recs = [sd for sd in nusc.sample_data if sd.get("sample_token") in samples
            and "/CAM_" in str(sd.get("filename", "/CAM_"))]
    problems = missing_files(dataroot, recs)
    if problems:
        raise SceneSourceError(f"{dataroot}: missing file(s) of scene {scene_token!r}:\n" +
                               "\n".join(f"  {p}" for p in problems))


__all__ = ["MAX_REPORTED", "check_devkit_tables", "check_raw_tables", "check_scene_files", "check_tables",
           "missing_files", "table_problems"]
