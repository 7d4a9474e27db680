"""Real-frame depth: LiDAR projection, densification, the optional monocular model, backgrounds."""
from __future__ import annotations

import numpy as np
import pytest

from engine.realscene.backgrounds import RealDepthSettings, real_backgrounds, real_depth, real_frame_maps, real_rig
from engine.realscene.densify import beam_gap_pixels, densify_depth
from engine.realscene.lidar_depth import lidar_sparse_depth
from engine.realscene.mono_depth import DepthModelError, MonocularDepthModel, align_to_sparse
from engine.sources import open_nuscenes_scene

VERSION = "v1.0-mini"


@pytest.fixture(scope="module")
def scene(nuscenes_dataset):
    return open_nuscenes_scene(nuscenes_dataset.dataroot, VERSION, "scene-0001")


def _box_pixels(agent, t, camera, frame):
    """Pixel bbox (u0, v0, u1, v1) and camera-frame depth range of an agent's box (all corners in front)."""
    c = agent.box_corners_3d(t)
    m = camera.camera_from_world(frame.world_from_ego)
    pc = m[:3, :3] @ c + m[:3, 3:4]
    uv = camera.project(pc)
    return (uv[0].min(), uv[1].min(), uv[0].max(), uv[1].max()), (pc[2].min(), pc[2].max())


def test_lidar_lands_on_the_annotated_objects_at_their_depth(scene, nuscenes_dataset):
    rig = real_rig(scene, (320, 180))
    cam = rig["CAM_FRONT"]
    token = nuscenes_dataset.scene("scene-0001").instance_tokens["lead_car"]
    lead = next(a for a in scene.scenario.agents if a.behavior_params["instance_token"] == token)
    k = 6
    frame = scene.frame(k, "CAM_FRONT")
    sparse = lidar_sparse_depth(scene.sweeps_for(frame), frame, cam)
    assert sparse.shape == (180, 320) and sparse.dtype == np.float32
    (u0, v0, u1, v1), (zmin, zmax) = _box_pixels(lead, frame.offset_s + k / 12, cam, frame)
    inner = sparse[int(v0) + 2:int(v1) - 1, int(u0) + 2:int(u1) - 1]
    hits = inner[inner > 0]
    assert hits.size >= 5, "the lead car is seen by the LiDAR"
    assert np.all((hits > zmin - 0.3) & (hits < zmax + 0.3)), (hits, zmin, zmax)


def test_densified_depth_fills_between_beams_and_keeps_the_scale(scene):
    rig = real_rig(scene, (320, 180))
    cam = rig["CAM_FRONT"]
    frame = scene.frame(0, "CAM_FRONT")
    sparse = lidar_sparse_depth(scene.sweeps_for(frame), frame, cam)
    gap = beam_gap_pixels(cam.K[1, 1])
    for method in ("ipbasic", "nearest"):
        dense = densify_depth(sparse, method, gap)
        lower = dense[110:, :]                               # road below the horizon
        assert (lower > 0).mean() > 0.97, method
        assert (sparse[110:] > 0).mean() < 0.35               # the input was sparse there
        m = sparse > 0
        rel = np.abs(dense[m] - sparse[m]) / sparse[m]
        assert np.median(rel) < 0.05, method
        assert (dense[:5] == 0).mean() > 0.5, "the sky above the highest beam stays unknown"
    with pytest.raises(ValueError, match="unknown densification method 'bilinear'"):
        densify_depth(sparse, "bilinear")


def test_real_backgrounds_use_the_scene_rig_and_every_camera(scene):
    rig = real_rig(scene, (160, 96))
    bgs = real_backgrounds(scene, 5, rig)
    assert list(bgs) == list(rig.names) and len(bgs) == 6
    for bg in bgs.values():
        assert bg.image.shape == (96, 160, 3) and bg.image.dtype == np.uint8
        assert bg.depth.shape == (96, 160) and bg.depth.dtype == np.float32
        assert (bg.depth > 0).mean() > 0.6 and bg.depth.max() < 100
    maps = real_frame_maps(scene, 5, rig)
    m = maps["CAM_FRONT"]
    assert m.depth_source == "lidar" and m.edge.dtype == np.uint8 and set(np.unique(m.edge)) <= {0, 255}
    assert (m.edge > 0).sum() > 50
    has = m.normal.any(axis=-1)
    assert has[m.depth > 0].mean() > 0.9 and not has[m.depth == 0].any()
    assert np.allclose(np.linalg.norm(m.normal[has], axis=-1), 1.0, atol=1e-3)
    ground = m.normal[80:, 60:100][m.depth[80:, 60:100] > 0]
    assert np.median(ground[:, 1]) < -0.8, "road normals point up (-y in camera axes)"


def test_alignment_recovers_metric_depth_from_relative_disparity():
    rng = np.random.default_rng(0)
    z = rng.uniform(3, 60, (40, 50)).astype(np.float32)
    pred = (0.8 / z + 0.05).astype(np.float32)                   # disparity up to scale and shift
    sparse = np.where(rng.random(z.shape) < 0.1, z, 0).astype(np.float32)
    sparse[sparse > 0][:5] *= 3.0                                # a few outliers
    out = align_to_sparse(pred, sparse, "relative")
    assert np.allclose(out, z, rtol=1e-3)
    assert align_to_sparse(pred, np.zeros_like(sparse), "relative") is None
    metric = align_to_sparse(z * 0.5, sparse, "metric")
    assert np.allclose(metric, z, rtol=1e-4)


@pytest.fixture(scope="module")
def tiny_depth_model(tmp_path_factory):
    """A seeded Depth Anything with random weights, saved like a downloaded model (no network)."""
    torch = pytest.importorskip("torch")
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config, DPTImageProcessor

    folder = tmp_path_factory.mktemp("tiny_depth_anything")
    backbone = Dinov2Config(image_size=56, patch_size=14, hidden_size=32, num_hidden_layers=4, num_attention_heads=2,
                            intermediate_size=64, out_features=["stage1", "stage2", "stage3", "stage4"],
                            reshape_hidden_states=False)
    config = DepthAnythingConfig(backbone_config=backbone, reassemble_hidden_size=32, patch_size=14,
                                 neck_hidden_sizes=[16, 16, 16, 16], fusion_hidden_size=16, head_hidden_size=8)
    torch.manual_seed(0)
    DepthAnythingForDepthEstimation(config).save_pretrained(folder)
    DPTImageProcessor(size={"height": 56, "width": 56}, keep_aspect_ratio=True, ensure_multiple_of=14).save_pretrained(folder)
    return folder


def test_monocular_model_from_a_local_folder(scene, tiny_depth_model, tmp_path):
    model = MonocularDepthModel.load(tiny_depth_model)
    assert model.kind == "relative"
    img = scene.image(0, "CAM_FRONT", (160, 96))
    pred = model.predict(img)
    assert pred.shape == (96, 160) and np.isfinite(pred).all()
    cam = real_rig(scene, (160, 96))["CAM_FRONT"]
    d = real_depth(scene, 0, cam, img, RealDepthSettings(source="mono", model_dir=str(tiny_depth_model)))
    assert d.source == "mono+lidar" and d.depth.shape == (96, 160) and (d.lidar > 0).sum() > 30
    with pytest.raises(DepthModelError, match="does not exist"):
        real_depth(scene, 0, cam, img, RealDepthSettings(source="mono", model_dir=str(tmp_path / "missing")))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{}")
    fallback = real_depth(scene, 0, cam, img, RealDepthSettings(source="auto", model_dir=str(tmp_path / "broken")))
    assert fallback.source == "lidar"
