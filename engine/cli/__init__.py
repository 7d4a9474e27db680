"""Headless command line: every module in this package that defines `COMMAND` is a subcommand.

A subcommand module defines:
    COMMAND: str            the subcommand name (``validate``)
    HELP: str               one line for ``--help``
    ORDER: int              position in ``--help`` (smaller first)
    add_arguments(parser)   adds its arguments to an argparse parser
    run(args) -> int        does the work; returns the exit code (0 ok, 1 findings, 2 bad input)
Subcommands use `engine` only (no Qt). ``open`` is special: main.py hands it to the app.

``-v`` / ``--verbose`` (before or right after the subcommand) sets the root logger to DEBUG, else WARNING
(`configure_logging`): diagnostics go to stderr through `logging`, one format; results stay on stdout.

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

TYPE_CHECKING = False       # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any, Sequence

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


def _literal_meta(path: Path) -> dict[str, Any] | None:
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


def _meta_of(tree: ast.Module) -> dict[str, Any] | None:
    """COMMAND/HELP/ORDER literals of a parsed module (ValueError where one is not a literal)."""
    meta: dict[str, Any] = {}
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


if TYPE_CHECKING:
    _SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]
else:                                   # not subscriptable at run time
    _SubParsers = argparse._SubParsersAction


class _LazySubParsers(_SubParsers):
    """Adds a subcommand's arguments (importing its module) only when that subcommand is parsed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy: dict[str, SubcommandInfo] = {}

    def add_lazy(self, info: SubcommandInfo) -> None:
        sub = self.add_parser(info.command, help=info.help, description=info.help)
        # also accepted after the subcommand; SUPPRESS: not given there, the top-level value stays
        sub.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP)
        self._lazy[info.command] = info

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: str | Sequence[Any] | None, option_string: str | None = None) -> None:
        info = self._lazy.pop(values[0], None) if values else None
        if info is not None:
            mod = info.load()
            sub = self._name_parser_map[info.command]
            mod.add_arguments(sub)
            sub.set_defaults(_module=mod)
        super().__call__(parser, namespace, values, option_string)


VERBOSE_HELP = "log diagnostics (DEBUG and up) to stderr; default: warnings and errors only"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


HANDLER_NAME = "cornercase-cli"


def configure_logging(verbose: bool = False) -> None:
    """Root logger level DEBUG (verbose) or WARNING, with one handler writing `LOG_FORMAT` lines to
    the current ``sys.stderr`` (looked up per record, so a replaced stderr, e.g. pytest's capture, gets them).

    Calling it again sets the level again and keeps a single such handler; handlers others installed stay.
    """
    import logging
    import sys

    class StderrHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            try:
                sys.stderr.write(self.format(record) + "\n")
            except (OSError, ValueError):   # stderr closed or gone: drop the line (logging's own policy)
                self.handleError(record)

    root = logging.getLogger()
    for h in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(h)
    handler = StderrHandler()
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per subcommand module (each imported when it is used)."""
    parser = argparse.ArgumentParser(
        prog="main.py",
        description="Corner-case studio. Without a subcommand, opens the editor on the bundled demo.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)
    parser.register("action", "lazy_parsers", _LazySubParsers)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", action="lazy_parsers")
    assert isinstance(sub, _LazySubParsers)
    for info in subcommands():
        sub.add_lazy(info)
    return parser
