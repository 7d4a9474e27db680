"""Inserted assets against real depth: hidden behind real objects, drawn in front of them, D/N/E blanked."""
from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from engine.conditions import clip_conditions
from engine.realscene.backgrounds import (
    RealBackgroundSource, real_backgrounds, real_rig, render_real_frame, without_recorded,
)
from engine.render.guidance import Background, GuidanceRenderer
from engine.scenario.model import Agent
from engine.scenario.trajectory import Trajectory
from engine.sources import open_nuscenes_scene

VERSION = "v1.0-mini"
SIZE = (320, 180)


@pytest.fixture(scope="module")
def scene(nuscenes_dataset):
    return open_nuscenes_scene(nuscenes_dataset.dataroot, VERSION, "scene-0001", duration=1.0)


def _shifted(agent: Agent, new_id: str, forward: float, left: float = 0.0) -> Agent:
    """A copy of an agent's motion moved `forward` / `left` metres in its own frame at every key."""
    pts = []
    for p in agent.trajectory.points:
        c, s = np.cos(p.yaw), np.sin(p.yaw)
        pts.append(type(p)(p.t, p.x + c * forward - s * left, p.y + s * forward + c * left, p.yaw, p.v))
    return Agent(new_id, "car", (1.95, 4.6, 1.72), Trajectory(tuple(pts)))


def _agent(scene, nuscenes_dataset, name: str) -> Agent:
    token = nuscenes_dataset.scene("scene-0001").instance_tokens[name]
    return next(a for a in scene.scenario.agents if a.behavior_params["instance_token"] == token)


def _render(scene, scenario, index: int, depth_known: bool):
    rig = real_rig(scene, SIZE)
    with GuidanceRenderer(rig) as r:
        r.set_scenario(scenario)
        if depth_known:
            return render_real_frame(r, scene, index)
        bgs = real_backgrounds(scene, index, rig)
        r.set_backgrounds({k: Background(b.image, np.zeros_like(b.depth)) for k, b in bgs.items()})
        return r.render_frame(index)


def test_inserted_car_behind_a_real_car_is_hidden_and_one_in_front_of_a_real_truck_is_not(scene, nuscenes_dataset):
    lead = _agent(scene, nuscenes_dataset, "lead_car")
    truck = _agent(scene, nuscenes_dataset, "parked_truck")
    hidden = _shifted(lead, "car_behind", forward=9.0)                # same lane, 9 m behind the real lead car
    x, y, yaw = truck.trajectory.pose_at(0.0)
    front = Agent("car_front", "car", (1.95, 4.6, 1.72),
                  Trajectory.static(x - 11.0 * np.cos(yaw), y - 11.0 * np.sin(yaw), yaw, 0.0, 1.0))  # before the truck
    # only the ego and the inserted cars: whatever hides them is the real depth, not a rendered mesh
    edited = replace(scene.scenario, agents=(hidden, front))
    real = _render(scene, edited, 0, depth_known=True)
    free = _render(scene, edited, 0, depth_known=False)
    n_hidden_free = free.instance_mask("car_behind", "CAM_FRONT").sum()
    n_hidden_real = real.instance_mask("car_behind", "CAM_FRONT").sum()
    assert n_hidden_free > 100, "without real depth the car behind would be drawn"
    assert n_hidden_real <= 0.1 * n_hidden_free, (n_hidden_real, n_hidden_free)
    n_front_free = free.instance_mask("car_front", "CAM_FRONT").sum()
    n_front_real = real.instance_mask("car_front", "CAM_FRONT").sum()
    assert n_front_free > 100 and n_front_real >= 0.9 * n_front_free, (n_front_real, n_front_free)
    m = real["CAM_FRONT"]
    ins = m.inserted
    assert ins.sum() == n_hidden_real + n_front_real
    assert np.all(m.depth[ins] == 0) and not m.normal[ins].any() and np.all(m.edge[ins] == 0)
    assert np.all(m.object[~ins] == 0) and m.object[ins].any()
    # outside the inserted pixels the maps are the real frame's (the rgb but for contact shadows)
    bg = real_backgrounds(scene, 0, real_rig(scene, SIZE))["CAM_FRONT"]
    assert (m.rgb[~ins] == bg.image[~ins]).all(axis=-1).mean() > 0.95
    assert np.allclose(m.depth[~ins], bg.depth[~ins], atol=1e-4)


def test_naive_world_model_composites_the_inserted_car_into_the_real_frames(scene, nuscenes_dataset):
    from engine.worldmodel import GenerationSettings, create_backend, generate_clip

    lead = _agent(scene, nuscenes_dataset, "lead_car")
    beside = _shifted(lead, "car_beside", forward=-6.0, left=3.5)     # next lane, visible in CAM_FRONT
    edited = scene.scenario.with_agent(beside)
    edited = replace(edited, duration=2 / 12)                        # two frames are enough
    with clip_conditions(edited, SIZE) as cond:
        clip = generate_clip(create_backend("naive"), cond, GenerationSettings(seed=0))
        cond_agents = cond.frame(0).agents
    assert clip.frames.shape == (2, 6, SIZE[1], SIZE[0], 3)
    rig = real_rig(scene, SIZE)
    reals = RealBackgroundSource(scene, rig)(0)
    with GuidanceRenderer(rig) as r:
        r.set_scenario(without_recorded(edited))
        g = render_real_frame(r, scene, 0)
    mask = g.instance_mask("car_beside", "CAM_FRONT")
    assert mask.sum() > 100
    k = rig.index("CAM_FRONT")
    real, out = reals["CAM_FRONT"].image.astype(int), clip.frames[0, k].astype(int)
    inside = np.abs(out[mask] - real[mask]).mean()
    outside = np.abs(out[~mask] - real[~mask]).mean()
    assert inside > 3 * outside + 5, (inside, outside)
    # the recorded agents are not painted over their own real images: away from the inserted car
    # (and its contact shadow) every camera shows the real frame
    for i, name in enumerate(rig.names):
        near = cv2.dilate(g.instance_mask("car_beside", name).astype(np.uint8), np.ones((41, 41), np.uint8)).astype(bool)
        changed = np.abs(clip.frames[0, i].astype(int) - reals[name].image.astype(int)).max(axis=-1) > 10
        assert changed[~near].mean() < 0.001, name
    assert len(cond_agents) == len([a for a in edited.agents if a.trajectory.covers(0.0)])
