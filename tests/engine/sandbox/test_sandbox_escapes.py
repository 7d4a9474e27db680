"""A corpus of sandbox escape attempts: each is refused before running or stopped while running,
and none has a side effect (no file written, no environment or builtins changed)."""
from __future__ import annotations

import builtins
import os
import time

import pytest

from engine.sandbox import SandboxLimits, ScriptFailed, ScriptRefused, check_script, run_script
from engine.sandbox.runner import RunOptions

SENTINEL = "SANDBOX_SENTINEL"      # replaced by a path in tmp_path

# (id, script, expected: 'refused' | 'failed' | 'either')
ATTEMPTS: list[tuple[str, str, str]] = [
    ("import", "import os\nos.system('touch SANDBOX_SENTINEL')\n", "refused"),
    ("from-import", "from os import system\nsystem('touch SANDBOX_SENTINEL')\n", "refused"),
    ("dunder-import", "__import__('os').system('touch SANDBOX_SENTINEL')\n", "refused"),
    ("import-in-if", "if True:\n    import subprocess\n", "refused"),
    ("eval", "eval(\"open('SANDBOX_SENTINEL', 'w')\")\n", "refused"),
    ("exec", "exec(\"x = 1\")\n", "refused"),
    ("compile", "compile('1', 'f', 'eval')\n", "refused"),
    ("open-write", "open('SANDBOX_SENTINEL', 'w').write('x')\n", "refused"),
    ("class-walk", "ego.__class__.__mro__[1].__subclasses__()\n", "refused"),
    ("tuple-bases", "().__class__.__bases__[0].__subclasses__()\n", "refused"),
    ("private-attr", "b = ego._builder\n", "refused"),
    ("getattr", "getattr(ego, '__class__')\n", "refused"),
    ("globals", "g = globals()\n", "refused"),
    ("builtins-name", "__builtins__['open']('SANDBOX_SENTINEL', 'w')\n", "refused"),
    ("format-string", "'{0.__class__.__init__.__globals__}'.format(ego)\n", "refused"),
    ("f-string", "x = f'{ego.__class__}'\n", "refused"),
    ("percent-format", "x = '%s' % ego\n", "failed"),
    ("str-method", "x = ego.id.upper()\n", "refused"),
    ("lambda", "f = lambda: open('SANDBOX_SENTINEL', 'w')\n", "refused"),
    ("def-recursion", "def f(n):\n    return f(n + 1)\nf(0)\n", "refused"),
    ("class-def", "class A:\n    pass\n", "refused"),
    ("generator-exp", "g = (x for x in range(3))\n", "refused"),
    ("list-comp", "g = [x for x in range(3)]\n", "refused"),
    ("yield", "x = yield 1\n", "refused"),
    ("while-true", "while True:\n    pass\n", "refused"),
    ("try-except", "try:\n    x = 1\nexcept Exception:\n    pass\n", "refused"),
    ("with-open", "with open('SANDBOX_SENTINEL', 'w') as f:\n    pass\n", "refused"),
    ("walrus", "(x := 5)\n", "refused"),
    ("star-kwargs", "forward(**{'who': 'car'})\n", "refused"),
    ("star-args", "forward(*['car'])\n", "refused"),
    ("function-as-value", "f = forward\nf('car')\n", "refused"),
    ("rebind-library", "forward = 1\n", "refused"),
    ("rebind-ego", "ego = 5\n", "refused"),
    ("unicode-lookalike-eval", "\uff45\uff56\uff41\uff4c('1')\n", "refused"),
    ("unicode-superscript", "e\u1d65al('1')\n", "refused"),
    ("unicode-import-name", "\u1d62mport = 1\n", "refused"),
    ("attribute-store", "ego.speed = 100\n", "refused"),
    ("item-store", "x = [1]\nx[0] = 2\n", "refused"),
    ("list-append-self", "x = [1]\nx.append(x)\n", "refused"),
    ("global-stmt", "global x\n", "refused"),
    ("del-stmt", "del ego\n", "refused"),
    ("assert-stmt", "assert False\n", "refused"),
    ("raise-exit", "raise SystemExit(3)\n", "refused"),
    ("breakpoint", "breakpoint()\n", "refused"),
    ("type-call", "t = type(ego)\n", "refused"),
    ("dict-literal", "d = {'a': 1}\n", "refused"),
    ("slice", "x = [1, 2, 3][0:2]\n", "refused"),
    ("async-def", "async def f():\n    pass\n", "refused"),
    ("match-stmt", "match ego:\n    case _:\n        pass\n", "refused"),
    ("null-byte", "x = 1\x00\n", "refused"),
    ("huge-source", "x = 1\n" * 30000, "refused"),
    ("deep-nesting", "x = " + "(" * 300 + "1" + ")" * 300 + "\n", "refused"),
    ("huge-int-literal", "x = 10000000000000000000000\n", "refused"),
    ("huge-string-literal", "x = '" + "a" * 5000 + "'\n", "refused"),
    ("huge-power", "x = 10 ** 10 ** 10\n", "failed"),
    ("float-overflow", "x = 2.0 ** 100000\n", "failed"),
    ("string-repeat", "x = 'a' * 1000000000\n", "failed"),
    ("list-repeat", "x = [0] * 1000000000\n", "failed"),
    ("string-doubling", "x = 'ab'\nfor i in range(40):\n    x = x + x\n", "failed"),
    ("int-squaring", "x = 3\nfor i in range(40):\n    x = x * x\n", "failed"),
    ("deep-compare", "a = []\nb = []\nfor i in range(1000):\n    a = [a]\n    b = [b]\nfor i in range(1000):\n"
                     "    a = [a]\n    b = [b]\ny = a == b\n", "failed"),
    ("huge-range", "for i in range(10 ** 11):\n    pass\n", "failed"),
    ("nested-loops", "for i in range(1000):\n    for j in range(1000):\n        for k in range(1000):\n"
                     "            pass\n", "failed"),
    ("agent-flood", "for i in range(1000):\n    forward('car')\n", "failed"),
    ("undefined-name", "x = y + 1\n", "failed"),
    ("complex-number", "x = (-8) ** 0.5\n", "failed"),
    ("bytes-literal", "x = b'abc'\n", "refused"),
    ("int-of-long-string", "x = int('9' * 5000)\n", "failed"),
    ("min-with-key", "x = min([1, 2], key=abs)\n", "refused"),
    ("min-with-bad-kwarg", "x = min([1, 2], key=1)\n", "failed"),
]


