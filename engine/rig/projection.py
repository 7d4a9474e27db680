"""Projecting agent boxes and map geometry into a camera, with clipping at the near plane.

Boxes are nuscenes-devkit `Box` objects (corner order of `Box.corners`); points go through
`Camera.project`, which is `view_points`. Everything drawn from 3-D lines or faces is clipped
against the plane z = `near` in the camera frame first, so segments that pass behind the camera
never produce wrapped-around pixels.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

import numpy as np
from numpy.typing import NDArray
from pyquaternion import Quaternion

from engine.rig.camera import Camera
from engine.rig.pose import agent_present
from engine.scenario.model import Agent

if TYPE_CHECKING:
    from nuscenes.utils.data_classes import Box

NEAR = 0.1  # metres: anything closer to the camera plane is clipped

# The 12 edges and 6 faces of a box in nuscenes-devkit `Box.corners` order: corners 0-3 are the
# front face (+x), 4-7 the back; 0, 3, 4, 7 are at +y (left); 0, 1, 4, 5 at the top.
BOX_EDGES: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4), (0, 4), (1, 5), (2, 6), (3, 7),
)
# Corners of the unit asset box ([-0.5, 0.5]^2 x [0, 1]) in `Box.corners` order, (8, 3).
UNIT_BOX_CORNERS = np.array([[0.5, 0.5, 1.0], [0.5, -0.5, 1.0], [0.5, -0.5, 0.0], [0.5, 0.5, 0.0],
                             [-0.5, 0.5, 1.0], [-0.5, -0.5, 1.0], [-0.5, -0.5, 0.0], [-0.5, 0.5, 0.0]])
_EDGE_INDEX = np.array(BOX_EDGES)
BOX_FACES: dict[str, tuple[int, int, int, int]] = {
    "front": (0, 1, 2, 3), "back": (4, 5, 6, 7), "left": (0, 3, 7, 4),
    "right": (1, 2, 6, 5), "top": (0, 1, 5, 4), "bottom": (3, 2, 6, 7),
}


def agent_box(agent: Agent, t: float) -> Box:
    """The agent's nuscenes-devkit `Box` in the world frame at time t (centre at height h/2)."""
    from nuscenes.utils.data_classes import Box   # lazy: the devkit package costs 1.4 s to import

    x, y, yaw = agent.trajectory.pose_at(float(t))
    return Box([x, y, agent.height / 2.0], list(agent.size), Quaternion(axis=[0.0, 0.0, 1.0], angle=yaw),
               name=agent.cls, token=agent.id)


def transform_points(m: NDArray[np.float64], points: NDArray[np.float64]) -> NDArray[np.float64]:
    """Apply a (4, 4) transform to (3, N) points; returns (3, N) float64."""
    p = np.asarray(points, dtype=np.float64)
    return m[:3, :3] @ p + m[:3, 3:4]


@dataclass(frozen=True)
class ProjectedBox:
    """An agent's box seen by one camera at one time.

    corners_camera: (3, 8) camera-frame corners (`Box.corners` order); corners_px: (2, 8) pixel
    coordinates (meaningless where corners_camera[2] <= NEAR); bbox: (u0, v0, u1, v1) of the part in
    front of the near plane, clipped to the image, or None when no part of the box is in view.
    """

    agent_id: str
    cls: str
    corners_camera: NDArray[np.float64]
    corners_px: NDArray[np.float64]
    bbox: tuple[float, float, float, float] | None

    @property
    def visible(self) -> bool:
        return self.bbox is not None

    @property
    def distance(self) -> float:
        """Distance (m) from the camera to the box centre."""
        return float(np.linalg.norm(self.corners_camera.mean(axis=1)))


def project_agent_box(agent: Agent, t: float, camera: Camera, camera_from_world: NDArray[np.float64]) -> ProjectedBox:
    """Project one agent's box into `camera`, whose world->camera transform is `camera_from_world` (4, 4)."""
    corners_world = agent_box(agent, t).corners()
    corners_cam = transform_points(camera_from_world, corners_world)
    return ProjectedBox(agent.id, agent.cls, corners_cam, camera.project(corners_cam),
                        silhouette_bbox(corners_cam, camera))


def project_boxes(agents: Iterable[Agent], t: float, camera: Camera, camera_from_world: NDArray[np.float64]) -> list[ProjectedBox]:
    """Boxes of the agents present at t that are at least partly in view, nearest last (far-to-near order)."""
    out = [project_agent_box(a, t, camera, camera_from_world) for a in agents if agent_present(a, t)]
    out = [b for b in out if b.visible]
    return sorted(out, key=lambda b: -b.distance)


