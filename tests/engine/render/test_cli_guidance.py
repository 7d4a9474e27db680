"""`python main.py guidance`: PNGs of every map, NPZ arrays and contact sheets; clear errors for bad input."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.cli.guidance import parse_frames, parse_size
from engine.paths import DEMO_SCENARIO
from engine.render.frame import MAP_NAMES
from engine.rig import PANORAMA_ORDER, CameraRig

REPO = Path(__file__).resolve().parents[3]


def _run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", "guidance", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def _run_in_process(*args) -> int:
    from engine.cli import build_parser

    ns = build_parser().parse_args(["guidance", *map(str, args)])
    return ns._module.run(ns)


def test_guidance_streams_one_array_file_and_a_sheet_per_frame(tmp_path):
    r = _run(DEMO_SCENARIO, "-o", tmp_path, "--frames", "4:6", "--size", "224x128")
    rig = CameraRig.default((224, 128))
    assert r.returncode == 0, r.stderr
    for i in (4, 5):
        folder = tmp_path / f"frame_{i:04d}"
        assert (folder / "contact_sheet.png").stat().st_size > 10_000
        assert (folder / "bev.png").is_file()
        assert not (folder / "CAM_FRONT").exists()          # per-camera PNGs only with --png
        with np.load(folder / "maps.npz") as z:
            assert z["depth"].shape == (6, 128, 224) and z["depth"].dtype == np.float32
            assert z["normal_encoded"].shape == (6, 128, 224, 3) and z["boxes"].shape == (6, 128, 224, 10)
            assert z["instance"].dtype == np.int32
            for k, cam in enumerate(PANORAMA_ORDER):
                np.testing.assert_allclose(z["K"][k], rig[cam].K)
    assert not (tmp_path / "frame_0003").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]    # no staging folders left
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert [f["index"] for f in manifest["frames"]] == [4, 5]
    assert [c["name"] for c in manifest["cameras"]] == list(PANORAMA_ORDER)
    assert manifest["image_size"] == [224, 128]


def test_guidance_png_flag_writes_every_map_of_every_camera(tmp_path):
    assert _run_in_process(DEMO_SCENARIO, "-o", tmp_path, "--frames", "7", "--size", "224x128", "--png") == 0
    for cam in PANORAMA_ORDER:
        for m in MAP_NAMES:
            assert (tmp_path / "frame_0007" / cam / f"{m}.png").is_file(), f"{cam}/{m}.png"


def test_streamed_arrays_equal_a_direct_render(tmp_path):
    """What `guidance` writes is what the renderer makes for that frame (same maps, bit for bit)."""
    from engine.render.guidance import GuidanceRenderer
    from engine.scenario.io import load_scenario

    assert _run_in_process(DEMO_SCENARIO, "-o", tmp_path, "--frames", "10", "--size", "224x128") == 0
    s = load_scenario(DEMO_SCENARIO)
    with GuidanceRenderer(CameraRig.default((224, 128))) as r:
        r.set_scenario(s)
        f = r.render_frame(10)
        with np.load(tmp_path / "frame_0010" / "maps.npz") as z:
            for k, cam in enumerate(PANORAMA_ORDER):
                for key in ("rgb", "depth", "normal_encoded", "edge", "object", "instance", "inserted", "hdmap", "boxes"):
                    np.testing.assert_array_equal(z[key][k], getattr(f[cam], key), err_msg=f"{cam} {key}")
            np.testing.assert_array_equal(z["bev"], f.bev)


@pytest.mark.parametrize("args, message", [
    (["--frames", "40:50"], "selects no frame; the scenario has 33 frames"),
    (["--frames", "x"], "expected A:B or A"),
    (["--size", "big"], "expected WIDTHxHEIGHT"),
])
def test_bad_arguments_exit_2_with_the_reason(tmp_path, capsys, args, message):
    assert _run_in_process(DEMO_SCENARIO, "-o", tmp_path, *args) == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_bad_scenario_file_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert _run_in_process(bad, "-o", tmp_path / "out") == 2
    assert "problem" in capsys.readouterr().err


def test_frame_and_size_parsing():
    assert parse_frames(None, 5) == [0, 1, 2, 3, 4]
    assert parse_frames("1:3", 5) == [1, 2]
    assert parse_frames("3:", 5) == [3, 4]
    assert parse_frames("-1", 5) == [4]
    with pytest.raises(ValueError, match="out of range"):
        parse_frames("7", 5)
    assert parse_size("448x256") == (448, 256)
    with pytest.raises(ValueError, match="between 16 and 8192"):
        parse_size("4x4")


def test_a_write_failure_exits_1_with_the_reason_and_no_manifest(tmp_path, capsys, monkeypatch):
    import engine.render.stream as stream

    def full_disk(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(stream, "write_frame_files", full_disk)
    assert _run_in_process(DEMO_SCENARIO, "-o", tmp_path, "--frames", "0:3", "--size", "64x32") == 1
    assert "No space left on device" in capsys.readouterr().err
    assert not (tmp_path / "manifest.json").exists()
    assert not any(p.name.startswith("frame_") for p in tmp_path.iterdir())
