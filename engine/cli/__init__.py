"""Headless command line: every module in this package that defines `COMMAND` is a subcommand.

A subcommand module defines:
    COMMAND: str            the subcommand name (``validate``)
    HELP: str               one line for ``--help``
    ORDER: int              position in ``--help`` (smaller first)
    add_arguments(parser)   adds its arguments to an argparse parser
    run(args) -> int        does the work; returns the exit code (0 ok, 1 findings, 2 bad input)
Subcommands use `engine` only (no Qt). ``open`` is special: main.py hands it to the app.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
from types import ModuleType


def subcommand_modules() -> list[ModuleType]:
    """All subcommand modules in ORDER."""
    mods = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(mod, "COMMAND"):
            mods.append(mod)
    return sorted(mods, key=lambda m: (getattr(m, "ORDER", 100), m.COMMAND))


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per subcommand module."""
    parser = argparse.ArgumentParser(
        prog="main.py",
        description="Corner-case studio. Without a subcommand, opens the editor on the bundled demo.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in subcommand_modules():
        p = sub.add_parser(mod.COMMAND, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(_module=mod)
    return parser
