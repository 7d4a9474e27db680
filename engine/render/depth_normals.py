"""Surface normals from a depth map (numpy): for real backgrounds and the pyrender baseline."""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray


def backproject(depth: NDArray[np.floating[Any]], K: NDArray[np.float64]) -> NDArray[np.float32]:
    """(H, W) camera-frame z in metres -> (H, W, 3) camera-frame points (OpenCV axes)."""
    h, w = depth.shape
    u = np.arange(w, dtype=np.float32)[None, :]
    v = np.arange(h, dtype=np.float32)[:, None]
    z = depth.astype(np.float32)
    x = (u - K[0, 2] - K[0, 1] * (v - K[1, 2]) / K[1, 1]) * z / K[0, 0]
    y = (v - K[1, 2]) * z / K[1, 1]
    return np.stack([x, y, z], axis=-1)


def normals_from_depth(depth: NDArray[np.floating[Any]], K: NDArray[np.float64]) -> NDArray[np.float32]:
    """(H, W) depth (0 = none) -> (H, W, 3) float32 camera-frame unit normals facing the camera, 0 = none.

    Central differences of the back-projected points; pixels whose neighbours lack depth get 0.
    """
    p = backproject(depth, K)
    du = np.zeros_like(p)
    dv = np.zeros_like(p)
    du[:, 1:-1] = p[:, 2:] - p[:, :-2]
    dv[1:-1] = p[2:] - p[:-2]
    n = np.cross(du, dv)
    norm = np.linalg.norm(n, axis=-1, keepdims=True)
    valid = depth > 0
    ok = valid.copy()
    ok[:, 1:-1] &= valid[:, 2:] & valid[:, :-2]
    ok[1:-1] &= valid[2:] & valid[:-2]
    ok[[0, -1], :] = False
    ok[:, [0, -1]] = False
    ok &= norm[..., 0] > 1e-12
    out: NDArray[np.float32] = np.where(ok[..., None], n / np.maximum(norm, 1e-12), 0.0).astype(np.float32)
    flip = (out * p).sum(-1) > 0
    out[flip] *= -1
    return out
