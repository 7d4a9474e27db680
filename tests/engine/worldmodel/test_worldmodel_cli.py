"""`python main.py generate`: files for the demo, clear errors with exit 2, earlier outputs kept on failure."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.rig import PANORAMA_ORDER
from engine.scenario.io import save_scenario
from engine.video import read_mp4

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture()
def short_demo(tmp_path, demo_scenario):
    """The demo cut to 3 frames, saved to a file."""
    path = tmp_path / "short.json"
    save_scenario(dataclasses.replace(demo_scenario, duration=0.25), path)
    return path


def _generate(*args, timeout=300) -> subprocess.CompletedProcess:
    """Through main.py in a fresh process, as a user runs it."""
    return subprocess.run([sys.executable, "main.py", "generate", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout,
                          env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})


def _run(capsys, *args) -> tuple[int, str]:
    """In this process (fast): exit code and stderr."""
    from engine.cli import build_parser

    ns = build_parser().parse_args(["generate", *map(str, args)])
    code = ns._module.run(ns)
    return code, capsys.readouterr().err


def test_generate_naive_writes_videos_frames_and_manifest(short_demo, tmp_path):
    out = tmp_path / "out"
    r = _generate(short_demo, "-o", out, "--size", "96x64", "--seed", "3")
    assert r.returncode == 0, r.stderr
    assert "100.0%" in r.stderr and "frame 3/3" in r.stderr           # the progress bar
    for name in PANORAMA_ORDER:
        v = read_mp4(out / f"{name}.mp4")
        assert v.shape == (3, 64, 96, 3)
        assert len(list((out / "frames" / name).glob("*.jpg"))) == 3
    assert read_mp4(out / "panorama.mp4").shape == (3, 64, 6 * 96, 3)
    m = json.loads((out / "generation.json").read_text())
    assert m["backend"] == "naive" and m["seed"] == 3 and m["cameras"] == list(PANORAMA_ORDER)
    # the front camera sees the road ahead: its lower half is not sky-coloured
    front = read_mp4(out / "CAM_FRONT.mp4")[0]
    assert front[40:].std() > 5


@pytest.mark.parametrize("args, message", [
    (["--size", "448by256"], "448x256"),
    (["--size", "4x4"], "between 16 and 8192"),
    (["--backend", "diffusion"], "needs a model folder"),
    (["--backend", "diffusion", "--model", "/nonexistent/model"], "does not exist"),
    (["--steps", "0"], "steps"),
    (["--device", "cuda:x"], "device"),
])
def test_bad_input_exits_2_with_the_reason(short_demo, tmp_path, capsys, args, message):
    code, err = _run(capsys, short_demo, "-o", tmp_path / "out", *args)
    assert code == 2, err
    assert message in err
    assert not (tmp_path / "out").exists()


def test_bad_scenario_file_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    code, err = _run(capsys, bad, "-o", tmp_path / "out")
    assert code == 2 and "bad.json" in err


@pytest.mark.usefixtures("one_torch_thread")
def test_generate_diffusion_with_the_tiny_pipeline(short_demo, tmp_path, tiny_pipeline_dir, capsys):
    out = tmp_path / "out"
    code, err = _run(capsys, short_demo, "-o", out, "--backend", "diffusion", "--model", tiny_pipeline_dir,
                     "--steps", "1", "--size", "64x32", "--device", "cpu", "--quiet")
    assert code == 0, err
    assert read_mp4(out / "CAM_FRONT.mp4").shape == (3, 32, 64, 3)
    assert json.loads((out / "generation.json").read_text())["metadata"]["steps"] == 1


def test_a_failing_run_keeps_the_earlier_outputs(short_demo, tmp_path, monkeypatch):
    """In-process: the backend fails at frame 2; the outputs of the first run are untouched."""
    from engine.cli import build_parser
    from engine.worldmodel.errors import WorldModelError
    from engine.worldmodel.naive import backend as naive_backend

    out = tmp_path / "out"
    parser = build_parser()
    args = parser.parse_args(["generate", str(short_demo), "-o", str(out), "--size", "64x32", "--quiet"])
    assert args._module.run(args) == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    real = naive_backend.EnvironmentPass.apply

    def failing(self, frame, *a, **k):
        if frame.index == 2:
            raise WorldModelError("simulated failure at frame 2")
        return real(self, frame, *a, **k)

    monkeypatch.setattr(naive_backend.EnvironmentPass, "apply", failing)
    args = parser.parse_args(["generate", str(short_demo), "-o", str(out), "--size", "64x32", "--quiet", "--seed", "9"])
    assert args._module.run(args) == 1
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
