"""A scenario's clip conditions, rendered frame by frame with the guidance renderer (`engine.render`).

    with conditions_for_scenario(scenario, size=(448, 256)) as conditions:
        clip = generate_clip(create_backend("naive"), conditions, GenerationSettings(seed=1))

The renderer owns an OpenGL context bound to the thread that made it, so it is created lazily by the
first `frame(i)` call, on the thread that generates; `close()` releases it (call it on that thread).
The shaded pass is lit for the scenario's time of day; depth and normals are kept for inserted
objects too (the naive backend needs them), and `FrameConditions.guidance` blanks them as Dream4Drive does.

A backend that needs only some maps reads frames through `frames_with_maps(conditions, maps)`: the
renderer then skips the others (no Canny, boxes, HD map, BEV or normal read-back for the naive
backend, which needs the shaded pass, depth and the inserted mask). Maps left out come as all-zero
read-only arrays of the right shape, so such frames are for that backend only.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable, Collection, Mapping

import cv2
import numpy as np
from numpy.typing import DTypeLike, NDArray

from engine.rig import CameraRig
from engine.rig.pose import agent_present
from engine.scenario.model import Scenario
from engine.classes import class_names
from engine.conditions.clip import AgentState, ClipConditions, FrameConditions, FrameSource

if TYPE_CHECKING:
    from engine.render.guidance import Background, GuidanceRenderer

LAMP_SPACING = 32.0   # metres between street lamps along lane boundaries
LAMP_HEIGHT = 7.0
LAMP_OFFSET = 1.2     # metres outside the kerb
LAMP_RANGE = 90.0     # lamps farther from the ego are left out

# frame index -> {camera: Background or its (image, depth) fields}, or None for no backgrounds
BackgroundSource = Callable[[int], "Mapping[str, Background | tuple[Any, ...]] | None"]
# FrameConditions field -> the renderer's map it comes from
_FIELD_MAPS = {"depth": "depth", "normal": "normal_encoded", "edge": "edge", "object": "object",
               "inserted": "inserted", "boxes": "boxes", "hdmap": "hdmap", "shaded": "rgb"}


def agent_states(scenario: Scenario, t: float, ego_from_world: NDArray[np.float64]) -> tuple[AgentState, ...]:
    """The agents present at t as ego-frame boxes (locked agents, from a real scene, are not inserted)."""
    out = []
    world_to_ego_yaw = float(np.arctan2(ego_from_world[1, 0], ego_from_world[0, 0]))  # = -(ego yaw)
    for a in scenario.agents:
        if not agent_present(a, t):
            continue
        s = a.trajectory.sample(t)
        p = ego_from_world @ np.array([s.x[0], s.y[0], a.height / 2, 1.0])
        out.append(AgentState(a.id, a.cls, (float(p[0]), float(p[1]), float(p[2])), a.size,
                              float(s.yaw[0]) + world_to_ego_yaw, float(s.speed[0]), inserted=not a.locked))
    return tuple(out)


def street_lamp_positions(scenario: Scenario, spacing: float = LAMP_SPACING) -> NDArray[np.float64]:
    """(N, 3) world-frame lamp heads along the lane boundaries, just outside the drivable area."""
    from shapely.geometry import LineString, Point

    drivable = scenario.map.drivable_geometry
    pts: list[NDArray[np.float64]] = []
    for line in scenario.map.lane_boundaries:
        arr = line.array
        if len(arr) < 2:
            continue
        ls = LineString(arr)
        for d in np.arange(spacing / 2, ls.length, spacing):
            p = np.array(ls.interpolate(d).coords[0])
            q = np.array(ls.interpolate(min(d + 0.5, ls.length)).coords[0]) - np.array(ls.interpolate(max(d - 0.5, 0)).coords[0])
            n = np.array([-q[1], q[0]]) / max(np.linalg.norm(q), 1e-9)
            for side in (1.0, -1.0):
                c = p + side * LAMP_OFFSET * n
                if drivable.is_empty or not drivable.contains(Point(c)):
                    if all(np.hypot(*(c - o[:2])) > spacing / 3 for o in pts):
                        pts.append(np.array([c[0], c[1], LAMP_HEIGHT]))
                    break
    return np.array(pts, dtype=np.float64).reshape(-1, 3)


class _RenderedFrames:
    """Frame source backed by a GuidanceRenderer made on first use (on the calling thread)."""

    def __init__(self, scenario: Scenario, rig: CameraRig, backgrounds: BackgroundSource | None) -> None:
        self.scenario = scenario
        self.rig = rig
        self.backgrounds = backgrounds
        self.lamps_world = street_lamp_positions(scenario)
        self._renderer: GuidanceRenderer | None = None
        self._thread: int | None = None
        self._lock = threading.Lock()

    def _get_renderer(self) -> GuidanceRenderer:
        from engine.render.gl_tiles import Lighting
        from engine.render.guidance import GuidanceRenderer, RenderSettings

        if self._renderer is not None and self._thread != threading.get_ident():
            raise RuntimeError("these conditions are rendered on another thread; build conditions per thread")
        if self._renderer is None:
            self._renderer = GuidanceRenderer(self.rig, lighting=Lighting.for_time_of_day(self.scenario.environment.time_of_day),
                                              settings=RenderSettings(blank_inserted=False))
            self._renderer.set_scenario(self.scenario)
            self._thread = threading.get_ident()
        return self._renderer

    def with_maps(self, maps: Collection[str] | None) -> FrameSource:
        """A frame source over the same renderer that renders only `maps` (renderer map names, e.g.
        {"rgb", "depth", "inserted"}); the other FrameConditions arrays are all-zero and read-only."""
        wanted = None if maps is None else frozenset(maps)
        return lambda index: self(index, wanted)

    def __call__(self, index: int, maps: Collection[str] | None = None) -> FrameConditions:
        with self._lock:
            renderer = self._get_renderer()
            if self.backgrounds is not None:
                from engine.render.guidance import Background

                bgs = {k: v if isinstance(v, Background) else Background(*v)
                       for k, v in (self.backgrounds(index) or {}).items()}
                renderer.set_backgrounds(bgs)
            else:
                bgs = {}
            g = renderer.render_frame(index, maps)
        names = self.rig.names
        v = len(names)
        w, h = self.rig.size

        def stack(attr: str, shape: tuple[int, ...] = (), dtype: DTypeLike = np.uint8) -> NDArray[Any]:
            first = getattr(g[names[0]], attr)
            if first is None:   # not rendered: zeros that take no memory
                return np.broadcast_to(np.zeros((), dtype), (v, h, w, *shape))
            out = np.empty((v, *first.shape), first.dtype)
            for k, n in enumerate(names):
                out[k] = getattr(g[n], attr)
            return out

        raw_depth = stack("depth", (), np.float32)
        known = raw_depth > 0               # 0: nothing hit (sky) or, over real frames, no depth measured
        depth = np.where(known, raw_depth, np.float32(np.inf)).astype(np.float32)
        inserted = stack("inserted", (), bool)
        edge = stack("edge")
        if edge.flags.writeable:
            dilate = renderer.settings.edge_blank_dilate
            kernel = np.ones((2 * dilate + 1, 2 * dilate + 1), np.uint8)
            for k in range(edge.shape[0]):
                if inserted[k].any():
                    grown = cv2.dilate(inserted[k].view(np.uint8), kernel) if dilate > 0 else inserted[k]
                    edge[k][grown.astype(bool)] = 0
        background = background_depth = None
        if bgs and all(n in bgs for n in names):   # the recorded frames themselves (naive insertion reads them)
            background = np.stack([np.asarray(bgs[n].image) for n in names])
            background_depth = np.stack([np.asarray(bgs[n].depth, np.float32) for n in names])
        ego_from_world = np.linalg.inv(g.world_from_ego)
        lamps = self.lamps_world
        if len(lamps):
            lamps = lamps @ ego_from_world[:3, :3].T + ego_from_world[:3, 3]
            lamps = lamps[np.hypot(lamps[:, 0], lamps[:, 1]) < LAMP_RANGE]
        return FrameConditions(
            index=index, time=float(g.time), depth=depth, normal=stack("normal_encoded", (3,)), edge=edge,
            object=stack("object", (3,)), inserted=inserted, boxes=stack("boxes", (len(class_names()),)),
            hdmap=stack("hdmap", (3,)),
            world_from_ego=np.asarray(g.world_from_ego, np.float64),
            agents=agent_states(self.scenario, g.time, ego_from_world), lamps=lamps, shaded=stack("rgb", (3,)),
            depth_valid=known if known.flags.writeable else None,
            background=background, background_depth=background_depth)

    def close(self) -> None:
        with self._lock:
            if self._renderer is not None and self._thread == threading.get_ident():
                self._renderer.release()
            self._renderer = None


def frames_with_maps(conditions: ClipConditions, fields: Collection[str]) -> Callable[[int], FrameConditions]:
    """Frame i of `conditions`, validated, rendering only what fills the FrameConditions `fields`
    (e.g. {"shaded", "depth", "inserted"}) when the source is the guidance renderer; other sources
    (conditions held in memory, synthetic ones) are read as they are. ValueError names unknown fields."""
    unknown = sorted(set(fields) - set(_FIELD_MAPS))
    if unknown:
        raise ValueError(f"unknown condition field(s) {', '.join(unknown)}; fields: {', '.join(sorted(_FIELD_MAPS))}")
    source = conditions.source
    if not isinstance(source, _RenderedFrames):
        return conditions.frame
    subset = source.with_maps({_FIELD_MAPS[f] for f in fields})
    w, h = conditions.image_size

    def frame(index: int) -> FrameConditions:
        if not 0 <= index < conditions.num_frames:
            raise IndexError(f"frame {index} out of range 0..{conditions.num_frames - 1}")
        return subset(index).validate(conditions.num_views, w, h)

    return frame


def conditions_for_scenario(scenario: Scenario, size: tuple[int, int] | None = (448, 256),
                            rig: CameraRig | None = None,
                            backgrounds: BackgroundSource | None = None) -> ClipConditions:
    """The clip conditions of a scenario at `size` (width, height) per camera (default rig: the six nuScenes cameras).

    backgrounds: optional, frame index -> {camera name: Background(image, depth)} real frames to
    composite into (nuScenes scenes); the renderer depth-tests the assets against them.
    """
    rig = rig or CameraRig.default(None)
    if size is not None:
        rig = rig.scaled(*size)
    frames = _RenderedFrames(scenario, rig, backgrounds)
    text = scenario.prompt or scenario.description or scenario.name
    return ClipConditions(rig, scenario.frame_times(), scenario.fps, scenario.environment, text, frames,
                          name=scenario.name, lit_for=scenario.environment.time_of_day,
                          real_background=backgrounds is not None, closer=frames.close)
