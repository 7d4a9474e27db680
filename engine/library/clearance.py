"""Footprint-to-footprint distances between agents over time (the safe-distance rule).

Footprints are (T, 4, 2) corner arrays (as `Agent.box_corners_2d`); distances use shapely on the
frames where the bounding circles come close, and a cheap lower bound elsewhere.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from engine.classes import STATIC_CLASSES

MIN_CLEARANCE = 0.5            # m between two moving agents' footprints at every frame
MIN_CLEARANCE_STATIC = 0.35    # m when one of them is a cone or a barrier


def required_clearance(cls_a: str, cls_b: str) -> float:
    """Smallest allowed footprint distance (m) between two classes."""
    if cls_a in STATIC_CLASSES or cls_b in STATIC_CLASSES:
        return MIN_CLEARANCE_STATIC
    return MIN_CLEARANCE


def footprint_distances(a: NDArray[np.float64], b: NDArray[np.float64], near: float = 5.0) -> NDArray[np.float64]:
    """(T,) distance in metres between footprints a and b, each (T, 4, 2); 0 where they overlap.

    Frames whose bounding circles are more than `near` apart get the circle gap (a lower bound).
    """
    import shapely

    ca, cb = a.mean(axis=1), b.mean(axis=1)
    ra = np.linalg.norm(a - ca[:, None], axis=2).max(axis=1)
    rb = np.linalg.norm(b - cb[:, None], axis=2).max(axis=1)
    gap = np.linalg.norm(ca - cb, axis=1) - ra - rb
    out: NDArray[np.float64] = np.maximum(gap, 0.0)
    idx = np.nonzero(gap < near)[0]
    if idx.size:
        pa = shapely.polygons(a[idx])
        pb = shapely.polygons(b[idx])
        out[idx] = shapely.distance(pa, pb)
    return out


@dataclass(frozen=True)
class Encounter:
    """The closest approach between two agents: distance (m) at time t (s)."""

    other: str
    distance: float
    t: float
    required: float

    @property
    def too_close(self) -> bool:
        return self.distance < self.required - 1e-6
