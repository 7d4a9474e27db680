"""main.py's process defaults: one OpenBLAS thread unless the user chose otherwise (its idle threads spin
after every BLAS call and took about 0.2 s of CPU from a `check`); set before numpy is imported."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import main

REPO = Path(__file__).resolve().parents[2]


def test_one_openblas_thread_by_default_and_the_users_choice_is_kept(monkeypatch):
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    main._headless_env()
    assert main.os.environ["OPENBLAS_NUM_THREADS"] == "1"
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    main._headless_env()
    assert main.os.environ["OPENBLAS_NUM_THREADS"] == "3"


def test_the_setting_is_in_place_before_a_command_imports_numpy():
    """`main.main` parses the command line without numpy, so numpy's first import sees the variable."""
    code = ("import sys, os; os.environ.pop('OPENBLAS_NUM_THREADS', None); import main; "
            "main._headless_env(); "
            "from engine.cli import build_parser; build_parser(); "
            "print('numpy' in sys.modules, os.environ['OPENBLAS_NUM_THREADS'])")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False 1"
