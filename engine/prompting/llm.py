"""The LLM interpreter: any OpenAI-compatible chat endpoint writes the script, the sandbox checks
and runs it, and a refusal or failure is sent back for a repair, a bounded number of times.

The openai client is always created with an explicit `timeout` and `max_retries` (its defaults
can block for half an hour on a hung server). Nothing the model writes runs outside the sandbox.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from engine.prompting.extract import extract_script
from engine.prompting.settings import LLMSettings
from engine.prompting.template import system_prompt
from engine.sandbox.errors import ScriptError, ScriptRefused
from engine.sandbox.runner import RunOptions, run_script
from engine.scenario.model import Scenario

REPAIR_MESSAGE = (
    "The script was {verb}:\n{problems}\n"
    "Fix it and answer with the whole corrected script in one ```python block."
)
NO_CODE_MESSAGE = "I could not find a script in your answer. Answer with the whole script in one ```python block."


class LLMError(RuntimeError):
    """The endpoint could not be used or never produced a script that runs; `attempts` says why."""

    def __init__(self, message: str, attempts: list["Attempt"] | None = None) -> None:
        super().__init__(message)
        self.attempts = list(attempts or [])


@dataclass(frozen=True)
class Attempt:
    """One round: the model's answer, the script extracted from it, and what was wrong (empty when it ran)."""

    answer: str
    script: str | None
    problems: tuple[str, ...] = ()
    seconds: float = 0.0


@dataclass(frozen=True)
class LLMResult:
    scenario: Scenario
    script: str
    attempts: tuple[Attempt, ...] = field(default_factory=tuple)


class LLMInterpreter:
    """prompt -> script -> scenario through an OpenAI-compatible endpoint."""

    def __init__(self, settings: LLMSettings, client=None) -> None:
        if client is None and not settings.configured:
            raise LLMError("no language model endpoint configured: set OPENAI_BASE_URL (and OPENAI_API_KEY) or "
                           "use the offline interpreter")
        self.settings = settings
        self._client = client

    @property
    def client(self):
        if self._client is None:
            from openai import OpenAI

            s = self.settings
            self._client = OpenAI(base_url=s.base_url, api_key=s.api_key or "not-needed",
                                  timeout=s.timeout_s, max_retries=s.max_retries)
        return self._client

    def _ask(self, messages: list[dict[str, str]]) -> str:
        import openai

        s = self.settings
        try:
            resp = self.client.chat.completions.create(
                model=s.model, messages=messages, temperature=s.temperature, max_tokens=s.max_tokens,
                timeout=s.timeout_s)
        except openai.APITimeoutError:
            raise LLMError(f"the language model at {s.base_url or 'the default endpoint'} did not answer within "
                           f"{s.timeout_s:g} s ({s.max_retries} retries)") from None
        except openai.APIStatusError as e:
            raise LLMError(f"the language model endpoint answered HTTP {e.status_code}: {_short(str(e))}") from None
        except openai.APIConnectionError as e:
            raise LLMError(f"cannot reach the language model at {s.base_url or 'the default endpoint'}: "
                           f"{_short(str(e))}") from None
        except openai.OpenAIError as e:
            raise LLMError(f"language model error: {_short(str(e))}") from None
        try:
            content = resp.choices[0].message.content
        except (AttributeError, IndexError, TypeError):
            raise LLMError("the language model's answer has no message") from None
        return content or ""

    def interpret(self, prompt: str, options: RunOptions | None = None) -> LLMResult:
        """Ask, check, run; on refusal or failure send the problems back, at most `max_repairs` times."""
        opts = options or RunOptions(name="prompted", prompt=prompt)
        messages = [{"role": "system", "content": system_prompt()}, {"role": "user", "content": prompt}]
        attempts: list[Attempt] = []
        for _ in range(1 + self.settings.max_repairs):
            t0 = time.monotonic()
            answer = self._ask(messages)
            script = extract_script(answer)
            if script is None:
                attempts.append(Attempt(answer, None, ("no script in the answer",), time.monotonic() - t0))
                messages += [{"role": "assistant", "content": answer}, {"role": "user", "content": NO_CODE_MESSAGE}]
                continue
            try:
                scenario = run_script(script, opts)
            except ScriptError as e:
                problems = tuple(str(p) for p in e.problems)
                attempts.append(Attempt(answer, script, problems, time.monotonic() - t0))
                verb = "refused" if isinstance(e, ScriptRefused) else "stopped with an error"
                messages += [{"role": "assistant", "content": answer},
                             {"role": "user", "content": REPAIR_MESSAGE.format(
                                 verb=verb, problems="\n".join(f"- {p}" for p in problems))}]
                continue
            attempts.append(Attempt(answer, script, (), time.monotonic() - t0))
            return LLMResult(scenario, script, tuple(attempts))
        last = attempts[-1].problems if attempts else ()
        raise LLMError(f"no runnable script after {len(attempts)} answer(s); last problems: " + "; ".join(last),
                       attempts)


def _short(text: str, n: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 3] + "..."
