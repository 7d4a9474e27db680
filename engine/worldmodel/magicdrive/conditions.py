"""A studio frame -> MagicDrive's conditions, in MagicDrive's own conventions.

MagicDrive was trained on nuScenes as prepared by BEVFusion / mmdet3d, so its conditions live in the
nuScenes LIDAR_TOP frame (x right, y forward, z up; origin at the roof LiDAR), not the ego frame
(x forward, y left, z up):

- boxes: 8 corners per box (mode 'all-xyz'), in mmdet3d's LiDARInstance3DBoxes order
  (x0y0z0, x0y0z1, x0y1z1, x0y1z0, x1y0z0, x1y0z1, x1y1z1, x1y1z0) where the box's local x is its
  width and y its length; as in BEVFusion's nuScenes infos, the box's *centre* z is used as its
  bottom (the corners span [z_c, z_c + h]) - the model was trained on that, so we keep it.
  Each view keeps the boxes with at least one corner in front of its camera (z > 0 in the camera
  frame), padded to the largest count over views; classes in MagicDrive's order `OBJECT_CLASSES`.
- map: 8 binary layers `MAP_CLASSES` on a 200 x 200 grid of 0.5 m cells (400 x 400 of 0.25 m for the
  424x800 model) covering [-50, 50) m in LiDAR x and y, indexed map[c, i, j] with i along LiDAR x (right) and j along LiDAR y (forward).
- cameras: (V, 3, 7) = [K for the 1600x900 nuScenes image | camera2lidar[:3, :4]], views in
  `VIEW_ORDER` (the studio's panorama order is the same).
- prompt: "A driving scene image at {location}. {description}." with the time of day and weather first.

The LiDAR's pose on the ego is nuScenes' nominal LIDAR_TOP mount (`EGO_FROM_LIDAR`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Protocol, Sequence

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from engine.rig.rig import CameraRig
    from engine.scenario.map_elements import RoadMap

OBJECT_CLASSES: tuple[str, ...] = ("car", "truck", "construction_vehicle", "bus", "trailer", "barrier",
                                   "motorcycle", "bicycle", "pedestrian", "traffic_cone")
MAP_CLASSES: tuple[str, ...] = ("drivable_area", "ped_crossing", "walkway", "stop_line", "carpark_area",
                                "road_divider", "lane_divider", "road_block")
VIEW_ORDER: tuple[str, ...] = ("CAM_FRONT_LEFT", "CAM_FRONT", "CAM_FRONT_RIGHT", "CAM_BACK_RIGHT", "CAM_BACK",
                               "CAM_BACK_LEFT")
PROMPT_TEMPLATE = "A driving scene image at {location}. {description}."
MAP_BOUND = (-50.0, 50.0, 0.5)  # metres: min, max, cell size (x and y)
NUSCENES_IMAGE = (1600, 900)    # (width, height) the intrinsics refer to

# nuScenes' LIDAR_TOP mount: rotated -90 deg about z (LiDAR +y = ego forward), 0.94 m ahead, 1.84 m up
EGO_FROM_LIDAR = np.array([[0.0, 1.0, 0.0, 0.943713],
                           [-1.0, 0.0, 0.0, 0.0],
                           [0.0, 0.0, 1.0, 1.84023],
                           [0.0, 0.0, 0.0, 1.0]])
LIDAR_FROM_EGO = np.linalg.inv(EGO_FROM_LIDAR)

# mmdet3d LiDARInstance3DBoxes.corners: unravel_index(arange(8), [2, 2, 2]) reordered
_CORNER_INDEX = np.array(np.unravel_index(np.arange(8), (2, 2, 2))).T[[0, 1, 3, 2, 4, 5, 7, 6]].astype(np.float64)


class BoxAgent(Protocol):
    """An agent's box in the ego frame (`engine.conditions.AgentState` is one): class, centre at
    mid-height (m), size (w, l, h) (m), yaw (rad)."""

    @property
    def cls(self) -> str: ...
    @property
    def center(self) -> Sequence[float]: ...
    @property
    def size(self) -> Sequence[float]: ...
    @property
    def yaw(self) -> float: ...


def _transform(T: NDArray[np.float64], pts: NDArray[np.float64]) -> NDArray[np.float64]:
    """(N, 3) points through the 4x4 transform T."""
    out: NDArray[np.float64] = pts @ T[:3, :3].T + T[:3, 3]
    return out


def box_corners_lidar(center_ego: Sequence[float], size_wlh: Sequence[float], yaw_ego: float) -> NDArray[np.float64]:
    """(8, 3) float64 corners in the LiDAR frame, MagicDrive's order and z convention (module docstring).

    center_ego: box centre at mid-height in the ego frame; size_wlh: width, length, height (m);
    yaw_ego: heading in the ego frame (rad, 0 = ego forward, counter-clockwise).
    """
    w, l, h = (float(v) for v in size_wlh)
    c = _transform(LIDAR_FROM_EGO, np.asarray(center_ego, dtype=np.float64)[None])[0]
    yaw_lidar = float(yaw_ego) + np.pi / 2  # LiDAR axes are the ego's turned by -90 deg
    yaw_mm = -yaw_lidar - np.pi / 2           # BEVFusion's info conversion ("SECOND format")
    local = (_CORNER_INDEX - np.array([0.5, 0.5, 0.0])) * np.array([w, l, h])
    cs, sn = np.cos(yaw_mm), np.sin(yaw_mm)
    rot_t = np.array([[cs, -sn, 0.0], [sn, cs, 0.0], [0.0, 0.0, 1.0]])  # mmdet3d rotation_3d_in_axis(axis=2)
    corners: NDArray[np.float64] = local @ rot_t + c
    return corners


def camera_params(rig: CameraRig) -> tuple[NDArray[np.float32], NDArray[np.float64]]:
    """((V, 3, 7) float32 MagicDrive camera parameters, (V, 4, 4) lidar->camera) for a rig in VIEW_ORDER."""
    params: list[NDArray[np.float64]] = []
    lidar2cam: list[NDArray[np.float64]] = []
    for name in VIEW_ORDER:
        cam = rig[name]
        K = cam.scaled(*NUSCENES_IMAGE).K
        cam2lidar = LIDAR_FROM_EGO @ cam.ego_from_camera
        params.append(np.concatenate([K, cam2lidar[:3, :4]], axis=1))
        lidar2cam.append(np.linalg.inv(cam2lidar))
    return np.asarray(params, dtype=np.float32), np.asarray(lidar2cam, dtype=np.float64)


@dataclass(frozen=True)
class BoxConditions:
    """bboxes (V, M, 8, 3) float32 LiDAR-frame corners, classes (V, M) int64 (-1 = padding),
    masks (V, M) bool; M may be 0."""

    bboxes: NDArray[np.float32]
    classes: NDArray[np.int64]
    masks: NDArray[np.bool_]

    @property
    def empty(self) -> bool:
        return self.bboxes.shape[1] == 0


def box_conditions(agents: Iterable[BoxAgent], lidar2cam: NDArray[np.float64]) -> BoxConditions:
    """The per-view box lists of `agents` (objects with cls, center, size (w, l, h), yaw in the ego
    frame); boxes of classes MagicDrive does not know are skipped."""
    corners: list[NDArray[np.float64]] = []
    labels: list[int] = []
    for a in agents:
        if a.cls not in OBJECT_CLASSES:
            continue
        corners.append(box_corners_lidar(a.center, a.size, a.yaw))
        labels.append(OBJECT_CLASSES.index(a.cls))
    v = len(lidar2cam)
    per_view = []
    for k in range(v):
        keep = [i for i, c in enumerate(corners) if np.any(_transform(lidar2cam[k], c)[:, 2] > 0)]
        per_view.append(keep)
    m = max((len(p) for p in per_view), default=0)
    bboxes = np.zeros((v, m, 8, 3), dtype=np.float32)
    classes = -np.ones((v, m), dtype=np.int64)
    masks = np.zeros((v, m), dtype=bool)
    for k, keep in enumerate(per_view):
        for slot, i in enumerate(keep):
            bboxes[k, slot] = corners[i]
            classes[k, slot] = labels[i]
            masks[k, slot] = True
    return BoxConditions(bboxes, classes, masks)


def map_grid_world(world_from_ego: NDArray[np.float64], cells: int = 200) -> NDArray[np.float64]:
    """(cells, cells, 2) world x, y of the centre of each BEV cell [i, j] (module docstring); the grid
    always spans [-50, 50) m (200 cells of 0.5 m for the 224x400 model, 400 of 0.25 m for 424x800)."""
    lo, hi, _ = MAP_BOUND
    n = int(cells)
    step = (hi - lo) / n
    c = lo + step * (np.arange(n) + 0.5)
    xl, yl = np.meshgrid(c, c, indexing="ij")  # i -> LiDAR x, j -> LiDAR y
    pts = np.stack([xl, yl, np.zeros_like(xl)], axis=-1).reshape(-1, 3)
    world = _transform(np.asarray(world_from_ego, dtype=np.float64) @ EGO_FROM_LIDAR, pts)
    return world[:, :2].reshape(n, n, 2)


def _inside(polygon: NDArray[np.float64], pts: NDArray[np.float64]) -> NDArray[np.bool_]:
    import shapely
    from shapely.geometry import Polygon

    if len(polygon) < 3:
        return np.zeros(len(pts), dtype=bool)
    return np.asarray(shapely.contains_xy(Polygon(polygon).buffer(0), pts[:, 0], pts[:, 1]), dtype=bool)


def _near_polyline(line: NDArray[np.float64], pts: NDArray[np.float64], radius: float) -> NDArray[np.bool_]:
    out = np.zeros(len(pts), dtype=bool)
    if len(line) < 2:
        return out
    lo, hi = line.min(0) - radius, line.max(0) + radius
    cand = np.nonzero(np.all((pts >= lo) & (pts <= hi), axis=1))[0]
    if not len(cand):
        return out
    p = pts[cand]
    a, b = line[:-1], line[1:]
    ab = b - a
    denom = np.maximum((ab ** 2).sum(1), 1e-12)
    u = np.clip(((p[:, None, :] - a[None]) * ab[None]).sum(-1) / denom[None], 0.0, 1.0)
    d = np.linalg.norm(p[:, None, :] - (a[None] + u[..., None] * ab[None]), axis=-1).min(1)
    out[cand] = d <= radius
    return out


def bev_map(road_map: RoadMap | None, world_from_ego: NDArray[np.float64], line_radius: float = 0.5,
            cells: int = 200) -> NDArray[np.float32]:
    """(8, cells, cells) float32 {0, 1} map layers `MAP_CLASSES` around the ego from a studio RoadMap
    (world frame). drivable_area, ped_crossing: polygons; road_divider: 'double' dividers (the
    centre line); lane_divider: the other dividers; stop_line: the signals' stop lines. The studio's
    maps have no walkway, car park or road-block layers: those stay empty."""
    grid = map_grid_world(world_from_ego, cells)
    n = grid.shape[0]
    pts = grid.reshape(-1, 2)
    out = np.zeros((len(MAP_CLASSES), n * n), dtype=bool)
    if road_map is None:
        return out.reshape(len(MAP_CLASSES), n, n).astype(np.float32)
    for poly in getattr(road_map, "drivable_area", ()):
        out[0] |= _inside(np.asarray(poly, dtype=np.float64).reshape(-1, 2), pts)
    for crossing in getattr(road_map, "ped_crossings", ()):
        out[1] |= _inside(crossing.array, pts)
    for sig in getattr(road_map, "signals", ()):
        out[3] |= _near_polyline(np.asarray(sig.stop_line, dtype=np.float64), pts, line_radius)
    for div in getattr(road_map, "lane_dividers", ()):
        layer = 5 if div.style == "double" else 6
        out[layer] |= _near_polyline(div.array, pts, line_radius)
    return out.reshape(len(MAP_CLASSES), n, n).astype(np.float32)


def prompt_for(time_of_day: str, weather: str, text: str = "", location: str = "boston-seaport") -> str:
    """MagicDrive's caption for a frame: nuScenes-style description with time of day and weather first."""
    parts = []
    if time_of_day == "night":
        parts.append("Night")
    elif time_of_day == "dusk":
        parts.append("Dusk, low sun")
    else:
        parts.append("Daytime")
    weather_words = {"rain": "rain, wet road", "fog": "fog, low visibility", "snow": "snow"}
    if weather in weather_words:
        parts.append(weather_words[weather])
    text = " ".join(str(text or "").split()).rstrip(". ")
    if text:
        parts.append(text[:200])
    return PROMPT_TEMPLATE.format(location=location, description=", ".join(parts))
