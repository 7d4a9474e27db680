"""The naive backend: shape and camera order, determinism, cancel, and what each environment does."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.rig import PANORAMA_ORDER
from engine.scenario.model import Environment
from engine.worldmodel import (
    CancelToken,
    FrameReady,
    GenerationCancelled,
    GenerationDone,
    GenerationSettings,
    StepProgress,
    create_backend,
    generate_clip,
)
from engine.worldmodel.conditions import AgentState, ClipConditions
from engine.worldmodel.naive.effects import composite_over_background
from wm_helpers import SMALL, plane_conditions, plane_frames


def _run(env: Environment, seed: int = 0, n: int = 3, **kw):
    return generate_clip(create_backend("naive"), plane_conditions(SMALL, n, env, **kw), GenerationSettings(seed=seed))


def test_shape_camera_order_and_event_sequence():
    conditions = plane_conditions(SMALL, 3)
    events = list(create_backend("naive").generate(conditions, GenerationSettings()))
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["StepProgress", "FrameReady"] * 3 + ["GenerationDone"]
    clip = events[-1].clip
    assert clip.frames.shape == (3, 6, 32, 64, 3) and clip.frames.dtype == np.uint8
    assert clip.camera_names == PANORAMA_ORDER
    # a clear day on a day render is the shaded pass itself, each view from its own camera
    for k, name in enumerate(PANORAMA_ORDER):
        assert np.all(clip.camera(name)[..., 0] == 30 * k + 20)
    assert [e.frame for e in events if isinstance(e, FrameReady)] == [0, 1, 2]
    assert events[0].fraction == pytest.approx(1 / 3)


def test_same_seed_same_frames_other_seed_other_rain():
    env = Environment("day", "rain")
    a, b, c = _run(env, 5), _run(env, 5), _run(env, 6)
    assert np.array_equal(a.frames, b.frames)
    assert not np.array_equal(a.frames, c.frames)


def test_cancel_stops_before_the_next_frame():
    token = CancelToken()
    seen = []
    gen = create_backend("naive").generate(plane_conditions(SMALL, 5), GenerationSettings(), token)
    with pytest.raises(GenerationCancelled):
        for ev in gen:
            seen.append(ev)
            if isinstance(ev, FrameReady) and ev.frame == 1:
                token.cancel()
    assert [e.frame for e in seen if isinstance(e, FrameReady)] == [0, 1]
    assert not any(isinstance(e, GenerationDone) for e in seen)


def _ground_pixel(frames, cam: int):
    """Row/col of a road pixel a few metres ahead of a camera (bottom centre of the image)."""
    return frames[0, cam, -2, SMALL[0] // 2].astype(float)


def test_night_is_darker_and_low_beams_light_the_road_ahead():
    day = _run(Environment("day", "clear"))
    night = _run(Environment("night", "clear"))
    assert night.frames.mean() < 0.4 * day.frames.mean()
    front, back = PANORAMA_ORDER.index("CAM_FRONT"), PANORAMA_ORDER.index("CAM_BACK")
    # same grey road under both cameras in the input; only the front one is in the ego's beams
    lit_rgb, unlit_rgb = _ground_pixel(night.frames, front), _ground_pixel(night.frames, back)
    assert lit_rgb[1:].mean() > 1.5 * unlit_rgb[1:].mean()
    gain = lit_rgb / np.maximum(unlit_rgb, 1)
    assert gain[1] > gain[2]          # warm lamp light: green (and red) rise more than blue


def test_vehicle_lamps_glow_at_night_only_when_facing_the_camera():
    # an oncoming car 15 m ahead, facing the ego: its head lamps are in CAM_FRONT
    oncoming = AgentState("car_1", "car", (15.0, 0.0, 0.78), (1.9, 4.6, 1.56), np.pi)
    away = dataclasses.replace(oncoming, yaw=0.0)  # same place, driving away: red tail lamps instead
    f = PANORAMA_ORDER.index("CAM_FRONT")
    on = _run(Environment("night", "clear"), agents=(oncoming,)).frames[0, f].astype(int)
    off = _run(Environment("night", "clear")).frames[0, f].astype(int)
    tail = _run(Environment("night", "clear"), agents=(away,)).frames[0, f].astype(int)
    glow = on - off
    assert glow.max() > 60 and (glow[..., 2] > 40).sum() > 4        # white-ish: blue rises too
    red = tail - off
    assert red[..., 0].max() > 40 and red[..., 0].max() > 3 * max(red[..., 2].max(), 1)


def test_fog_hides_distance_more_than_the_near_road():
    clear = _run(Environment("day", "clear")).frames[0, 1].astype(float)
    fog = _run(Environment("day", "fog")).frames[0, 1].astype(float)
    fog_colour = np.array([0.72, 0.74, 0.77]) * 255
    near = np.abs(fog[-1] - fog_colour).mean()              # bottom row: road close by
    horizon_row = next(r for r in range(SMALL[1]) if np.isfinite(plane_frames_depth()[1, r]).all())
    far = np.abs(fog[horizon_row] - fog_colour).mean()      # first road row: far away
    assert far < near
    assert np.abs(fog - clear).mean() > 10


def plane_frames_depth():
    from engine.rig import CameraRig

    return plane_frames(CameraRig.default(SMALL), 1)[0].depth


@pytest.mark.parametrize("weather", ["rain", "snow"])
def test_precipitation_moves_between_frames(weather):
    clip = _run(Environment("day", weather), n=2)
    dry = _run(Environment("day", "clear"), n=2)
    assert not np.array_equal(clip.frames[0], clip.frames[1])       # streaks / flakes fall
    assert np.array_equal(dry.frames[0], dry.frames[1])             # the scene itself is static


def test_composite_respects_background_depth():
    shaded = np.full((1, 2, 3, 3), 200, np.uint8)
    bg = np.full((1, 2, 3, 3), 50, np.uint8)
    obj = np.array([[[True, True, False], [True, False, False]]])
    depth = np.full((1, 2, 3), 10.0, np.float32)
    bg_depth = np.array([[[5.0, 20.0, 1.0], [0.0, 3.0, 3.0]]], np.float32)   # 0 = unknown
    out, d = composite_over_background(shaded, depth, obj, bg, bg_depth)
    assert out[0, 0, 0, 0] == 50      # real surface nearer: the object is hidden
    assert out[0, 0, 1, 0] == 200     # object nearer: pasted
    assert out[0, 0, 2, 0] == 50      # not an object pixel
    assert out[0, 1, 0, 0] == 200     # unknown background depth: the object wins
    assert d[0, 0, 1] == 10.0 and d[0, 0, 0] == 5.0


def test_contact_shadow_darkens_the_real_ground_next_to_an_inserted_object():
    car = AgentState("car_1", "car", (8.0, 0.0, 0.78), (1.9, 4.6, 1.56), 0.0)
    plain = _run(Environment("day", "clear"), agents=(car,))
    shadowed = _run(Environment("day", "clear"), agents=(car,), real_background=True)
    f = PANORAMA_ORDER.index("CAM_FRONT")
    diff = plain.frames[0, f].astype(int) - shadowed.frames[0, f].astype(int)
    assert diff.max() > 20 and (diff < 0).sum() == 0
    assert np.array_equal(plain.frames[0, 4], shadowed.frames[0, 4])   # CAM_BACK sees no shadow


def test_missing_shaded_pass_is_a_clear_error(small_rig):
    frames = [dataclasses.replace(f, shaded=None) for f in plane_frames(small_rig, 1)]
    c = ClipConditions.from_frames(small_rig, frames, 12.0)
    with pytest.raises(Exception, match="shaded"):
        generate_clip(create_backend("naive"), c)


def test_previews_come_with_steps_unless_disabled():
    c = plane_conditions(SMALL, 1)
    ev = next(iter(create_backend("naive").generate(c, GenerationSettings())))
    assert isinstance(ev, StepProgress) and ev.preview.shape == (6, 32, 64, 3)
    ev = next(iter(create_backend("naive").generate(c, GenerationSettings(preview_every=0))))
    assert ev.preview is None
