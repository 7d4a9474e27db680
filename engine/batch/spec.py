"""The batch spec: a JSON file naming what to vary and how to export each variant.

    {
      "name": "cut_in_sweep",                       optional (default: the file name)
      "base": "scenario.json" | "demo",             a scenario file (relative to the spec) or the demo
      "script": "cut_in(...)" | {"file": "s.py"},   or a library script (inline or a file)
      "prompts": ["a truck cuts in ...", ...],      or prompts, each turned into a script
      "interpreter": "offline" | "llm",             how prompts become scripts (default offline)
      "seeds": [0, 1, 2] | {"start": 0, "count": 3},
      "sweep": {                                    the cartesian product of these values
        "cut_in.speed": [6, 9, 12],                 an argument of every call of a library function
        "cut_in[1].gap": [5, 10],                   ... or of its 2nd call only
        "environment.weather": ["clear", "rain"],   also environment.time_of_day
        "agent.car_1.speed_scale": [0.8, 1.2],      retime an agent (also delay [s], shift_x, shift_y [m])
      },
      "filter": {"min_ttc_below": 1.5},             keep only variants whose checks match
                                                    (`engine.checks.report_matches`); others are skipped
      "export": {"formats": ["nuscenes", "openscenario"], "size": [448, 256], "frames": null,
                 "backend": "naive", "model_dir": null, "steps": 20, "guidance_scale": 4.0,
                 "device": "auto", "version": "v1.0-cornercase", "lidar_stub": false,
                 "videos": true, "guidance": true, "jpeg_quality": 90, "osc_version": 2},
      "max_variants": 10000
    }

Exactly one of base, script and prompts is the source. Function-argument sweeps need a script (the
spec's, the prompts', or the base scenario's ``script``). `load_spec` reports every problem with
its place in the file (``sweep["cut_in.speed"]: expected a non-empty list``).
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Mapping


class ExportFormat(StrEnum):
    """What each variant is exported as (the spec's ``export.formats`` strings)."""

    NUSCENES = "nuscenes"
    OPENSCENARIO = "openscenario"


class Interpreter(StrEnum):
    """How prompts become scripts (the spec's ``interpreter`` string)."""

    OFFLINE = "offline"
    LLM = "llm"


class SweepKind(StrEnum):
    """What a sweep key edits: a library function's argument, the environment or an agent."""

    FUNCTION = "function"
    ENVIRONMENT = "environment"
    AGENT = "agent"


FORMATS = tuple(f.value for f in ExportFormat)
INTERPRETERS = tuple(i.value for i in Interpreter)
AGENT_EDITS = ("speed_scale", "delay", "shift_x", "shift_y")
ENVIRONMENT_KEYS = ("weather", "time_of_day")
FUNCTION_KEY = re.compile(r"^(?P<func>[A-Za-z_][A-Za-z0-9_]*)(\[(?P<index>\d+)\])?\.(?P<arg>[A-Za-z_][A-Za-z0-9_]*)$")
AGENT_KEY = re.compile(r"^agent\.(?P<agent>[^.]+)\.(?P<edit>[a-z_]+)$")
DEFAULT_MAX_VARIANTS = 10000
TOP_KEYS = ("name", "base", "script", "prompts", "interpreter", "seeds", "sweep", "filter", "export", "max_variants")


class BatchSpecError(ValueError):
    """A batch spec is unusable; `problems` lists every problem as 'where: what'."""

    def __init__(self, problems: list[str], source: str | None = None) -> None:
        self.problems = list(problems)
        head = f"{source}: " if source else ""
        super().__init__(head + f"{len(problems)} problem(s) in batch spec\n" + "\n".join(f"  {p}" for p in problems))


@dataclass(frozen=True)
class ExportSpec:
    """How each variant is exported (see the module docstring for the JSON fields)."""

    formats: tuple[str, ...] = ("nuscenes", "openscenario")
    size: tuple[int, int] = (448, 256)
    frames: int | None = None
    backend: str = "naive"
    model_dir: str | None = None
    steps: int = 20
    guidance_scale: float = 4.0
    device: str = "auto"
    version: str = "v1.0-cornercase"
    lidar_stub: bool = False
    videos: bool = True
    guidance: bool = True
    jpeg_quality: int = 90
    osc_version: int = 2

    @property
    def needs_gpu(self) -> bool:
        """Whether a worker should be given a GPU (the diffusion backend, unless forced onto the CPU)."""
        return "nuscenes" in self.formats and self.backend == "diffusion" and self.device != "cpu"

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class SweepKey:
    """One swept parameter: kind 'function' (func, index or None, arg), 'environment' (arg) or 'agent' (agent, arg)."""

    text: str
    kind: SweepKind
    target: str
    arg: str
    index: int | None = None


@dataclass(frozen=True)
class BatchSpec:
    """A validated batch spec. Paths are absolute; `script` is the text (None if not given)."""

    name: str
    base: str | None = None
    script: str | None = None
    prompts: tuple[str, ...] = ()
    interpreter: Interpreter = Interpreter.OFFLINE
    seeds: tuple[int, ...] | None = None
    sweep: tuple[tuple[SweepKey, tuple[Any, ...]], ...] = ()
    filter: Mapping[str, Any] | None = None
    export: ExportSpec = field(default_factory=ExportSpec)
    max_variants: int = DEFAULT_MAX_VARIANTS
    source_path: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "interpreter", Interpreter(self.interpreter))  # a plain string is accepted

    @property
    def source_kind(self) -> str:
        return "prompts" if self.prompts else ("script" if self.script is not None else "base")

    def to_dict(self) -> dict[str, Any]:
        """A JSON form (for the batch folder's record of what ran)."""
        return {
            "name": self.name, "base": self.base, "script": self.script, "prompts": list(self.prompts),
            "interpreter": self.interpreter, "seeds": None if self.seeds is None else list(self.seeds),
            "sweep": {k.text: list(v) for k, v in self.sweep}, "filter": dict(self.filter) if self.filter else None,
            "export": self.export.to_dict(), "max_variants": self.max_variants,
        }


