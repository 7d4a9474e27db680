"""`model convert` / `model check`: public checkpoints -> the product's world-model folder, and what a folder is.

    python main.py model convert --base SD_DIR --controlnet depth=DIR [--controlnet canny=DIR ...] -o OUT
    python main.py model check DIR [--no-load]

Exit codes: 0 done / loadable, 2 bad input (missing or incompatible folder; the message names the folder
and the mismatch).
"""
from __future__ import annotations

import argparse
import sys

COMMAND = "model"
HELP = "convert public Stable Diffusion + ControlNet checkpoints, or check what a model folder is"
ORDER = 45


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="model_command", metavar="ACTION", required=True)
    conv = sub.add_parser("convert", help="public checkpoints -> product world-model folder (safetensors)")
    conv.add_argument("--base", metavar="SD_DIR", help="Stable Diffusion 1.x folder in the diffusers layout")
    conv.add_argument("--controlnet", action="append", default=[], metavar="NAME=DIR",
                      help="a diffusers ControlNetModel folder; NAME is depth, canny, normal or seg (repeatable)")
    conv.add_argument("-o", "--output", required=True, metavar="OUT", help="folder to write (atomically)")
    conv.add_argument("--scale", action="append", default=[], metavar="NAME=S",
                      help="default conditioning scale of a ControlNet (repeatable; default 1.0)")
    conv.add_argument("--layout", action="store_true",
                      help="add a zero-initialised layout ControlNet (boxes, HD map, rays) for fine-tuning")
    conv.add_argument("--dtype", choices=("float32", "float16", "bfloat16"), default=None,
                      help="store the weights in this dtype (default: as loaded, float32)")
    conv.add_argument("--scheduler", choices=("keep", "ddim", "dpm"), default="keep",
                      help="keep the base's scheduler, or switch to DDIM / DPM-Solver++ (fewer steps)")
    conv.add_argument("--force", action="store_true", help="replace OUT if it exists")
    conv.add_argument("--magicdrive", metavar="CKPT", default=None,
                      help="convert a MagicDrive checkpoint instead (provided by engine/worldmodel/magicdrive)")
    chk = sub.add_parser("check", help="print what a model folder is and whether the product can load it")
    chk.add_argument("folder", help="a model folder")
    chk.add_argument("--no-load", action="store_true", help="read configs and headers only; do not load the weights")


def _fail(msg: str) -> int:
    print(f"model: {msg}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from engine.worldmodel.errors import MissingExtraError

    try:
        if args.model_command == "convert":
            return _convert(args)
        return _check(args)
    except MissingExtraError as e:  # the [diffusion] extra is not installed: one line naming it
        return _fail(str(e))


def _convert(args: argparse.Namespace) -> int:
    from engine.worldmodel.errors import MissingExtraError

    if args.magicdrive:
        try:
            from engine.worldmodel.magicdrive import convert as magicdrive_convert  # issue 14's hook
        except ImportError as e:
            if isinstance(e, MissingExtraError):
                raise
            return _fail("MagicDrive conversion is not available in this build (engine/worldmodel/magicdrive/convert.py)")
        return int(magicdrive_convert.run_cli(args))
    from engine.worldmodel.diffusion.convert import ConversionError, convert_public
    from engine.worldmodel.diffusion.options import parse_scale_items

    if not args.base:
        return _fail("--base SD_DIR is required (a Stable Diffusion 1.x folder in the diffusers layout)")
    nets: dict[str, str] = {}
    for item in args.controlnet:
        name, sep, folder = item.partition("=")
        if not sep or not name or not folder:
            return _fail(f"--controlnet {item!r} must look like NAME=DIR (e.g. depth=./control_v11f1p_sd15_depth)")
        if name in nets:
            return _fail(f"--controlnet {name} given twice")
        nets[name] = folder
    try:
        scales = parse_scale_items(args.scale)
    except ValueError as e:
        return _fail(str(e))
    unknown = sorted(set(scales) - set(nets))
    if unknown:
        return _fail(f"--scale for {', '.join(unknown)}, which is not among the --controlnet names")
    try:
        out = convert_public(args.base, nets, args.output, layout=args.layout, dtype=args.dtype,
                             overwrite=args.force, scales=scales, scheduler=args.scheduler)
    except ConversionError as e:
        return _fail(str(e))
    except FileExistsError as e:
        return _fail(f"{e} (use --force)")
    except OSError as e:
        return _fail(f"cannot write {args.output}: {e}")
    print(f"wrote {out} ({', '.join(nets)}); check it with: python main.py model check {out}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from engine.worldmodel.diffusion.inspect_folder import describe

    try:
        from engine.worldmodel.magicdrive.folder import describe_folder  # issue 14
    except ImportError:
        text = None
    else:
        text = describe_folder(args.folder)
    if text:
        print(text)
        return 0
    report = describe(args.folder)
    for line in report.lines:
        print(line)
    if report.problems:
        return _fail(f"{args.folder}: cannot be used as is: " + "; ".join(report.problems))
    if args.no_load:
        print("loads: not tried (--no-load)")
        return 0
    if report.kind == "world-model":
        from engine.worldmodel.diffusion.backend import load_pipeline
        from engine.worldmodel.errors import ModelLoadError, ModelNotConfiguredError

        try:
            pipe = load_pipeline(args.folder)
        except (ModelLoadError, ModelNotConfiguredError) as e:
            return _fail(str(e))
        print(f"loads: yes (all components checked together; loaded on the CPU as "
              f"{str(pipe.unet.dtype).replace('torch.', '')}); backend: --backend diffusion --model {args.folder}")
    elif report.kind == "cosmos":
        from engine.worldmodel.cosmos.folder import check_cosmos_folder
        from engine.worldmodel.errors import ModelLoadError

        try:
            check_cosmos_folder(args.folder)
        except ModelLoadError as e:
            return _fail(str(e))
        print(f"loads: components present; backend: --backend cosmos --model {args.folder}")
    return 0
