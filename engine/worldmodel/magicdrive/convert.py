"""`main.py model convert --magicdrive RELEASE_DIR --base SD15_DIR -o OUT [--force]` (hooked in engine/cli/model.py)."""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from engine.worldmodel.errors import ModelLoadError
from engine.worldmodel.magicdrive.folder import convert_release


def run_cli(args: argparse.Namespace) -> int:
    """Convert a MagicDrive release; 0 done, 2 bad input (the message names the folder and the problem)."""
    src, out = Path(args.magicdrive), Path(args.output)
    sd15 = getattr(args, "base", None)
    force = bool(getattr(args, "force", False))
    staging = out
    if out.exists():
        if not force:
            print(f"model: {out} already exists (use --force)", file=sys.stderr)
            return 2
        staging = out.with_name(out.name + ".magicdrive-new")
        if staging.exists():
            shutil.rmtree(staging)
    try:
        convert_release(src, staging, sd15=sd15)
    except ModelLoadError as e:
        print(f"model: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"model: cannot write {out}: {e}", file=sys.stderr)
        return 2
    if staging != out:
        old = out.with_name(out.name + ".magicdrive-old")
        out.rename(old)
        staging.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    print(f"wrote {out} (MagicDrive, safetensors); check it with: python main.py model check {out}")
    return 0
