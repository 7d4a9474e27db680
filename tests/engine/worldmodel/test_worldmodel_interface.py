"""The backend interface: settings, device choice, conditions validation, clip access by camera name."""
from __future__ import annotations

import numpy as np
import pytest

from engine.rig import PANORAMA_ORDER
from engine.worldmodel import (
    ConditionsError,
    DeviceError,
    GeneratedClip,
    GenerationSettings,
    ModelLoadError,
    ModelNotConfiguredError,
    create_backend,
)
from engine.worldmodel.conditions import DEPTH_SCALE, GUIDANCE_CHANNELS, LAYOUT_CHANNELS
from engine.worldmodel.device import resolve_device
from wm_helpers import SMALL, plane_conditions, plane_frames


@pytest.mark.parametrize("kwargs, field", [
    ({"steps": 0}, "steps"), ({"guidance_scale": -1.0}, "guidance_scale"), ({"seed": -3}, "seed"),
    ({"device": "tpu"}, "device"), ({"dtype": "int8"}, "dtype"), ({"preview_every": -1}, "preview_every"),
])
def test_settings_name_the_bad_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        GenerationSettings(**kwargs)


def test_cpu_is_float32_and_missing_cuda_is_a_clear_error():
    import torch

    dev, dt = resolve_device("cpu", "auto")
    assert dev.type == "cpu" and dt == torch.float32
    if not torch.cuda.is_available():
        assert resolve_device("auto")[0].type == "cpu"
        with pytest.raises(DeviceError, match="CUDA"):
            resolve_device("cuda")
    with pytest.raises(DeviceError, match="float16"):
        resolve_device("cpu", "float16")


def test_unknown_backend_and_missing_model_folder_are_explained(tmp_path):
    with pytest.raises(ValueError, match="naive, diffusion"):
        create_backend("magic")
    with pytest.raises(ModelNotConfiguredError, match="naive backend works"):
        create_backend("diffusion", None)
    with pytest.raises(ModelLoadError, match="does not exist"):
        create_backend("diffusion", tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="model_index.json"):
        create_backend("diffusion", tmp_path / "empty")


def test_frame_validation_names_field_frame_and_shape(small_rig):
    import dataclasses

    good = plane_frames(small_rig, 1)[0]
    bad = dataclasses.replace(good, index=4, edge=np.zeros((6, 32, 63), np.uint8))
    with pytest.raises(ConditionsError, match=r"frame 4: edge has shape \(6, 32, 63\), expected \(6, 32, 64\)"):
        bad.validate(6, 64, 32)
    with pytest.raises(ConditionsError, match="inserted has dtype"):
        dataclasses.replace(good, inserted=np.zeros((6, 32, 64), np.uint8)).validate(6, 64, 32)
    with pytest.raises(ConditionsError, match="NaN"):
        d = good.depth.copy()
        d[0, 0, 0] = np.nan
        dataclasses.replace(good, depth=d).validate(6, 64, 32)
    with pytest.raises(ConditionsError, match="background_depth"):
        dataclasses.replace(good, background=good.shaded).validate(6, 64, 32)


def test_guidance_blanks_depth_and_normals_inside_inserted_objects(small_rig):
    import dataclasses

    f = plane_frames(small_rig, 1)[0]
    ins = np.zeros_like(f.inserted)
    ins[1, 20:30, 10:20] = True
    obj = np.zeros_like(f.object)
    obj[ins] = (200, 10, 10)
    f = dataclasses.replace(f, inserted=ins, object=obj)
    g = f.guidance
    assert g.shape == (6, 32, 64, len(GUIDANCE_CHANNELS)) and g.dtype == np.float32
    assert g.min() >= 0 and g.max() <= 1
    assert np.all(g[1, 20:30, 10:20, 0:4] == 0)                 # D and N blanked
    assert np.all(g[1, 20:30, 10:20, 8] == 1)                   # M
    assert np.allclose(g[1, 25, 15, 5:8], np.array([200, 10, 10]) / 255)  # O
    # outside the object: disparity-like depth, 0 where nothing was hit
    z = f.depth[1, 31, 40]
    assert np.isfinite(z) and g[1, 31, 40, 0] == pytest.approx(DEPTH_SCALE / (DEPTH_SCALE + z), rel=1e-5)
    assert g[1, 0, 40, 0] == 0.0 and not np.isfinite(f.depth[1, 0, 40])
    assert f.layout.shape == (6, 32, 64, len(LAYOUT_CHANNELS))


def test_clip_addresses_cameras_by_name():
    frames = np.zeros((2, 6, 4, 8, 3), np.uint8)
    for k in range(6):
        frames[:, k] = k * 10
    clip = GeneratedClip(frames, PANORAMA_ORDER, 12.0, "naive", 0)
    assert clip.camera("CAM_BACK").max() == 40
    assert list(clip.by_camera()) == list(PANORAMA_ORDER)
    pano = clip.panorama(0)
    assert pano.shape == (4, 48, 3) and pano[0, 8, 0] == 10 and pano[0, 47, 0] == 50
    with pytest.raises(KeyError, match="CAM_TOP"):
        clip.camera("CAM_TOP")
    with pytest.raises(ValueError, match="camera names"):
        GeneratedClip(frames, PANORAMA_ORDER[:5], 12.0, "naive", 0)


def test_conditions_keep_panorama_order():
    c = plane_conditions(SMALL, 1)
    assert c.camera_names == PANORAMA_ORDER
    assert c.image_size == SMALL and c.num_frames == 1
    with pytest.raises(IndexError):
        c.frame(1)
