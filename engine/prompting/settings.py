"""Settings of the OpenAI-compatible endpoint the LLM interpreter talks to."""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any, Mapping

DEFAULT_MODEL = "gpt-4o-mini"


@dataclass(frozen=True)
class LLMSettings:
    """Endpoint, model and key, plus the bounds on waiting: `timeout_s` per HTTP request,
    `max_retries` HTTP retries by the client (the openai defaults can block for 30 minutes, so both
    are always passed explicitly), `max_repairs` extra rounds when the script is refused or fails."""

    base_url: str | None = None
    model: str = DEFAULT_MODEL
    api_key: str | None = None
    timeout_s: float = 60.0
    max_retries: int = 1
    max_repairs: int = 2
    temperature: float = 0.0
    max_tokens: int = 1500

    def __post_init__(self) -> None:
        if not (0 < self.timeout_s <= 600):
            raise ValueError(f"timeout_s must be in (0, 600] seconds (got {self.timeout_s})")
        if not (0 <= self.max_retries <= 5):
            raise ValueError(f"max_retries must be 0..5 (got {self.max_retries})")
        if not (0 <= self.max_repairs <= 5):
            raise ValueError(f"max_repairs must be 0..5 (got {self.max_repairs})")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> LLMSettings:
        """From OPENAI_BASE_URL, OPENAI_API_KEY, OPENAI_MODEL (and OPENAI_TIMEOUT, seconds); keyword
        arguments that are not None override them."""
        env = os.environ if env is None else env
        s = cls(
            base_url=env.get("OPENAI_BASE_URL") or None,
            api_key=env.get("OPENAI_API_KEY") or None,
            model=env.get("OPENAI_MODEL") or DEFAULT_MODEL,
            timeout_s=float(env.get("OPENAI_TIMEOUT") or 60.0),
        )
        return replace(s, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def configured(self) -> bool:
        """Whether there is an endpoint to talk to (a base URL, or a key for the default one)."""
        return bool(self.base_url or self.api_key)

    def redacted(self) -> dict[str, Any]:
        """The settings for display, without the key."""
        return {"base_url": self.base_url, "model": self.model, "api_key": "set" if self.api_key else None,
                "timeout_s": self.timeout_s, "max_retries": self.max_retries, "max_repairs": self.max_repairs}
