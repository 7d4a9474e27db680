"""`train prepare | run | eval`: train the diffusion world model on nuScenes-format logs (Dream4Drive recipe).

    main.py train prepare DATAROOT --version v1.0-mini -o CACHE [--size 448x256] [--workers 8] [--model DIR]
    main.py train run --init MODEL --cache CACHE -o RUN [--steps N] [--trainable controlnets,unet-lora]
    main.py train eval --model RUN/final --cache CACHE [--inception FILE]
Several GPUs / nodes: `accelerate launch --multi_gpu --num_processes 8 main.py train run ...`, or Ray Train
with `train run --ray ADDRESS --num-workers N`. Exit codes: 0 done, 1 failed while running, 2 bad input.
"""
from __future__ import annotations

import argparse
import sys

COMMAND = "train"
HELP = "train the diffusion world model on nuScenes-format logs: prepare a cache, run training, evaluate"
ORDER = 60


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be WxH, e.g. 448x256 (got {text!r})") from None
    return w, h


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="train_command", metavar="STEP")
    sub.required = True

    p = sub.add_parser("prepare", help="walk a nuScenes-format dataset and write the sharded training cache",
                       description="Per sample (all cameras of one frame): real image, previous frame, guidance "
                                   "maps from the real frame, boxes, HD map, environment; Dream4Drive insertion "
                                   "for a share of samples. Resumable: run it again to continue.")
    p.add_argument("dataroot", help="nuScenes-format dataset folder")
    p.add_argument("--version", default="v1.0-mini", help="table version folder (default v1.0-mini)")
    p.add_argument("-o", "--out", required=True, help="cache folder (created; reused to resume)")
    p.add_argument("--size", type=_size, default=(448, 256), help="per-camera size WxH (multiples of 8; default 448x256)")
    p.add_argument("--scenes", nargs="+", default=None, metavar="NAME", help="only these scenes (default: all)")
    p.add_argument("--stride", type=int, default=6,
                   help="every N-th 12 Hz frame is a sample: 6 = the 2 Hz key frames (default), 1 = with sweeps")
    p.add_argument("--insert-share", type=float, default=0.3,
                   help="share of samples with a self-supervised insertion (default 0.3)")
    p.add_argument("--val-share", type=float, default=0.1, help="share of scenes held out for eval (default 0.1)")
    p.add_argument("--shard-size", type=int, default=16, help="samples per shard file (default 16)")
    p.add_argument("--depth", choices=("lidar", "auto"), default="lidar",
                   help="real depth: LiDAR densified (default), or 'auto' (a configured monocular model first)")
    p.add_argument("--model", default=None, help="pipeline folder whose VAE encodes the latents (default: no latents)")
    p.add_argument("--device", default="cpu", help="where the VAE encodes latents: cpu (default) or cuda")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=1, help="local worker processes, one scene each (default 1)")
    p.add_argument("--ray", metavar="ADDRESS", default=None,
                   help="scenes as Ray tasks: 'local' or a cluster address (dataset and cache on shared storage)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    r = sub.add_parser("run", help="fine-tune a pipeline folder on a prepared cache (diffusers + accelerate)")
    r.add_argument("--init", required=True, help="pipeline folder to start from (converted public weights, "
                                                   "tools/make_tiny_pipeline.py, or an earlier RUN/final)")
    r.add_argument("--cache", required=True, help="cache folder from `train prepare`")
    r.add_argument("-o", "--out", required=True, help="run folder: checkpoints, metrics.jsonl, final/")
    r.add_argument("--steps", type=int, default=1000)
    r.add_argument("--batch-size", type=int, default=1, help="samples per step and process")
    r.add_argument("--lr", type=float, default=1e-5)
    r.add_argument("--lr-warmup", type=int, default=0, help="linear warm-up steps")
    r.add_argument("--trainable", default="controlnets",
                   help="comma-separated: controlnets, layout, unet, unet-lora, unet-inputs (default controlnets)")
    r.add_argument("--lora-rank", type=int, default=8)
    r.add_argument("--mixed-precision", choices=("no", "bf16", "fp16"), default="no")
    r.add_argument("--gradient-checkpointing", action="store_true")
    r.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in the run folder")
    r.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    r.add_argument("--checkpoint-every", type=int, default=500, metavar="K")
    r.add_argument("--ema", action="store_true", help="keep an EMA of the trained weights (saved in final/)")
    r.add_argument("--ema-decay", type=float, default=0.9999)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--fg-weight", type=float, default=1.0,
                   help="Dream4Drive foreground loss: extra weight inside inserted masks (default 1)")
    r.add_argument("--p-uncond", type=float, default=0.1, help="prompt dropout for classifier-free guidance")
    r.add_argument("--prev-noise", type=float, default=0.1, help="max std of the noise on the previous-frame latent")
    r.add_argument("--prev-drop", type=float, default=0.1, help="probability of training as a first frame")
    r.add_argument("--ray", metavar="ADDRESS", default=None,
                   help="train with Ray Train: 'local' or a cluster address (see --num-workers, --gpus-per-worker)")
    r.add_argument("--num-workers", type=int, default=1, help="Ray Train workers (with --ray)")
    r.add_argument("--use-gpu", action="store_true", help="Ray Train workers take one GPU each")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    e = sub.add_parser("eval", help="PSNR/SSIM (and FID with local Inception weights) on held-out frames")
    e.add_argument("--model", required=True, help="pipeline folder (e.g. RUN/final)")
    e.add_argument("--cache", required=True, help="cache folder from `train prepare`")
    e.add_argument("--split", default="val", help="which samples: val (default), train or all")
    e.add_argument("--steps", type=int, default=20, help="sampling steps")
    e.add_argument("--guidance-scale", type=float, default=4.0)
    e.add_argument("--max-samples", type=int, default=None)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--inception", default=None, help="local Inception weights for FID (never downloaded)")
    e.add_argument("--device", default="auto")
    e.add_argument("--json", default=None, metavar="FILE", help="also write the figures as JSON")
    e.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    if getattr(args, "ray", None):
        from engine.batch.ray_backend import RayNotInstalledError, require_ray

        try:
            require_ray(f"train {args.train_command} --ray")
        except RayNotInstalledError as e:   # the optional [ray] extra is missing: bad input, one line
            return _err(str(e))
    return {"prepare": _prepare, "run": _run, "eval": _eval}[args.train_command](args)


