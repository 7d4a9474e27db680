"""The prompt panel's link to the engine's interpreters and sandbox (called on a worker thread).

Offline: `engine.prompting.interpret_offline`. LLM: `engine.prompting.llm.LLMInterpreter` with
`LLMSettings.from_env()` (OPENAI_BASE_URL / OPENAI_API_KEY / OPENAI_MODEL), bounded timeouts and
retries. Scripts run in `engine.sandbox.run_script` with the current scenario's rate, duration and seed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from engine.scenario.model import Scenario


@dataclass(frozen=True)
class InterpreterChoice:
    """One entry of the interpreter menu; `reason` says why an unavailable one cannot be used."""

    key: str
    label: str
    available: bool
    reason: str = ""


@dataclass(frozen=True)
class Interpreted:
    """An interpreter's answer: the script and the words / notes it could not use."""

    script: str
    not_understood: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def llm_settings():
    """The configured LLM endpoint settings (from the environment)."""
    from engine.prompting.settings import LLMSettings

    return LLMSettings.from_env()


def interpreter_choices() -> list[InterpreterChoice]:
    """The offline interpreter, and the configured LLM (unavailable without an endpoint)."""
    out = [InterpreterChoice("offline", "Offline (built-in, deterministic)", True)]
    try:
        s = llm_settings()
    except Exception as e:  # bad OPENAI_TIMEOUT and the like
        return out + [InterpreterChoice("openai", "LLM (misconfigured)", False, str(e))]
    if s.configured:
        where = s.base_url or "api.openai.com"
        out.append(InterpreterChoice("openai", f"LLM: {s.model} @ {where}", True))
    else:
        out.append(InterpreterChoice("openai", "LLM (not configured)", False,
                                     "set OPENAI_BASE_URL (and OPENAI_API_KEY, OPENAI_MODEL) to use a language model"))
    return out


def library_function_names() -> set[str]:
    """Names of the trajectory-library functions (highlighted in the script editor)."""
    try:
        from engine.library import library_functions

        return set(library_functions())
    except Exception:
        return set()


def _options(scenario: Scenario, prompt: str | None):
    from engine.sandbox import RunOptions

    return RunOptions(seed=scenario.seed, fps=scenario.fps, duration=scenario.duration, name=scenario.name,
                      prompt=prompt)


def interpret(prompt: str, key: str, scenario: Scenario) -> Interpreted:
    """The script for a prompt from the chosen interpreter; raises with a readable message."""
    if key == "offline":
        from engine.prompting import interpret_offline

        i = interpret_offline(prompt, duration=scenario.duration)
        return Interpreted(i.script, tuple(i.not_understood), tuple(i.notes))
    if key == "openai":
        from engine.prompting.llm import LLMInterpreter

        result = LLMInterpreter(llm_settings()).interpret(prompt, _options(scenario, prompt))
        return Interpreted(result.script, (), tuple(f"{len(result.attempts)} answer(s) from the model",))
    raise ValueError(f"unknown interpreter {key!r}")


def run_script(script: str, scenario: Scenario, prompt: str | None = None) -> Scenario:
    """Run a script in the sandbox at the current scenario's rate, duration and seed.

    Raises engine.sandbox.ScriptError (refused or failed, every problem with its line).
    """
    from engine.sandbox import run_script as sandbox_run

    return sandbox_run(script, _options(scenario, prompt))


_LINE = re.compile(r"\bline (\d+)\b")


def error_line(message: str) -> int | None:
    """The first script line (1-based) an error message names, if any."""
    m = _LINE.search(message.split("\nTraceback")[0])
    return int(m.group(1)) if m else None
