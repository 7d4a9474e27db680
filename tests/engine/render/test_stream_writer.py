"""Streaming guidance output: arrays on disk equal the rendered frames, bounded queue, whole-or-absent frames."""
from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from engine.render.frame import decode_normals
from engine.render.stream import GuidanceStreamWriter, StreamOptions, read_frame_arrays, save_npz_stored

from render_helpers import make_agent, make_scenario


@pytest.fixture(scope="module")
def frames(renderer):
    """Two rendered frames of a small scene (every map)."""
    s = make_scenario([make_agent("car_1", "car", 9.0, 0.0), make_agent("ped_1", "pedestrian", 6.0, 3.0)])
    renderer.set_scenario(s)
    return [renderer.render(0.0), renderer.render(0.5)], s


def test_maps_npz_holds_exactly_the_rendered_maps(tmp_path, frames, rig):
    (f0, f1), s = frames
    with GuidanceStreamWriter(tmp_path, StreamOptions(), s.name) as w:
        w.submit(3, f0, classes={a.id: a.cls for a in s.agents})
        w.submit(4, f1)
    for idx, f in ((3, f0), (4, f1)):
        z = read_frame_arrays(tmp_path / f"frame_{idx:04d}")
        for k, name in enumerate(rig.names):
            m = f[name]
            np.testing.assert_array_equal(z["rgb"][k], m.rgb)
            np.testing.assert_array_equal(z["depth"][k], m.depth)
            assert z["depth"].dtype == np.float32
            np.testing.assert_array_equal(decode_normals(z["normal_encoded"][k]), m.normal)
            np.testing.assert_array_equal(z["edge"][k], m.edge)
            np.testing.assert_array_equal(z["object"][k], m.object)
            np.testing.assert_array_equal(z["instance"][k], m.instance)
            np.testing.assert_array_equal(z["inserted"][k], m.inserted)
            np.testing.assert_array_equal(z["hdmap"][k], m.hdmap)
            np.testing.assert_array_equal(z["boxes"][k], m.boxes)
            np.testing.assert_allclose(z["K"][k], rig[name].K)
            np.testing.assert_allclose(z["ego_from_camera"][k], rig[name].ego_from_camera)
        np.testing.assert_array_equal(z["bev"], f.bev)
        assert float(z["time"]) == f.time
    assert (tmp_path / "frame_0003" / "agents.png").is_file()
    assert not (tmp_path / "frame_0004" / "agents.png").exists()     # no classes given for that frame
    assert not (tmp_path / "frame_0003" / "CAM_FRONT").exists()       # per-camera PNGs only on request
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert [r["index"] for r in manifest["frames"]] == [3, 4]
    assert manifest["frames"][0]["instance_ids"] == f0.instance_ids
    assert [c["name"] for c in manifest["cameras"]] == list(rig.names)


def test_npz_is_stored_uncompressed_and_readable_by_numpy(tmp_path):
    import zipfile

    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    save_npz_stored(tmp_path / "x.npz", {"a": a, "b": np.bool_(True)})
    with zipfile.ZipFile(tmp_path / "x.npz") as zf:
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
    with np.load(tmp_path / "x.npz") as z:
        np.testing.assert_array_equal(z["a"], a)
        assert bool(z["b"])


def test_pngs_on_request(tmp_path, frames):
    (f0, _), s = frames
    with GuidanceStreamWriter(tmp_path, StreamOptions(pngs=True, arrays=False)) as w:
        w.submit(0, f0)
    assert (tmp_path / "frame_0000" / "CAM_FRONT" / "depth.png").is_file()
    assert not (tmp_path / "frame_0000" / "maps.npz").exists()


def test_the_queue_bounds_how_many_frames_wait(tmp_path, frames, monkeypatch):
    """With the writer stalled, the producer blocks once `queue_size` frames wait (memory stays bounded)."""
    import engine.render.stream as stream

    gate = threading.Event()
    real = stream.write_frame_files

    def stalled(*a, **k):
        gate.wait(10)
        return real(*a, **k)

    monkeypatch.setattr(stream, "write_frame_files", stalled)
    (f0, _), _ = frames
    w = GuidanceStreamWriter(tmp_path, StreamOptions(queue_size=2, sheets=False))
    submitted = []

    def produce():
        for i in range(6):
            w.submit(i, f0)
            submitted.append(i)

    t = threading.Thread(target=produce)
    t.start()
    t.join(1.0)
    # one frame taken by the (stalled) writer + two waiting in the queue; the fourth submit blocks
    assert len(submitted) == 3
    gate.set()
    t.join(10)
    w.close()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("frame_")) == [f"frame_{i:04d}" for i in range(6)]


def test_a_writer_error_reaches_the_producer_and_leaves_no_partial_frame(tmp_path, frames, monkeypatch):
    import engine.render.stream as stream

    def broken(frame, folder, *a, **k):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "maps.npz").write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(stream, "write_frame_files", broken)
    (f0, _), _ = frames
    w = GuidanceStreamWriter(tmp_path, StreamOptions())
    w.submit(0, f0)
    with pytest.raises(OSError, match="disk full"):
        for i in range(1, 20):
            w.submit(i, f0)
        w.close()
    assert not any(p.name.startswith("frame_") for p in tmp_path.iterdir())
    assert not (tmp_path / "manifest.json").exists()


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="fsync"):
        StreamOptions(fsync="sometimes")
    with pytest.raises(ValueError, match="queue_size"):
        StreamOptions(queue_size=0)


@pytest.mark.parametrize("mode", ["frame", "none"])
def test_every_flush_mode_writes_whole_frames(tmp_path, frames, mode):
    (f0, f1), s = frames
    with GuidanceStreamWriter(tmp_path, StreamOptions(fsync=mode, sheets=False)) as w:
        w.submit(0, f0)
        w.submit(1, f1)
    for i, f in enumerate((f0, f1)):
        np.testing.assert_array_equal(read_frame_arrays(tmp_path / f"frame_{i:04d}")["depth"], f.stack("depth"))
    assert json.loads((tmp_path / "manifest.json").read_text())["frames"][1]["index"] == 1
