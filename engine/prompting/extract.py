"""Pull the script out of a language model's answer."""
from __future__ import annotations

import re

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.S)


def extract_script(answer: str) -> str | None:
    """The code of the first ```python block (else the first fenced block); the whole answer when
    it has no fences but looks like code; None when there is nothing to run."""
    if not isinstance(answer, str) or not answer.strip():
        return None
    blocks = [(lang.lower(), body) for lang, body in _FENCE.findall(answer)]
    for lang, body in blocks:
        if lang in ("python", "py", "python3"):
            return body.strip() + "\n"
    if blocks:
        return blocks[0][1].strip() + "\n"
    if "```" in answer:                       # an unclosed fence: take what follows it
        tail = answer.split("```", 1)[1]
        tail = tail.split("\n", 1)[1] if "\n" in tail else ""
        return tail.strip() + "\n" if tail.strip() else None
    text = answer.strip()
    if "(" in text and "\n" not in text.split("(", 1)[0]:
        return text + "\n"
    return None
