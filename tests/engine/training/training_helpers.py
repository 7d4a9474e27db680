"""Helpers of the training tests (imported as `training_helpers`, like the other test folders' helpers)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

SIZE = (64, 32)


def one_sample_cache(src: Path, dest: Path, row: int = 1) -> Path:
    """A cache holding one sample (row `row` of the first train shard of `src`), marked 'train'."""
    from engine.training.cache import CacheIndex, ShardInfo, atomic_write_json, load_shard, read_index, write_shard

    index = read_index(src)
    first = index.split("train")[0]
    arrays = load_shard(src / first.file)
    sample = {k: v[row] for k, v in arrays.items()}
    dest.mkdir(parents=True, exist_ok=True)
    write_shard(dest / "shards" / "one-0000.npz", [sample])
    one = CacheIndex(dest, index.settings, (ShardInfo("shards/one-0000.npz", first.scene, "train", 1,
                                                      (first.frames[row],)),))
    atomic_write_json(dest / "index.json", one.to_json())
    return dest


def copy_dataset(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".built.pickle"))
    return dest


def read_json(path: Path):
    return json.loads(Path(path).read_text())


def shard_arrays(cache: Path) -> list[tuple[str, dict]]:
    from engine.training.cache import load_shard, read_index

    index = read_index(cache)
    return [(s.file, load_shard(cache / s.file)) for s in index.shards]
