"""Corner-case studio entry point.

    python main.py                 open the editor on the bundled demo
    python main.py open FILE       open FILE in the editor
    python main.py SUBCOMMAND ...  run the engine headless (see --help)
    python main.py -v SUBCOMMAND   ... with diagnostics (DEBUG logging) on stderr
"""
from __future__ import annotations

import os
import sys


def _headless_env() -> None:
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    # numpy's OpenBLAS starts a thread per core at import, and they spin-wait after every BLAS call: about
    # 0.2 s of CPU in a `check` that does no large linear algebra, taken from the rasteriser's and the
    # batch workers' cores. Our numpy work is many small products; torch has its own threads. Set it to
    # override (it must be set before numpy is first imported).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def main(argv: list[str] | None = None) -> int:
    _headless_env()
    argv = list(sys.argv[1:] if argv is None else argv)
    from engine.cli import build_parser, configure_logging

    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(bool(getattr(args, "verbose", False)))
    if args.command in (None, "open"):
        os.environ.setdefault("QT_XCB_GL_INTEGRATION", "xcb_egl")
        from app.main_window import run_app

        return run_app(getattr(args, "file", None))
    try:
        return int(args._module.run(args) or 0)
    except Exception as e:  # noqa: BLE001 - last resort: whatever a subcommand failed to turn into a clear message
        # becomes one line, not a traceback (the traceback is logged with -v); 2: almost always the input's fault
        import logging

        logging.getLogger("main").debug("%s failed", args.command, exc_info=True)
        print(f"main.py {args.command}: error: {type(e).__name__}: {e} (run with -v for details)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
