"""`train run`: fine-tune a `WorldModelPipeline` folder on a prepared cache with accelerate.

    result = train(TrainConfig(init="model/", cache="cache/", out="run/", steps=1000, trainable=("controlnets",)))

One process or many (`accelerate launch main.py train run ...`, or Ray Train through `--ray`, see
`engine.training.ray_train`): accelerate places the model, wraps it for DDP and runs mixed precision.
Outputs in RUN/:
    metrics.jsonl              one line per step: step, loss, mse, lr, samples_per_s, seconds
    checkpoints/step-NNNNNNN/  accelerate `save_state` (model, optimizer, LR schedule, EMA) + trainer_state.json
    tensorboard/               TensorBoard event files (torch's writer with tensorboard installed, else tensorboardX)
    final/                     a pipeline folder (LoRA merged, EMA weights when --ema) that
                               `generate --backend diffusion --model RUN/final` and the Generate panel load
Determinism: batch k and every random draw of step k are functions of (seed, k, rank), so a run resumed from
a checkpoint takes exactly the steps an uninterrupted run takes.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol

import torch
from torch import nn

from engine.training.objective import ModelInputs, ObjectiveSettings, diffusion_loss
from engine.worldmodel.errors import MissingExtraError
from engine.worldmodel.extras import require_packages

# what `train run` imports from the [diffusion] extra (peft too, for --trainable unet-lora)
TRAIN_PACKAGES = ("diffusers", "transformers", "accelerate")

if TYPE_CHECKING:
    from accelerate import Accelerator
    from diffusers.training_utils import EMAModel

    from engine.training.cache import CacheIndex
    from engine.training.data import CacheBatch, CacheItem
    from engine.worldmodel.diffusion.pipeline import WorldModelPipeline

CHECKPOINT_DIR = "checkpoints"
STATE_FILE = "trainer_state.json"
MIXED_PRECISION = ("no", "bf16", "fp16")


class TrainError(RuntimeError):
    """A training run that cannot start or continue (bad model, cache, options or checkpoint)."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs (also written to RUN/config.json)."""

    init: str
    cache: str
    out: str
    steps: int = 1000
    batch_size: int = 1
    lr: float = 1e-5
    lr_warmup: int = 0
    trainable: tuple[str, ...] = ("controlnets",)
    lora_rank: int = 8
    mixed_precision: str = "no"
    gradient_checkpointing: bool = False
    resume: bool = False
    device: str = "auto"
    checkpoint_every: int = 500
    keep_checkpoints: int = 3
    ema: bool = False
    ema_decay: float = 0.9999
    seed: int = 0
    max_grad_norm: float = 1.0
    objective: ObjectiveSettings = field(default_factory=ObjectiveSettings)
    log_every: int = 1

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError(f"steps must be at least 1 (got {self.steps})")
        if self.batch_size < 1:
            raise ValueError(f"batch size must be at least 1 (got {self.batch_size})")
        if not self.lr > 0:
            raise ValueError(f"learning rate must be positive (got {self.lr})")
        if self.mixed_precision not in MIXED_PRECISION:
            raise ValueError(f"mixed precision must be one of {', '.join(MIXED_PRECISION)} (got {self.mixed_precision!r})")
        if self.checkpoint_every < 1:
            raise ValueError(f"checkpoint-every must be at least 1 (got {self.checkpoint_every})")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda (got {self.device!r})")

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["trainable"] = list(self.trainable)
        return d

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> "TrainConfig":
        d = dict(doc)
        d["trainable"] = tuple(d["trainable"])
        d["objective"] = ObjectiveSettings(**d["objective"])
        return cls(**d)


@dataclass
class TrainResult:
    """A finished run: steps done (in total), the last loss, the final folder and the metrics file."""

    step: int
    last_loss: float
    final: Path | None
    metrics: Path
    losses: list[float]
    notes: list[str]


def _checkpoints(out: Path) -> list[Path]:
    d = out / CHECKPOINT_DIR
    return sorted(p for p in d.glob("step-*") if (p / STATE_FILE).is_file()) if d.is_dir() else []


def _step_generator(seed: int, step: int, rank: int) -> torch.Generator:
    return torch.Generator("cpu").manual_seed((int(seed) * 1_000_003 + int(step) * 7919 + int(rank)) % (2 ** 63))


