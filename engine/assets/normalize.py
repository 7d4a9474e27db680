"""Bringing any mesh into the canonical asset frame and fitting it to a box.

Canonical frame: x forward, y left, z up, metres; centred in x and y, bottom at z = 0.
File axes name which file axis points up and which forward (glTF: up +y, forward +z).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import trimesh
from numpy.typing import NDArray

AXES = {"+x": (1, 0, 0), "-x": (-1, 0, 0), "+y": (0, 1, 0), "-y": (0, -1, 0), "+z": (0, 0, 1), "-z": (0, 0, -1)}
GLTF_AXES = {"up": "+y", "forward": "+z"}


class AxesError(ValueError):
    """File axes that do not name two perpendicular axes."""


def canonical_from_file(up: str, forward: str) -> NDArray[np.float64]:
    """(3, 3) rotation taking file coordinates to canonical ones, given the file's up and forward axes."""
    try:
        u, f = np.array(AXES[up], float), np.array(AXES[forward], float)
    except KeyError:
        raise AxesError(f"axes must be one of {', '.join(AXES)}; got up={up!r}, forward={forward!r}") from None
    if abs(u @ f) > 0:
        raise AxesError(f"up ({up}) and forward ({forward}) must be perpendicular")
    return np.stack([f, np.cross(u, f), u])


def file_from_canonical(up: str, forward: str) -> NDArray[np.float64]:
    """(3, 3) rotation taking canonical coordinates to a file's axes (inverse of `canonical_from_file`)."""
    return canonical_from_file(up, forward).T


def rotate(mesh: trimesh.Trimesh, r: NDArray[np.float64]) -> trimesh.Trimesh:
    """A copy of `mesh` with the (3, 3) rotation applied."""
    m = np.eye(4)
    m[:3, :3] = r
    out = mesh.copy()
    out.apply_transform(m)
    return out


def fit_to_box(mesh: trimesh.Trimesh, wlh: Sequence[float]) -> trimesh.Trimesh:
    """A copy scaled per axis so its bounds are exactly [-l/2, l/2] x [-w/2, w/2] x [0, h].

    Raises ValueError when the mesh is flat or empty along an axis (it cannot fill a box).
    """
    w, l, h = (float(v) for v in wlh)
    lo, hi = mesh.bounds
    ext = hi - lo
    if not np.all(np.isfinite(ext)) or np.any(ext <= 1e-9):
        raise ValueError(f"mesh has no extent along {'xyz'[int(np.argmin(ext))]} (bounds {lo.tolist()} .. {hi.tolist()})")
    scale = np.array([l, w, h]) / ext
    centre = np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]])
    m = np.diag([*scale, 1.0])
    m[:3, 3] = -centre * scale
    out = mesh.copy()
    out.apply_transform(m)
    return out
