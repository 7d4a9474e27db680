"""How much of each agent's box is visible in the six rendered images, from the instance masks.

nuScenes defines visibility as the fraction of an annotation visible over all six images. With the
rendered per-camera instance map (and optionally the depth map) this is measured per pixel of the
box's projected silhouette (the convex hull of its corners, clipped at the near plane):

    visible    the pixel shows this agent (instance id of the agent);
    occluded   the pixel shows another agent that is nearer to the camera than this one, or the
               static scene (instance 0 or an id that is no agent) nearer than the box's nearest
               point (needs depth; without depth such pixels are not counted as occluders);
    neither    the box is empty there (the mesh does not fill its box): the pixel does not count.

fraction = sum(visible) / sum(visible + occluded) over all cameras; 0 when nothing of the box lands
in any image. Pixels are counted at the export size, so tiny far boxes are coarse.

The exporter prefers the object's own silhouette as the denominator when it has it
(`pipeline.own_silhouette_pixels`: the agent rendered alone): visible pixels / own pixels, which
does not undercount thin objects (pedestrians, bicycles) whose box is mostly empty; this
box-based measure remains the fallback.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.rig import CameraRig
from engine.rig.pose import agent_present
from engine.rig.projection import agent_box, clipped_hull_points, transform_points
from engine.scenario.model import Agent

SUBPIXEL_SHIFT = 4


def silhouette(corners_cam: NDArray[np.float64], K: NDArray[np.float64], width: int,
               height: int) -> tuple[NDArray[np.bool_], tuple[int, int]] | None:
    """The box silhouette rasterised inside its pixel bounding box.

    corners_cam: (3, 8) camera-frame corners. Returns ((h, w) bool mask, (x0, y0) offset of the mask
    in the image) or None when the box is behind the camera or outside the image.
    """
    pts = clipped_hull_points(corners_cam)
    if pts.shape[1] == 0:
        return None
    uv = (K @ pts)[:2] / pts[2]
    x0, y0 = int(np.floor(uv[0].min())), int(np.floor(uv[1].min()))
    x1, y1 = int(np.ceil(uv[0].max())) + 1, int(np.ceil(uv[1].max())) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    if x1 <= x0 or y1 <= y0:
        return None
    local = (uv.T - [x0, y0]) * (1 << SUBPIXEL_SHIFT)
    hull = cv2.convexHull(np.round(local).astype(np.int32))
    mask = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    cv2.fillConvexPoly(mask, hull, (1,), lineType=cv2.LINE_8, shift=SUBPIXEL_SHIFT)
    return mask.astype(bool), (x0, y0)


def visibility_counts(
    agents: Sequence[Agent], t: float, rig: CameraRig, world_from_ego: NDArray[np.float64],
    instance: NDArray[np.int32], instance_ids: Mapping[str, int], depth: NDArray[np.floating[Any]] | None = None,
) -> dict[str, tuple[int, int]]:
    """Per agent id: (visible pixels, visible + occluded pixels) summed over the cameras.

    instance: (V, H, W) int32 in `rig.names` order; depth: (V, H, W) float32 metres (0 = none) or None.
    """
    present = [a for a in agents if agent_present(a, t) and a.id in instance_ids]
    agent_of_id = {int(instance_ids[a.id]): a.id for a in present}
    totals = {a.id: [0, 0] for a in present}
    boxes = {a.id: agent_box(a, t).corners() for a in present}
    for ci, cam in enumerate(rig.cameras):
        cam_from_world = cam.camera_from_world(world_from_ego)
        corners = {aid: transform_points(cam_from_world, c) for aid, c in boxes.items()}
        dist = {aid: float(np.linalg.norm(c.mean(axis=1))) for aid, c in corners.items()}
        for a in present:
            sil = silhouette(corners[a.id], cam.K, cam.width, cam.height)
            if sil is None:
                continue
            mask, (x0, y0) = sil
            h, w = mask.shape
            inst = instance[ci, y0:y0 + h, x0:x0 + w]
            own = int(instance_ids[a.id])
            visible = mask & (inst == own)
            ids_in = np.unique(inst[mask])
            nearer = [i for i in ids_in if i != own and i in agent_of_id and dist[agent_of_id[i]] < dist[a.id]]
            occluded = mask & np.isin(inst, nearer) if nearer else np.zeros_like(mask)
            if depth is not None:
                z_near = float(clipped_hull_points(corners[a.id])[2].min())
                d = depth[ci, y0:y0 + h, x0:x0 + w]
                static = ~np.isin(inst, list(agent_of_id))
                occluded |= mask & static & (d > 0) & (d < z_near)
            n_vis = int(visible.sum())
            totals[a.id][0] += n_vis
            totals[a.id][1] += n_vis + int(occluded.sum())
    return {k: (v[0], v[1]) for k, v in totals.items()}


def visible_fractions(agents: Sequence[Agent], t: float, rig: CameraRig, world_from_ego: NDArray[np.float64],
                      instance: NDArray[np.int32], instance_ids: Mapping[str, int],
                      depth: NDArray[np.floating[Any]] | None = None) -> dict[str, float]:
    """Per agent id present at t: the visible fraction in [0, 1] (see the module docstring)."""
    counts = visibility_counts(agents, t, rig, world_from_ego, instance, instance_ids, depth)
    return {aid: (vis / tot if tot > 0 else 0.0) for aid, (vis, tot) in counts.items()}