def parse_sweep_key(text: str) -> SweepKey:
    """Interpret one sweep key; ValueError says what forms are understood."""
    if text.startswith("environment."):
        arg = text.split(".", 1)[1]
        if arg not in ENVIRONMENT_KEYS:
            raise ValueError(f"unknown environment field {arg!r}; use one of {', '.join(ENVIRONMENT_KEYS)}")
        return SweepKey(text, SweepKind.ENVIRONMENT, "environment", arg)
    m = AGENT_KEY.match(text)
    if m:
        if m["edit"] not in AGENT_EDITS:
            raise ValueError(f"unknown agent edit {m['edit']!r}; use one of {', '.join(AGENT_EDITS)}")
        return SweepKey(text, SweepKind.AGENT, m["agent"], m["edit"])
    m = FUNCTION_KEY.match(text)
    if m and m["func"] not in ("agent", "environment"):
        return SweepKey(text, SweepKind.FUNCTION, m["func"], m["arg"], int(m["index"]) if m["index"] is not None else None)
    raise ValueError("expected 'function.argument', 'function[k].argument', 'environment.weather|time_of_day' "
                     f"or 'agent.<id>.{'|'.join(AGENT_EDITS)}'")


def _is_json_scalar(v: Any) -> bool:
    return v is None or isinstance(v, (bool, int, float, str)) or (
        isinstance(v, list) and all(_is_json_scalar(x) for x in v))


def _export_spec(doc: Any, problems: list[str]) -> ExportSpec:
    """The spec's `export` object through the validated config model (`engine.config.batch`), as the
    ExportSpec record; problems are appended in the spec's 'export.field: reason' form."""
    from engine.config.batch import parse_batch_export
    from engine.worldmodel.registry import BACKEND_NAMES

    cfg, found = parse_batch_export(doc, BACKEND_NAMES)
    problems.extend(found)
    return ExportSpec(**cfg.spec_fields())


