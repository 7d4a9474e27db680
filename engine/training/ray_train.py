"""Ray Train entry: the same training loop (`engine.training.trainer.train`) on N Ray workers.

    train_with_ray(cfg, "auto", num_workers=8, use_gpu=True)     # main.py train run ... --ray auto --num-workers 8 --use-gpu

Ray's TorchTrainer starts the workers and sets up torch.distributed between them; inside each worker
accelerate's `Accelerator` picks that process group up (rank, world size), so batches, gradients and
checkpoints behave exactly as under `accelerate launch`. The run folder, the cache and the init model must
be on storage every node sees (a shared filesystem); rank 0 writes checkpoints, metrics and RUN/final.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.training.trainer import TrainConfig, TrainError, TrainResult
from engine.worldmodel.errors import MissingExtraError
from engine.worldmodel.extras import require_packages


def _worker(config: dict[str, Any]) -> None:
    import os

    os.environ.setdefault("MPLBACKEND", "Agg")
    from engine.training.trainer import train

    train(TrainConfig.from_json(config["cfg"]), progress=False)


def train_with_ray(cfg: TrainConfig, address: str, num_workers: int = 1, use_gpu: bool = False) -> TrainResult:
    """Run `train(cfg)` on `num_workers` Ray Train workers (address 'local' starts a private Ray).

    TrainError (naming the `[ray]` extra) when Ray Train is not installed."""
    import json

    try:
        require_packages(("ray",), "train run --ray", "ray")
    except MissingExtraError as e:
        raise TrainError(str(e)) from None

    import ray
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    from engine.batch.ray_backend import init_ray

    out = Path(cfg.out).expanduser().resolve()
    cfg_json = cfg.to_json()
    for key in ("init", "cache", "out"):
        cfg_json[key] = str(Path(cfg_json[key]).expanduser().resolve())
    started = init_ray(address, num_workers if address == "local" else None)
    try:
        trainer = TorchTrainer(_worker, train_loop_config={"cfg": cfg_json},
                               scaling_config=ScalingConfig(num_workers=int(num_workers), use_gpu=bool(use_gpu)),
                               run_config=RunConfig(storage_path=str(out / "ray"), name="train"))
        trainer.fit()
    finally:
        if started:
            ray.shutdown()
    metrics = out / "metrics.jsonl"
    losses = [json.loads(line)["loss"] for line in metrics.read_text().splitlines()] if metrics.is_file() else []
    final = out / "final"
    return TrainResult(cfg.steps, losses[-1] if losses else float("nan"), final if final.is_dir() else None, metrics,
                       losses, [f"trained with Ray Train on {num_workers} worker(s)"])