def _err(msg: str) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return 2


def _write_error(path: str, e: OSError) -> str:
    from engine.fileio import write_error_message

    return write_error_message(path, e)


def _prepare(args: argparse.Namespace) -> int:
    from engine.training.prepare import PrepareError, prepare_cache
    from engine.training.samples import PrepareSettings
    from engine.worldmodel.errors import WorldModelError

    try:
        settings = PrepareSettings(size=args.size, stride=args.stride, insert_share=args.insert_share,
                                   seed=args.seed, shard_size=args.shard_size, val_share=args.val_share,
                                   model=args.model, depth=args.depth, device=args.device)
        if args.model:
            from engine.worldmodel.diffusion.backend import check_model_folder

            check_model_folder(args.model)
    except (ValueError, WorldModelError) as e:   # ValueError from the settings, ModelLoadError from the folder check
        return _err(str(e))
    try:
        report = prepare_cache(args.dataroot, args.version, args.out, settings, scenes=args.scenes,
                               workers=args.workers, ray_address=args.ray, progress=not args.quiet)
    except PrepareError as e:
        return _err(str(e))
    except OSError as e:   # the cache folder cannot be written (a file in the way, read-only, disk full)
        return _err(_write_error(args.out, e))
    except KeyboardInterrupt:
        print("interrupted: finished shards are kept; run the same command again to resume", file=sys.stderr)
        return 130
    idx = report.index
    print(f"{idx.num_samples} samples in {len(idx.shards)} shards ({len(idx.split('train'))} train, "
          f"{len(idx.split('val'))} val) -> {idx.root}; {report.written} written now, {report.skipped} already done, "
          f"{report.seconds:.1f} s")
    if report.written and report.timings:
        total = sum(report.timings.values())
        for k, v in sorted(report.timings.items(), key=lambda kv: -kv[1]):
            print(f"  {k:48s} {v:8.2f} s  {100 * v / total:5.1f} %")
    return 0