class _TextEmbeddings:
    """Prompt -> (1, L, D) embedding with the frozen text encoder, cached; the empty prompt's too."""

    def __init__(self, pipe: WorldModelPipeline, device: torch.device, dtype: torch.dtype) -> None:
        self.pipe, self.device, self.dtype = pipe, device, dtype
        self._cache: dict[str, torch.Tensor] = {}
        self.uncond = pipe.encode_prompt("", device, dtype)[1]

    def __call__(self, prompt: str) -> torch.Tensor:
        if prompt not in self._cache:
            self._cache[prompt] = self.pipe.encode_prompt(prompt, self.device, self.dtype)[0]
        return self._cache[prompt]


def sample_prompt(text: str, env: torch.Tensor) -> str:
    """The prompt a sample is trained with: as at generation, the description plus 'time of day, weather'."""
    from engine.scenario.model import TIMES_OF_DAY, WEATHERS, Environment
    from engine.worldmodel.diffusion.tensors import prompt_text

    e = env.detach().cpu().numpy()
    n = len(TIMES_OF_DAY)
    environment = Environment(time_of_day=TIMES_OF_DAY[int(e[:n].argmax())], weather=WEATHERS[int(e[n:].argmax())])
    return prompt_text(text, environment)


def model_inputs(batch: CacheBatch, pipe: WorldModelPipeline, texts: _TextEmbeddings, device: torch.device) -> ModelInputs:
    """A collated cache batch -> ModelInputs on `device` (latents encoded with the frozen VAE when not cached)."""
    from engine.training.latents import vae_encode

    if "latent" in batch:
        latent, prev = batch["latent"].to(device), batch["prev_latent"].to(device)
    else:
        latent = vae_encode(pipe.vae, batch["image"].to(device)).to(device)
        prev = vae_encode(pipe.vae, batch["prev_image"].to(device)).to(device)
        prev = prev * batch["has_prev"].to(device).float()[:, None, None, None]
    cond = torch.cat([texts(sample_prompt(t, e)) for t, e in zip(batch["text"], batch["env"])])
    layout = batch["layout"].to(device) if getattr(pipe, "layout_controlnet", None) is not None else None
    return ModelInputs(latent, prev, batch["has_prev"].to(device), batch["dense"].to(device), layout,
                       batch["env"].to(device), batch["mask"].to(device), cond, texts.uncond)


def scheduler_config(pipe: WorldModelPipeline) -> dict[str, Any]:
    """The config of the pipeline's sampling scheduler (the training scheduler is made from it)."""
    from diffusers.configuration_utils import ConfigMixin

    sched = pipe.scheduler
    assert isinstance(sched, ConfigMixin), "every diffusers scheduler is a ConfigMixin"
    return sched.config


def check_cache_fits(pipe: WorldModelPipeline, index: CacheIndex, item: CacheItem) -> None:
    """TrainError when the cache's number of views or image size does not fit the model."""
    w, h = index.settings["size"]
    panorama = item["dense"].shape[-1]
    views = panorama // w
    if views != int(pipe.config["num_views"]):
        raise TrainError(f"the cache has {views} cameras per sample, the model generates {pipe.config['num_views']} views")
    f = pipe.vae_scale_factor
    d = 2 ** (len(pipe.unet.config["block_out_channels"]) - 1)
    if h % (f * d) or panorama % (f * d):
        raise TrainError(f"cache size {w}x{h} ({views} views) does not fit the model: the height and the panorama "
                         f"width must be multiples of {f * d} (VAE factor {f} x UNet down-sampling {d})")


def _enable_gradient_checkpointing(pipe: WorldModelPipeline) -> None:
    """Gradient checkpointing in the UNet and every ControlNet (those of a MultiControlNetModel one by one)."""
    from diffusers.models.modeling_utils import ModelMixin

    for m in (pipe.unet, pipe.controlnet, getattr(pipe, "layout_controlnet", None)):
        if m is not None and getattr(m, "_supports_gradient_checkpointing", False):
            m.enable_gradient_checkpointing()
        elif m is not None and hasattr(m, "nets"):
            for net in m.nets:
                if isinstance(net, ModelMixin):
                    net.enable_gradient_checkpointing()


