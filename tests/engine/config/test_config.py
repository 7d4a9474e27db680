"""Typed configuration: one size type, frozen validated models, JSON round trips, CLI mapping."""
from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from engine.config import ExportConfig, GenerationConfig, ImageSize, RenderConfig, error_message, parse_size


@pytest.mark.parametrize("value", ["448x256", "448X256", " 448 x 256 ", "448×256", (448, 256), [448, 256],
                                   {"width": 448, "height": 256}])
def test_every_spelling_of_a_size_is_the_same_size(value):
    size = ImageSize.parse(value)
    assert (size.width, size.height) == (448, 256)
    assert tuple(size) == (448, 256) and str(size) == "448x256"


@pytest.mark.parametrize("value, reason", [
    ("448by256", "WIDTHxHEIGHT"), ("4x4", "between 16 and 8192"), ("448x256x3", "WIDTHxHEIGHT"),
    ((448,), "(width, height)"), ((448.5, 256), "whole pixels"), ("99999x256", "between 16 and 8192"),
])
def test_bad_sizes_are_refused_with_the_reason(value, reason):
    with pytest.raises(ValueError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse_size(value)


def test_size_is_frozen_and_serialises_as_text():
    size = ImageSize.parse("320x180")
    with pytest.raises(ValidationError):
        size.width = 10
    assert json.loads(size.model_dump_json()) == "320x180"
    assert ImageSize.model_validate_json('"320x180"') == size


def test_generation_config_round_trips_through_json_and_files(tmp_path):
    cfg = GenerationConfig(backend="diffusion", model_dir="/models/wm", steps=7, guidance_scale=2.5, seed=11,
                           size="224x128", frames=9, device="cuda:1", dtype="float16",
                           backend_options={"controlnet_scales": {"depth": 1.0, "canny": 0.5}})
    doc = json.loads(cfg.model_dump_json())
    assert doc["size"] == "224x128" and doc["backend_options"]["controlnet_scales"]["canny"] == 0.5
    assert GenerationConfig.model_validate_json(cfg.model_dump_json()) == cfg
    assert GenerationConfig.load(cfg.save(tmp_path)) == cfg            # a folder gets config.json
    assert (tmp_path / "config.json").is_file()
    exp = ExportConfig(generation=cfg, version="v1.0-test", jpeg_quality=80, videos=False)
    assert ExportConfig.model_validate(json.loads(exp.model_dump_json())) == exp


def test_generation_config_is_frozen_and_validated():
    cfg = GenerationConfig()
    with pytest.raises(ValidationError):
        cfg.steps = 3
    for bad, field in (({"steps": 0}, "steps"), ({"device": "tpu"}, "device"), ({"dtype": "int8"}, "dtype"),
                       ({"guidance_scale": -1}, "guidance_scale"), ({"frames": 0}, "frames"),
                       ({"size": "big"}, "size"), ({"colour": "red"}, "colour"), ({"backend": "a b"}, "backend")):
        with pytest.raises(ValidationError) as info:
            GenerationConfig(**bad)
        assert field in error_message(info.value), bad
    assert cfg.replace(steps=5).steps == 5
    with pytest.raises(ValidationError):
        cfg.replace(steps=-5)


def test_seed_and_model_folder_conventions():
    # the editor stores "the scenario's seed" as -1 and "no folder" as ""
    assert GenerationConfig(seed=-1).seed is None and GenerationConfig(model_dir="  ").model_dir is None
    assert GenerationConfig().settings(scenario_seed=5).seed == 5
    s = GenerationConfig(seed=3, steps=4, guidance_scale=1.5, device="cpu", dtype="float32").settings(scenario_seed=5)
    assert (s.seed, s.steps, s.guidance_scale, s.device, s.dtype) == (3, 4, 1.5, "cpu", "float32")


def test_export_config_maps_onto_the_exporters_settings():
    exp = ExportConfig(generation=GenerationConfig(size="320x180", frames=5, seed=2), version="v1.0-x",
                       jpeg_quality=70, lidar_stub=True, guidance=False)
    st = exp.settings()
    assert st.size == (320, 180) and st.frames == 5 and st.generation.seed == 2
    assert (st.nuscenes.version, st.nuscenes.jpeg_quality, st.nuscenes.lidar_stub) == ("v1.0-x", 70, True)
    assert st.guidance is False and st.videos is True


def test_render_config_depth_settings():
    rc = RenderConfig(size="64x32", depth_source="lidar", max_depth=60)
    ds = rc.depth_settings()
    assert (ds.source, ds.max_depth) == ("lidar", 60)
    with pytest.raises(ValidationError):
        RenderConfig(depth_source="radar")


def test_command_line_maps_onto_the_config():
    from engine.cli import build_parser
    from engine.cli.generate import config_from_args

    ns = build_parser().parse_args(["generate", "s.json", "-o", "out", "--backend", "diffusion", "--model", "m",
                                    "--steps", "3", "--seed", "4", "--size", "64x32", "--frames", "2",
                                    "--device", "cpu"])
    cfg = config_from_args(ns)
    assert cfg == GenerationConfig(backend="diffusion", model_dir="m", steps=3, seed=4, size=(64, 32), frames=2,
                                   device="cpu")


def test_one_size_parser_everywhere():
    from engine.cli import generate, guidance

    for module in (generate, guidance):   # the same parser (directly or through a lazy wrapper)
        assert module.parse_size("320 x 180") == (320, 180)
        for bad in ("4x4", "big", "1x2x3"):
            with pytest.raises(ValueError) as theirs:
                module.parse_size(bad)
            with pytest.raises(ValueError) as ours:
                parse_size(bad)
            assert str(theirs.value) == str(ours.value)
