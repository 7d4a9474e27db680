"""The batch spec's `export` object as a config model: it accepts and refuses what the batch spec parser
(`engine.batch.spec`, the independent reference) accepts and refuses, with the same values, and names the field."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from engine.batch.spec import ExportSpec, _export_spec
from engine.config.batch import BATCH_MAX_SIDE, BatchExportConfig, field_problems
from engine.worldmodel.registry import BACKEND_NAMES

CTX = {"backends": BACKEND_NAMES}


def _reference(doc: dict) -> tuple[ExportSpec, list[str]]:
    problems: list[str] = []
    return _export_spec(doc, problems), problems


def _as_spec_dict(cfg: BatchExportConfig) -> dict:
    d = cfg.model_dump()
    d["size"] = list(cfg.size.as_tuple())
    d["formats"] = list(cfg.formats)
    return d


def test_defaults_are_the_batch_spec_defaults():
    assert _as_spec_dict(BatchExportConfig()) == ExportSpec().to_dict()


def test_a_full_export_object_maps_onto_the_generation_and_export_configs():
    doc = {"formats": ["nuscenes"], "size": [224, 128], "frames": 9, "backend": "naive", "steps": 5,
           "guidance_scale": 2.5, "device": "cpu", "version": "v1.0-test", "lidar_stub": True, "videos": False,
           "guidance": False, "jpeg_quality": 70, "osc_version": 1}
    cfg = BatchExportConfig.model_validate(doc)
    spec, problems = _reference(doc)
    assert not problems and _as_spec_dict(cfg) == spec.to_dict()
    gen = cfg.generation(seed=3)
    assert (gen.backend, gen.image_size(), gen.frames, gen.steps, gen.guidance_scale, gen.seed, gen.device) == \
        ("naive", (224, 128), 9, 5, 2.5, 3, "cpu")
    exp = cfg.export_config()
    assert (exp.version, exp.jpeg_quality, exp.lidar_stub, exp.videos, exp.guidance, exp.openscenario) == \
        ("v1.0-test", 70, True, False, False, False)
    assert BatchExportConfig.model_validate_json(cfg.model_dump_json()) == cfg


@pytest.mark.parametrize("doc, field", [
    ({"size": [10, 10]}, "export.size"),
    ({"size": [BATCH_MAX_SIDE + 16, 256]}, "export.size"),
    ({"formats": ["nuscenes", "mp4"]}, "export.formats"),
    ({"formats": []}, "export.formats"),
    ({"backend": "magic"}, "export.backend"),
    ({"steps": True}, "export.steps"),
    ({"steps": "20"}, "export.steps"),
    ({"jpeg_quality": 101}, "export.jpeg_quality"),
    ({"videos": 1}, "export.videos"),
    ({"bogus": 1}, "export.bogus"),
    ({"backend": "diffusion", "formats": ["nuscenes"]}, "export.model_dir"),
])
def test_problems_name_the_field(doc, field):
    with pytest.raises(ValidationError) as info:
        BatchExportConfig.model_validate(doc, context=CTX)
    lines = field_problems(info.value, "export")
    assert any(line.startswith(field + ":") for line in lines), lines
    if "mp4" in str(doc):
        assert any("(item 1: 'mp4')" in line for line in lines), lines
    _, problems = _reference(doc)
    assert problems, "the batch spec parser refuses it too"


_values = st.one_of(st.none(), st.booleans(), st.integers(-5, 5000), st.floats(-1, 200, allow_nan=False),
                    st.sampled_from(["", "nuscenes", "openscenario", "naive", "diffusion", "cpu", "auto", "x", "/m"]))
_sizes = st.one_of(st.lists(st.integers(0, 5000), min_size=0, max_size=3), st.lists(st.booleans(), max_size=2), _values)
_formats = st.one_of(st.lists(st.sampled_from(["nuscenes", "openscenario", "mp4"]), max_size=3),
                     st.sampled_from(["nuscenes", "openscenario", "mp4"]), _values)
_docs = st.fixed_dictionaries({}, optional={
    "formats": _formats, "size": _sizes, "frames": _values, "backend": st.sampled_from(["naive", "diffusion", "magic"]),
    "model_dir": _values, "steps": _values, "guidance_scale": _values, "device": _values, "version": _values,
    "lidar_stub": _values, "videos": _values, "guidance": _values, "jpeg_quality": _values, "osc_version": _values,
})


@settings(max_examples=300, deadline=None)
@given(_docs)
def test_accepts_exactly_what_the_batch_spec_parser_accepts(doc):
    spec, problems = _reference(doc)
    try:
        cfg = BatchExportConfig.model_validate(json.loads(json.dumps(doc)), context=CTX)
    except ValidationError as e:
        assert problems, f"refused {doc}: {field_problems(e, 'export')}"
        return
    assert not problems, f"accepted {doc}; the batch spec parser says {problems}"
    assert _as_spec_dict(cfg) == spec.to_dict()
    assert cfg.needs_gpu == spec.needs_gpu


# ---- the run settings (interpreter, seeds, max_variants, export) against parse_spec -----------------------
_RUN_KEYS = ("interpreter", "seeds", "max_variants", "export")
_seeds = st.one_of(st.none(), _values, st.lists(st.one_of(st.integers(-2, 20), st.booleans()), max_size=4),
                   st.fixed_dictionaries({}, optional={"start": st.integers(-1, 5), "count": st.integers(-1, 4),
                                                       "step": st.just(1)}))
_run_docs = st.fixed_dictionaries({}, optional={
    "interpreter": st.sampled_from(["offline", "llm", "openai", 3]), "seeds": _seeds,
    "max_variants": st.one_of(st.integers(-1, 20000), st.booleans(), st.just(2.0)),
    "export": st.one_of(_docs, st.none(), st.just([1]))})


def _spec_problem_fields(doc: dict) -> tuple[object, set[str]]:
    from engine.batch.spec import BatchSpecError, parse_spec

    try:
        return parse_spec({"base": "demo", **doc}), set()
    except BatchSpecError as e:
        return None, {p.split(":", 1)[0].split(".", 1)[0] for p in e.problems}


@settings(max_examples=300, deadline=None)
@given(_run_docs)
def test_run_settings_accept_and_refuse_what_parse_spec_does(doc):
    from engine.config.batch import parse_batch_run

    spec, spec_fields = _spec_problem_fields(doc)
    cfg, problems = parse_batch_run(json.loads(json.dumps(doc)), BACKEND_NAMES)
    assert {p.split(":", 1)[0].split(".", 1)[0] for p in problems} == spec_fields, (problems, spec_fields)
    if spec is not None:
        assert (cfg.interpreter, cfg.seeds, cfg.max_variants) == (spec.interpreter, spec.seeds, spec.max_variants)
        assert _as_spec_dict(cfg.export) == spec.export.to_dict()


def test_run_settings_name_the_field():
    from engine.config.batch import parse_batch_run

    _, problems = parse_batch_run({"interpreter": "gpt", "seeds": [-1], "max_variants": 0,
                                   "export": {"backend": "diffusion"}, "sweep": {"ignored": "here"}}, BACKEND_NAMES)
    assert problems == ["interpreter: expected one of offline, llm", "seeds: expected a non-empty list of integers >= 0",
                        "max_variants: expected a positive integer",
                        "export.model_dir: the diffusion backend needs a local model folder"]


def test_backends_are_checked_only_against_the_names_the_caller_gives():
    from engine.config.batch import parse_batch_export

    assert parse_batch_export({"backend": "magic"})[1] == []
    assert parse_batch_export({"backend": "magic"}, ("naive",))[1] == [
        "export.backend: unknown backend 'magic'; use one of naive"]
