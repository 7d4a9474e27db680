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


_SEC = r"(\d+(?:\.\d+)?)\s*(?:s|sec|secs|seconds?)\b"
#: "when we are 2 seconds away", "when the TTC is 2 s", "at a time to collision of 1.5 seconds"
TTC_TRIGGER_RE = re.compile(
    rf"\b(?:(?:when|once|as soon as|as)\s+(?:we are|we're|the ego is|it is|it's|they are|the gap is)\s+(?:only\s+)?{_SEC}\s+away"
    rf"|(?:when|once|as soon as|as)\s+(?:the\s+)?(?:ttc|time[\s-]to[\s-]collision)\s+(?:is|drops to|falls to|reaches|"
    rf"falls below|drops below|gets to|hits)\s+{_SEC}"
    rf"|at\s+(?:a\s+)?(?:ttc|time[\s-]to[\s-]collision)\s+of\s+{_SEC})",
    re.IGNORECASE)


def ttc_trigger_in_prompt(prompt: str) -> tuple[float | None, str]:
    """(the time to collision a manoeuvre should start at, the prompt without that phrase)."""
    m = TTC_TRIGGER_RE.search(prompt or "")
    if not m:
        return None, prompt
    value = next(float(g) for g in m.groups() if g is not None)
    return value, (prompt[:m.start()] + " " + prompt[m.end():])


_MET = r"(\d+(?:\.\d+)?)\s*(?:m|metres|meters)\b"
#: "when we are 20 m away", "when we are 15 metres behind it", "when the gap is 10 m"
DISTANCE_TRIGGER_RE = re.compile(
    rf"\b(?:when|once|as soon as|as)\s+(?:we are|we're|the ego is|it is|it's|they are|we get|we come)\s+"
    rf"(?:only\s+|within\s+)?{_MET}\s+(?:away|behind it|behind them|from it|from them|behind)"
    rf"|\b(?:when|once|as soon as)\s+the\s+gap\s+(?:is|shrinks to|drops to|falls to)\s+{_MET}",
    re.IGNORECASE)


def trigger_in_prompt(prompt: str) -> tuple[tuple[str, float] | None, str]:
    """(("ttc" | "distance", value) a manoeuvre should start at, the prompt without that phrase)."""
    value, rest = ttc_trigger_in_prompt(prompt)
    if value is not None:
        return ("ttc", value), rest
    m = DISTANCE_TRIGGER_RE.search(prompt or "")
    if not m:
        return None, prompt
    d = next(float(g) for g in m.groups() if g is not None)
    return ("distance", d), (prompt[:m.start()] + " " + prompt[m.end():])
