"""Every place that runs an untrusted script goes through the bounded executor: no module of the
prompt path, the batch runner, the CLI or the app imports the in-process `run_script`; and the
batch path stops a hung script at its limit."""
from __future__ import annotations

import ast
import time
from pathlib import Path

import pytest

from engine.sandbox import SandboxLimits, ScriptFailed

ROOT = Path(__file__).resolve().parents[3]
CALLERS = ["engine/prompting/pipeline.py", "engine/prompting/repair.py", "engine/prompting/llm.py",
           "engine/batch/scripts.py", "engine/batch/materialize.py", "engine/cli/script.py", "engine/cli/prompt.py",
           "app/prompt_backend.py", "app/prompt_panel.py"]
HANG = "a = []\nb = []\nfor i in range(50):\n    a = [a, a]\n    b = [b, b]\nsame = a == b\n"


@pytest.mark.parametrize("rel", CALLERS)
def test_no_caller_runs_scripts_in_process(rel):
    tree = ast.parse((ROOT / rel).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("engine.sandbox"):
            names = {a.name for a in node.names}
            assert "run_script" not in names and "Evaluator" not in names, (rel, node.lineno)


def test_batch_path_stops_a_hung_script():
    from engine.batch.scripts import run_script

    t0 = time.monotonic()
    with pytest.raises(ScriptFailed, match="ran longer than 1 s and was stopped"):
        run_script(HANG, seed=1, limits=SandboxLimits(max_seconds=1.0, kill_grace_seconds=0.5))
    assert time.monotonic() - t0 < 1.5 + 3.0


def test_bidi_override_is_refused_on_every_path(tmp_path, capsys):
    from main import main

    src = tmp_path / "trojan.py"
    src.write_text("x = 'safe\u202e' \nforward('car')\n", encoding="utf-8")
    assert main(["script", str(src), "-o", str(tmp_path / "o.json")]) == 2
    err = capsys.readouterr().err
    assert "line 1: bidirectional control character U+202E RIGHT-TO-LEFT OVERRIDE" in err
    from engine.sandbox import check_script

    p = check_script("forward('car')\nx = 1 \u2066# hidden\u2069\n")
    assert [(q.line, q.col) for q in p] == [(2, 7), (2, 16)]