def _prepared(script: str, tmp_path) -> str:
    return script.replace(SENTINEL, str(tmp_path / "pwned"))


@pytest.mark.parametrize("name,script,expected", ATTEMPTS, ids=[a[0] for a in ATTEMPTS])
def test_escape_attempt_is_refused_or_stopped_without_side_effects(name, script, expected, tmp_path, monkeypatch):
    script = _prepared(script, tmp_path)
    env_before = dict(os.environ)
    builtins_before = dict(vars(builtins))
    cwd_before = os.getcwd()
    files_before = set(os.listdir(tmp_path))
    limits = SandboxLimits(max_seconds=3.0)
    t0 = time.monotonic()
    with pytest.raises((ScriptRefused, ScriptFailed)) as info:
        run_script(script, RunOptions(), limits)
    elapsed = time.monotonic() - t0
    if expected == "refused":
        assert isinstance(info.value, ScriptRefused), info.value
    elif expected == "failed":
        assert isinstance(info.value, ScriptFailed), info.value
    assert info.value.problems and all(p.reason for p in info.value.problems)
    assert elapsed < limits.max_seconds + 2.0
    assert set(os.listdir(tmp_path)) == files_before
    assert not (tmp_path / "pwned").exists()
    assert dict(os.environ) == env_before
    assert dict(vars(builtins)) == builtins_before
    assert os.getcwd() == cwd_before


def test_corpus_is_large_enough():
    assert len(ATTEMPTS) >= 30


def test_refusals_name_the_line_and_the_reason():
    problems = check_script("x = 1\nimport os\ny = ego.__dict__\nz = open('f')\n")
    by_line = {p.line: p.reason for p in problems}
    assert "imports are not allowed" in by_line[2]
    assert "__dict__" in by_line[3]
    assert "unknown function 'open'" in by_line[4]
    assert 1 not in by_line


def test_checked_scripts_run_without_eval_exec_or_compile_to_code(monkeypatch):
    import ast

    real_compile = builtins.compile

    def forbidden(*a, **k):
        raise AssertionError("the sandbox must not call eval/exec")

    def ast_only(source, filename, mode, flags=0, *a, **k):
        assert flags & ast.PyCF_ONLY_AST, "the sandbox compiled the script to code"
        return real_compile(source, filename, mode, flags, *a, **k)

    script = "x = 2\nfor i in range(x):\n    forward('car', lane='left', ahead=10 + 15 * i)\n"
    run_script(script)              # first run: lets lazily imported modules load (Python compiles those)
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(builtins, "compile", ast_only)
    s = run_script(script)
    assert [a.id for a in s.agents] == ["car_1", "car_2"]


def test_time_bound_stops_a_slow_script():
    # 10**9 loop bodies: far more than any machine runs in 0.5 s, so only the time bound can stop it
    script = ("for i in range(1000):\n    for j in range(1000):\n        for k in range(1000):\n"
              "            x = i * j\n")
    limits = SandboxLimits(max_steps=10 ** 12, max_seconds=0.5)
    t0 = time.monotonic()
    with pytest.raises(ScriptFailed, match="longer than 0.5 s"):
        run_script(script, RunOptions(), limits)
    assert time.monotonic() - t0 < 30.0  # stopped at the bound, not after the work (generous for loaded CI)
