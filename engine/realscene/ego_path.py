"""A road frame that follows the ego's recorded path: (s along the path, d to its left) <-> world.

Used to place insertions relative to the real ego: library manoeuvres planned on a straight road
are bent along the path the ego actually drove. Beyond the recorded path the frame continues in
straight lines along the first and last headings.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from engine.scenario.model import Agent

MIN_STEP = 0.2   # m between path points kept (a standing ego has no heading of its own)


@dataclass(frozen=True)
class EgoPathFrame:
    """Arc-length parametrised polyline: `s` (N,) metres, `xy` (N, 2), `heading` (N,) rad."""

    s: NDArray[np.float64]
    xy: NDArray[np.float64]
    heading: NDArray[np.float64]

    @classmethod
    def from_agent(cls, ego: Agent, times: NDArray[np.float64]) -> "EgoPathFrame":
        """The path of `ego` sampled at `times` (a standing ego gives a short straight along its yaw)."""
        smp = ego.trajectory.sample(times)
        xy = smp.xy
        keep = [0]
        for i in range(1, len(xy)):
            if np.hypot(*(xy[i] - xy[keep[-1]])) >= MIN_STEP:
                keep.append(i)
        xy = xy[keep]
        if len(xy) < 2:
            yaw = float(smp.yaw[0])
            xy = np.array([xy[0], xy[0] + [np.cos(yaw), np.sin(yaw)]])
        seg = np.diff(xy, axis=0)
        s = np.concatenate([[0.0], np.cumsum(np.hypot(seg[:, 0], seg[:, 1]))])
        h = np.unwrap(np.arctan2(seg[:, 1], seg[:, 0]))
        heading = np.concatenate([h, h[-1:]])
        return cls(s, xy, heading)

    @property
    def length(self) -> float:
        return float(self.s[-1])

    def to_world(self, s: NDArray[np.float64] | float, d: NDArray[np.float64] | float
                 ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """World (xy (N, 2), heading (N,)) of road coordinates s, d (N,), extrapolating past the ends."""
        s = np.atleast_1d(np.asarray(s, dtype=np.float64))
        d = np.broadcast_to(np.asarray(d, dtype=np.float64), s.shape)
        sc = np.clip(s, 0.0, self.length)
        hd = np.interp(sc, self.s, self.heading)
        # the heading of the segment a point lies on (piecewise constant), for exact positions
        idx = np.clip(np.searchsorted(self.s, sc, side="right") - 1, 0, len(self.s) - 2)
        seg_h = self.heading[idx]
        base = self.xy[idx] + (sc - self.s[idx])[:, None] * np.stack([np.cos(seg_h), np.sin(seg_h)], 1)
        extra = s - sc
        h_end = np.where(s < 0, self.heading[0], self.heading[-1])
        base = base + extra[:, None] * np.stack([np.cos(h_end), np.sin(h_end)], 1)
        normal = np.stack([-np.sin(hd), np.cos(hd)], 1)
        return base + d[:, None] * normal, np.where(extra != 0, h_end, hd)

    def to_path(self, xy: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Road coordinates (s (N,), d (N,)) of world points (N, 2): projection on the nearest segment."""
        p = np.atleast_2d(np.asarray(xy, dtype=np.float64))
        a, b = self.xy[:-1], self.xy[1:]
        ab = b - a
        L2 = np.maximum((ab ** 2).sum(1), 1e-12)
        u = ((p[:, None, :] - a[None]) * ab[None]).sum(-1) / L2[None]
        first = np.zeros_like(u, dtype=bool)
        first[:, 0] = True
        last = np.zeros_like(u, dtype=bool)
        last[:, -1] = True
        u = np.where(first & (u < 0), u, np.where(last & (u > 1), u, np.clip(u, 0.0, 1.0)))
        proj = a[None] + u[..., None] * ab[None]
        dist = np.hypot(*(p[:, None, :] - proj).transpose(2, 0, 1))
        i = np.argmin(dist, axis=1)
        rows = np.arange(len(p))
        seg_len = np.sqrt(L2[i])
        s = self.s[i] + u[rows, i] * seg_len
        t = ab[i] / seg_len[:, None]
        rel = p - a[i]
        d = t[:, 0] * rel[:, 1] - t[:, 1] * rel[:, 0]
        return s, d
