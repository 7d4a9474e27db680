"""Check a script, run it on a fresh `ScenarioBuilder`, and return the scenario it describes.

`run_script` runs in this process under the evaluator's step, size and wall-clock bounds (the
library checks the deadline too); it is what the bounded executor's worker runs. Untrusted scripts
go through `engine.sandbox.executor.run_bounded` (`run_script_isolated` is the same): a warm worker
process with an address-space limit, an output limit, killed at the wall-clock bound: a hard stop
even if a single operation never returns.
"""
from __future__ import annotations

import ast
import time
from dataclasses import dataclass

from engine.library.builder import ScenarioBuilder
from engine.library.errors import LibraryError
from engine.library.registry import bind_library, library_functions
from engine.sandbox.checker import check_script, parse_script
from engine.sandbox.errors import LimitExceeded, Problem, ScriptFailed, ScriptRefused
from engine.sandbox.evaluator import Evaluator, ScriptRuntimeError
from engine.sandbox.policy import SandboxLimits
from engine.scenario.model import Scenario


@dataclass(frozen=True)
class RunOptions:
    """What the scenario is built with besides the script."""

    seed: int = 0
    fps: float = 12.0
    duration: float = 2.75
    name: str = "scripted"
    prompt: str | None = None


def check_or_refuse(source: str, limits: SandboxLimits = SandboxLimits()) -> ast.Module:
    """The parsed module; ScriptRefused with every problem when the script is not allowed."""
    problems = check_script(source, limits)
    if problems:
        raise ScriptRefused(problems)
    tree, _ = parse_script(source, limits)
    assert tree is not None
    return tree


def run_script(source: str, options: RunOptions = RunOptions(), limits: SandboxLimits = SandboxLimits()) -> Scenario:
    """Check and run `source`; the Scenario records the script, the prompt and the seed.

    Raises ScriptRefused (nothing ran) or ScriptFailed (with the line where it stopped).
    """
    tree = check_or_refuse(source, limits)
    deadline = time.monotonic() + limits.max_seconds
    evaluator: Evaluator | None = None

    def check_deadline() -> None:
        if evaluator is not None:
            evaluator.check_deadline()

    try:
        builder = ScenarioBuilder(seed=options.seed, fps=options.fps, duration=options.duration,
                                  check_deadline=check_deadline)
    except LibraryError as e:
        raise ScriptFailed([Problem(0, 0, str(e))]) from None
    evaluator = Evaluator(bind_library(builder), {"ego": builder.ego}, limits, deadline)
    try:
        evaluator.run(tree)
        scenario = builder.build(name=options.name, prompt=options.prompt, script=source)
    except ScriptRuntimeError as e:
        line = getattr(e.node, "lineno", 0) or evaluator.current_line
        raise ScriptFailed([Problem(line, getattr(e.node, "col_offset", -1) + 1, str(e))]) from None
    except LimitExceeded as e:
        raise ScriptFailed([Problem(evaluator.current_line, 0, str(e))]) from None
    except LibraryError as e:
        raise ScriptFailed([Problem(evaluator.current_line, 0, str(e))]) from None
    except RecursionError:
        raise ScriptFailed([Problem(evaluator.current_line, 0, "the script nests too deeply")]) from None
    except MemoryError:
        raise ScriptFailed([Problem(evaluator.current_line, 0, "the script ran out of memory")]) from None
    except Exception as e:  # a library bug must not escape as anything but a script failure
        raise ScriptFailed([Problem(evaluator.current_line, 0,
                                    f"internal error while running the script: {type(e).__name__}: {e}")]) from None
    return scenario


def run_script_isolated(source: str, options: RunOptions = RunOptions(),
                        limits: SandboxLimits = SandboxLimits()) -> Scenario:
    """`run_script` in a worker process of the bounded executor (`engine.sandbox.executor.run_bounded`):
    killed at `limits.max_seconds + limits.kill_grace_seconds`, with a memory and an output limit."""
    from engine.sandbox.executor import run_bounded

    return run_bounded(source, options, limits)


def available_names() -> list[str]:
    """Every name a script can call (library functions and safe builtins)."""
    from engine.sandbox.policy import BUILTIN_DOCS

    return sorted(list(library_functions()) + list(BUILTIN_DOCS))


__all__ = ["RunOptions", "available_names", "check_or_refuse", "run_script", "run_script_isolated"]
