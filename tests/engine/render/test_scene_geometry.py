"""Scene geometry from the road map, and the polygon triangulation it relies on."""
from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import Point, Polygon, box
from shapely.ops import unary_union

from engine.render.depth_normals import normals_from_depth
from engine.render.scene_geometry import MARKING_Z, SIDEWALK_HEIGHT, build_scene_geometry, drivable_geometry, zebra
from engine.render.triangulate import triangulate
from engine.roadmap.procedural import straight_road_map
from engine.scenario.map_elements import Lane, RoadMap


def _area(v: np.ndarray, f: np.ndarray) -> np.ndarray:
    a = v[f]
    return 0.5 * ((a[:, 1, 0] - a[:, 0, 0]) * (a[:, 2, 1] - a[:, 0, 1]) - (a[:, 2, 0] - a[:, 0, 0]) * (a[:, 1, 1] - a[:, 0, 1]))


@pytest.mark.parametrize("geom", [
    Polygon([(0, 0), (4, 0), (4, 4), (2, 1), (0, 4)]),                                  # concave
    box(-50, -50, 50, 50).difference(Point(3, 2).buffer(10)).difference(box(20, 20, 30, 25)),  # two holes
    unary_union([box(0, 0, 10, 1), box(20, 0, 21, 30)]),                               # multipolygon
    Point(0, 0).buffer(5).difference(Point(0, 0).buffer(3)),                           # ring
])
def test_triangulation_covers_the_polygon_exactly(geom):
    v, f = triangulate(geom)
    areas = _area(v, f)
    assert (areas > 0).all(), "faces are counter-clockwise and not degenerate"
    assert areas.sum() == pytest.approx(geom.area, rel=1e-9)
    centroids = v[f].mean(axis=1)
    assert all(geom.buffer(1e-6).contains(Point(c)) for c in centroids)


def test_demo_scene_layers(demo_scenario):
    g = build_scene_geometry(demo_scenario.map)
    assert {"road", "markings", "sidewalks", "ground", "buildings"} <= set(g.layers)
    drivable = drivable_geometry(demo_scenario.map)
    road = g.layers["road"]
    assert road.area == pytest.approx(drivable.area, rel=1e-6)
    marks = g.layers["markings"]
    assert np.allclose(marks.vertices[:, 2], MARKING_Z)
    assert all(drivable.buffer(1e-3).contains(Point(p)) for p in marks.vertices[::7, :2])
    assert g.layers["sidewalks"].vertices[:, 2].max() == pytest.approx(SIDEWALK_HEIGHT)
    # buildings stand off the road and the sidewalks
    b = g.layers["buildings"]
    feet = b.vertices[b.vertices[:, 2] < 0.01, :2]
    assert len(feet) > 20
    assert not any(drivable.buffer(3.0).contains(Point(p)) for p in feet)
    # every surface keeps its vertex colours
    for m in g.layers.values():
        assert m.visual.vertex_colors.shape == (len(m.vertices), 4)


def test_zebra_stripes_lie_inside_the_crossing():
    crossing = Polygon([(0, 0), (3, 0), (3, 14), (0, 14)])
    z = zebra(crossing)
    assert z.within(crossing.buffer(1e-9))
    assert 0.35 * crossing.area < z.area < 0.65 * crossing.area
    assert len(getattr(z, "geoms", [z])) >= 10


def test_lanes_alone_give_a_drivable_area():
    m = RoadMap(lanes=(Lane("a", ((0.0, 0.0), (50.0, 0.0)), 3.5),))
    assert drivable_geometry(m).area == pytest.approx(50 * 3.5)
    assert "road" in build_scene_geometry(m, buildings=None).layers


def test_empty_map_is_ground_only():
    g = build_scene_geometry(RoadMap(), extra_bounds=(0, 0, 10, 10))
    assert list(g.layers) == ["ground"]
    assert g.layers["ground"].area > 100_000


def test_straight_road_has_dashed_and_double_markings():
    g = build_scene_geometry(straight_road_map(0.0, 90.0), buildings=None)
    marks = g.layers["markings"]
    colors = {tuple(c) for c in np.asarray(marks.visual.vertex_colors)[:, :3]}
    assert len(colors) == 2      # white dashes and the yellow double centre line
    # dashes: along y = -3.5 marking vertices leave gaps
    xs = np.sort(marks.vertices[np.abs(marks.vertices[:, 1] + 3.5) < 0.2, 0])
    assert np.diff(xs).max() > 5.0


def test_normals_from_depth_of_a_tilted_plane():
    K = np.array([[200.0, 0, 64], [0, 200.0, 48], [0, 0, 1]])
    n_true = np.array([0.0, -0.6, -0.8])                         # plane n.p = -4, facing the camera
    v, u = np.mgrid[0:96, 0:128].astype(np.float64)
    rays = np.stack([(u - 64) / 200, (v - 48) / 200, np.ones_like(u)], -1)
    depth = (-4.0 / (rays @ n_true)).astype(np.float32)
    depth[:10] = 0                                               # no depth at the top
    n = normals_from_depth(depth, K)
    inner = n[12:-1, 1:-1].reshape(-1, 3)
    np.testing.assert_allclose(inner, np.broadcast_to(n_true, inner.shape), atol=1e-3)
    assert (n[:11] == 0).all()
