"""`train prepare`: the samples it writes (shapes, dtypes, the inserted-object blanking), resuming, bad datasets."""
from __future__ import annotations

import os
import shutil

import cv2
import numpy as np
import pytest
from PIL import Image

from main import main
from training_helpers import SIZE, copy_dataset, read_json, shard_arrays

V = 6
W, H = SIZE


def test_samples_have_the_documented_shapes_and_dtypes(prepared):
    cache, report = prepared
    index = report.index
    assert index.num_samples == 21               # 3 scenes x 37 frames at 12 Hz, every 6th: 7 each
    assert {s.split for s in index.shards} == {"train", "val"}
    assert sorted({s.scene for s in index.split("val")}) == ["scene-0003"]
    expect = {
        "image": ((V, H, W, 3), np.uint8), "prev_image": ((V, H, W, 3), np.uint8), "has_prev": ((), np.bool_),
        "depth": ((V, H, W), np.float16), "depth_valid": ((V, H, W), np.bool_), "normal": ((V, H, W, 3), np.uint8),
        "edge": ((V, H, W), np.uint8), "object": ((V, H, W, 3), np.uint8), "inserted": ((V, H, W), np.bool_),
        "boxes": ((V, H, W, 10), np.uint8), "hdmap": ((V, H, W, 3), np.uint8), "env": ((7,), np.float32),
        "K": ((V, 3, 3), np.float32), "ego_from_camera": ((V, 4, 4), np.float32), "frame": ((), np.int32),
    }
    for name, arrays in shard_arrays(cache):
        n = arrays["image"].shape[0]
        for key, (shape, dtype) in expect.items():
            assert arrays[key].shape == (n, *shape), (name, key)
            assert arrays[key].dtype == dtype, (name, key)
        assert "latent" not in arrays                 # prepared without --model
        assert np.all(arrays["env"].sum(axis=1) == 2)   # one time of day + one weather
        # frame 0 has no previous frame; the others have one
        assert np.array_equal(arrays["has_prev"], arrays["frame"] > 0)
        assert not arrays["prev_image"][~arrays["has_prev"]].any()


def test_target_image_is_the_recorded_frame(prepared, nuscenes_dataset):
    """The stored image equals the dataset's camera file (read with PIL here), resized to the cache size."""
    from engine.sources import open_nuscenes_scene

    cache, report = prepared
    shard = report.index.shards[0]
    arrays = dict(shard_arrays(cache))[shard.file]
    scene = open_nuscenes_scene(nuscenes_dataset.dataroot, nuscenes_dataset.version, shard.scene)
    row = 1
    k = int(arrays["frame"][row])
    for v, cam in enumerate(scene.cameras):
        path = scene.frame(k, cam).path
        ref = np.asarray(Image.open(path).convert("RGB").resize(SIZE, Image.BOX), np.float32)
        assert np.abs(arrays["image"][row, v].astype(np.float32) - ref).mean() < 4.0, cam
        prev = np.asarray(Image.open(scene.frame(k - 1, cam).path).convert("RGB").resize(SIZE, Image.BOX), np.float32)
        assert np.abs(arrays["prev_image"][row, v].astype(np.float32) - prev).mean() < 4.0, cam


def test_inserted_objects_are_blanked_and_lie_in_their_box(prepared, nuscenes_dataset):
    """Dream4Drive insertion: M inside the object's projected box, O only inside M, E (and D, N as the model
    reads them) zero inside M, while the real depth there was known (so the blanking did something)."""
    from engine.realscene import real_rig
    from engine.rig.pose import ego_pose
    from engine.rig.projection import project_agent_box
    from engine.sources import open_nuscenes_scene
    from engine.training.data import frame_conditions

    cache, report = prepared
    inserted_samples = 0
    plain_samples = 0
    scenes = {}
    for name, a in shard_arrays(cache):
        for r in range(a["image"].shape[0]):
            m = a["inserted"][r]
            if not a["inserted_class"][r]:
                plain_samples += 1
                assert not m.any() and not a["object"][r].any()
                continue
            inserted_samples += 1
            assert m.sum() >= 8
            assert not a["object"][r][~m].any()                       # O only inside M
            assert (a["object"][r][m].sum(axis=-1) > 0).mean() > 0.9  # and drawn there
            assert not a["edge"][r][m].any()                           # E blanked
            g = frame_conditions(a, r).guidance
            assert not g[..., 0][m].any() and not g[..., 1:4][m].any()  # D and N blanked for the model
            assert a["depth_valid"][r][m].mean() > 0.5                 # the real depth was known there
            # the mask lies inside the recorded object's projected box (an independent projection)
            scene_name = next(s.scene for s in report.index.shards if s.file == name)
            if scene_name not in scenes:
                sc = open_nuscenes_scene(nuscenes_dataset.dataroot, nuscenes_dataset.version, scene_name)
                scenes[scene_name] = (sc, real_rig(sc, SIZE))
            sc, rig = scenes[scene_name]
            agent = next(x for x in sc.scenario.agents if x.id == str(a["inserted_agent"][r]))
            k = int(a["frame"][r])
            t = k / sc.scenario.fps
            assert agent.cls == str(a["inserted_class"][r])
            for v, cam in enumerate(rig):
                if not m[v].any():
                    continue
                pb = project_agent_box(agent, t, cam, cam.camera_from_world(ego_pose(sc.scenario, t)))
                assert pb.visible
                u0, v0, u1, v1 = pb.bbox
                ys, xs = np.nonzero(m[v])
                assert xs.min() >= u0 - 1.5 and xs.max() <= u1 + 1.5 and ys.min() >= v0 - 1.5 and ys.max() <= v1 + 1.5
    assert inserted_samples >= 5 and plain_samples >= 3


