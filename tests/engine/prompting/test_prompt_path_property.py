"""Property: any script through the prompt path (`run_checked_script`, what the prompt panel's Apply
and the LLM answers use) ends within the time limit plus a small margin, whatever it does:
exponential nested lists, huge comparisons, tiny library rates, refused constructs."""
from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.prompting.pipeline import run_checked_script
from engine.sandbox import RunOptions, SandboxLimits, ScriptError

LIMITS = SandboxLimits(max_seconds=1.0, kill_grace_seconds=0.5)
MARGIN = 2.5            # process hand-over and a loaded machine

STATEMENTS = st.sampled_from([
    "a = [a, a]", "b = [b, b]", "c = a == b", "c = a < b", "n = n * n", "s = s + s", "m = [m, 1]",
    "for i in range({k}):\n    a = [a, a]\n    b = [b, b]",
    "for i in range({k}):\n    n = n + i",
    "forward('car', speed={f})", "brake('car', decel={f})", "cut_in(ego, side='left')",
    "x = len(a)", "import os", "while True:\n    pass", "y = max(n, {k})",
])


@st.composite
def scripts(draw):
    lines = ["a = []", "b = []", "m = []", "n = 2", "s = 'ab'"]
    for template in draw(st.lists(STATEMENTS, min_size=1, max_size=8)):
        lines.append(template.format(k=draw(st.integers(0, 60)),
                                     f=draw(st.sampled_from([0.00001, 0.5, 3, 1e9, -1]))))
    return "\n".join(lines) + "\n"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scripts())
def test_random_scripts_end_within_the_limit(script):
    t0 = time.monotonic()
    try:
        run_checked_script(script, RunOptions(), repair=False, limits=LIMITS)
    except ScriptError as e:
        assert str(e)                                     # a clear message, never an unexpected exception
    elapsed = time.monotonic() - t0
    assert elapsed < LIMITS.max_seconds + LIMITS.kill_grace_seconds + MARGIN, (elapsed, script)
