"""From a prompt to a scenario: interpret (offline or LLM), run the script in the sandbox, record
the prompt and the script in the scenario."""
from __future__ import annotations

from dataclasses import dataclass, field

from engine.prompting.offline import Interpretation, OfflineInterpreter
from engine.sandbox.runner import RunOptions, run_script
from engine.scenario.model import Scenario


@dataclass(frozen=True)
class PromptResult:
    """The scenario, the script that made it, and what the interpreter could not use."""

    scenario: Scenario
    script: str
    not_understood: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    attempts: tuple = field(default_factory=tuple)


def prompt_to_scenario(prompt: str, interpreter: str = "offline", options: RunOptions | None = None,
                       settings=None) -> PromptResult:
    """Interpret `prompt` with 'offline' or 'openai' and run the script; ScriptError / LLMError on failure."""
    opts = options or RunOptions(name="prompted", prompt=prompt)
    if opts.prompt is None:
        opts = RunOptions(opts.seed, opts.fps, opts.duration, opts.name, prompt)
    if interpreter == "offline":
        interp: Interpretation = OfflineInterpreter(opts.duration).interpret(prompt)
        scenario = run_script(interp.script, opts)
        return PromptResult(scenario, interp.script, interp.not_understood, interp.notes)
    if interpreter == "openai":
        from engine.prompting.llm import LLMInterpreter
        from engine.prompting.settings import LLMSettings

        result = LLMInterpreter(settings or LLMSettings.from_env()).interpret(prompt, opts)
        return PromptResult(result.scenario, result.script, (), (), tuple(result.attempts))
    raise ValueError(f"unknown interpreter {interpreter!r}; use 'offline' or 'openai'")
