"""The clip length a prompt asks for ("for 10 seconds", "a 20 s clip", "half a minute").

`duration_in_prompt` returns seconds or None; `clip_duration` clamps to what the studio authors
(1 to 60 s, engine.library.bounds) and falls back to a default. The phrases it reads are removed
from what the interpreter reports as not understood (see `DURATION_RE`).
"""
from __future__ import annotations

import re

from engine.library.bounds import MAX_CLIP_SECONDS, MIN_CLIP_SECONDS

_NUM = r"(\d+(?:\.\d+)?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|fifteen|twenty|thirty|forty|fifty|sixty|half a)"
_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9, "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
          "half a": 0.5}
_UNIT = r"(seconds?|secs?|s|minutes?|mins?)"
#: "for 10 seconds", "over 20 s", "a 15-second clip", "lasting 12 s", "10 s long", "(20 s)"
DURATION_RE = re.compile(
    rf"\b(?:(?:for|over|lasting|during|in)\s+(?:about\s+|around\s+)?{_NUM}[\s-]*{_UNIT}\b(?:\s+(?:clip|video|scene|scenario|long))?"
    rf"|{_NUM}[\s-]*{_UNIT}[\s-]+(?:long\s+)?(?:clip|video|scene|scenario|sequence|recording)\b"
    rf"|(?:clip|video|scene|scenario)\s+(?:of|lasting)\s+{_NUM}[\s-]*{_UNIT}\b"
    rf"|{_NUM}[\s-]*{_UNIT}\s+long\b)",
    re.IGNORECASE)


def _value(num: str, unit: str) -> float:
    n = num.lower()
    v = float(_WORDS[n]) if n in _WORDS else float(n)
    return v * 60.0 if unit.lower().startswith("min") else v


def duration_in_prompt(prompt: str) -> float | None:
    """Seconds the prompt asks the clip to last, or None when it does not say."""
    m = DURATION_RE.search(prompt or "")
    if not m:
        return None
    groups = [g for g in m.groups() if g is not None]
    return _value(groups[0], groups[1])


def clip_duration(prompt: str, default: float = 2.75) -> float:
    """The prompt's clip length clamped to [1, 60] s, or `default`."""
    d = duration_in_prompt(prompt)
    if d is None:
        return default
    return float(min(max(d, MIN_CLIP_SECONDS), MAX_CLIP_SECONDS))


def strip_duration(prompt: str) -> str:
    """The prompt without its clip-length phrase (so the interpreter does not read it as a start time)."""
    return DURATION_RE.sub(" ", prompt or "")
