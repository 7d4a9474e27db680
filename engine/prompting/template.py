"""The LLM system prompt, generated from the library's own signatures and docstrings so that it
never drifts from the code; the template and examples live in resources/prompts/."""
from __future__ import annotations

import json
import inspect
from functools import lru_cache
from string import Template

from engine.paths import RESOURCES_DIR

PROMPTS_DIR = RESOURCES_DIR / "prompts"
TEMPLATE_FILE = PROMPTS_DIR / "system.md"
EXAMPLES_FILE = PROMPTS_DIR / "examples.json"


def format_parameters(sig: inspect.Signature) -> str:
    """'who: Agent | str = "car", speed: float | None = None' for an inspect.Signature."""
    parts = []
    for p in sig.parameters.values():
        text = p.name
        if p.annotation is not inspect.Parameter.empty:
            ann = p.annotation if isinstance(p.annotation, str) else getattr(p.annotation, "__name__", str(p.annotation))
            text += ": " + ann.replace("AgentHandle", "Agent")
        if p.default is not inspect.Parameter.empty:
            text += " = " + (json.dumps(p.default) if isinstance(p.default, str) else repr(p.default))
        parts.append(text)
    return ", ".join(parts)


def library_reference() -> str:
    """Every library function as `name(signature)` followed by its docstring, grouped by category."""
    from engine.library.registry import CATEGORIES, library_functions

    fns = library_functions()
    out: list[str] = []
    for cat in CATEGORIES:
        members = [f for f in fns.values() if f.category == cat]
        if not members:
            continue
        out.append(f"### {cat}")
        for f in members:
            out.append(f"{f.name}({format_parameters(f.signature)})")
            out.extend("    " + line if line else "" for line in f.doc.splitlines())
            out.append("")
    return "\n".join(out).rstrip() + "\n"


@lru_cache(maxsize=1)
def examples() -> list[dict[str, str]]:
    """The worked examples (prompt, script) shipped with the template."""
    data = json.loads(EXAMPLES_FILE.read_text(encoding="utf-8"))
    return [{"prompt": str(e["prompt"]), "script": str(e["script"])} for e in data]


def system_prompt() -> str:
    """The full system prompt: the template with the library reference and examples filled in."""
    from engine.library.builder import AgentHandle
    from engine.sandbox.policy import BUILTIN_DOCS, SandboxLimits

    ex = "\n".join(f"Request: {e['prompt']}\n```python\n{e['script'].rstrip()}\n```\n" for e in examples())
    return Template(TEMPLATE_FILE.read_text(encoding="utf-8")).safe_substitute(
        library=library_reference(),
        examples=ex.rstrip(),
        builtins="; ".join(BUILTIN_DOCS.values()),
        attributes=", ".join(AgentHandle.ATTRIBUTES),
        max_range=SandboxLimits().max_range,
    )
