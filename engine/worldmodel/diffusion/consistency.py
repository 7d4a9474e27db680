"""Consistency figures of a generated clip (no model needed): how much consecutive frames and adjacent
views disagree. Both in grey levels (0..255), lower = more consistent.

    cross_frame(frames)  mean |frame t+1 - frame t| over pixels, views and t          frames (T, V, H, W, 3)
    cross_view(frames)   seam ratio: mean |last column of view v - first column of view v+1| (cyclic, the
                         panorama wraps) divided by the mean |column x+1 - column x| inside the views;
                         1.0 = the seams look like any other column step, larger = visible seams
"""
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def cross_frame(frames: NDArray[np.uint8]) -> float:
    """Mean absolute grey-level change between consecutive frames; frames (T, V, H, W, 3) uint8, T >= 2."""
    f = frames.astype(np.float32)
    if f.shape[0] < 2:
        raise ValueError("cross_frame needs at least two frames")
    return float(np.abs(np.diff(f, axis=0)).mean())


def cross_view(frames: NDArray[np.uint8]) -> float:
    """Seam ratio of the six-view panorama (see the module doc); frames (T, V, H, W, 3) uint8, V >= 2."""
    f = frames.astype(np.float32)
    left = f[:, :, :, -1]                        # (T, V, H, 3): each view's last column
    right = np.roll(f[:, :, :, 0], -1, axis=1)   # the next view's first column (BL -> FL wraps)
    seam = np.abs(left - right).mean()
    inner = np.abs(np.diff(f, axis=3)).mean()
    return float(seam / max(inner, 1e-6))