def train(cfg: TrainConfig, progress: bool = True, stop_after: int | None = None) -> TrainResult:
    """Run (or resume) training; see the module docstring. `stop_after` ends the call after that many steps
    of this call (tests: simulate an interruption) without writing RUN/final."""
    try:
        require_packages(TRAIN_PACKAGES, "train run", "diffusion")
        if "unet-lora" in cfg.trainable:
            require_packages(("peft",), "train run --trainable unet-lora", "diffusion")
    except MissingExtraError as e:
        raise TrainError(str(e)) from None
    from accelerate import Accelerator
    from accelerate.utils import ProjectConfiguration
    from diffusers.schedulers.scheduling_ddpm import DDPMScheduler
    from diffusers.optimization import get_scheduler

    from engine.training.cache import read_index
    from engine.training.data import CacheDataset, batch_indices, collate
    from engine.training.model import TrainableWorldModel, set_trainable
    from engine.training.progress import progress_bar
    from engine.worldmodel.diffusion.backend import load_pipeline

    out = Path(cfg.out).expanduser()
    notes: list[str] = []
    ckpts = _checkpoints(out)
    if out.exists() and any(out.iterdir()) and not cfg.resume and ckpts:
        raise TrainError(f"{out} already holds a run with checkpoints; pass --resume to continue it or choose "
                         "another output folder")
    if cfg.resume and not ckpts:
        notes.append(f"--resume: no checkpoint in {out / CHECKPOINT_DIR}; starting from step 0")
    if cfg.device == "cuda" and not torch.cuda.is_available():
        raise TrainError("--device cuda: no CUDA device is available here")
    out.mkdir(parents=True, exist_ok=True)
    accelerator = Accelerator(mixed_precision=cfg.mixed_precision, cpu=cfg.device == "cpu",
                              project_config=ProjectConfiguration(project_dir=str(out)))
    device = accelerator.device
    index = read_index(cfg.cache)
    pipe = load_pipeline(cfg.init)
    torch.manual_seed(cfg.seed)
    try:
        params = set_trainable(pipe, cfg.trainable, cfg.lora_rank)
    except ValueError as e:
        raise TrainError(str(e)) from None
    if not params:
        raise TrainError(f"--trainable {','.join(cfg.trainable)} selects no parameters in this model")
    if cfg.gradient_checkpointing:
        _enable_gradient_checkpointing(pipe)
    pipe.vae.to(device)
    if pipe.text_encoder is not None:
        pipe.text_encoder.to(device)
    net = TrainableWorldModel(pipe)
    net.train()
    noise_scheduler = DDPMScheduler.from_config(scheduler_config(pipe))
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=1e-2)
    lr_scheduler = get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=cfg.lr_warmup,
                                 num_training_steps=cfg.steps)
    ema: EMAModel | None = None
    if cfg.ema:
        from diffusers.training_utils import EMAModel

        ema = EMAModel(params, decay=cfg.ema_decay)
    net, optimizer, lr_scheduler = accelerator.prepare(net, optimizer, lr_scheduler)
    if ema is not None:
        ema.to(device)
        accelerator.register_for_checkpointing(ema)
    dataset = CacheDataset(index, "train")
    check_cache_fits(pipe, index, dataset[0])
    start = 0
    if cfg.resume and ckpts:
        last = ckpts[-1]
        accelerator.load_state(str(last))
        start = int(json.loads((last / STATE_FILE).read_text())["step"])
        notes.append(f"resumed from {last.name} (step {start})")
    if accelerator.is_main_process:
        (out / "config.json").write_text(json.dumps(cfg.to_json(), indent=1) + "\n")
    writer = _tensorboard(out, accelerator, notes)
    metrics_path = out / "metrics.jsonl"
    if accelerator.is_main_process and metrics_path.is_file():
        # steps after the checkpoint we resume from (or all, when starting over) are done again: drop their lines
        kept = [ln for ln in metrics_path.read_text().splitlines() if ln.strip() and json.loads(ln)["step"] <= start]
        metrics_path.write_text("".join(ln + "\n" for ln in kept))
    texts = _TextEmbeddings(pipe, device, torch.float32)
    rank, world = accelerator.process_index, accelerator.num_processes
    losses: list[float] = []
    end = cfg.steps if stop_after is None else min(cfg.steps, start + stop_after)
    last_loss = float("nan")
    t_prev = time.perf_counter()
    with progress_bar(end - start, "train", "steps", progress and accelerator.is_local_main_process) as bar:
        for step in range(start, end):
            idx = batch_indices(step, cfg.batch_size, len(dataset), cfg.seed, rank, world)
            batch = collate([dataset[i] for i in idx])
            gen = _step_generator(cfg.seed, step, rank)
            with torch.no_grad():
                inputs = model_inputs(batch, pipe, texts, device)
            with accelerator.autocast():
                loss, stats = diffusion_loss(net, noise_scheduler, inputs, cfg.objective, gen, pipe.vae_scale_factor)
            if not torch.isfinite(loss):
                raise TrainError(f"step {step + 1}: the loss is {float(loss)} (try a lower --lr or --mixed-precision no)")
            accelerator.backward(loss)
            if accelerator.sync_gradients and cfg.max_grad_norm > 0:
                accelerator.clip_grad_norm_(params, cfg.max_grad_norm)
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            if ema is not None:
                ema.step(params)
            last_loss = float(accelerator.gather(loss.detach()[None]).mean())
            losses.append(last_loss)
            now = time.perf_counter()
            rate = cfg.batch_size * world / max(now - t_prev, 1e-9)
            t_prev = now
            done = step + 1
            if accelerator.is_main_process and (done % cfg.log_every == 0 or done == end):
                rec = {"step": done, "loss": last_loss, "mse": stats["mse"], "lr": lr_scheduler.get_last_lr()[0],
                       "samples_per_s": rate, "time": time.time()}
                with open(metrics_path, "a") as fh:
                    fh.write(json.dumps(rec) + "\n")
                if writer is not None:
                    for k in ("loss", "mse", "lr", "samples_per_s"):
                        writer.add_scalar(f"train/{k}", rec[k], done)
            if done % cfg.checkpoint_every == 0 or (stop_after is not None and done == end and done < cfg.steps):
                _save_checkpoint(accelerator, out, done, cfg)
            bar.update(1)
    if writer is not None:
        writer.close()
    final: Path | None = None
    if end == cfg.steps:
        accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            final = export_final(accelerator.unwrap_model(net).pipe, out / "final", ema, params,
                                 {"config": cfg.to_json(), "steps": cfg.steps, "cache": str(cfg.cache)})
    return TrainResult(end, last_loss, final, metrics_path, losses, notes)


