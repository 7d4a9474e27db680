"""MP4 / JPEG output: round trip, odd sizes, atomic files, and a failed job leaving earlier outputs intact."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine.rig import PANORAMA_ORDER
from engine.video import Mp4Writer, panorama_frames, read_mp4, write_clip_outputs, write_mp4
from engine.worldmodel import GeneratedClip


def _moving_square(t: int, h: int, w: int) -> np.ndarray:
    f = np.full((h, w, 3), 40, np.uint8)
    f[h // 4: h // 2, 4 * t: 4 * t + w // 4] = (230, 60, 30)
    return f


def test_mp4_round_trip_keeps_frames_and_order(tmp_path):
    frames = np.stack([_moving_square(t, 64, 96) for t in range(6)])
    path = write_mp4(frames, tmp_path / "a.mp4", fps=12)
    back = read_mp4(path)
    assert back.shape == frames.shape
    err = np.abs(back.astype(int) - frames.astype(int)).mean(axis=(1, 2, 3))
    assert err.max() < 4
    # the square moves: each decoded frame is closest to its own source frame
    for t in range(6):
        d = [np.abs(back[t].astype(int) - frames[s].astype(int)).mean() for s in range(6)]
        assert int(np.argmin(d)) == t


def test_odd_sizes_are_padded_not_refused(tmp_path):
    frames = np.random.default_rng(0).integers(0, 255, (3, 33, 51, 3), np.uint8)
    back = read_mp4(write_mp4(frames, tmp_path / "odd.mp4", fps=12))
    assert back.shape == (3, 34, 52, 3)


def test_a_failed_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "v.mp4"
    write_mp4(np.zeros((2, 16, 16, 3), np.uint8), path, fps=12)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="frame 1 is 8x8"):
        with Mp4Writer(path, fps=12) as w:
            w.write(np.zeros((16, 16, 3), np.uint8))
            w.write(np.zeros((8, 8, 3), np.uint8))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["v.mp4"]   # no temporary left over


def _clip(t=3, h=32, w=48, value=0) -> GeneratedClip:
    frames = np.zeros((t, 6, h, w, 3), np.uint8)
    for k in range(6):
        frames[:, k] = value + 20 * k
    return GeneratedClip(frames, PANORAMA_ORDER, 12.0, "naive", 7)


def test_clip_folder_layout_and_manifest(tmp_path):
    out = tmp_path / "out"
    (out).mkdir()
    (out / "notes.txt").write_text("mine")
    files = write_clip_outputs(_clip(), out, extra_manifest={"scenario_name": "demo"})
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([f"{n}.mp4" for n in PANORAMA_ORDER] + ["panorama.mp4", "frames", "generation.json",
                                                                    "notes.txt"])
    assert (out / "notes.txt").read_text() == "mine"
    m = json.loads(files.manifest.read_text())
    assert m["cameras"] == list(PANORAMA_ORDER) and m["num_frames"] == 3 and m["seed"] == 7
    assert m["scenario_name"] == "demo" and m["image_size"] == [48, 32]
    assert len(m["frames"]["CAM_BACK"]) == 3 and (out / m["frames"]["CAM_BACK"][2]).is_file()
    pano = read_mp4(files.panorama_video)
    assert pano.shape == (3, 32, 6 * 48, 3)
    # the panorama is FL | F | FR | BR | B | BL
    means = [pano[0, :, k * 48:(k + 1) * 48].mean() for k in range(6)]
    assert means == sorted(means)
    cam_back = read_mp4(files.camera_videos["CAM_BACK"])
    assert abs(cam_back.mean() - 80) < 3


def test_failed_job_leaves_earlier_outputs_intact(tmp_path, monkeypatch):
    out = tmp_path / "out"
    write_clip_outputs(_clip(value=0), out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    import engine.video.clip_output as co

    calls = {"n": 0}
    real = co.write_jpeg

    def flaky(path, image, quality=92):
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError("disk full")
        real(path, image, quality)

    monkeypatch.setattr(co, "write_jpeg", flaky)
    with pytest.raises(OSError, match="disk full"):
        write_clip_outputs(_clip(t=4, value=100), out)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_a_new_run_replaces_all_frames_of_the_old_one(tmp_path):
    out = tmp_path / "out"
    write_clip_outputs(_clip(t=4), out)
    write_clip_outputs(_clip(t=2, value=100), out)
    assert sorted(p.name for p in (out / "frames" / "CAM_FRONT").iterdir()) == ["0000.jpg", "0001.jpg"]
    assert json.loads((out / "generation.json").read_text())["num_frames"] == 2


def test_panorama_frames_order():
    f = _clip(t=1, h=2, w=3).frames
    p = panorama_frames(f)
    assert p.shape == (1, 2, 18, 3) and p[0, 0, ::3, 0].tolist() == [0, 20, 40, 60, 80, 100]


def test_make_tiny_pipeline_tool_refuses_to_overwrite(tmp_path, capsys):
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "make_tiny_pipeline", Path(__file__).resolve().parents[3] / "tools" / "make_tiny_pipeline.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = tmp_path / "tiny"
    assert tool.main([str(out), "--seed", "4", "--no-text-encoder", "--single-controlnet"]) == 0
    index = json.loads((out / "model_index.json").read_text())
    assert index["text_encoder"] == [None, None] and index["layout_controlnet"] == [None, None]
    assert tool.main([str(out)]) == 2 and "--force" in capsys.readouterr().err
    assert tool.main([str(out), "--force"]) == 0
    assert (out / "text_encoder").is_dir() and not list(tmp_path.glob(".tiny*"))
