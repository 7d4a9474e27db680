"""Coloured trimesh primitives placed in an object's canonical frame (x forward, y left, z up, metres).

Every helper returns a `trimesh.Trimesh` whose vertex colours are set (RGBA uint8), so parts can be
concatenated with `trimesh.util.concatenate` into one vertex-coloured mesh.
"""
from __future__ import annotations

from typing import Any, Literal, Sequence

import numpy as np
import trimesh
from numpy.typing import NDArray

RGB = tuple[int, int, int]
Axis = Literal["x", "y", "z"]
Point = Sequence[float] | NDArray[np.floating[Any]]
"""A point or vector (3,) (or (2,) where said) in the canonical frame, metres: a list, tuple or array."""
Points = Sequence[Point] | NDArray[np.floating[Any]]
"""(N, 3) points (N, 2 for profiles)."""


def paint(mesh: trimesh.Trimesh, rgb: RGB) -> trimesh.Trimesh:
    """Set every vertex colour of `mesh` to `rgb` (opaque) and return it."""
    assert isinstance(mesh.visual, trimesh.visual.ColorVisuals), "painted meshes are made here: colour visuals"
    mesh.visual.vertex_colors = np.array([*rgb, 255], dtype=np.uint8)
    return mesh


def box(size: Point, center: Point, rgb: RGB) -> trimesh.Trimesh:
    """An axis-aligned box of `size` (dx, dy, dz) centred at `center`."""
    m = trimesh.creation.box(extents=size)
    m.apply_translation(center)
    return paint(m, rgb)


def hull(points: Points, rgb: RGB) -> trimesh.Trimesh:
    """The convex hull of (N, 3) points: tapered bodies, cabins, wedges."""
    m = trimesh.convex.convex_hull(np.asarray(points, dtype=np.float64))
    return paint(m, rgb)


def tube(p0: Point, p1: Point, radius: float, rgb: RGB, sections: int = 8) -> trimesh.Trimesh:
    """A cylinder of `radius` between two points (frame tubes, limbs, axles)."""
    m = trimesh.creation.cylinder(radius=radius, segment=np.array([p0, p1], dtype=np.float64), sections=sections)
    return paint(m, rgb)


def disc(radius: float, width: float, center: Point, rgb: RGB, axis: Axis = "y",
         sections: int = 16) -> trimesh.Trimesh:
    """A cylinder of `radius` and thickness `width` along `axis` (x, y or z), centred at `center`."""
    c = np.asarray(center, dtype=np.float64)
    d = {"x": np.array([1.0, 0, 0]), "y": np.array([0, 1.0, 0]), "z": np.array([0, 0, 1.0])}[axis] * width / 2
    return tube(c - d, c + d, radius, rgb, sections)


def sphere(radius: float, center: Point, rgb: RGB, subdivisions: int = 1) -> trimesh.Trimesh:
    """An icosphere."""
    m = trimesh.creation.icosphere(subdivisions=subdivisions, radius=radius)
    m.apply_translation(center)
    return paint(m, rgb)


def frustum(r0: float, r1: float, z0: float, z1: float, rgb: RGB, center_xy: Point = (0.0, 0.0),
            sections: int = 16) -> trimesh.Trimesh:
    """A truncated cone about a vertical axis: radius r0 at height z0, r1 at z1 (r1 may be 0)."""
    a = np.linspace(0.0, 2 * np.pi, sections, endpoint=False)
    ring0 = np.stack([r0 * np.cos(a), r0 * np.sin(a), np.full_like(a, z0)], 1)
    if r1 > 1e-6:
        ring1 = np.stack([r1 * np.cos(a), r1 * np.sin(a), np.full_like(a, z1)], 1)
    else:
        ring1 = np.array([[0.0, 0.0, z1]])
    pts = np.concatenate([ring0, ring1]) + [center_xy[0], center_xy[1], 0.0]
    return hull(pts, rgb)


def ring_wheel(radius: float, tube_radius: float, center: Point, rgb: RGB,
               sections: int = 20, tube_sections: int = 5) -> trimesh.Trimesh:
    """A thin wheel rim (torus) in the x-z plane, turning about the y axis (bicycles, motorcycles)."""
    m = trimesh.creation.torus(major_radius=radius, minor_radius=tube_radius,
                               major_sections=sections, minor_sections=tube_sections)
    m.apply_transform(trimesh.transformations.rotation_matrix(  # type: ignore[no-untyped-call]  # trimesh: unannotated
        np.pi / 2, [1, 0, 0]))
    m.apply_translation(center)
    return paint(m, rgb)


def wheel(radius: float, width: float, center: Point, tyre: RGB = (28, 28, 30),
          hub: RGB = (175, 178, 182), sections: int = 16) -> list[trimesh.Trimesh]:
    """A car-style wheel turning about y: a tyre and a lighter hub cap on its outer side."""
    c = np.asarray(center, dtype=np.float64)
    out_side = np.sign(c[1]) if c[1] != 0 else 1.0
    hub_c = c + [0.0, out_side * (width / 2 + 0.005), 0.0]
    return [disc(radius, width, c, tyre, "y", sections), disc(radius * 0.55, 0.02, hub_c, hub, "y", sections)]


def extrude_profile_y(profile_xz: Points, y0: float, y1: float, rgb: RGB) -> trimesh.Trimesh:
    """A convex x-z profile swept along y from y0 to y1 (barrier blocks, wedges)."""
    p = np.asarray(profile_xz, dtype=np.float64)
    pts = [[x, y, z] for x, z in p for y in (y0, y1)]
    return hull(pts, rgb)


def concatenate(parts: list[trimesh.Trimesh]) -> trimesh.Trimesh:
    """One mesh from vertex-coloured parts (colours kept)."""
    mesh = trimesh.util.concatenate(parts)
    assert isinstance(mesh, trimesh.Trimesh), "Trimesh parts concatenate to a Trimesh"
    return mesh