def test_depth_and_edges_come_from_the_real_frame(prepared):
    """Outside inserted objects: Canny of the stored real image is the stored edge map; depth is finite where
    it is marked valid and the normals exist where the depth does (away from the border)."""
    from engine.render.guidance import RenderSettings

    cache, _ = prepared
    rs = RenderSettings()
    _, a = shard_arrays(cache)[0]
    for r in range(a["image"].shape[0]):
        for v in range(V):
            canny = cv2.Canny(cv2.cvtColor(a["image"][r, v], cv2.COLOR_RGB2GRAY), rs.canny_low, rs.canny_high)
            keep = ~cv2.dilate(a["inserted"][r, v].astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
            assert np.array_equal(canny[keep], a["edge"][r, v][keep])
        valid = a["depth_valid"][r]
        assert np.isfinite(a["depth"][r][valid]).all() and (a["depth"][r][valid] > 0).all()
        assert np.isinf(a["depth"][r][~valid]).all()
        assert valid.mean() > 0.5


def test_prepare_resumes_and_skips_finished_shards(nuscenes_dataset, tmp_path):
    from engine.training.prepare import prepare_cache
    from engine.training.samples import PrepareSettings

    settings = PrepareSettings(size=SIZE, insert_share=0.5, shard_size=4, seed=1)
    out = tmp_path / "cache"
    scenes = ["scene-0001", "scene-0002"]
    first = prepare_cache(str(nuscenes_dataset.dataroot), nuscenes_dataset.version, out, settings, scenes=scenes,
                          progress=False)
    assert first.written == 14 and first.skipped == 0
    before = {f.name: (f.stat().st_mtime_ns, np.load(f)["image"].copy()) for f in (out / "shards").glob("*.npz")}
    # a run killed while scene-0002's second shard was being written: that shard, the scene marker and the index
    (out / "shards" / "scene-0002-0001.npz").unlink()
    (out / "shards" / "scene-0002.done.json").unlink()
    (out / "index.json").unlink()
    again = prepare_cache(str(nuscenes_dataset.dataroot), nuscenes_dataset.version, out, settings, scenes=scenes,
                          progress=False)
    assert again.written == 3 and again.skipped == 11
    after = {f.name: f.stat().st_mtime_ns for f in (out / "shards").glob("*.npz")}
    for name, (mtime, image) in before.items():
        if name != "scene-0002-0001.npz":
            assert after[name] == mtime, name            # untouched
        assert np.array_equal(np.load(out / "shards" / name)["image"], image)   # the redone shard is the same
    assert read_json(out / "index.json")["num_samples"] == 14
    # a third run does nothing
    third = prepare_cache(str(nuscenes_dataset.dataroot), nuscenes_dataset.version, out, settings, scenes=scenes,
                          progress=False)
    assert third.written == 0 and third.skipped == 14


def test_cli_refuses_a_dataset_without_a_table(nuscenes_dataset, tmp_path, capsys):
    root = copy_dataset(nuscenes_dataset.dataroot, tmp_path / "broken")
    (root / nuscenes_dataset.version / "sample_data.json").unlink()
    rc = main(["train", "prepare", str(root), "--version", nuscenes_dataset.version, "-o", str(tmp_path / "c"),
               "--size", "64x32", "-q"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "sample_data.json" in err and "Traceback" not in err
    assert not (tmp_path / "c" / "index.json").exists()


def test_cli_refuses_a_dataset_with_a_missing_image(nuscenes_dataset, tmp_path, capsys):
    root = copy_dataset(nuscenes_dataset.dataroot, tmp_path / "broken")
    victim = sorted((root / "samples" / "CAM_FRONT").glob("*__1532402927612460.jpg"))[0]
    os.remove(victim)
    rc = main(["train", "prepare", str(root), "--version", nuscenes_dataset.version, "-o", str(tmp_path / "c"),
               "--size", "64x32", "--scenes", "scene-0001", "-q"])
    err = capsys.readouterr().err
    assert rc == 2
    assert victim.name in err and "scene-0001" in err and "Traceback" not in err


def test_cli_refuses_unknown_scenes_bad_sizes_and_changed_settings(nuscenes_dataset, tmp_path, capsys):
    base = ["train", "prepare", str(nuscenes_dataset.dataroot), "--version", nuscenes_dataset.version, "-q"]
    assert main(base + ["-o", str(tmp_path / "a"), "--scenes", "scene-9999"]) == 2
    assert "scene-9999" in capsys.readouterr().err
    assert main(base + ["-o", str(tmp_path / "b"), "--size", "60x32"]) == 2
    assert "multiples of 8" in capsys.readouterr().err
    out = str(tmp_path / "c")
    assert main(base + ["-o", out, "--size", "64x32", "--scenes", "scene-0002"]) == 0
    capsys.readouterr()
    assert main(base + ["-o", out, "--size", "64x32", "--scenes", "scene-0002", "--insert-share", "0.9"]) == 2
    assert "insert_share" in capsys.readouterr().err
    shutil.rmtree(out)


@pytest.mark.slow
def test_worker_processes_write_the_same_samples(nuscenes_dataset, prepared, tmp_path):
    """Two spawned worker processes give byte-identical shards to the in-process run (same settings)."""
    from engine.training.prepare import prepare_cache
    from engine.training.samples import PrepareSettings

    cache, _ = prepared
    settings = PrepareSettings(size=SIZE, insert_share=0.6, shard_size=4, seed=3)
    out = tmp_path / "par"
    rep = prepare_cache(str(nuscenes_dataset.dataroot), nuscenes_dataset.version, out, settings, workers=2,
                        progress=False)
    assert rep.written == 21
    for name, arrays in shard_arrays(out):
        ref = np.load(cache / name)
        for k in arrays:
            assert np.array_equal(arrays[k], ref[k]), (name, k)


def test_latents_are_the_vaes_posterior_means_of_the_stitched_panoramas(nuscenes_dataset, tiny_model, tmp_path):
    """--model: latent = (mean - shift) * scaling_factor of diffusers' AutoencoderKL on the six views side by side."""
    import torch
    from diffusers import AutoencoderKL

    from engine.training.prepare import prepare_cache
    from engine.training.samples import PrepareSettings

    settings = PrepareSettings(size=SIZE, stride=18, insert_share=0.0, model=str(tiny_model))
    rep = prepare_cache(str(nuscenes_dataset.dataroot), nuscenes_dataset.version, tmp_path / "c", settings,
                        scenes=["scene-0002"], progress=False)
    assert rep.index.has_latents
    _, a = shard_arrays(tmp_path / "c")[0]
    vae = AutoencoderKL.from_pretrained(str(tiny_model / "vae")).eval()
    assert a["latent"].shape == (3, 4, H // 8, V * W // 8) and a["latent"].dtype == np.float16
    for r in range(3):
        for key, img in (("latent", a["image"][r]), ("prev_latent", a["prev_image"][r])):
            if key == "prev_latent" and not a["has_prev"][r]:
                assert not a[key][r].any()
                continue
            pano = np.concatenate(list(img), axis=1)                       # (H, V*W, 3), views side by side
            x = torch.from_numpy(pano).permute(2, 0, 1)[None].float() / 127.5 - 1.0
            with torch.no_grad():
                ref = vae.encode(x).latent_dist.mean[0].numpy() * vae.config.scaling_factor
            assert np.allclose(a[key][r].astype(np.float32), ref, atol=2e-3 * max(1.0, np.abs(ref).max())), (r, key)


@pytest.mark.slow
def test_prepare_on_ray_writes_the_same_samples(nuscenes_dataset, prepared, tmp_path):
    from engine.training.prepare import prepare_cache
    from engine.training.samples import PrepareSettings

    cache, _ = prepared
    settings = PrepareSettings(size=SIZE, insert_share=0.6, shard_size=4, seed=3)
    rep = prepare_cache(str(nuscenes_dataset.dataroot), nuscenes_dataset.version, tmp_path / "ray", settings,
                        scenes=["scene-0002"], ray_address="local", workers=2, progress=False)
    assert rep.written == 7
    for name, arrays in shard_arrays(tmp_path / "ray"):
        ref = np.load(cache / name)
        for k in arrays:
            assert np.array_equal(arrays[k], ref[k]), (name, k)
