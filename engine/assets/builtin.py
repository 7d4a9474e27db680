"""Procedural meshes for the ten nuScenes classes, built from trimesh primitives with vertex colours.

Each builder works in the canonical frame (x forward, y left, z up, metres) at the class's default
box size [w, l, h]; `build_class_mesh` then scales the result to fill that box exactly (centred in
x and y, bottom at z = 0). `tools/make_assets.py` stores them as GLB files in resources/assets/.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import trimesh

from engine.assets.normalize import fit_to_box
from engine.assets.primitives import (
    box, concatenate, disc, extrude_profile_y, frustum, hull, ring_wheel, sphere, tube, wheel,
)
from engine.classes import class_names, default_size

GLASS = (38, 52, 66)
TYRE = (28, 28, 30)
DARK = (45, 45, 48)
CHROME = (175, 178, 182)
HEADLIGHT = (250, 248, 225)
TAILLIGHT = (200, 20, 25)


def _car(w: float, l: float, h: float) -> list[trimesh.Trimesh]:
    body_rgb = (30, 92, 170)
    r = 0.33
    hl, hw = l / 2, w / 2
    parts = []
    for x in (hl - 0.85, -hl + 0.85):
        for y in (hw - 0.14, -hw + 0.14):
            parts += wheel(r, 0.24, (x, y, r))
    z0, zb = 0.22, 0.92  # body bottom, belt line
    parts.append(hull([
        [hl, hw - 0.1, 0.35], [hl, -hw + 0.1, 0.35], [hl - 0.05, hw - 0.08, 0.78], [hl - 0.05, -hw + 0.08, 0.78],
        [hl - 0.9, hw, zb], [hl - 0.9, -hw, zb], [-hl + 0.05, hw, zb], [-hl + 0.05, -hw, zb],
        [-hl, hw - 0.08, 0.35], [-hl, -hw + 0.08, 0.35], [hl - 0.2, hw - 0.05, z0], [hl - 0.2, -hw + 0.05, z0],
        [-hl + 0.2, hw - 0.05, z0], [-hl + 0.2, -hw + 0.05, z0],
    ], body_rgb))
    # greenhouse: dark glass, with a body-coloured roof and pillars on top of it
    g_front, g_back, top_front, top_back = hl - 1.05, -hl + 0.35, hl - 1.95, -hl + 0.75
    parts.append(hull([
        [g_front, hw - 0.08, zb], [g_front, -hw + 0.08, zb], [g_back, hw - 0.08, zb], [g_back, -hw + 0.08, zb],
        [top_front, hw - 0.22, h - 0.03], [top_front, -hw + 0.22, h - 0.03],
        [top_back, hw - 0.22, h - 0.03], [top_back, -hw + 0.22, h - 0.03],
    ], GLASS))
    parts.append(box((top_front - top_back + 0.1, w - 0.42, 0.05), ((top_front + top_back) / 2, 0, h - 0.025), body_rgb))
    for y in (hw - 0.12, -hw + 0.12):  # B pillars
        parts.append(box((0.12, 0.06, h - zb - 0.05), ((top_front + top_back) / 2 - 0.1, y * 0.93, (h + zb) / 2), body_rgb))
    for y in (0.62, -0.62):
        parts.append(box((0.04, 0.36, 0.12), (hl - 0.03, y, 0.68), HEADLIGHT))
        parts.append(box((0.04, 0.34, 0.12), (-hl + 0.04, y, 0.74), TAILLIGHT))
        parts.append(box((0.18, 0.1, 0.1), (g_front - 0.05, np.sign(y) * (hw + 0.02), zb + 0.05), body_rgb))  # mirrors
    parts.append(box((0.04, 0.7, 0.16), (hl - 0.02, 0, 0.52), DARK))  # grille
    parts.append(box((0.03, 0.5, 0.12), (-hl + 0.02, 0, 0.5), (230, 230, 230)))  # number plate
    return parts


def _truck(w: float, l: float, h: float) -> list[trimesh.Trimesh]:
    cab_rgb, box_rgb = (220, 105, 25), (205, 207, 212)
    hl, hw = l / 2, w / 2
    r = 0.5
    cab_len = 2.0
    parts = []
    for x in (hl - 1.1, -hl + 1.0, -hl + 2.1):
        for y in (hw - 0.2, -hw + 0.2):
            parts += wheel(r, 0.34, (x, y, r), hub=(150, 150, 155))
    parts.append(box((l - 0.4, w - 0.6, 0.25), (-0.1, 0, 0.65), DARK))  # chassis
    cab_back = hl - cab_len
    parts.append(hull([
        [hl, hw - 0.05, 0.45], [hl, -hw + 0.05, 0.45], [hl - 0.05, hw - 0.05, 1.45], [hl - 0.05, -hw + 0.05, 1.45],
        [cab_back, hw, 0.45], [cab_back, -hw, 0.45], [cab_back, hw, h - 0.2], [cab_back, -hw, h - 0.2],
        [hl - 0.4, hw - 0.08, h - 0.25], [hl - 0.4, -hw + 0.08, h - 0.25],
    ], cab_rgb))
    parts.append(hull([  # windscreen and side windows
        [hl - 0.03, hw - 0.12, 1.55], [hl - 0.03, -hw + 0.12, 1.55], [hl - 0.38, hw - 0.14, h - 0.35],
        [hl - 0.38, -hw + 0.14, h - 0.35], [hl - 0.9, hw + 0.01, 1.55], [hl - 0.9, -hw - 0.01, 1.55],
        [hl - 0.9, hw + 0.01, h - 0.4], [hl - 0.9, -hw - 0.01, h - 0.4],
    ], GLASS))
    parts.append(box((l - cab_len - 0.15, w, h - 0.85), (-hl + (l - cab_len - 0.15) / 2, 0, 0.85 + (h - 0.85) / 2), box_rgb))
    for x in np.linspace(-hl + 0.3, cab_back - 0.45, 5):  # ribs on the cargo box
        parts.append(box((0.06, w + 0.03, h - 0.95), (x, 0, 0.85 + (h - 0.85) / 2), (170, 172, 178)))
    for y in (0.8, -0.8):
        parts.append(box((0.04, 0.3, 0.16), (hl + 0.0, y, 0.75), HEADLIGHT))
    parts.append(box((0.05, w - 0.8, 0.45), (hl, 0, 1.0), DARK))  # grille
    return parts


def _bus(w: float, l: float, h: float) -> list[trimesh.Trimesh]:
    body_rgb, roof_rgb = (200, 38, 38), (235, 235, 235)
    hl, hw = l / 2, w / 2
    r = 0.5
    parts = []
    for x in (hl - 2.6, -hl + 3.0):
        for y in (hw - 0.3, -hw + 0.3):
            parts += wheel(r, 0.36, (x, y, r), hub=(160, 160, 165))
    parts.append(hull([
        [hl, hw, 0.35], [hl, -hw, 0.35], [hl - 0.05, hw, h - 0.12], [hl - 0.05, -hw, h - 0.12],
        [-hl, hw, 0.35], [-hl, -hw, 0.35], [-hl, hw, h - 0.12], [-hl, -hw, h - 0.12],
    ], body_rgb))
    parts.append(box((l - 0.6, w - 0.3, 0.12), (0, 0, h - 0.06), roof_rgb))
    # window band on both sides, split by pillars; a large windscreen and a rear window
    z0, z1 = 1.35, h - 0.55
    for y in (hw + 0.01, -hw - 0.01):
        parts.append(box((l - 1.4, 0.02, z1 - z0), (-0.3, y, (z0 + z1) / 2), GLASS))
        for x in np.linspace(-hl + 0.8, hl - 1.3, 7):
            parts.append(box((0.14, 0.04, z1 - z0), (x, y, (z0 + z1) / 2), body_rgb))
    parts.append(box((0.04, w - 0.3, h - 1.5), (hl + 0.01, 0, 0.85 + (h - 1.5) / 2), GLASS))
    parts.append(box((0.04, w - 0.6, 0.8), (-hl - 0.01, 0, h - 1.0), GLASS))
    parts.append(box((0.05, w - 0.6, 0.28), (hl + 0.02, 0, h - 0.35), (255, 170, 20)))  # destination sign
    parts.append(box((1.1, 0.03, h - 0.9), (hl - 1.2, -hw - 0.012, 0.35 + (h - 0.9) / 2), GLASS))  # door (right side)
    for y in (hw - 0.4, -hw + 0.4):
        parts.append(box((0.04, 0.35, 0.18), (hl + 0.02, y, 0.75), HEADLIGHT))
        parts.append(box((0.04, 0.25, 0.3), (-hl - 0.02, y, 0.9), TAILLIGHT))
    return parts


def _trailer(w: float, l: float, h: float) -> list[trimesh.Trimesh]:
    body_rgb, rib_rgb = (120, 134, 150), (92, 104, 118)
    hl, hw = l / 2, w / 2
    r = 0.5
    parts = []
    for x in (-hl + 1.2, -hl + 2.3, -hl + 3.4):
        for y in (hw - 0.35, -hw + 0.35):
            parts += wheel(r, 0.38, (x, y, r), hub=(150, 150, 155))
    z0 = 1.2
    parts.append(box((l, w, h - z0), (0, 0, z0 + (h - z0) / 2), body_rgb))
    for x in np.linspace(-hl + 0.15, hl - 0.15, 14):  # vertical ribs
        parts.append(box((0.08, w + 0.04, h - z0 - 0.1), (x, 0, z0 + (h - z0) / 2), rib_rgb))
    parts.append(box((l - 0.4, w - 0.9, 0.22), (0, 0, z0 - 0.11), DARK))  # frame
    for y in (hw - 0.6, -hw + 0.6):  # landing gear near the front
        parts.append(tube((hl - 2.5, y, 0.0), (hl - 2.5, y, z0), 0.07, DARK))
        parts.append(box((0.3, 0.3, 0.04), (hl - 2.5, y, 0.02), DARK))
    parts.append(tube((hl - 0.9, 0, 0.95), (hl - 0.9, 0, z0), 0.08, CHROME))  # king pin
    parts.append(box((0.04, w - 0.1, h - z0 - 0.2), (-hl - 0.02, 0, z0 + (h - z0) / 2), (150, 160, 170)))  # doors
    for y in (hw - 0.25, -hw + 0.25):
        parts.append(box((0.05, 0.25, 0.15), (-hl - 0.03, y, z0 - 0.1), TAILLIGHT))
    return parts


def _construction_vehicle(w: float, l: float, h: float) -> list[trimesh.Trimesh]:
    yellow, dark_yellow = (240, 185, 20), (200, 150, 10)
    hl, hw = l / 2, w / 2
    parts = []
    for y in (hw - 0.35, -hw + 0.35):  # crawler tracks
        parts.append(hull([[-hl + 0.6, y - 0.35, 0.0], [-hl + 0.6, y + 0.35, 0.0], [0.8, y - 0.35, 0.0], [0.8, y + 0.35, 0.0],
                           [-hl + 0.2, y - 0.35, 0.45], [-hl + 0.2, y + 0.35, 0.45], [1.2, y - 0.35, 0.45],
                           [1.2, y + 0.35, 0.45], [-hl + 0.4, y - 0.35, 0.85], [-hl + 0.4, y + 0.35, 0.85],
                           [1.0, y - 0.35, 0.85], [1.0, y + 0.35, 0.85]], (35, 35, 35)))
    parts.append(box((3.0, w - 0.2, 0.9), (-hl + 1.7, 0, 1.35), yellow))  # upper body
    parts.append(box((0.6, w - 0.3, 0.8), (-hl + 0.3, 0, 1.3), dark_yellow))  # counterweight
    parts.append(box((1.2, 1.0, 1.3), (-hl + 2.7, hw - 0.6, 2.45), yellow))  # cab
    parts.append(box((1.05, 1.02, 0.85), (-hl + 2.75, hw - 0.6, 2.5), GLASS))  # cab glass
    parts.append(box((0.5, 0.5, 0.5), (-hl + 1.2, -0.4, 2.0), DARK))  # engine housing
    # boom up-forward, arm down to the bucket at the front
    pivot = np.array([-hl + 3.0, -0.2, 1.7])
    elbow = np.array([hl - 1.2, -0.2, h - 0.25])
    tip = np.array([hl - 0.35, -0.2, 0.7])
    parts.append(tube(pivot, elbow, 0.2, yellow, 6))
    parts.append(tube(elbow, tip, 0.15, yellow, 6))
    parts.append(hull([tip + [-0.35, -0.45, -0.1], tip + [-0.35, 0.45, -0.1], tip + [0.35, -0.45, -0.1],
                       tip + [0.35, 0.45, -0.1], tip + [0.25, -0.45, -0.6], tip + [0.25, 0.45, -0.6],
                       tip + [-0.2, -0.45, -0.45], tip + [-0.2, 0.45, -0.45]], (70, 70, 72)))
    return parts


def _pedestrian(w: float, l: float, h: float) -> list[trimesh.Trimesh]:
    skin, shirt, trousers, shoes, hair = (222, 178, 145), (40, 120, 190), (45, 48, 70), (30, 30, 30), (60, 40, 25)
    hip, shoulder = 0.86 * h / 1.76, 1.42 * h / 1.76
    head_r = 0.11
    parts = []
    for y, dx in ((0.1, 0.18), (-0.1, -0.16)):  # legs in a walking stride
        foot = np.array([dx, y, 0.06])
        parts.append(tube((0.0, y, hip), foot, 0.075, trousers, 8))
        parts.append(box((0.24, 0.1, 0.08), foot + [0.06, 0.0, -0.02], shoes))
    parts.append(hull([[-0.11, 0.19, hip - 0.02], [-0.11, -0.19, hip - 0.02], [0.1, 0.19, hip - 0.02],
                       [0.1, -0.19, hip - 0.02], [-0.12, 0.23, shoulder], [-0.12, -0.23, shoulder],
                       [0.11, 0.23, shoulder], [0.11, -0.23, shoulder]], shirt))
    for y, dx in ((0.28, -0.2), (-0.28, 0.2)):  # arms swing opposite to the legs
        hand = np.array([dx, y * 1.05, hip + 0.02])
        parts.append(tube((0.0, y, shoulder - 0.04), hand, 0.05, shirt, 8))
        parts.append(sphere(0.05, hand, skin, 1))
    parts.append(tube((0.0, 0.0, shoulder - 0.02), (0.0, 0.0, shoulder + 0.06), 0.05, skin, 8))  # neck
    head_c = np.array([0.0, 0.0, h - head_r - 0.01])
    parts.append(sphere(head_r, head_c, skin, 2))
    parts.append(sphere(head_r * 0.98, head_c + [-0.035, 0, 0.03], hair, 1))  # hair at the back and top
    parts.append(box((0.04, 0.05, 0.03), head_c + [head_r, 0, -0.01], (200, 150, 120)))  # nose: shows facing
    return parts


def _motorcycle(w: float, l: float, h: float) -> list[trimesh.Trimesh]:
    body_rgb = (160, 28, 36)
    hl = l / 2
    r = 0.33
    xf, xr = hl - r - 0.02, -hl + r + 0.02
    parts = []
    for x in (xf, xr):
        parts.append(disc(r, 0.13, (x, 0, r), TYRE, "y", 18))
        parts.append(disc(r * 0.5, 0.15, (x, 0, r), CHROME, "y", 12))
    parts.append(tube((xf, 0.08, r), (xf - 0.3, 0.08, 1.0), 0.03, CHROME))  # fork
    parts.append(tube((xf, -0.08, r), (xf - 0.3, -0.08, 1.0), 0.03, CHROME))
    parts.append(box((0.7, 0.32, 0.35), (0.0, 0, 0.48), (70, 70, 75)))  # engine
    parts.append(hull([[0.45, 0.16, 0.7], [0.45, -0.16, 0.7], [-0.1, 0.15, 0.72], [-0.1, -0.15, 0.72],
                       [0.35, 0.14, 0.95], [0.35, -0.14, 0.95], [-0.05, 0.12, 0.9], [-0.05, -0.12, 0.9]], body_rgb))  # tank
    parts.append(hull([[-0.05, 0.14, 0.78], [-0.05, -0.14, 0.78], [-0.75, 0.12, 0.8], [-0.75, -0.12, 0.8],
                       [-0.05, 0.14, 0.88], [-0.05, -0.14, 0.88], [-0.7, 0.1, 0.92], [-0.7, -0.1, 0.92]], DARK))  # seat
    parts.append(hull([[-0.6, 0.12, 0.62], [-0.6, -0.12, 0.62], [xr - 0.05, 0.1, 0.72], [xr - 0.05, -0.1, 0.72],
                       [-0.6, 0.12, 0.8], [-0.6, -0.12, 0.8], [xr - 0.05, 0.1, 0.82], [xr - 0.05, -0.1, 0.82]], body_rgb))  # tail
    parts.append(box((0.05, 0.14, 0.06), (xr - 0.08, 0, 0.76), TAILLIGHT))
    parts.append(tube((xr, 0.1, r), (-0.3, 0.1, 0.45), 0.025, CHROME))  # swing arm
    parts.append(tube((-0.2, -0.22, 0.4), (xr - 0.05, -0.22, 0.55), 0.045, CHROME))  # exhaust
    hb_x = xf - 0.32
    parts.append(tube((hb_x, w / 2, 1.08), (hb_x, -w / 2, 1.08), 0.022, DARK))  # handlebar spans the width
    parts.append(sphere(0.09, (xf - 0.18, 0, 0.98), HEADLIGHT, 1))
    parts.append(hull([[xf - 0.2, 0.16, 1.05], [xf - 0.2, -0.16, 1.05], [xf - 0.36, 0.14, h], [xf - 0.36, -0.14, h],
                       [xf - 0.24, 0.16, 1.05], [xf - 0.4, 0.14, h]], (120, 140, 160)))  # windscreen
    for y in (0.3, -0.3):
        parts.append(tube((hb_x, y, 1.08), (hb_x - 0.03, y * 1.05, 1.25), 0.012, DARK))
        parts.append(box((0.03, 0.1, 0.06), (hb_x - 0.03, y * 1.05, 1.27), DARK))
    return parts


def _bicycle(w: float, l: float, h: float) -> list[trimesh.Trimesh]:
    frame_rgb = (20, 150, 170)
    hl = l / 2
    r = 0.34
    xf, xr = hl - r - 0.01, -hl + r + 0.01
    hub_f, hub_r = np.array([xf, 0, r]), np.array([xr, 0, r])
    bb = np.array([0.0, 0, 0.3])          # bottom bracket
    seat_top = np.array([-0.18, 0, 0.88])
    head_top = np.array([xf - 0.16, 0, 0.92])
    head_bot = np.array([xf - 0.1, 0, 0.7])
    parts = [ring_wheel(r - 0.02, 0.03, hub_f, TYRE), ring_wheel(r - 0.02, 0.03, hub_r, TYRE)]
    for hub in (hub_f, hub_r):
        parts.append(disc(0.05, 0.1, hub, CHROME, "y", 8))
        for a in np.linspace(0, np.pi, 3, endpoint=False):  # three spoke pairs make the wheel read as a wheel
            d = np.array([np.cos(a), 0, np.sin(a)]) * (r - 0.04)
            parts.append(tube(hub - d, hub + d, 0.008, CHROME, 4))
    for a, b in ((bb, seat_top), (bb, head_bot), (seat_top, head_top), (bb, hub_r), (seat_top, hub_r), (head_top, hub_f)):
        parts.append(tube(a, b, 0.025, frame_rgb, 6))
    parts.append(tube(head_top, head_top + [-0.05, 0, 0.12], 0.02, DARK, 6))  # stem
    hb = head_top + [-0.05, 0, 0.12]
    parts.append(tube(hb + [0, w / 2, 0], hb + [0, -w / 2, 0], 0.018, DARK, 6))  # handlebar spans the width
    parts.append(tube(seat_top, seat_top + [0, 0, 0.12], 0.015, CHROME, 6))
    parts.append(hull([seat_top + [0.1, 0.04, 0.12], seat_top + [0.1, -0.04, 0.12], seat_top + [-0.12, 0.08, 0.12],
                       seat_top + [-0.12, -0.08, 0.12], seat_top + [-0.1, 0.07, 0.16], seat_top + [-0.1, -0.07, 0.16],
                       seat_top + [0.08, 0.03, 0.15], seat_top + [0.08, -0.03, 0.15]], DARK))
    parts.append(disc(0.1, 0.02, bb + [0, -0.06, 0], DARK, "y", 10))  # chain ring
    return parts


def _traffic_cone(w: float, l: float, h: float) -> list[trimesh.Trimesh]:
    orange, white = (255, 100, 0), (245, 245, 245)
    base_h = 0.04
    r0, r1 = 0.17, 0.025
    bands = [(base_h, 0.45, orange), (0.45, 0.6, white), (0.6, 0.75, orange), (0.75, 0.87, white), (0.87, h, orange)]
    parts = [box((l, w, base_h), (0, 0, base_h / 2), (35, 35, 35))]
    def rad(z: float) -> float:
        return r0 + (r1 - r0) * (z - base_h) / (h - base_h)

    for z0, z1, rgb in bands:
        parts.append(frustum(rad(z0), rad(z1), z0, z1, rgb, sections=16))
    return parts


def _barrier(w: float, l: float, h: float) -> list[trimesh.Trimesh]:
    # a jersey barrier: a sloped concrete-like profile across x, swept along y, red and white blocks
    hl = l / 2
    profile = [[-hl, 0.0], [hl, 0.0], [hl, 0.08], [0.11, 0.3], [0.08, h], [-0.08, h], [-0.11, 0.3], [-hl, 0.08]]
    n = 4
    edges = np.linspace(-w / 2, w / 2, n + 1)
    parts = []
    for i in range(n):
        rgb = (210, 35, 35) if i % 2 == 0 else (240, 240, 240)
        parts.append(extrude_profile_y(profile, edges[i] + 0.01, edges[i + 1] - 0.01, rgb))
    return parts


BUILDERS: dict[str, Callable[[float, float, float], list[trimesh.Trimesh]]] = {
    "car": _car, "truck": _truck, "bus": _bus, "trailer": _trailer, "construction_vehicle": _construction_vehicle,
    "pedestrian": _pedestrian, "motorcycle": _motorcycle, "bicycle": _bicycle, "traffic_cone": _traffic_cone,
    "barrier": _barrier,
}


def build_class_mesh(cls: str) -> trimesh.Trimesh:
    """The builtin mesh of a class in the canonical frame, filling the class's default box exactly.

    Returns a vertex-coloured Trimesh with bounds [-l/2, l/2] x [-w/2, w/2] x [0, h].
    """
    if cls not in BUILDERS:
        raise KeyError(f"no builtin asset for class {cls!r}; expected one of {', '.join(class_names())}")
    w, l, h = default_size(cls)
    mesh = concatenate(BUILDERS[cls](w, l, h))
    return fit_to_box(mesh, (w, l, h))
