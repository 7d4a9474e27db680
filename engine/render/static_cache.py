"""A small process-wide cache of the static scene built from a road map (meshes, HD-map segments, BEV map).

Building the static scene (shapely unions, markings, buildings, triangulation) is the costly part of
`GuidanceRenderer.set_scenario`. An export renders the same scenario twice (once to condition the
world model, once to write labels and guidance), and the editor, batch workers and benchmarks make
several renderers for one map: each of those builds it once per process now.

Entries are keyed by the map object (identity first, then equality) plus the ego bounds, the
building style and the BEV spec; the newest `MAX_ENTRIES` are kept. Cached arrays are shared and
must not be modified (the renderer only uploads them).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from engine.scenario.map_elements import RoadMap

if TYPE_CHECKING:   # imported lazily at run time: building a scene needs shapely and trimesh
    from engine.render.bev import BevRasterizer, BevSpec
    from engine.render.hdmap import MapSegments
    from engine.render.scene_geometry import BuildingStyle

_Key = tuple[tuple[float, ...], "BuildingStyle | None", "BevSpec"]

MAX_ENTRIES = 4
_lock = threading.Lock()
_entries: list[tuple[RoadMap, _Key, "StaticScene"]] = []   # (road map, other key parts, value), newest last
stats = {"hits": 0, "builds": 0}


@dataclass(frozen=True)
class StaticScene:
    """vertices (V, 3) float, colors (V, 4) uint8, faces (F, 3) int of the combined static mesh;
    segments: `MapSegments`; bev: `BevRasterizer` of the map."""

    vertices: NDArray[np.float64]
    colors: NDArray[np.uint8]
    faces: NDArray[np.int64]
    segments: MapSegments
    bev: BevRasterizer


def _same_map(a: RoadMap, b: RoadMap) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b)
    except (ValueError, TypeError):   # fields holding arrays make `==` ambiguous (ValueError)
        return False


def static_scene(road_map: RoadMap, ego_bounds: tuple[float, float, float, float], buildings: BuildingStyle | None,
                 bev_spec: BevSpec) -> StaticScene:
    """The static scene of `road_map` (built on the first request, then shared)."""
    from engine.render.bev import BevRasterizer
    from engine.render.hdmap import MapSegments
    from engine.render.scene_geometry import build_scene_geometry, vertex_colors

    rest: _Key = (tuple(float(v) for v in ego_bounds), buildings, bev_spec)
    with _lock:
        for i, (m, key, value) in enumerate(_entries):
            if key == rest and _same_map(m, road_map):
                _entries.append(_entries.pop(i))
                stats["hits"] += 1
                return value
    geom = build_scene_geometry(road_map, ego_bounds, buildings)
    mesh = geom.combined()
    value = StaticScene(np.asarray(mesh.vertices, dtype=np.float64), vertex_colors(mesh),
                        np.asarray(mesh.faces, dtype=np.int64),
                        MapSegments.from_map(road_map), BevRasterizer(road_map, bev_spec))
    for a in (value.vertices, value.colors, value.faces):
        a.flags.writeable = False
    with _lock:
        stats["builds"] += 1
        _entries.append((road_map, rest, value))
        del _entries[:-MAX_ENTRIES]
    return value


def clear() -> None:
    """Forget every cached scene."""
    with _lock:
        _entries.clear()
