"""Per-render agent placement: vectorised poses agree with the per-agent nuscenes-devkit path."""
from __future__ import annotations

import numpy as np

from engine.render.agent_poses import Placement
from engine.rig import CameraRig, agent_model_matrix, ego_pose
from engine.rig.projection import agent_box


def test_placement_matches_devkit_boxes_and_model_matrices(demo_scenario):
    rig = CameraRig.default((448, 256))
    t = 1.7
    agents = list(demo_scenario.agents)
    pl = Placement.build(agents, t, rig, ego_pose(demo_scenario, t), reach=0.5)
    for i, a in enumerate(agents):
        np.testing.assert_allclose(pl.models[i], agent_model_matrix(a, t), atol=1e-9)
        np.testing.assert_allclose(pl.corners[i], agent_box(a, t).corners().T, atol=1e-9)
        rot = pl.models[i][:3, :3] / np.array([a.length, a.width, a.height])   # columns: box axes in the world
        ext = np.ptp(pl.grown[i] @ rot, axis=0)                                 # grown box in its own frame
        np.testing.assert_allclose(ext, [a.length + 1.0, a.width + 1.0, a.height], atol=1e-9)
    # the cut-in car ahead is seen by CAM_FRONT, not by CAM_BACK
    k_front, k_back = rig.index("CAM_FRONT"), rig.index("CAM_BACK")
    i = [a.id for a in agents].index("car_1")
    assert pl.visible[k_front, i] and not pl.visible[k_back, i]