class ScalarWriter(Protocol):
    """The part of a TensorBoard SummaryWriter (torch's or tensorboardX's) the trainer uses."""

    def add_scalar(self, tag: str, scalar_value: float, global_step: int) -> Any: ...

    def close(self) -> None: ...


def _summary_writer_factory() -> Callable[[str], ScalarWriter] | None:
    """torch's SummaryWriter when the tensorboard package is installed, else tensorboardX's, else None."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        pass
    else:
        return SummaryWriter
    try:
        import tensorboardX
    except ImportError:
        return None
    factory: Callable[[str], ScalarWriter] = tensorboardX.SummaryWriter
    return factory


def _tensorboard(out: Path, accelerator: Accelerator, notes: list[str]) -> ScalarWriter | None:
    """A TensorBoard event writer (torch's with the tensorboard package, else tensorboardX), or None with a note."""
    factory = _summary_writer_factory()
    if factory is None:
        notes.append("neither tensorboard nor tensorboardX is installed: no TensorBoard logs "
                     "(metrics.jsonl has the same figures)")
        return None
    return factory(str(out / "tensorboard")) if accelerator.is_main_process else None


def _save_checkpoint(accelerator: Accelerator, out: Path, step: int, cfg: TrainConfig) -> Path:
    path = out / CHECKPOINT_DIR / f"step-{step:07d}"
    accelerator.wait_for_everyone()
    accelerator.save_state(str(path))
    if accelerator.is_main_process:
        (path / STATE_FILE).write_text(json.dumps({"step": step, "config": cfg.to_json()}) + "\n")
        for old in _checkpoints(out)[:-max(1, cfg.keep_checkpoints)]:
            shutil.rmtree(old, ignore_errors=True)
    return path


def export_final(pipe: WorldModelPipeline, dest: Path, ema: EMAModel | None, params: list[nn.Parameter],
                 provenance: dict[str, Any]) -> Path:
    """Save the trained pipeline as a plain folder (LoRA merged, EMA weights if any), atomically replacing `dest`."""
    from engine.training.model import merged_unet

    dest = Path(dest)
    tmp = dest.with_name(f".{dest.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    if ema is not None:
        ema.store(params)
        ema.copy_to(params)
    original = pipe.unet
    try:
        pipe.register_modules(unet=merged_unet(original))  # type: ignore[no-untyped-call]  # diffusers: unannotated
        # trained on Dream4Drive's stack (D/N/E blanked inside inserted objects): sample with the same
        pipe.register_to_config(objects_in_controls=False)  # type: ignore[no-untyped-call]  # diffusers: unannotated
        pipe.save_pretrained(str(tmp), safe_serialization=True)
    finally:
        pipe.register_modules(unet=original)  # type: ignore[no-untyped-call]  # diffusers: unannotated
        if ema is not None:
            ema.restore(params)
    (tmp / "training.json").write_text(json.dumps(provenance, indent=1) + "\n")
    old = dest.with_name(f".{dest.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if dest.exists():
        os.replace(dest, old)
    os.replace(tmp, dest)
    shutil.rmtree(old, ignore_errors=True)
    return dest


__all__ = ["TrainConfig", "TrainError", "TrainResult", "train", "export_final"]
