"""Turn a variant into its scenario: load or build the source, apply the swept values, set the seed.

    base scenario  -> loaded (``demo``: the bundled demo); function-argument sweeps re-run its script
    script         -> the swept arguments written into the script, which runs in the sandbox
    prompt         -> the interpreter's script (resolved once per batch by the runner), then as for a script
Environment and agent edits (`scenario_edits`) come last; the scenario is named
``<batch name>_<variant id>`` and carries the variant's seed.
"""
from __future__ import annotations

import os
import threading
from dataclasses import replace
from pathlib import Path

from engine.batch.scenario_edits import apply_edit
from engine.batch.script_args import set_call_argument
from engine.batch.scripts import run_script, script_for_prompt
from engine.batch.spec import BatchSpec, SweepKind
from engine.batch.variants import Variant, VariantSource
from engine.scenario.model import Scenario


class VariantError(ValueError):
    """A variant cannot be built (bad swept value, a script that fails, ...); the message says which."""


_base_lock = threading.Lock()
_base_cache: dict[tuple[str, int, int], Scenario] = {}   # (resolved path, mtime ns, size) -> the loaded scenario


def _load_base(spec: BatchSpec) -> Scenario:
    """The spec's base scenario, read and validated once per process while its file is unchanged (every
    variant of a batch shares it; scenarios are immutable, and one object lets the renderer's static-scene
    cache match the map by identity)."""
    from engine.paths import DEMO_SCENARIO
    from engine.scenario.io import load_scenario

    if spec.base is None:
        raise VariantError("the spec has no base scenario")
    path = Path(DEMO_SCENARIO if spec.base == "demo" else spec.base)
    try:
        st = os.stat(path)
    except OSError:
        return load_scenario(path)    # raises the loader's own error for a missing or unreadable file
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    with _base_lock:
        cached = _base_cache.get(key)
    if cached is not None:
        return cached
    scenario = load_scenario(path)
    with _base_lock:
        _base_cache.clear()   # a process runs one batch's base at a time
        _base_cache[key] = scenario
    return scenario


def build_variant_scenario(spec: BatchSpec, variant: Variant) -> Scenario:
    """The scenario of one variant (raises VariantError, or the sandbox's / library's own errors)."""
    from engine.batch.spec import parse_sweep_key

    keys = [parse_sweep_key(k) for k in variant.params]
    fn_keys = [k for k in keys if k.kind == SweepKind.FUNCTION]
    base: Scenario | None = None
    script = variant.script
    prompt = variant.prompt
    if variant.source == VariantSource.PROMPT and script is None:  # the runner normally resolves (and caches) it
        if prompt is None:
            raise VariantError(f"{variant.id}: a prompt variant without a prompt")
        script = script_for_prompt(prompt, spec.interpreter, seed=variant.seed)
    elif variant.source == VariantSource.BASE:
        base = _load_base(spec)
        if fn_keys:
            if not base.script:
                raise VariantError(f"{fn_keys[0].text}: the base scenario has no script whose arguments could be swept")
            script = base.script
            prompt = base.prompt
    if script is not None and (base is None or fn_keys):
        for k in fn_keys:
            try:
                script = set_call_argument(script, k.target, k.arg, variant.params[k.text], k.index)
            except ValueError as e:
                raise VariantError(f"{k.text}: {e}") from None
        scenario = run_script(script, seed=variant.seed, prompt=prompt)
        if base is not None:  # keep what the script does not decide
            scenario = replace(scenario, environment=base.environment, description=base.description)
        scenario = replace(scenario, script=script, prompt=prompt if prompt is not None else scenario.prompt)
    elif base is not None:
        scenario = base
    else:
        raise VariantError(f"{variant.id}: the variant has neither a script nor a base scenario")
    for k in keys:
        if k.kind != SweepKind.FUNCTION:
            try:
                scenario = apply_edit(scenario, k, variant.params[k.text])
            except ValueError as e:
                raise VariantError(str(e)) from None
    seed = scenario.seed if variant.seed is None else int(variant.seed)
    return replace(scenario, name=f"{spec.name}_{variant.id}", seed=seed)
