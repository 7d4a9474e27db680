"""The variants of a batch: sources x seeds x the cartesian product of the sweep, each with a stable key.

A variant's `key` is a hash of everything that decides its output (the source text or the base
file's bytes, the seed, the swept values and the export settings). A finished variant is skipped on
the next run only when its key is unchanged, so editing the spec or the base scenario re-runs
exactly the variants it affects.
"""
from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from engine.batch.spec import BatchSpec, BatchSpecError


class VariantSource(StrEnum):
    """Where a variant's scenario comes from (the value is written in batch.json and hashed into keys)."""

    BASE = "base"
    SCRIPT = "script"
    PROMPT = "prompt"


@dataclass(frozen=True)
class Variant:
    """One run: `index` in the batch, `id` (``v0007``), source ('base' | 'script' | 'prompt'),
    `prompt` / `script` text where it applies, `seed`, swept `params` (sweep key -> value)."""

    index: int
    id: str
    source: VariantSource
    seed: int | None
    params: dict[str, Any] = field(default_factory=dict)
    prompt: str | None = None
    script: str | None = None
    key: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "source", VariantSource(self.source))  # a plain string is accepted

    @property
    def label(self) -> str:
        """A short human-readable description for logs and progress lines."""
        bits = [self.id]
        if self.prompt is not None:
            bits.append(repr(self.prompt[:40]))
        if self.seed is not None:
            bits.append(f"seed={self.seed}")
        bits += [f"{k}={json.dumps(v)}" for k, v in self.params.items()]
        return " ".join(bits)

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "id": self.id, "source": self.source.value, "seed": self.seed,
                "params": dict(self.params), "prompt": self.prompt, "key": self.key}


def _base_digest(spec: BatchSpec) -> str:
    if spec.base is None:
        return ""
    if spec.base == "demo":
        return "demo"
    return hashlib.sha256(Path(spec.base).read_bytes()).hexdigest()


def expand_variants(spec: BatchSpec) -> list[Variant]:
    """Every variant of the spec in a deterministic order; BatchSpecError when more than max_variants."""
    sources: list[tuple[VariantSource, str | None, str | None]]
    if spec.prompts:
        sources = [(VariantSource.PROMPT, p, None) for p in spec.prompts]
    elif spec.script is not None:
        sources = [(VariantSource.SCRIPT, None, spec.script)]
    else:
        sources = [(VariantSource.BASE, None, None)]
    seeds = list(spec.seeds) if spec.seeds is not None else [None]
    keys = [k for k, _ in spec.sweep]
    combos = list(itertools.product(*[vals for _, vals in spec.sweep])) if spec.sweep else [()]
    total = len(sources) * len(seeds) * len(combos)
    if total > spec.max_variants:
        raise BatchSpecError([f"the spec makes {total} variants, more than max_variants={spec.max_variants}"],
                             spec.source_path)
    base_digest = _base_digest(spec)
    export = spec.export.to_dict()
    out: list[Variant] = []
    for i, ((kind, prompt, script), seed, combo) in enumerate(itertools.product(sources, seeds, combos)):
        params = {k.text: v for k, v in zip(keys, combo)}
        ident = {"source": kind.value, "prompt": prompt, "script": script, "base": base_digest,
                 "interpreter": spec.interpreter.value if kind == VariantSource.PROMPT else None,
                 "seed": seed, "params": params, "filter": spec.filter, "export": export}
        key = hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()[:20]
        out.append(Variant(i, f"v{i:04d}", kind, seed, params, prompt, script, key))
    return out