def parse_spec(doc: Any, base_dir: str | os.PathLike[str] = ".", source: str | None = None) -> BatchSpec:
    """Validate a parsed spec document; relative paths are resolved against `base_dir`."""
    problems: list[str] = []
    if not isinstance(doc, Mapping):
        raise BatchSpecError(["(top): expected a JSON object"], source)
    for k in doc:
        if k not in TOP_KEYS:
            problems.append(f"{k}: unknown field; known: {', '.join(TOP_KEYS)}")
    base_dir = Path(base_dir)
    name = doc.get("name", Path(source).stem if source else "batch")
    if not isinstance(name, str) or not name.strip():
        problems.append("name: expected a non-empty string")
        name = "batch"

    base = doc.get("base")
    if base is not None:
        if not isinstance(base, str) or not base:
            problems.append("base: expected a scenario file path or 'demo'")
            base = None
        elif base != "demo":
            p = (base_dir / base).resolve()
            if not p.is_file():
                problems.append(f"base: scenario file {p} does not exist")
            base = str(p)
    script = doc.get("script")
    if script is not None:
        if isinstance(script, Mapping) and set(script) == {"file"} and isinstance(script["file"], str):
            p = (base_dir / script["file"]).resolve()
            try:
                script = p.read_text()
            except OSError as e:
                problems.append(f"script.file: cannot read {p}: {e.strerror or e}")
                script = None
        elif not isinstance(script, str) or not script.strip():
            problems.append("script: expected the script text or {\"file\": path}")
            script = None
    prompts = doc.get("prompts", [])
    if not isinstance(prompts, list) or any(not isinstance(p, str) or not p.strip() for p in prompts):
        problems.append("prompts: expected a list of non-empty strings")
        prompts = []
    given = [k for k, v in (("base", base), ("script", script), ("prompts", prompts)) if v]
    if len(given) != 1 and not any(p.startswith(("base", "script", "prompts")) for p in problems):
        problems.append("(top): give exactly one of base, script or prompts"
                        + (f" (got {', '.join(given)})" if given else ""))
    interpreter = doc.get("interpreter", Interpreter.OFFLINE.value)
    if interpreter not in INTERPRETERS:
        problems.append(f"interpreter: expected one of {', '.join(INTERPRETERS)}")
        interpreter = Interpreter.OFFLINE.value

    seeds = doc.get("seeds")
    seed_list = None
    if isinstance(seeds, Mapping):
        start, count = seeds.get("start", 0), seeds.get("count")
        if set(seeds) - {"start", "count"} or not isinstance(start, int) or not isinstance(count, int) or count < 1 or start < 0:
            problems.append("seeds: expected {\"start\": int >= 0, \"count\": int >= 1}")
        else:
            seed_list = tuple(range(start, start + count))
    elif isinstance(seeds, list):
        if not seeds or any(not isinstance(s, int) or isinstance(s, bool) or s < 0 for s in seeds):
            problems.append("seeds: expected a non-empty list of integers >= 0")
        else:
            seed_list = tuple(dict.fromkeys(seeds))
    elif seeds is not None:
        problems.append("seeds: expected a list of integers or {\"start\", \"count\"}")

    sweep_doc = doc.get("sweep", {})
    sweep: list[tuple[SweepKey, tuple[Any, ...]]] = []
    if not isinstance(sweep_doc, Mapping):
        problems.append("sweep: expected an object mapping parameters to lists of values")
    else:
        for key, values in sweep_doc.items():
            where = f"sweep[{json.dumps(key)}]"
            try:
                sk = parse_sweep_key(key)
            except ValueError as e:
                problems.append(f"{where}: {e}")
                continue
            if not isinstance(values, list) or not values:
                problems.append(f"{where}: expected a non-empty list of values")
                continue
            if any(not _is_json_scalar(v) for v in values):
                problems.append(f"{where}: values must be numbers, strings, booleans, null or lists of them")
                continue
            if sk.kind == SweepKind.ENVIRONMENT:
                from engine.scenario.model import TIMES_OF_DAY, WEATHERS

                allowed = WEATHERS if sk.arg == "weather" else TIMES_OF_DAY
                bad = [v for v in values if v not in allowed]
                if bad:
                    problems.append(f"{where}: {bad[0]!r} is not one of {', '.join(allowed)}")
                    continue
            sweep.append((sk, tuple(values)))
    if any(sk.kind == SweepKind.FUNCTION for sk, _ in sweep) and not (script or prompts or base):
        problems.append("sweep: function-argument sweeps need a script, prompts or a base scenario with a script")

    flt = doc.get("filter")
    if flt is not None:
        try:
            from engine.checks import parse_match_spec
            from engine.checks.query import validate_match_spec

            flt = validate_match_spec(parse_match_spec(flt) if isinstance(flt, str) else flt)
        except (ValueError, TypeError) as e:
            problems.append(f"filter: {e}")
            flt = None

    export = _export_spec(doc.get("export"), problems)
    max_variants = doc.get("max_variants", DEFAULT_MAX_VARIANTS)
    if not isinstance(max_variants, int) or isinstance(max_variants, bool) or max_variants < 1:
        problems.append("max_variants: expected a positive integer")
        max_variants = DEFAULT_MAX_VARIANTS
    if problems:
        raise BatchSpecError(problems, source)
    return BatchSpec(name=name.strip(), base=base, script=script, prompts=tuple(prompts), interpreter=Interpreter(interpreter),
                     seeds=seed_list, sweep=tuple(sweep), filter=flt, export=export, max_variants=max_variants,
                     source_path=source)


def load_spec(path: str | os.PathLike[str]) -> BatchSpec:
    """Read and validate a spec file; BatchSpecError lists every problem."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise BatchSpecError([f"cannot read the file: {e.strerror or e}"], str(p)) from None
    except json.JSONDecodeError as e:
        raise BatchSpecError([f"line {e.lineno} column {e.colno}: invalid JSON: {e.msg}"], str(p)) from None
    except UnicodeDecodeError as e:
        raise BatchSpecError([f"the file is not UTF-8 text (byte {e.start})"], str(p)) from None
    return parse_spec(doc, p.parent, str(p))
