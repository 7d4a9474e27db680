"""Colourised views of the maps and the contact sheet."""
from __future__ import annotations

import numpy as np

from engine.classes import CLASS_COLORS, class_index
from engine.render.frame import MAP_NAMES, decode_normals, encode_normals
from engine.render.sheet import SHEET_MAPS, contact_sheet
from engine.render.visualize import colorize, colorize_boxes, colorize_depth, colorize_instances


def test_every_map_has_a_colour_view(renderer, demo_scenario):
    renderer.set_scenario(demo_scenario)
    frame = renderer.render(1.0)
    m = frame["CAM_FRONT"]
    for name in MAP_NAMES:
        img = colorize(m, name)
        assert img.shape == (256, 448, 3) and img.dtype == np.uint8, name
    sheet = contact_sheet(frame, scale=0.25)
    assert sheet.shape[0] >= len(SHEET_MAPS) * 64 and sheet.shape[1] >= 6 * 112
    assert sheet.std() > 20


def test_depth_colours_near_warm_far_cool_and_none_black():
    d = np.array([[2.0, 20.0, 150.0, 0.0]], np.float32)
    img = colorize_depth(d).astype(int)
    assert img[0, 0, 0] > img[0, 0, 2] and img[0, 2, 2] > img[0, 2, 0]
    assert (img[0, 3] == 0).all()


def test_instances_and_boxes_colours():
    ids = np.array([[0, 1, 2, 1]])
    c = colorize_instances(ids)
    assert (c[0, 0] == 0).all() and (c[0, 1] == c[0, 3]).all() and (c[0, 1] != c[0, 2]).any()
    boxes = np.zeros((1, 2, 10), np.uint8)
    boxes[0, 0, class_index("bus")] = 255
    out = colorize_boxes(boxes)
    assert tuple(out[0, 0]) == CLASS_COLORS["bus"] and (out[0, 1] == 0).all()


def test_normal_encoding_round_trip():
    n = np.array([[0.0, -1.0, 0.0], [0.6, 0.0, -0.8], [0.0, 0.0, 0.0]])
    back = decode_normals(encode_normals(n))
    np.testing.assert_allclose(back, n, atol=1e-2)
    assert (back[2] == 0).all()
