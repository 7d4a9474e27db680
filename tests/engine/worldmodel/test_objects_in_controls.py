"""Public ControlNets never learnt Dream4Drive's O/M channels: a converted folder must feed them the
inserted objects inside D, N and E, or the asset would vanish from its depth/canny controls; a folder
trained on the blanked stack keeps the blanked stack."""
from __future__ import annotations

import numpy as np
import torch

from engine.conditions.clip import DEPTH_SCALE, FrameConditions
from engine.worldmodel.diffusion.tensors import frame_control


def _frame() -> FrameConditions:
    v, h, w = 2, 32, 48
    depth = np.full((v, h, w), 40.0, np.float32)
    inserted = np.zeros((v, h, w), bool)
    inserted[0, 10:20, 15:30] = True              # a box-shaped asset 8 m away in view 0
    depth[inserted] = 8.0
    normal = np.full((v, h, w, 3), 127, np.uint8)
    normal[..., 2] = 60
    obj = np.zeros((v, h, w, 3), np.uint8)
    obj[inserted] = (200, 40, 40)
    obj[0, 14:16, 15:30] = (30, 30, 220)            # a stripe across the asset: an inner edge
    edge = np.zeros((v, h, w), np.uint8)            # the renderer blanks edges inside inserted objects
    return FrameConditions(index=0, time=0.0, depth=depth, normal=normal, edge=edge, object=obj,
                           inserted=inserted, boxes=np.zeros((v, h, w, 10), np.uint8),
                           hdmap=np.zeros((v, h, w, 3), np.uint8))


def test_blanked_stack_hides_the_asset_and_the_object_stack_keeps_it():
    f = _frame()
    m = f.inserted
    blank, full = f.guidance, f.guidance_with_objects
    assert np.all(blank[..., 0][m] == 0.0)                                       # Dream4Drive: D blanked
    np.testing.assert_allclose(full[..., 0][m], DEPTH_SCALE / (DEPTH_SCALE + 8.0), rtol=1e-6)
    np.testing.assert_allclose(full[..., 0][~m], blank[..., 0][~m])             # background unchanged
    assert np.all(blank[..., 1:4][m] == 0.0) and np.all(full[..., 1:4][m] > 0.0)
    # the asset's outline and its inner colour edge appear in E; nothing is drawn away from it
    e = full[0, ..., 4]
    assert e[10:20, 15].max() == 1.0 and e[12:18, 22].max() == 1.0
    assert e[:8].max() == 0.0 and full[1, ..., 4].max() == 0.0
    np.testing.assert_array_equal(full[..., 5:], blank[..., 5:])                 # O and M as they were


def test_frame_control_switches_the_stack():
    f = _frame()
    rays = np.zeros((2, 32, 48, 3), np.float32)
    env = torch.zeros(1, 7)
    blank = frame_control(f, rays, env).dense
    full = frame_control(f, rays, env, objects_in_controls=True).dense
    assert blank.shape == full.shape == (1, 9, 32, 96)
    assert float(blank[0, 0, 10:20, 15:30].max()) == 0.0
    assert float(full[0, 0, 10:20, 15:30].min()) > 0.5

