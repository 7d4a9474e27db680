"""From a prompt to a scenario: interpret (offline or LLM), run the script in the sandbox, check the
result against the prompt, repair it when it does not match, record the prompt and the script.

A result matches its prompt when the scenario checks (`engine.checks`) find no error once the
intents the prompt asks for (contact, near miss, TTC, PET: `engine.prompting.asks`) are declared:
no unintended collision, no infeasible manoeuvre, no car off the road, every asked contact or near
miss confirmed. The offline interpreter repairs a mismatch deterministically
(`engine.prompting.repair`); the LLM interpreter sends the findings back and asks again
(`engine.prompting.llm`). What cannot be repaired comes back in `PromptResult.findings`, never
silently dropped.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from engine.checks import CheckConfig, CheckReport, Finding
from engine.prompting.asks import Ask, asks_of
from engine.prompting.offline import Interpretation, OfflineInterpreter
from engine.prompting.repair import MAX_TRIES, repair_script
from engine.prompting.review import Review, problem_sentences, review_scenario
from engine.sandbox.executor import run_bounded
from engine.sandbox.policy import SandboxLimits
from engine.sandbox.runner import RunOptions
from engine.scenario.model import Scenario

if TYPE_CHECKING:
    from engine.prompting.llm import Attempt
    from engine.prompting.settings import LLMSettings


@dataclass(frozen=True)
class PromptResult:
    """The scenario, the script that made it, what the interpreter could not use, and how the
    result compares with the prompt.

    findings: the error-level check findings that say the result does not match the prompt (empty
    when it does, or when checking was turned off); report: the full check report (None when not
    checked); asks: what the prompt asked the checks to confirm; scenario.intents holds them bound
    to agent ids.
    """

    scenario: Scenario
    script: str
    not_understood: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    attempts: tuple[Attempt, ...] = field(default_factory=tuple)
    findings: tuple[Finding, ...] = ()
    report: CheckReport | None = None
    asks: tuple[Ask, ...] = ()

    @property
    def matches_prompt(self) -> bool:
        """Whether the checks found nothing that contradicts the prompt and no part of it was dropped
        or not understood (H16)."""
        return not self.findings and not self.not_understood


def _options(prompt: str, options: RunOptions | None) -> RunOptions:
    opts = options or RunOptions(name="prompted", prompt=prompt)
    return opts if opts.prompt is not None else replace(opts, prompt=prompt)


def check_against_prompt(scenario: Scenario, prompt: str | None, config: CheckConfig | None = None) -> Review:
    """Check a script's result against what `prompt` asks for (no repair)."""
    return review_scenario(scenario, asks_of(prompt or ""), config)


def run_checked_script(script: str, options: RunOptions, prompt: str | None = None, *, repair: bool = True,
                       config: CheckConfig | None = None, max_tries: int = MAX_TRIES,
                       limits: SandboxLimits | None = None) -> PromptResult:
    """Run `script` (from any source: an interpreter, the editor, a file), check the result against
    `prompt` (default: `options.prompt`) and, with `repair`, repair it deterministically.

    Raises ScriptRefused / ScriptFailed when the script itself cannot run (nothing is made). The
    script runs in the bounded executor (`limits`: default SandboxLimits()).
    """
    prompt = options.prompt if prompt is None else prompt
    scenario = run_bounded(script, options, limits or SandboxLimits())
    asks = asks_of(prompt or "")
    return _checked(script, scenario, options, asks, config, max_tries if repair else 0)


def _checked(script: str, scenario: Scenario, options: RunOptions, asks: tuple[Ask, ...],
             config: CheckConfig | None, max_tries: int, not_understood: tuple[str, ...] = (),
             notes: tuple[str, ...] = ()) -> PromptResult:
    first = review_scenario(scenario, asks, config)
    outcome = repair_script(script, options, asks, first, config, max_tries) if max_tries > 0 else None
    out_notes = list(notes) + list(first.notes)
    if outcome is None or outcome.label is None:
        review, final_script = first, script
        if not first.ok and outcome is not None:
            n = len(first.problems)
            out_notes.append(f"{n} finding(s) remain; no repair applies to them" if outcome.tries == 0 else
                             f"no repair found in {outcome.tries} tries; {n} finding(s) remain")
    else:
        review, final_script = outcome.review, outcome.script
        state = "repaired" if review.ok else "improved"
        out_notes.append(f"the first result did not match the prompt ({problem_sentences(first.problems[:1])[0]}); "
                         f"{state} with {outcome.label} after {outcome.tries} tr{'y' if outcome.tries == 1 else 'ies'}")
        out_notes += [n for n in review.notes if n not in out_notes]
        if not review.ok:
            out_notes.append(f"{len(review.problems)} finding(s) remain")
    return PromptResult(review.scenario, final_script, not_understood, tuple(out_notes), (), tuple(review.problems),
                        review.report, asks)


class PromptInterpreter(StrEnum):
    """Who turns a prompt into a script (the strings the command line and the editor pass)."""

    OFFLINE = "offline"        # the built-in, deterministic interpreter (`engine.prompting.offline`)
    OPENAI = "openai"          # an OpenAI-compatible endpoint (`engine.prompting.llm`)


def prompt_to_scenario(prompt: str, interpreter: PromptInterpreter | str = PromptInterpreter.OFFLINE,
                       options: RunOptions | None = None,
                       settings: LLMSettings | None = None, *, check: bool = True, check_config: CheckConfig | None = None,
                       max_tries: int = MAX_TRIES) -> PromptResult:
    """Interpret `prompt` with 'offline' or 'openai', run the script, check and repair the result.

    ScriptError (offline script that cannot run) / LLMError on failure; with `check=False` the
    result is returned as the script made it, unchecked.
    """
    opts = _options(prompt, options)
    if interpreter == PromptInterpreter.OFFLINE:
        interp: Interpretation = OfflineInterpreter(opts.duration).interpret(prompt)
        if interp.duration is not None and opts.duration == RunOptions().duration:   # H16: "for 10 seconds"
            opts = replace(opts, duration=interp.duration)
        scenario = run_bounded(interp.script, opts)
        if not check:
            return PromptResult(scenario, interp.script, interp.not_understood, interp.notes, asks=interp.asks)
        return _checked(interp.script, scenario, opts, interp.asks, check_config, max_tries,
                        interp.not_understood, interp.notes)
    if interpreter == PromptInterpreter.OPENAI:
        from engine.prompting.llm import LLMInterpreter
        from engine.prompting.settings import LLMSettings

        result = LLMInterpreter(settings or LLMSettings.from_env()).interpret(
            prompt, opts, check=check, check_config=check_config, max_tries=max_tries)
        return PromptResult(result.scenario, result.script, (), result.notes, tuple(result.attempts),
                            result.findings, result.report, result.asks)
    raise ValueError(f"unknown interpreter {interpreter!r}; use 'offline' or 'openai'")


__all__ = ["PromptResult", "check_against_prompt", "prompt_to_scenario", "run_checked_script"]
