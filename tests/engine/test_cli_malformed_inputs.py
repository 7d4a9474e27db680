"""Hostile and malformed input to `python main.py SUBCOMMAND`: exit 2, one message naming the offending
file / option / field, no traceback, and nothing overwritten at the output path."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from engine.paths import DEMO_SCENARIO
from tests.fixtures.nuscenes_fixture import nuscenes_dataset  # noqa: F401 - pytest fixture

REPO = Path(__file__).resolve().parents[2]
TABLES = ("category", "attribute", "visibility", "instance", "sensor", "calibrated_sensor", "ego_pose", "log",
          "scene", "sample", "sample_data", "sample_annotation", "map")


def _main(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MPLBACKEND": "Agg", "PYOPENGL_PLATFORM": "egl"}
    return subprocess.run([sys.executable, "main.py", *argv], cwd=REPO, capture_output=True, text=True,
                          timeout=300, env=env)


def _short_scenario(tmp: Path) -> str:
    doc = json.loads(DEMO_SCENARIO.read_text())
    doc["duration"] = 0.25          # 3 frames: cheap to render
    p = tmp / "short.json"
    p.write_text(json.dumps(doc))
    return str(p)


def _mutated(tmp: Path, name: str, change: Callable[[dict], None]) -> str:
    doc = json.loads(DEMO_SCENARIO.read_text())
    change(doc)
    p = tmp / name
    p.write_text(json.dumps(doc, allow_nan=True))
    return str(p)


def _bytes(tmp: Path, name: str, data: bytes) -> str:
    p = tmp / name
    p.write_bytes(data)
    return str(p)


def _keep_file(tmp: Path) -> str:
    p = tmp / "existing.txt"
    p.write_text("keep me")
    return str(p)


def _garbage_sd_folder(tmp: Path) -> str:
    d = tmp / "sd"
    (d / "unet").mkdir(parents=True)
    (d / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    (d / "unet" / "config.json").write_text("[]")
    (d / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"\xff" * 8 + b"{}")
    return str(d)


def _truncated_dataroot(tmp: Path) -> str:
    root = tmp / "ds"
    (root / "v1.0-cornercase").mkdir(parents=True)
    for t in TABLES:
        (root / "v1.0-cornercase" / f"{t}.json").write_text('[{"token": "a", "name": "tr')
    return str(root)


# (id, argv builder from tmp_path, a text the message must contain (formatted with tmp=tmp_path))
CASES: list[tuple[str, Callable[[Path], list[str]], str]] = [
    ("validate-missing", lambda t: ["validate", str(t / "nope.json")], "nope.json"),
    ("validate-folder", lambda t: ["validate", str(t)], "folder"),
    ("validate-empty", lambda t: ["validate", _bytes(t, "e.json", b"")], "invalid JSON"),
    ("validate-not-utf8", lambda t: ["validate", _bytes(t, "b.json", b"\xff\xfe\x80garbage")], "UTF-8"),
    ("validate-list", lambda t: ["validate", _bytes(t, "l.json", b"[1, 2]")], "JSON object"),
    ("validate-nan", lambda t: ["validate", _mutated(t, "n.json", lambda d: d.__setitem__("fps", float("nan")))],
     "NaN"),
    ("validate-huge-x", lambda t: ["validate", _mutated(
        t, "h.json", lambda d: d["agents"][0]["trajectory"][1].__setitem__("x", 1e300))], "agents[0].trajectory[1].x"),
    ("validate-negative-duration", lambda t: ["validate", _mutated(t, "d.json", lambda d: d.__setitem__("duration", -3))],
     "duration"),
    ("validate-agents-count", lambda t: ["validate", _mutated(t, "a.json", lambda d: d.__setitem__("agents", 10**6))],
     "agents"),
    ("check-config-not-utf8", lambda t: ["check", _short_scenario(t), "--config", _bytes(t, "c.json", b"\xff\x80")],
     "c.json"),
    ("guidance-sheet-scale-nan", lambda t: ["guidance", _short_scenario(t), "-o", str(t / "g"), "--sheet-scale", "nan"],
     "--sheet-scale"),
    ("guidance-size-zero", lambda t: ["guidance", _short_scenario(t), "-o", str(t / "g"), "--size", "0x0"], "0x0"),
    ("guidance-frames-empty", lambda t: ["guidance", _short_scenario(t), "-o", str(t / "g"), "--frames", "2:1"],
     "--frames"),
    ("guidance-out-is-a-file", lambda t: ["guidance", _short_scenario(t), "-o", _keep_file(t), "--frames", "0",
                                          "--size", "64x32"], "existing.txt"),
    ("guidance-rig-not-utf8", lambda t: ["guidance", _short_scenario(t), "-o", str(t / "g"),
                                         "--rig", _bytes(t, "rig.json", b"\xff\x80")], "rig.json"),
    ("generate-diffusion-option-on-naive", lambda t: ["generate", _short_scenario(t), "-o", str(t / "v"),
                                                      "--noise-sharing", "0.5"], "--noise-sharing"),
    ("export-unknown-backend", lambda t: ["export", _short_scenario(t), "-o", str(t / "x"), "--backend", "bogus"],
     "--backend"),
    ("export-openscenario-out-is-a-file", lambda t: ["export", _short_scenario(t), "-o", _keep_file(t),
                                                     "--format", "openscenario"], "existing.txt"),
    ("export-nuscenes-out-is-a-file", lambda t: ["export", _short_scenario(t), "-o", _keep_file(t), "--size", "64x32",
                                                 "--frames", "1", "--no-videos", "-q"], "existing.txt"),
    ("export-nuscenes-truncated-tables", lambda t: ["export", _short_scenario(t), "-o", _truncated_dataroot(t),
                                                    "--size", "64x32", "--frames", "1", "--no-videos", "-q"],
     ".json"),
    ("model-check-garbage-safetensors", lambda t: ["model", "check", _garbage_sd_folder(t)],
     "diffusion_pytorch_model.safetensors"),
    ("batch-spec-not-utf8", lambda t: ["batch", _bytes(t, "spec.json", b"\xff\x80"), "-o", str(t / "b")], "spec.json"),
    ("batch-base-scenario-malformed", lambda t: ["batch", _batch_spec(t, base=_bytes(t, "base.json", b"{oops")),
                                                 "-o", str(t / "b"), "--inline", "-q"], "invalid JSON"),
    ("batch-out-is-a-file", lambda t: ["batch", _batch_spec(t, base=_short_scenario(t)), "-o", _keep_file(t),
                                       "--inline", "-q"], "existing.txt"),
]


def _batch_spec(tmp: Path, base: str) -> str:
    p = tmp / "batch.json"
    p.write_text(json.dumps({"name": "b", "base": base, "seeds": [1]}))
    return str(p)


# scene DATAROOT --scene NAME -o OUT with hostile options (the small built nuScenes dataset)
SCENE_CASES: list[tuple[str, list[str], str]] = [
    ("speed-nan", ["--insert", "car", "--speed", "nan"], "--speed"),
    ("speed-huge", ["--insert", "car", "--speed", "1e9"], "--speed"),
    ("speed-negative", ["--insert", "car", "--speed", "-5"], "--speed"),
    ("insert-unknown-class", ["--insert", "zeppelin"], "zeppelin"),
    ("unknown-scene", ["--scene", "no-such-scene"], "no-such-scene"),
]


@pytest.mark.parametrize("extra, expected", [c[1:] for c in SCENE_CASES], ids=[c[0] for c in SCENE_CASES])
def test_scene_bad_options_exit_2(tmp_path: Path, nuscenes_dataset, extra: list[str], expected: str) -> None:
    scene = [] if "--scene" in extra else ["--scene", "scene-0001"]
    r = _main("scene", str(nuscenes_dataset.dataroot), "--version", nuscenes_dataset.version, *scene, *extra,
              "-o", str(tmp_path / "s.json"))
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr, r.stderr[-2000:]
    assert expected in r.stderr, r.stderr[-2000:]
    assert not (tmp_path / "s.json").exists()


@pytest.mark.parametrize("where", ["folder", "under-a-file"])
def test_scene_unwritable_output_exit_2(tmp_path: Path, nuscenes_dataset, where: str) -> None:
    if where == "folder":
        out = tmp_path
    else:
        (tmp_path / "f").write_text("keep me")
        out = tmp_path / "f" / "s.json"
    r = _main("scene", str(nuscenes_dataset.dataroot), "--version", nuscenes_dataset.version, "--scene", "scene-0001",
              "-o", str(out))
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr and "cannot write" in r.stderr and str(out) in r.stderr, r.stderr[-2000:]
    if where != "folder":
        assert (tmp_path / "f").read_text() == "keep me"


@pytest.mark.parametrize("build, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_input_exits_2_with_one_clear_message(tmp_path: Path, build: Callable[[Path], list[str]],
                                                        expected: str) -> None:
    r = _main(*build(tmp_path))
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout, r.stderr[-2000:]
    assert expected in r.stderr, r.stderr[-2000:]
    keep = tmp_path / "existing.txt"
    if keep.exists():                       # the output path given was a file: it is left exactly as it was
        assert keep.read_text() == "keep me"


def test_unwritable_export_leaves_no_half_written_dataset(tmp_path: Path) -> None:
    """A malformed dataset at -o is refused before anything is added: its table files are byte-identical."""
    root = Path(_truncated_dataroot(tmp_path))
    before = {p.name: p.read_bytes() for p in (root / "v1.0-cornercase").iterdir()}
    r = _main("export", _short_scenario(tmp_path), "-o", str(root), "--size", "64x32", "--frames", "1",
              "--no-videos", "-q")
    assert r.returncode == 2, r.stderr[-2000:]
    after = {p.name: p.read_bytes() for p in (root / "v1.0-cornercase").iterdir()}
    assert after == before
    assert sorted(p.name for p in root.iterdir()) == ["v1.0-cornercase"]


def test_train_prepare_output_under_a_file_exit_2(tmp_path: Path, nuscenes_dataset) -> None:
    (tmp_path / "f").write_text("keep me")
    out = tmp_path / "f" / "cache"
    r = _main("train", "prepare", str(nuscenes_dataset.dataroot), "--version", nuscenes_dataset.version,
              "-o", str(out), "--size", "64x32", "--scenes", "scene-0001", "-q")
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr and f"cannot write {out}" in r.stderr, r.stderr[-2000:]
    assert (tmp_path / "f").read_text() == "keep me"


def test_unexpected_failure_is_one_line_exit_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """main.py's last resort: an exception a subcommand did not turn into a message is one line, no traceback."""
    import engine.cli.validate as validate
    import main

    def boom(args: object) -> int:
        raise RuntimeError("field 'x' broke")

    monkeypatch.setattr(validate, "run", boom)
    assert main.main(["validate", "whatever.json"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "main.py validate: error: RuntimeError: field 'x' broke" in err


def test_model_check_config_of_wrong_shape_exit_2(tmp_path: Path) -> None:
    d = tmp_path / "wm"
    d.mkdir()
    (d / "model_index.json").write_text(json.dumps({"_class_name": "WorldModelPipeline", "controlnet": 5}))
    r = _main("model", "check", str(d), "--no-load")
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr and "model_index.json" in r.stderr, r.stderr[-2000:]
