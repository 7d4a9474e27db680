"""The batch runner's link to the script sandbox and the prompt interpreters.

Scripts always run through the bounded executor `engine.sandbox.executor.run_bounded` (checked, then
evaluated in a warm worker process with time, memory and output limits); a
prompt becomes a script through `engine.prompting` ('offline': the built-in interpreter; 'llm': the
configured OpenAI-compatible endpoint, which also checks its script in the sandbox).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from engine.scenario.model import Scenario

if TYPE_CHECKING:
    from engine.sandbox.policy import SandboxLimits


def run_script(script: str, seed: int | None = None, name: str = "scripted", prompt: str | None = None,
               limits: SandboxLimits | None = None) -> Scenario:
    """Run a library script in the bounded executor; returns the scenario it builds (ScriptRefused /
    ScriptFailed otherwise)."""
    from engine.sandbox import RunOptions
    from engine.sandbox.executor import run_bounded

    from engine.sandbox.policy import SandboxLimits

    return run_bounded(script, RunOptions(seed=int(seed or 0), name=name, prompt=prompt), limits or SandboxLimits())


def script_for_prompt(prompt: str, interpreter: str = "offline", seed: int | None = None) -> str:
    """The library script an interpreter writes for a prompt ('offline' or 'llm')."""
    if interpreter == "offline":
        # the checked pipeline: the script comes back repaired when its first result did not match
        # the prompt (an unasked collision, an unmet near miss), as in the CLI and the editor
        from engine.prompting import prompt_to_scenario
        from engine.sandbox import RunOptions

        return prompt_to_scenario(prompt, "offline", RunOptions(seed=int(seed or 0), prompt=prompt)).script
    if interpreter == "llm":
        from engine.prompting.llm import LLMInterpreter
        from engine.prompting.settings import LLMSettings
        from engine.sandbox import RunOptions

        result = LLMInterpreter(LLMSettings.from_env()).interpret(prompt, RunOptions(seed=int(seed or 0), prompt=prompt))
        return result.script
    raise ValueError(f"unknown interpreter {interpreter!r}; use 'offline' or 'llm'")
