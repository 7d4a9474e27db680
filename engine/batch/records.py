"""What a batch folder remembers between runs, so that a run can be stopped and resumed.

    DIR/.batch/records/<variant id>.json   one record per variant that ended: status done | filtered |
                                           failed, the variant's key, scene name/token, error, timings
    DIR/batch.json                         the spec as run and a summary of every variant (rewritten
                                           after each variant, atomically)

Records are written atomically after the variant's scene was committed to the dataset. A variant
counts as finished when its record says done or filtered with the current key; failed variants are
tried again on the next run. A scene committed just before a crash (record not yet written) is
recognised through the dataset manifest, which lists the variant key of every scene.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from engine.fileio import atomic_write_json

if TYPE_CHECKING:
    from engine.batch.variants import Variant

STATE_DIR = ".batch"


class VariantStatus(StrEnum):
    """How a variant stands; the values are the strings of the record files and batch.json."""

    DONE = "done"
    FILTERED = "filtered"
    FAILED = "failed"
    PENDING = "pending"     # not run yet (batch.json and listings only; never in a record)


FINISHED = (VariantStatus.DONE, VariantStatus.FILTERED)


@dataclass(frozen=True)
class VariantRecord:
    """How one variant ended. status: done | filtered | failed (a `VariantStatus`; a plain string
    from a record file is converted)."""

    id: str
    key: str
    status: VariantStatus
    label: str = ""
    scene_name: str | None = None
    scene_token: str | None = None
    files: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    traceback: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    finished_at: float = 0.0
    worker: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", VariantStatus(self.status))   # ValueError for an unknown status

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["status"] = self.status.value
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "VariantRecord":
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        return cls(**known)


class BatchState:
    """The records of one batch folder."""

    def __init__(self, out_dir: str | os.PathLike[str]) -> None:
        self.out_dir = Path(out_dir)
        self.records_dir = self.out_dir / STATE_DIR / "records"

    def path(self, variant_id: str) -> Path:
        return self.records_dir / f"{variant_id}.json"

    def load(self, variant_id: str) -> VariantRecord | None:
        """The record of a variant, or None (also for an unreadable record, which is then redone)."""
        p = self.path(variant_id)
        if not p.is_file():
            return None
        try:
            return VariantRecord.from_dict(json.loads(p.read_text()))
        except (OSError, json.JSONDecodeError, TypeError, ValueError):
            return None

    def all(self) -> dict[str, VariantRecord]:
        out: dict[str, VariantRecord] = {}
        if self.records_dir.is_dir():
            for p in sorted(self.records_dir.glob("*.json")):
                rec = self.load(p.stem)
                if rec is not None:
                    out[rec.id] = rec
        return out

    def is_finished(self, variant_id: str, key: str) -> bool:
        rec = self.load(variant_id)
        return rec is not None and rec.key == key and rec.status in FINISHED

    def save(self, record: VariantRecord) -> Path:
        if not record.finished_at:
            record = VariantRecord(**{**record.to_dict(), "finished_at": time.time()})
        return atomic_write_json(self.path(record.id), record.to_dict())

    def status_of(self, variant: "Variant") -> VariantStatus:
        """The status of a variant: its record's when the record has the variant's current key, else pending."""
        rec = self.load(variant.id)
        return rec.status if rec is not None and rec.key == variant.key else VariantStatus.PENDING

    def write_summary(self, spec_dict: dict[str, Any], variants: Sequence["Variant"],
                      extra: dict[str, Any] | None = None) -> Path:
        """Rewrite DIR/batch.json: the spec and every variant with its status (pending when not run)."""
        records = self.all()
        rows = []
        counts: dict[str, int] = {}
        for v in variants:
            rec = records.get(v.id)
            status = rec.status.value if rec is not None and rec.key == v.key else VariantStatus.PENDING.value
            counts[status] = counts.get(status, 0) + 1
            row: dict[str, Any] = {**v.to_dict(), "status": status}
            if rec is not None and rec.key == v.key:
                row.update({"scene_name": rec.scene_name, "scene_token": rec.scene_token, "error": rec.error,
                            "files": rec.files, "timings": rec.timings})
            rows.append(row)
        doc = {"spec": spec_dict, "counts": counts, "variants": rows, **(extra or {})}
        return atomic_write_json(self.out_dir / "batch.json", doc)
