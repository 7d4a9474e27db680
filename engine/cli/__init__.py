"""Headless command line: every module in this package that defines `COMMAND` is a subcommand.

A subcommand module defines:
    COMMAND: str            the subcommand name (``validate``)
    HELP: str               one line for ``--help``
    ORDER: int              position in ``--help`` (smaller first)
    add_arguments(parser)   adds its arguments to an argparse parser
    run(args) -> int        does the work; returns the exit code (0 ok, 1 findings, 2 bad input)
Subcommands use `engine` only (no Qt). ``open`` is special: main.py hands it to the app.

Start-up stays short: COMMAND, HELP and ORDER are read from each module's source (literal top-level
assignments, no import), and only the module of the subcommand actually given is imported, when
argparse reaches it. A module whose metadata is not a literal is imported to read it.
"""
from __future__ import annotations

import argparse
import ast
import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

_META = ("COMMAND", "HELP", "ORDER")


@dataclass(frozen=True)
class SubcommandInfo:
    """A subcommand known without importing its module: module name, command, help line, order."""

    module: str
    command: str
    help: str
    order: int

    def load(self) -> ModuleType:
        return importlib.import_module(self.module)


def _literal_meta(path: Path) -> dict | None:
    """COMMAND/HELP/ORDER of a module's top-level literal assignments; None when COMMAND is absent or not literal."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    # the metadata sits above the first function or class: parse that head alone (start-up time), the whole file
    # where the head does not parse or does not name the COMMAND
    cut = min((i for i in (text.find("\ndef "), text.find("\nclass ")) if i >= 0), default=-1)
    if cut >= 0:
        try:
            meta = _meta_of(ast.parse(text[:cut]))
        except (SyntaxError, ValueError):
            meta = None
        if meta is not None:
            return meta
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    try:
        return _meta_of(tree)
    except ValueError:
        return None


def _meta_of(tree: ast.Module) -> dict | None:
    """COMMAND/HELP/ORDER literals of a parsed module (ValueError where one is not a literal)."""
    meta = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in _META:
                meta[name] = ast.literal_eval(node.value)
    return meta if "COMMAND" in meta else None


def subcommands() -> list[SubcommandInfo]:
    """Every subcommand in ORDER, read from the sources (modules are imported only where that fails)."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        name = f"{__name__}.{info.name}"
        meta = _literal_meta(Path(__path__[0]) / f"{info.name}.py")
        if meta is None:
            mod = importlib.import_module(name)
            if not hasattr(mod, "COMMAND"):
                continue
            meta = {k: getattr(mod, k) for k in _META if hasattr(mod, k)}
        found.append(SubcommandInfo(name, meta["COMMAND"], meta.get("HELP", ""), int(meta.get("ORDER", 100))))
    return sorted(found, key=lambda s: (s.order, s.command))


def subcommand_modules() -> list[ModuleType]:
    """All subcommand modules in ORDER (imports every one of them)."""
    return [s.load() for s in subcommands()]


class _LazySubParsers(argparse._SubParsersAction):
    """Adds a subcommand's arguments (importing its module) only when that subcommand is parsed."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._lazy: dict[str, SubcommandInfo] = {}

    def add_lazy(self, info: SubcommandInfo) -> None:
        self.add_parser(info.command, help=info.help, description=info.help)
        self._lazy[info.command] = info

    def __call__(self, parser, namespace, values, option_string=None):
        info = self._lazy.pop(values[0], None) if values else None
        if info is not None:
            mod = info.load()
            sub = self._name_parser_map[info.command]
            mod.add_arguments(sub)
            sub.set_defaults(_module=mod)
        return super().__call__(parser, namespace, values, option_string)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per subcommand module (each imported when it is used)."""
    parser = argparse.ArgumentParser(
        prog="main.py",
        description="Corner-case studio. Without a subcommand, opens the editor on the bundled demo.",
    )
    parser.register("action", "lazy_parsers", _LazySubParsers)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", action="lazy_parsers")
    for info in subcommands():
        sub.add_lazy(info)
    return parser
