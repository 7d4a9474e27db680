"""`-v` / `--verbose` sets the root logger's level (before or after the subcommand); one stderr handler."""
from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import HANDLER_NAME, build_parser, configure_logging

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def restore_root_logger():
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield root
    root.setLevel(level)
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)


@pytest.mark.parametrize("argv, verbose", [
    (["check", "x.json"], False),
    (["-v", "check", "x.json"], True),
    (["--verbose", "check", "x.json"], True),
    (["check", "-v", "x.json"], True),
    (["check", "x.json", "--verbose"], True),
])
def test_verbose_flag_is_read_before_and_after_the_subcommand(argv, verbose):
    assert build_parser().parse_args(argv).verbose is verbose


def test_configure_logging_sets_the_level_and_keeps_one_handler(restore_root_logger, capsys):
    root = restore_root_logger
    configure_logging(True)
    configure_logging(True)
    ours = [h for h in root.handlers if h.get_name() == HANDLER_NAME]
    assert len(ours) == 1 and root.level == logging.DEBUG
    logging.getLogger("engine.batch.runner").debug("a diagnostic line")
    err = capsys.readouterr().err
    assert "DEBUG engine.batch.runner: a diagnostic line" in err
    configure_logging(False)
    assert root.level == logging.WARNING
    logging.getLogger("engine.batch.runner").debug("hidden")
    assert "hidden" not in capsys.readouterr().err


def test_verbose_run_logs_debug_lines_to_stderr_and_results_to_stdout(tmp_path):
    """A real run in a fresh process: the batch runner's per-variant diagnostics appear only with -v."""
    spec = tmp_path / "spec.json"
    spec.write_text('{"name": "v", "base": "demo", "seeds": [0], "export": {"formats": ["openscenario"]}}')
    runs = {}
    for flag in ([], ["-v"]):
        r = subprocess.run([sys.executable, "main.py", *flag, "batch", str(spec), "-o", str(tmp_path / f"out{len(flag)}"),
                            "--inline", "-q"], cwd=REPO, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        assert "1 exported" in r.stdout
        runs[bool(flag)] = r.stderr
    assert "DEBUG engine.batch.runner: v0000 done" in runs[True]
    assert "DEBUG" not in runs[False]