def frustum_planes(camera: Camera | None = None, margin: float = 2.0, near: float = NEAR) -> NDArray[np.float64]:
    """(P, 4) clipping planes [nx, ny, nz, d] in the camera frame; a point p is kept where n.p + d >= 0.

    Without a camera only the near plane z >= near; with one also the four sides of the image grown
    by `margin` pixels, so clipped geometry projects to bounded pixel coordinates.
    """
    planes = [[0.0, 0.0, 1.0, -near]]
    if camera is not None:
        K = camera.K
        fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
        w, h, m = camera.width, camera.height, margin
        planes += [[fx, 0.0, cx + 0.5 + m, 0.0], [-fx, 0.0, w - 0.5 + m - cx, 0.0],
                   [0.0, fy, cy + 0.5 + m, 0.0], [0.0, -fy, h - 0.5 + m - cy, 0.0]]
    return np.array(planes, dtype=np.float64)


NEAR_ONLY = frustum_planes()


def clip_segments(p0: NDArray[np.float64], p1: NDArray[np.float64],
                  planes: NDArray[np.float64] = NEAR_ONLY) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Clip camera-frame segments (N, 3) -> (N, 3) to the kept side of every plane (see `frustum_planes`).

    Returns the kept (M, 3) start and end points; segments wholly outside are dropped.
    """
    p0 = np.asarray(p0, dtype=np.float64).reshape(-1, 3)
    p1 = np.asarray(p1, dtype=np.float64).reshape(-1, 3)
    for pl in planes:
        d0 = p0 @ pl[:3] + pl[3]
        d1 = p1 @ pl[:3] + pl[3]
        keep = (d0 >= 0) | (d1 >= 0)
        p0, p1, d0, d1 = p0[keep], p1[keep], d0[keep], d1[keep]
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.where(d1 != d0, d0 / (d0 - d1), 0.0)[:, None]
        cut = p0 + s * (p1 - p0)
        p0 = np.where((d0 < 0)[:, None], cut, p0)
        p1 = np.where((d1 < 0)[:, None], cut, p1)
    return p0, p1


def clip_polygon(poly: NDArray[np.float64], planes: NDArray[np.float64] = NEAR_ONLY) -> NDArray[np.float64]:
    """Clip a camera-frame convex or simple polygon (N, 3) by every plane (Sutherland-Hodgman); (M, 3), M may be 0."""
    pts = [np.asarray(p, dtype=np.float64) for p in np.asarray(poly, dtype=np.float64).reshape(-1, 3)]
    for pl in planes:
        if not pts:
            break
        out = []
        n = len(pts)
        for i in range(n):
            a, b = pts[i], pts[(i + 1) % n]
            da, db = a @ pl[:3] + pl[3], b @ pl[:3] + pl[3]
            if da >= 0:
                out.append(a)
            if (da >= 0) != (db >= 0):
                out.append(a + da / (da - db) * (b - a))
        pts = out
    return np.array(pts, dtype=np.float64).reshape(-1, 3)


def clipped_hull_points(corners_cam: NDArray[np.float64], near: float = NEAR) -> NDArray[np.float64]:
    """(3, M) vertices of a box (3, 8) clipped to z >= near: the corners in front and the edge crossings.

    Their projections span the visible part of the box (OpenCV draws the far-off pixel coordinates
    of points near the plane correctly, so no clipping at the image sides is needed).
    """
    z = corners_cam[2]
    e = _EDGE_INDEX
    zi, zj = z[e[:, 0]], z[e[:, 1]]
    cross = (zi - near) * (zj - near) < 0
    pts = [corners_cam[:, z >= near]]
    if cross.any():
        a, b = corners_cam[:, e[cross, 0]], corners_cam[:, e[cross, 1]]
        s = (near - zi[cross]) / (zj[cross] - zi[cross])
        pts.append(a + s * (b - a))
    return np.concatenate(pts, axis=1)


def silhouette_bbox(corners_cam: NDArray[np.float64], camera: Camera, near: float = NEAR,
                    margin: float = 0.0) -> tuple[float, float, float, float] | None:
    """Pixel bbox (u0, v0, u1, v1) of a box's (3, 8) visible part, within the image; None if out of view."""
    pts = clipped_hull_points(corners_cam, near)
    if pts.shape[1] == 0:
        return None
    uv = camera.project(pts)
    u0, v0 = uv.min(axis=1) - margin
    u1, v1 = uv.max(axis=1) + margin
    if u1 < -0.5 or v1 < -0.5 or u0 > camera.width - 0.5 or v0 > camera.height - 0.5:
        return None
    return (max(float(u0), -0.5), max(float(v0), -0.5),
            min(float(u1), camera.width - 0.5), min(float(v1), camera.height - 0.5))
