"""The LLM interpreter: any OpenAI-compatible chat endpoint writes the script, the sandbox checks
and runs it, the scenario checks compare the result with the prompt, and a refusal, a failure or a
result that does not match (an unintended collision, an infeasible manoeuvre, an asked contact or
near miss that did not happen) is sent back as plain sentences for a repair, a bounded number of
times. When the rounds run out with a runnable script, the best result is repaired
deterministically (`engine.prompting.repair`) and returned with the findings that remain.

Requests go through `engine.prompting.chat_http.post_chat`: a TOTAL deadline per request
(`LLMSettings.timeout_s`) and per prompt (`prompt_deadline`, all rounds together), never per read, so
an endpoint that hangs or drips is abandoned at the deadline; answers are capped (MAX_ANSWER_BYTES
read, MAX_ANSWER_CHARS kept); Retry-After is honoured within the deadline; every error names the
endpoint. Nothing the model writes runs outside the bounded executor (`engine.sandbox.executor`).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from engine.checks import CheckConfig, CheckReport, Finding
from engine.prompting.asks import Ask, asks_of
from engine.prompting.chat_http import DEFAULT_BASE_URL, MAX_ANSWER_BYTES, ChatHTTPError, post_chat
from engine.prompting.extract import extract_script
from engine.prompting.repair import MAX_TRIES, repair_script
from engine.prompting.review import Review, review_scenario
from engine.prompting.settings import LLMSettings
from engine.prompting.template import system_prompt
from engine.sandbox.errors import ScriptError, ScriptRefused
from engine.sandbox.executor import ScriptCancelled, current_cancel, run_bounded
from engine.sandbox.runner import RunOptions
from engine.scenario.model import Scenario

REPAIR_MESSAGE = (
    "The script was {verb}:\n{problems}\n"
    "Fix it and answer with the whole corrected script in one ```python block."
)
CHECK_MESSAGE = (
    "The script ran, but the checks found that its result does not match the request:\n{problems}\n"
    "{asks}{hints}"
    "Change the script so that the result matches the request and answer with the whole corrected script "
    "in one ```python block."
)
CHECK_NOTE = (
    "\n\nThe result is checked: a collision, a vehicle off the road or a manoeuvre beyond a class's limits is "
    "an error unless the request asks for it, and a collision or near miss (time to collision below 1.5 s "
    "without contact) that the request asks for must happen within the clip. Pass contact=True only when the "
    "request asks for a collision, and then place and time the agent so that it really touches its target.\n"
)
#: a hint per finding code, added once to the repair message
HINTS = {
    "collision": "If the request does not ask for a collision, do not pass contact=True and give the agents "
                 "more room (another start, gap or ahead).",
    "intent_unmet": "The request asks for this encounter: choose ahead / start / gap / speed so that it happens "
                    "inside the clip (a crossing needs the ego to reach it while the crosser is in its lane; "
                    "contact needs contact=True).",
    "off_road": "Keep vehicles in lanes of the road (lane=... of the library functions).",
}
#: characters of an answer that are kept (a script is at most 20,000 characters)
MAX_ANSWER_CHARS = 100_000


def prompt_deadline(settings: LLMSettings) -> float:
    """Seconds one prompt may spend talking to the endpoint, every round together: one request
    timeout per round (1 + max_repairs rounds). Script runs in between are bounded by the executor."""
    return settings.timeout_s * (1 + settings.max_repairs)


class ChatMessage(TypedDict):
    """One message of the chat the interpreter holds with the model (OpenAI chat format)."""

    role: Literal["system", "user", "assistant"]
    content: str


NO_CODE_MESSAGE = "I could not find a script in your answer. Answer with the whole script in one ```python block."


class LLMError(RuntimeError):
    """The endpoint could not be used or never produced a script that runs; `attempts` says why."""

    def __init__(self, message: str, attempts: list["Attempt"] | None = None) -> None:
        super().__init__(message)
        self.attempts = list(attempts or [])


@dataclass(frozen=True)
class Attempt:
    """One round: the model's answer, the script extracted from it, and what was wrong (empty when it
    ran and its result matched the prompt): the sandbox's problems, or the check findings as sentences
    (`findings` holds those findings)."""

    answer: str
    script: str | None
    problems: tuple[str, ...] = ()
    seconds: float = 0.0
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class LLMResult:
    """The scenario and script kept, every round, and how the result compares with the prompt
    (`findings`: what still does not match; `report`: the checks' report, None when not checked)."""

    scenario: Scenario
    script: str
    attempts: tuple[Attempt, ...] = field(default_factory=tuple)
    findings: tuple[Finding, ...] = ()
    report: CheckReport | None = None
    notes: tuple[str, ...] = ()
    asks: tuple[Ask, ...] = ()


class LLMInterpreter:
    """prompt -> script -> scenario through an OpenAI-compatible endpoint."""

    def __init__(self, settings: LLMSettings, client: Any = None, *, prompt_deadline_s: float | None = None,
                 max_answer_bytes: int = MAX_ANSWER_BYTES, cancel: threading.Event | None = None) -> None:
        if client is None and not settings.configured:
            raise LLMError("no language model endpoint configured: set OPENAI_BASE_URL (and OPENAI_API_KEY) or "
                           "use the offline interpreter")
        self.settings = settings
        self._client = client           # an object with .chat.completions.create (tests); None: bounded HTTP
        self.prompt_deadline_s = (prompt_deadline_s if prompt_deadline_s is not None
                                  else prompt_deadline(settings))
        self.max_answer_bytes = max_answer_bytes
        self.cancel = cancel
        self._deadline: float | None = None

    @property
    def endpoint(self) -> str:
        """The endpoint's base URL, as named in every error."""
        return (self.settings.base_url or DEFAULT_BASE_URL).rstrip("/")

    def _ask(self, messages: list[ChatMessage]) -> str:
        """One chat request under a total deadline: the request's `timeout_s`, cut to what is left of
        the prompt's deadline. The answer is cut at MAX_ANSWER_CHARS characters."""
        s = self.settings
        now = time.monotonic()
        prompt_end = self._deadline if self._deadline is not None else now + self.prompt_deadline_s
        if prompt_end - now <= 0:
            raise LLMError(f"the prompt's deadline of {self.prompt_deadline_s:g} s passed before the language "
                           f"model at {self.endpoint} was asked again")
        deadline = min(now + s.timeout_s, prompt_end)
        limit = s.timeout_s if now + s.timeout_s <= prompt_end else round(prompt_end - now, 1)
        body = {"model": s.model, "messages": messages, "temperature": s.temperature, "max_tokens": s.max_tokens}
        if self._client is not None:
            resp = self._client.chat.completions.create(**body)
            try:
                content = resp.choices[0].message.content
            except (AttributeError, IndexError, TypeError):
                raise LLMError(f"the language model at {self.endpoint} answered without a message") from None
        else:
            try:
                doc = post_chat(s.base_url, s.api_key, body, deadline, max_bytes=self.max_answer_bytes,
                                max_retries=s.max_retries, cancel=self.cancel or current_cancel(),
                                limit_s=limit)
            except ChatHTTPError as e:
                raise LLMError(str(e)) from None
            try:
                content = doc["choices"][0]["message"]["content"]
            except (KeyError, IndexError, TypeError):
                raise LLMError(f"the language model at {self.endpoint} answered without a message") from None
        if content is None:
            return ""
        if not isinstance(content, str):
            raise LLMError(f"the language model at {self.endpoint} answered with a {type(content).__name__}, "
                           f"not text")
        return content[:MAX_ANSWER_CHARS]

    def interpret(self, prompt: str, options: RunOptions | None = None, *, check: bool = True,
                  check_config: CheckConfig | None = None, max_tries: int = MAX_TRIES) -> LLMResult:
        """Ask, run, check; on refusal, failure or a result that does not match the prompt send the
        problems back, at most `max_repairs` times. With `check`, a runnable script whose result
        still does not match when the rounds run out is repaired deterministically (at most
        `max_tries` variants) and returned with the remaining findings; LLMError when no answer
        ever ran."""
        opts = options or RunOptions(name="prompted", prompt=prompt)
        self._deadline = time.monotonic() + self.prompt_deadline_s
        asks = asks_of(prompt) if check else ()
        messages: list[ChatMessage] = [
            {"role": "system", "content": system_prompt() + (CHECK_NOTE if check else "")},
            {"role": "user", "content": prompt}]
        attempts: list[Attempt] = []
        best: tuple[str, Review] | None = None
        for _ in range(1 + self.settings.max_repairs):
            if attempts and time.monotonic() >= self._deadline:
                break                                   # the prompt's deadline: keep what we have
            t0 = time.monotonic()
            answer = self._ask(messages)
            script = extract_script(answer)
            if script is None:
                attempts.append(Attempt(answer, None, ("no script in the answer",), time.monotonic() - t0))
                messages += [{"role": "assistant", "content": answer}, {"role": "user", "content": NO_CODE_MESSAGE}]
                continue
            try:
                scenario = run_bounded(script, opts)
            except ScriptCancelled:
                raise
            except ScriptError as e:
                problems = tuple(str(p) for p in e.problems)
                attempts.append(Attempt(answer, script, problems, time.monotonic() - t0))
                verb = "refused" if isinstance(e, ScriptRefused) else "stopped with an error"
                messages += [{"role": "assistant", "content": answer},
                             {"role": "user", "content": REPAIR_MESSAGE.format(
                                 verb=verb, problems="\n".join(f"- {p}" for p in problems))}]
                continue
            if not check:
                attempts.append(Attempt(answer, script, (), time.monotonic() - t0))
                return LLMResult(scenario, script, tuple(attempts))
            review = review_scenario(scenario, asks, check_config)
            sentences = tuple(review.sentences())
            attempts.append(Attempt(answer, script, sentences, time.monotonic() - t0, review.problems))
            if review.ok:
                return LLMResult(review.scenario, script, tuple(attempts), (), review.report, review.notes, asks)
            if best is None or len(review.problems) < len(best[1].problems):
                best = (script, review)
            messages += [{"role": "assistant", "content": answer},
                         {"role": "user", "content": check_message(review, asks)}]
        if best is None:
            last = attempts[-1].problems if attempts else ()
            raise LLMError(f"no runnable script after {len(attempts)} answer(s) from the language model at "
                           f"{self.endpoint}; last problems: " + "; ".join(last), attempts)
        script, review = best
        outcome = repair_script(script, opts, asks, review, check_config, max_tries)
        notes = list(review.notes)
        if outcome.label is not None:
            notes.append(f"after {len(attempts)} answer(s) the result still did not match the prompt; "
                         f"{'repaired' if outcome.review.ok else 'improved'} with {outcome.label}")
        if not outcome.review.ok:
            notes.append(f"{len(outcome.review.problems)} finding(s) remain after {len(attempts)} answer(s)")
        return LLMResult(outcome.review.scenario, outcome.script, tuple(attempts), tuple(outcome.review.problems),
                         outcome.review.report, tuple(notes), asks)


def check_message(review: Review, asks: tuple[Ask, ...] = ()) -> str:
    """The repair message for a result that does not match the prompt: each finding as a sentence,
    what the request asks the checks to confirm, and one hint per kind of finding."""
    problems = "\n".join(f"- {p}" for p in review.sentences())
    wanted = ""
    if asks:
        wanted = "The request asks for " + "; ".join(a.describe() for a in asks) + ".\n"
    codes = dict.fromkeys("infeasible" if f.code.startswith("infeasible_") else f.code for f in review.problems)
    hints = [HINTS[c] for c in codes if c in HINTS]
    if "infeasible" in codes:
        hints.append("A manoeuvre is beyond what the vehicle can do: use a lower speed or a gentler manoeuvre.")
    return CHECK_MESSAGE.format(problems=problems, asks=wanted, hints="".join(h + "\n" for h in hints))


def _short(text: str, n: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 3] + "..."
