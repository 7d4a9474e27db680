"""The bounded executor: every untrusted script runs in a warm worker process that is killed at the
wall-clock limit, held to an address-space limit and an output limit, and can be cancelled.

Each run that is meant to be stopped is asserted to end within its stated bound
(limit + kill grace + 3 s of slack for a loaded machine) with a message naming the limit."""
from __future__ import annotations

import threading
import time

import pytest

from engine.sandbox import RunOptions, SandboxLimits, ScriptFailed, ScriptRefused, run_script
from engine.sandbox.executor import ScriptCancelled, ScriptExecutor, cancel_scope, run_bounded
from engine.scenario.io import to_document

#: two nested lists of 2**50 leaves each; `a == b` is one C call that never returns
NESTED = "a = []\nb = []\nfor i in range(50):\n    a = [a, a]\n    b = [b, b]\nsame = a == b\n"
SLACK = 3.0


@pytest.fixture(scope="module")
def executor():
    ex = ScriptExecutor(pool_size=1)
    yield ex
    ex.close()


def test_result_equals_the_in_process_run(executor):
    src = "car = cut_in(ego, side='left', cls='truck')\nset_environment(time_of_day='night')\n"
    assert to_document(executor.run(src, RunOptions(seed=3))) == to_document(run_script(src, RunOptions(seed=3)))


def test_warm_worker_is_reused(executor):
    executor.run("forward('car')\n")
    before = executor.started
    for _ in range(3):
        executor.run("forward('car')\n")
    assert executor.started == before


def test_nested_list_comparison_stops_at_the_limit(executor):
    limits = SandboxLimits(max_seconds=1.0, kill_grace_seconds=0.5)
    t0 = time.monotonic()
    with pytest.raises(ScriptFailed, match="ran longer than 1 s and was stopped"):
        executor.run(NESTED, RunOptions(), limits)
    assert time.monotonic() - t0 < 1.5 + SLACK
    # the killed worker is replaced: the next run works
    assert executor.run("forward('car')\n").agents


def test_tiny_brake_rate_ends_fast(executor):
    t0 = time.monotonic()
    with pytest.raises(ScriptFailed, match="decel"):
        executor.run("brake('car', decel=0.00001)\n", RunOptions(), SandboxLimits(max_seconds=2.0))
    assert time.monotonic() - t0 < 2.0 + 1.0 + SLACK


def test_refusals_do_not_start_a_worker():
    ex = ScriptExecutor()
    with pytest.raises(ScriptRefused, match="imports are not allowed"):
        ex.run("import os\n")
    assert ex.started == 0
    ex.close()


def test_output_limit(executor):
    # one agent's scenario document is a few kB of JSON: 2 kB is refused, the default 16 MB is not
    src = "forward('car')\n"
    with pytest.raises(ScriptFailed, match="at most 0.002 MB are allowed"):
        executor.run(src, RunOptions(), SandboxLimits(max_output_bytes=2_000))
    assert executor.run(src).agents


def test_memory_limit_is_reported(executor):
    # 1000 lists of 1000 items: about 8 MB, within the evaluator's size bounds; 1 MB of address
    # space is refused as "out of memory", the default 1024 MB is not
    src = "rows = []\nfor i in range(1000):\n    rows = rows + [[i] * 1000]\nforward('car')\n"
    t0 = time.monotonic()
    with pytest.raises(ScriptFailed, match="ran out of memory"):
        executor.run(src, RunOptions(), SandboxLimits(max_memory_mb=1, max_seconds=5.0))
    assert time.monotonic() - t0 < 6.0 + SLACK
    assert executor.run(src).agents


def test_cancel_kills_the_run(executor):
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    t0 = time.monotonic()
    with pytest.raises(ScriptCancelled, match="cancelled"):
        with cancel_scope(stop):
            executor.run(NESTED, RunOptions(), SandboxLimits(max_seconds=30.0))
    assert time.monotonic() - t0 < 0.5 + SLACK


def test_default_executor_routes_the_cli(tmp_path, capsys):
    from main import main

    script = tmp_path / "hang.py"
    script.write_text(NESTED)
    t0 = time.monotonic()
    assert main(["script", str(script), "-o", str(tmp_path / "o.json"), "--time-limit", "1.5"]) == 2
    err = capsys.readouterr().err
    assert "ran longer than 1.5 s and was stopped" in err and "Traceback" not in err
    assert time.monotonic() - t0 < 2.5 + SLACK
    assert not (tmp_path / "o.json").exists()


def test_run_bounded_from_threads():
    results = []

    def go(i):
        results.append(len(run_bounded(f"forward('car', speed={5 + i})\n").agents))

    threads = [threading.Thread(target=go, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [1, 1, 1]
