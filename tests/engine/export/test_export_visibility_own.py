"""Visibility is the visible part of the object's own silhouette: a thin pedestrian half behind a car gets
the bin of its rendered visible fraction (pixels seen in the scene / pixels when rendered alone)."""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from engine.classes import default_size
from engine.export.nuscenes_schema import VISIBILITY_BINS
from engine.export.visibility import visible_fractions
from engine.render.guidance import GuidanceRenderer
from engine.rig import CameraRig
from engine.scenario.model import Agent
from engine.scenario.trajectory import Trajectory

SIZE = (320, 180)


def _ahead(ego_pose, forward: float, left: float):
    x, y, yaw = ego_pose
    return x + forward * np.cos(yaw) - left * np.sin(yaw), y + forward * np.sin(yaw) + left * np.cos(yaw), yaw


@pytest.mark.parametrize("left", [1.5, 1.7])
def test_a_thin_object_partly_behind_a_car_gets_the_bin_of_its_visible_fraction(demo_scenario, tmp_path, left):
    from engine.export.pipeline import ExportSettings, export_nuscenes

    ego = demo_scenario.ego.trajectory.pose_at(0.0)
    cx, cy, cyaw = _ahead(ego, 11.0, 0.0)
    px, py, pyaw = _ahead(ego, 15.0, left)
    car = Agent("car_front", "car", default_size("car"), Trajectory.static(cx, cy, cyaw, 0.0, 1.0))
    ped = Agent("ped", "pedestrian", default_size("pedestrian"), Trajectory.static(px, py, pyaw + 1.57, 0.0, 1.0))
    scenario = replace(demo_scenario, agents=(car, ped), duration=1 / 12)
    rig = CameraRig.default(SIZE)
    # the truth: the pedestrian's pixels in the scene over its pixels rendered alone (all cameras)
    with GuidanceRenderer(rig) as r:
        r.set_scenario(scenario)
        full = r.render(0.0)
        seen = sum(int(full.instance_mask("ped", n).sum()) for n in rig.names)
        r.set_scenario(replace(scenario, agents=(ped,)))
        alone = sum(int(r.render(0.0).instance_mask("ped", n).sum()) for n in rig.names)
        ids = full.instance_ids
        inst = np.stack([full[n].instance for n in rig.names])
        depth = np.stack([full[n].depth for n in rig.names])
    truth = seen / alone
    assert alone > 50 and 0.1 < truth < 0.9, (seen, alone)
    res = export_nuscenes(scenario, tmp_path, ExportSettings(size=SIZE, videos=False, guidance=False,
                                                            openscenario=False))
    manifest = json.loads(res.manifest_path.read_text())
    assert manifest["visibility"]["0:ped"] == pytest.approx(truth, abs=1e-3)
    from nuscenes.nuscenes import NuScenes

    nusc = NuScenes(version=res.version, dataroot=str(tmp_path), verbose=False)
    agent_of = manifest["instances"]
    ann = next(a for a in nusc.sample_annotation if agent_of[a["instance_token"]] == "ped")
    token, lo, hi = next((tok, lo, hi) for tok, _, lo, hi, _ in VISIBILITY_BINS if tok == ann["visibility_token"])
    assert lo <= truth <= hi or (hi == 1.0 and truth == 1.0), (truth, token, lo, hi)
    # the box-based measure (pixels of the box not covered by the nearer car) undercounts a thin object
    boxed = visible_fractions(scenario.agents, 0.0, rig, np.asarray(full.world_from_ego), inst, ids, depth)["ped"]
    assert boxed < truth