def _run(args: argparse.Namespace) -> int:
    from engine.training.cache import CacheError
    from engine.training.objective import ObjectiveSettings
    from engine.training.trainer import TrainConfig, TrainError, train
    from engine.worldmodel.errors import ModelLoadError

    try:
        cfg = TrainConfig(init=args.init, cache=args.cache, out=args.out, steps=args.steps, batch_size=args.batch_size,
                          lr=args.lr, lr_warmup=args.lr_warmup,
                          trainable=tuple(t.strip() for t in args.trainable.split(",") if t.strip()),
                          lora_rank=args.lora_rank, mixed_precision=args.mixed_precision,
                          gradient_checkpointing=args.gradient_checkpointing, resume=args.resume, device=args.device,
                          checkpoint_every=args.checkpoint_every, ema=args.ema, ema_decay=args.ema_decay, seed=args.seed,
                          objective=ObjectiveSettings(fg_weight=args.fg_weight, p_uncond=args.p_uncond,
                                                      prev_noise=args.prev_noise, prev_drop=args.prev_drop))
    except ValueError as e:
        return _err(str(e))
    try:
        if args.ray:
            from engine.training.ray_train import train_with_ray

            result = train_with_ray(cfg, args.ray, args.num_workers, args.use_gpu)
        else:
            result = train(cfg, progress=not args.quiet)
    except (TrainError, CacheError, ModelLoadError) as e:
        return _err(str(e))
    except OSError as e:   # the run folder cannot be written (a file in the way, read-only, disk full)
        return _err(_write_error(args.out, e))
    except KeyboardInterrupt:
        print("interrupted: run again with --resume to continue from the last checkpoint", file=sys.stderr)
        return 130
    import os

    if int(os.environ.get("RANK", "0")) != 0:     # other processes of a distributed run: rank 0 reports
        return 0
    for n in result.notes:
        print(f"note: {n}", file=sys.stderr)
    print(f"trained to step {result.step}, last loss {result.last_loss:.4f}; metrics: {result.metrics}; "
          f"model: {result.final}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from engine.training.cache import CacheError
    from engine.training.evaluate import evaluate
    from engine.worldmodel.errors import DeviceError, ModelLoadError

    try:
        rep = evaluate(args.model, args.cache, split=args.split, steps=args.steps, guidance_scale=args.guidance_scale,
                       seed=args.seed, max_samples=args.max_samples, inception=args.inception, device=args.device,
                       progress=not args.quiet)
    except (CacheError, ModelLoadError, DeviceError) as e:
        return _err(str(e))
    for n in rep.notes:
        print(f"note: {n}", file=sys.stderr)
    print(f"{rep.num_samples} {rep.split} samples: PSNR {rep.psnr:.2f} dB, SSIM {rep.ssim:.4f} "
          f"(VAE reconstruction ceiling: PSNR {rep.vae_psnr:.2f} dB, SSIM {rep.vae_ssim:.4f})"
          + (f", FID {rep.fid:.2f}" if rep.fid is not None else ""))
    if args.json:
        from pathlib import Path

        from engine.training.cache import atomic_write_json

        try:
            atomic_write_json(Path(args.json), rep.to_json())
        except OSError as e:
            return _err(_write_error(args.json, e))
    return 0
