"""The static 3-D scene of a synthetic scenario, built from its road map with trimesh.

Layers (world frame, metres, vertex-coloured `trimesh.Trimesh` each):
    road        the drivable area at z = 0 (asphalt)
    markings    lane dividers (dashed / solid white, double yellow) and zebra stripes at z = MARKING_Z
    sidewalks   a raised band (SIDEWALK_HEIGHT) around the drivable area; its walls are the kerbs
    ground      everything else out to GROUND_MARGIN beyond the map, at z = 0
    buildings   simple blocks with window bands behind the sidewalks, placed deterministically

So depth, normals and edges are meaningful in every pixel, not only on agents.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
import shapely
import trimesh
from shapely.geometry import LineString, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring, unary_union

from engine.render.triangulate import polygons_of, triangulate
from engine.scenario.map_elements import RoadMap

MARKING_Z = 0.02
MARKING_WIDTH = 0.15
DASH, GAP = 3.0, 6.0
DOUBLE_OFFSET = 0.1
SIDEWALK_WIDTH = 3.0
SIDEWALK_HEIGHT = 0.15
GROUND_MARGIN = 300.0

COLORS = {
    "asphalt": (80, 80, 84),
    "white": (228, 228, 222),
    "yellow": (232, 188, 40),
    "sidewalk": (168, 163, 152),
    "kerb": (192, 189, 181),
    "ground": (98, 120, 74),
    "roof": (92, 92, 98),
    "window": (58, 68, 84),
}
# Occluders first, so a rasteriser with early depth rejection shades fewer hidden fragments.
DRAW_ORDER = ("buildings", "sidewalks", "markings", "road", "ground")
FACADES = ((198, 180, 152), (172, 172, 178), (152, 98, 82), (208, 198, 182), (126, 136, 150), (186, 160, 130))


@dataclass(frozen=True)
class BuildingStyle:
    """How roadside buildings are placed: `setback` from the sidewalk, sizes in metres."""

    setback: float = 4.0
    frontage: tuple[float, float] = (8.0, 16.0)
    depth: tuple[float, float] = (8.0, 14.0)
    height: tuple[float, float] = (4.5, 16.0)
    floor_height: float = 3.2
    gap: float = 4.0
    seed: int = 7


@dataclass
class SceneGeometry:
    """The static scene: named vertex-coloured meshes in the world frame."""

    layers: dict[str, trimesh.Trimesh] = field(default_factory=dict)

    def combined(self, order: tuple[str, ...] = DRAW_ORDER) -> trimesh.Trimesh:
        """All layers as one mesh (vertex colours kept), layers named in `order` first."""
        names = [n for n in order if n in self.layers] + [n for n in self.layers if n not in order]
        return concatenate([self.layers[n] for n in names if len(self.layers[n].faces)])

    @property
    def triangles(self) -> int:
        return int(sum(len(m.faces) for m in self.layers.values()))


def concatenate(meshes: list[trimesh.Trimesh]) -> trimesh.Trimesh:
    """`trimesh.util.concatenate` of triangle meshes (an empty list gives an empty mesh)."""
    out = trimesh.util.concatenate(meshes)
    if not isinstance(out, trimesh.Trimesh):   # concatenate returns a Trimesh for Trimesh inputs
        raise TypeError(f"expected a Trimesh from concatenating meshes, got {type(out).__name__}")
    return out


def vertex_colors(mesh: trimesh.Trimesh) -> NDArray[np.uint8]:
    """(V, 4) uint8 vertex colours of a vertex-coloured mesh (TypeError for a textured one)."""
    visual = mesh.visual
    if not isinstance(visual, trimesh.visual.ColorVisuals):
        raise TypeError(f"expected a vertex-coloured mesh, got visuals {type(visual).__name__}")
    return np.asarray(visual.vertex_colors, dtype=np.uint8)


def _mesh(vertices: NDArray[np.float64], faces: NDArray[np.int64], rgb: tuple[int, int, int]) -> trimesh.Trimesh:
    m = trimesh.Trimesh(vertices=vertices, faces=faces, process=False)
    visual = m.visual
    if not isinstance(visual, trimesh.visual.ColorVisuals):   # a new mesh without texture has colour visuals
        raise TypeError(f"expected colour visuals on a new mesh, got {type(visual).__name__}")
    visual.vertex_colors = np.array([*rgb, 255], np.uint8)
    return m


def flat(geom: BaseGeometry, z: float, rgb: tuple[int, int, int]) -> trimesh.Trimesh:
    """A horizontal polygonal surface at height z (faces up)."""
    v, f = triangulate(geom)
    return _mesh(np.column_stack([v, np.full(len(v), z)]), f, rgb)


def walls(geom: BaseGeometry, z0: float, z1: float, rgb: tuple[int, int, int]) -> trimesh.Trimesh:
    """Vertical quads along every ring of a polygonal geometry, from z0 to z1."""
    quads = []
    for p in polygons_of(geom):
        for ring in [p.exterior, *p.interiors]:
            c = np.asarray(ring.coords)
            a, b = c[:-1], c[1:]
            quads.append(np.stack([np.column_stack([a, np.full(len(a), z0)]), np.column_stack([b, np.full(len(a), z0)]),
                                   np.column_stack([b, np.full(len(a), z1)]), np.column_stack([a, np.full(len(a), z1)])], 1))
    if not quads:
        return _mesh(np.zeros((0, 3)), np.zeros((0, 3), np.int64), rgb)
    q = np.concatenate(quads)  # (N, 4, 3)
    n = len(q)
    base = np.arange(n)[:, None] * 4
    faces = np.concatenate([base + [0, 1, 2], base + [0, 2, 3]])
    return _mesh(q.reshape(-1, 3), faces, rgb)


def drivable_geometry(road_map: RoadMap) -> BaseGeometry:
    """The drivable area; lanes buffered by half their width when the map has no drivable polygons."""
    g = road_map.drivable_geometry
    if not g.is_empty:
        return g
    parts = [LineString(l.array).buffer(l.width / 2, cap_style="flat") for l in road_map.lanes if len(l.array) >= 2]
    return unary_union(parts) if parts else Polygon()


def _line_quads(pts: NDArray[np.float64], style: str) -> list[BaseGeometry]:
    """Marking polygons of one polyline in a style (solid, dashed, double)."""
    line = LineString(pts)
    if line.length < 1e-6:
        return []
    if style == "double":
        return [line.offset_curve(s * DOUBLE_OFFSET).buffer(MARKING_WIDTH / 2, cap_style="flat") for s in (-1, 1)]
    if style == "dashed":
        starts = np.arange(0.0, line.length, DASH + GAP)
        return [substring(line, s, min(s + DASH, line.length)).buffer(MARKING_WIDTH / 2, cap_style="flat")
                for s in starts if min(s + DASH, line.length) - s > 0.3]
    return [line.buffer(MARKING_WIDTH / 2, cap_style="flat", join_style="mitre")]


def zebra(polygon: Polygon, bar: float = 0.5, period: float = 1.0) -> BaseGeometry:
    """Zebra bars inside a crossing polygon: stripes across its long axis, repeated along it."""
    rect = np.asarray(polygon.minimum_rotated_rectangle.exterior.coords)[:4]
    e1, e2 = rect[1] - rect[0], rect[2] - rect[1]
    u = e1 if np.linalg.norm(e1) >= np.linalg.norm(e2) else e2
    length = np.linalg.norm(u)
    u = u / length
    v = np.array([-u[1], u[0]])
    c = rect.mean(axis=0)
    span = float(max(np.linalg.norm(e1), np.linalg.norm(e2))) + 1.0
    bars = []
    for s in np.arange(-length / 2 + 0.25, length / 2 - bar / 2, period):
        corners = [c + u * s + v * t for t in (-span, span)] + [c + u * (s + bar) + v * t for t in (span, -span)]
        bars.append(Polygon(corners).intersection(polygon))
    return unary_union(bars)


def _buildings(front: BaseGeometry, along: BaseGeometry, clip: BaseGeometry, keep_out: BaseGeometry,
               style: BuildingStyle) -> list[trimesh.Trimesh]:
    """Blocks along the outline `front` where it runs inside `along`, outside `keep_out`, inside `clip`."""
    rng = np.random.default_rng(style.seed)
    placed: list[Polygon] = []
    meshes = []
    for poly in polygons_of(front):
        for ring in [poly.exterior, *poly.interiors]:
            ring_line = LineString(ring.coords)
            s = float(rng.uniform(0, style.frontage[0]))
            while s < ring_line.length:
                frontage = float(rng.uniform(*style.frontage))
                depth = float(rng.uniform(*style.depth))
                a = np.asarray(ring_line.interpolate(s).coords[0])
                b = np.asarray(ring_line.interpolate(min(s + frontage, ring_line.length)).coords[0])
                s += frontage + style.gap
                t = b - a
                if np.linalg.norm(t) < 4.0:
                    continue
                t /= np.linalg.norm(t)
                n = np.array([-t[1], t[0]])
                mid = (a + b) / 2
                if not along.contains(shapely.Point(mid)):
                    continue
                if keep_out.contains(shapely.Point(mid + n * 0.5)):
                    n = -n
                fp = Polygon([a, b, b + n * depth, a + n * depth])
                if not fp.is_valid or not clip.contains(fp) or keep_out.intersects(fp):
                    continue
                if any(fp.distance(q) < style.gap * 0.5 for q in placed):
                    continue
                placed.append(fp)
                height = float(rng.uniform(*style.height))
                facade = FACADES[int(rng.integers(len(FACADES)))]
                meshes.append(walls(fp, 0.0, height, facade))
                meshes.append(flat(fp, height, COLORS["roof"]))
                band = fp.buffer(0.04, join_style="mitre")
                for z in np.arange(style.floor_height * 0.45, height - 1.5, style.floor_height):
                    meshes.append(walls(band, z, z + 1.3, COLORS["window"]))
    return meshes


def build_scene_geometry(road_map: RoadMap, extra_bounds: tuple[float, float, float, float] | None = None,
                         buildings: BuildingStyle | None = BuildingStyle()) -> SceneGeometry:
    """The static scene of a road map.

    `extra_bounds` (xmin, ymin, xmax, ymax), e.g. around the ego path, widens the ground for maps that
    do not reach the cameras; `buildings=None` leaves the buildings out.
    """
    drivable = drivable_geometry(road_map)
    bounds = [drivable.bounds] if not drivable.is_empty else []
    if extra_bounds is not None:
        bounds.append(extra_bounds)
    if not bounds:
        bounds = [(-1.0, -1.0, 1.0, 1.0)]
    b = np.array(bounds)
    xmin, ymin, xmax, ymax = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
    layers: dict[str, trimesh.Trimesh] = {}
    if drivable.is_empty:
        layers["ground"] = flat(box(xmin - GROUND_MARGIN, ymin - GROUND_MARGIN, xmax + GROUND_MARGIN, ymax + GROUND_MARGIN),
                                0.0, COLORS["ground"])
        return SceneGeometry(layers)
    clip = box(*drivable.bounds)
    sidewalk = drivable.buffer(SIDEWALK_WIDTH, join_style="mitre").difference(drivable).intersection(clip)
    layers["road"] = flat(drivable, 0.0, COLORS["asphalt"])
    crossings = unary_union([Polygon(c.array).buffer(0) for c in road_map.ped_crossings if len(c.array) >= 3])
    marks = []
    for d in road_map.lane_dividers:
        if len(d.array) >= 2:
            marks += [(q, COLORS["yellow"] if d.style == "double" else COLORS["white"]) for q in _line_quads(d.array, d.style)]
    mark_meshes = []
    for q, rgb in marks:
        q = q.difference(crossings) if not crossings.is_empty else q
        mark_meshes.append(flat(q.intersection(drivable), MARKING_Z, rgb))
    for c in polygons_of(crossings):
        mark_meshes.append(flat(zebra(c).intersection(drivable), MARKING_Z, COLORS["white"]))
    if mark_meshes:
        layers["markings"] = concatenate(mark_meshes)
    layers["sidewalks"] = concatenate([flat(sidewalk, SIDEWALK_HEIGHT, COLORS["sidewalk"]),
                                       walls(sidewalk, 0.0, SIDEWALK_HEIGHT, COLORS["kerb"])])
    outer = box(xmin - GROUND_MARGIN, ymin - GROUND_MARGIN, xmax + GROUND_MARGIN, ymax + GROUND_MARGIN)
    layers["ground"] = flat(outer.difference(unary_union([drivable, sidewalk])), 0.0, COLORS["ground"])
    if buildings is not None:
        keep_out = drivable.buffer(SIDEWALK_WIDTH + buildings.setback - 0.01, join_style="mitre")
        front = drivable.buffer(SIDEWALK_WIDTH + buildings.setback, join_style="mitre")
        blocks = _buildings(front, clip, clip.buffer(SIDEWALK_WIDTH + buildings.setback + buildings.depth[1] + 5,
                                                     join_style="mitre"), keep_out, buildings)
        if blocks:
            layers["buildings"] = concatenate(blocks)
    return SceneGeometry(layers)
