"""The prompt panel's link to the engine's interpreters and sandbox (called on a worker thread).

Both interpreters go through `engine.prompting.prompt_to_scenario` (offline, or the LLM from
`LLMSettings.from_env()`: OPENAI_BASE_URL / OPENAI_API_KEY / OPENAI_MODEL, bounded timeouts and retries),
which checks the result against the prompt and repairs or re-asks. Apply runs the (possibly edited)
script with `engine.prompting.run_checked_script` at the current scenario's rate, duration and seed and
reports the findings without rewriting the script. Every script runs in the bounded executor
(`engine.sandbox.executor`, a separate process with time, memory and output limits); the panel runs
these calls under `cancel_scope` so its Cancel button kills the script's process.
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
    except ValueError as e:  # bad OPENAI_TIMEOUT and the like (pydantic's ValidationError is a ValueError)
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
    except ImportError:   # highlighting only: without the library the editor still works
        return set()


def _options(scenario: Scenario, prompt: str | None):
    from engine.sandbox import RunOptions

    return RunOptions(seed=scenario.seed, fps=scenario.fps, duration=scenario.duration, name=scenario.name,
                      prompt=prompt)


def interpret(prompt: str, key: str, scenario: Scenario) -> Interpreted:
    """The script for a prompt from the chosen interpreter; raises with a readable message."""
    # the checked pipeline: the script's result is checked against the prompt and repaired (offline) or
    # re-asked (LLM) when it does not match; what still does not match comes back as notes
    from engine.prompting import prompt_to_scenario

    if key not in ("offline", "openai"):
        raise ValueError(f"unknown interpreter {key!r}")
    r = prompt_to_scenario(prompt, key, _options(scenario, prompt), llm_settings() if key == "openai" else None)
    notes = list(r.notes)
    if key == "openai":
        notes.insert(0, f"{len(r.attempts)} answer(s) from the model")
    notes += [f"check: {f.message}" for f in r.findings]
    return Interpreted(r.script, tuple(r.not_understood), tuple(notes))


@dataclass(frozen=True)
class Ran:
    """A script's result and the check findings that say it does not match the prompt (plain sentences)."""

    scenario: Scenario
    findings: tuple[str, ...] = ()


def run_script(script: str, scenario: Scenario, prompt: str | None = None) -> Ran:
    """Run a script in the sandbox at the current scenario's rate, duration and seed, and check the
    result against the prompt (the user's script is never rewritten: findings are only reported).

    Raises engine.sandbox.ScriptError (refused or failed, every problem with its line).
    """
    from engine.prompting import run_checked_script

    r = run_checked_script(script, _options(scenario, prompt), prompt, repair=False)
    return Ran(r.scenario, tuple(f.message for f in r.findings))


_LINE = re.compile(r"\bline (\d+)\b")


def error_line(message: str) -> int | None:
    """The first script line (1-based) an error message names, if any."""
    m = _LINE.search(message.split("\nTraceback")[0])
    return int(m.group(1)) if m else None
