"""Fit the road map to what the builder placed: extent over every trajectory, the turn and U-turn
connectors agents drive (widened by how far their footprints sweep), crosswalks and parking."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from engine.roadmap.fitted import MapExtent, fitted_road_map
from engine.roadmap.layout import DIRECTION_HEADING
from engine.scenario.map_elements import RoadMap

if TYPE_CHECKING:
    from engine.library.builder import ScenarioBuilder
    from engine.roadmap.connectors import Connector

MARGIN = 40.0
MIN_HALF_LENGTH = 60.0


def _sweep(points: NDArray[np.float64], corners: NDArray[np.float64]) -> float:
    """Farthest distance (m) of any (T, 4, 2) footprint corner from the polyline `points` (N, 2)."""
    import shapely

    line = shapely.linestrings(points)
    d = shapely.distance(line, shapely.points(corners.reshape(-1, 2)))
    return float(np.max(d)) if d.size else 0.0


def fit_map(builder: ScenarioBuilder) -> RoadMap:
    """The RoadMap for a `ScenarioBuilder`'s layout and agents."""
    times = builder.times
    layout = builder.layout
    recs = builder.records()
    xs: list[NDArray[np.float64]] = []
    ys: list[NDArray[np.float64]] = []
    connectors: dict[str, Connector] = {}
    sweep: dict[str, float] = {}
    for rec in recs:
        corners = rec.footprints(times)
        xs.append(corners[..., 0].ravel())
        ys.append(corners[..., 1].ravel())
        if rec.connector is not None:
            c = rec.connector
            # the agent drives the connector between straight lanes: measure its footprint's
            # sideways reach from that whole path
            h0 = DIRECTION_HEADING[c.start.direction]
            h1 = DIRECTION_HEADING[c.end.direction]
            lead = 100.0
            path = np.vstack([c.points[0] - lead * np.array([np.cos(h0), np.sin(h0)]), c.points,
                              c.points[-1] + lead * np.array([np.cos(h1), np.sin(h1)])])
            s = _sweep(path, corners)
            connectors[c.id] = c
            sweep[c.id] = max(sweep.get(c.id, 0.0), s)
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    xmin = min(float(x.min()) - MARGIN, -MIN_HALF_LENGTH)
    xmax = max(float(x.max()) + MARGIN, MIN_HALF_LENGTH + 40.0)
    ymax = MIN_HALF_LENGTH
    if layout.intersection_x is not None:
        cx = layout.intersection_x
        xmin = min(xmin, cx - MIN_HALF_LENGTH)
        xmax = max(xmax, cx + MIN_HALF_LENGTH)
        ymax = max(ymax, float(np.abs(y).max()) + MARGIN)
    return fitted_road_map(layout, MapExtent(round(xmin, 1), round(xmax, 1), round(ymax, 1)),
                           list(connectors.values()), sweep)
