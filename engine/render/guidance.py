"""GuidanceRenderer: every guidance map of every camera for a scenario, fast enough to follow a drag.

    renderer = GuidanceRenderer(CameraRig.default((448, 256)))
    renderer.set_scenario(scenario)           # builds the scene meshes once, uploads each asset once
    frame = renderer.render(t)                 # GuidanceFrame: all maps, all cameras
    renderer.update_agent(moved_agent)         # during a drag
    frame = renderer.render(t)                 # re-renders only the pixels the agent left or entered
    frame = renderer.render(t, maps={"rgb", "depth"})   # only what a consumer needs (others are None)

Threading: the renderer owns an OpenGL context, and GL contexts are bound to the thread that made
them. Create, use and release a GuidanceRenderer on one thread (a worker thread in the editor);
calls from another thread raise RuntimeError. Frames it returns are never modified afterwards and
may be handed to other threads.

Inserted objects (Dream4Drive's mask M): by default every agent that is not `locked` (locked agents
come from a real scene). D, N and E are blanked inside their pixels, and only they appear in O.

Real scenes: `set_backgrounds({camera: Background(image, depth)})` replaces the synthetic scene in
those cameras by a real image and its depth: assets are depth-tested against the background depth
(nearer real surfaces hide them), depth/normals come from the background where no asset is drawn,
and edges come from the real image.

Recorded agents (`locked`) are part of the real footage. In a camera with a real background they are
neither drawn as meshes nor cast contact shadows (the real image shows them; their real depth already
hides inserted assets behind them), but they stay in the boxes map, the BEV layout and the frame's
agent ids. In synthetic cameras every agent is drawn, locked or not.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence, TypeVar

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.assets.library import AssetLibrary
from engine.classes import class_index, class_names
from engine.render.bev import BevRasterizer, BevSpec, bev_channels
from engine.render.boxes import render_box_stack, render_boxes
from engine.render.depth_normals import normals_from_depth
from engine.render.frame import ALL_MAPS, CameraMaps, GuidanceFrame, encode_normals, resolve_maps
from engine.render.gl_tiles import Lighting, MeshKey, Rect, TileRenderer, TileView, projection_matrix
from engine.render.hdmap import MapSegments, render_hdmaps
from engine.render.scene_geometry import BuildingStyle, vertex_colors
from engine.render.static_cache import static_scene
from engine.rig.pose import pose_matrix
from engine.render.agent_poses import Placement, PoseCache
from engine.render.postprocess import finish_maps, finish_stack
from engine.rig.projection import NEAR, silhouette_bbox
from engine.rig.rig import CameraRig
from engine.scenario.map_elements import RoadMap
from engine.scenario.model import Agent, Scenario

if TYPE_CHECKING:
    import moderngl

_T = TypeVar("_T")
_G = TypeVar("_G", bound=np.generic)
_MapCache = tuple[float, "NDArray[np.uint8] | None", "NDArray[np.uint8] | None"]   # (time, hdmap, BEV map layers)

EDGE_PAD = 4          # pixels re-rendered around a changed region so Canny sees its whole neighbourhood
FULL_TILE_FRACTION = 0.6


@dataclass(frozen=True)
class RenderSettings:
    """Knobs of the guidance maps: Canny thresholds on the grey image, how far the edge blanking
    reaches beyond the inserted mask (pixels), whether to blank at all, buildings and BEV layout."""

    canny_low: int = 50
    canny_high: int = 140
    edge_blank_dilate: int = 1
    blank_inserted: bool = True
    buildings: BuildingStyle | None = field(default_factory=BuildingStyle)
    bev: BevSpec = field(default_factory=BevSpec)


@dataclass(frozen=True)
class Background:
    """A real camera image and its depth: image (H, W, 3) uint8 RGB, depth (H, W) float32 metres (0 = unknown)."""

    image: NDArray[np.uint8]
    depth: NDArray[np.floating[Any]]


@dataclass
class _AgentState:
    agent: Agent
    mesh_key: MeshKey
    corners: NDArray[np.float64] | None      # (8, 3) world corners of the box grown by the shadow reach, at the last render


class GuidanceRenderer:
    """Renders `GuidanceFrame`s of one scenario; see the module docstring for the threading rule."""

    def __init__(self, rig: CameraRig | None = None, library: AssetLibrary | None = None,
                 lighting: Lighting | None = None, settings: RenderSettings | None = None) -> None:
        self.rig = rig or CameraRig.default()
        self.library = library or AssetLibrary()
        self.settings = settings or RenderSettings()
        self.lighting = lighting or Lighting()
        self._thread = threading.get_ident()
        w, h = self.rig.size
        self._gl: TileRenderer | None = TileRenderer(w, h, len(self.rig))
        with self._current():
            self._tiles.set_lighting(self.lighting)
        self._proj = [projection_matrix(c.K, w, h) for c in self.rig]
        self._kinv = [np.linalg.inv(c.K) for c in self.rig]
        self._scenario: Scenario | None = None
        self._static_key: RoadMap | None = None
        self._segments: MapSegments | None = None
        self._bev: BevRasterizer | None = None
        self._agents: dict[str, _AgentState] = {}
        self._instance_ids: dict[str, int] = {}
        self._inserted_override: frozenset[str] | None = None
        self._background_edges: dict[int, NDArray[np.uint8]] = {}   # tile -> Canny edges of its real image
        self._warnings: dict[str, str] = {}
        self._last: GuidanceFrame | None = None
        self._last_map_cache: _MapCache | None = None   # (time, hdmap, bev map layers)
        self._dirty_agents: set[str] = set()
        self._removed_corners: dict[str, NDArray[np.float64]] = {}   # where removed agents were at the last render
        self._full_dirty = True
        self._pose_cache: PoseCache | None = None

    # ---- lifetime ----------------------------------------------------------------------
    @property
    def _tiles(self) -> TileRenderer:
        """The GL tile renderer (RuntimeError once released)."""
        if self._gl is None:
            raise RuntimeError("GuidanceRenderer was released")
        return self._gl

    def _current(self) -> moderngl.Context:
        """The GL context made current for one public call (and released after it)."""
        return self._tiles.ctx

    def _scene(self) -> Scenario:
        """The current scenario (RuntimeError before `set_scenario`)."""
        if self._scenario is None:
            raise RuntimeError("set_scenario() first")
        return self._scenario

    def _check_thread(self) -> None:
        if threading.get_ident() != self._thread:
            raise RuntimeError("GuidanceRenderer must be used on the thread that created it "
                               "(its OpenGL context is bound to that thread)")
        if self._gl is None:
            raise RuntimeError("GuidanceRenderer was released")

    def release(self) -> None:
        """Free the GL context and every mesh (on the owning thread)."""
        if self._gl is not None:
            if threading.get_ident() != self._thread:
                raise RuntimeError("GuidanceRenderer must be released on the thread that created it")
            self._gl.release()
            self._gl = None

    def __enter__(self) -> "GuidanceRenderer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    @property
    def gl_renderer(self) -> str:
        """The OpenGL renderer string (llvmpipe on a CPU-only machine)."""
        return self._tiles.gl_renderer

    @property
    def scenario(self) -> Scenario | None:
        return self._scenario

    @property
    def instance_ids(self) -> dict[str, int]:
        """Agent id -> instance id (stable for the renderer's lifetime; never reused)."""
        return dict(self._instance_ids)

    # ---- scene ---------------------------------------------------------------------------
    def set_scenario(self, scenario: Scenario) -> None:
        """Use a scenario: the static scene is rebuilt only when its map changed; assets load once each."""
        self._check_thread()
        with self._current():
            self._set_scenario(scenario)

    def _set_scenario(self, scenario: Scenario) -> None:
        key = scenario.map
        if self._static_key is None or not (self._static_key is key or self._static_key == key):
            st = static_scene(scenario.map, _ego_bounds(scenario), self.settings.buildings, self.settings.bev)
            self._tiles.set_static(st.vertices, st.colors, st.faces)
            self._segments = st.segments
            self._bev = st.bev
            self._static_key = key
            self._full_dirty = True
            self._last_map_cache = None
        if self._scenario is not None and self._scenario.ego != scenario.ego:
            self._full_dirty = True
            self._last_map_cache = None
        self._scenario = scenario
        alive = {a.id for a in scenario.agents}
        for gone in set(self._agents) - alive:
            self._forget_agent(gone)
        for a in scenario.agents:
            state = self._agents.get(a.id)
            if state is None or not (state.agent is a or state.agent == a):
                self._ensure_agent(a)

    def _ensure_agent(self, agent: Agent) -> None:
        if agent.id not in self._instance_ids:
            self._instance_ids[agent.id] = max(self._instance_ids.values(), default=0) + 1
        asset, warning = self.library.for_agent(agent.asset, agent.cls)
        key = (asset.ref, asset.cls)
        if not self._tiles.has_mesh(key):
            m = asset.mesh
            self._tiles.add_mesh(key, np.asarray(m.vertices, np.float64), vertex_colors(m), np.asarray(m.faces, np.int64))
        if warning:
            self._warnings[agent.id] = f"agent {agent.id}: {warning}"
        else:
            self._warnings.pop(agent.id, None)
        state = self._agents.get(agent.id)
        self._agents[agent.id] = _AgentState(agent, key, None if state is None else state.corners)
        self._dirty_agents.add(agent.id)

    def _forget_agent(self, agent_id: str) -> None:
        state = self._agents.pop(agent_id, None)
        if state is not None and state.corners is not None:
            self._removed_corners[agent_id] = state.corners
        self._warnings.pop(agent_id, None)
        self._dirty_agents.add(agent_id)

    def update_agent(self, agent: Agent) -> None:
        """Replace (or add) one agent; the next `render` at the same time redraws only around it."""
        self._check_thread()
        if self._scenario is None:
            raise RuntimeError("set_scenario() first")
        if agent.id == self._scenario.ego.id:
            self._scenario = self._scenario.with_agent(agent)
            self._full_dirty = True
            self._last_map_cache = None
            return
        self._scenario = self._scenario.with_agent(agent)
        with self._current():
            self._ensure_agent(agent)

    def remove_agent(self, agent_id: str) -> None:
        """Remove one agent (its instance id is not reused)."""
        self._check_thread()
        if self._scenario is None:
            raise RuntimeError("set_scenario() first")
        self._scenario = self._scenario.without_agent(agent_id)
        self._forget_agent(agent_id)

    def set_lighting(self, lighting: Lighting) -> None:
        """Shading of the rgb map (sun, ambient, sky); forces a full render."""
        self._check_thread()
        self.lighting = lighting
        with self._current():
            self._tiles.set_lighting(lighting)
        self._full_dirty = True

    def set_inserted(self, agent_ids: Iterable[str] | None) -> None:
        """Which agents count as inserted (mask M, object map, blanking); None = every non-locked agent."""
        self._check_thread()
        self._inserted_override = None if agent_ids is None else frozenset(agent_ids)
        self._full_dirty = True

    def set_backgrounds(self, backgrounds: Mapping[str, Background] | None) -> None:
        """Real images and depths per camera name (None or {} = fully synthetic); forces a full render.

        ValueError names the camera and the array that has the wrong shape, type or values.
        """
        self._check_thread()
        w, h = self.rig.size
        checked = []
        for name, bg in (backgrounds or {}).items():   # check everything before changing anything
            k = self.rig.index(name)
            img, depth = np.asarray(bg.image), np.asarray(bg.depth)
            if img.shape != (h, w, 3) or img.dtype != np.uint8:
                raise ValueError(f"background of {name}: image must be ({h}, {w}, 3) uint8, got {img.shape} {img.dtype}")
            if depth.shape != (h, w) or not np.issubdtype(depth.dtype, np.floating):
                raise ValueError(f"background of {name}: depth must be ({h}, {w}) float32, got {depth.shape} {depth.dtype}")
            if not np.all(np.isfinite(depth)) or depth.min() < 0:
                raise ValueError(f"background of {name}: depth must be finite and >= 0 (0 = unknown)")
            checked.append((k, name, img, depth.astype(np.float32)))
        self._background_edges = {}
        with self._current():
            for k, name, img, depth in checked:
                self._tiles.set_background(k, img, depth, encode_normals(normals_from_depth(depth, self.rig[name].K)))
                grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
                edges = cv2.Canny(grey, self.settings.canny_low, self.settings.canny_high)
                self._background_edges[k] = np.asarray(edges, np.uint8)
        self._full_dirty = True

    # ---- rendering -------------------------------------------------------------------------
    def render(self, t: float, maps: Iterable[str] | None = None) -> GuidanceFrame:
        """The maps of all cameras at time t (seconds): every map by default, or only `maps`.

        maps: names from `engine.render.frame.RENDERABLE_MAPS` (MAP_NAMES, "normal_encoded", "bev");
        maps left out are None in the frame (and skipped: no Canny without "edge", no box or HD-map
        drawing without "boxes"/"hdmap", no BEV without "bev", no normal read-back without "normal").
        `instance` and `inserted` always come. ValueError names an unknown map.
        Re-renders only the regions around agents changed since the last call when t is unchanged
        and the last frame holds every requested map.
        """
        self._check_thread()
        if self._scenario is None:
            raise RuntimeError("set_scenario() first")
        want = resolve_maps(maps)
        t = float(t)
        last = self._last
        same = last is not None and last.time == t and want <= last.rendered
        if last is not None and same and not (self._full_dirty or self._dirty_agents):
            return last
        with self._current():
            if self._full_dirty or not same:
                frame = self._render_full(t, want)
            else:
                frame = self._render_partial(t)
        self._dirty_agents.clear()
        self._removed_corners.clear()
        self._full_dirty = False
        self._last = frame
        return frame

    def render_frame(self, index: int, maps: Iterable[str] | None = None) -> GuidanceFrame:
        """The maps of frame `index` of the scenario (time index / fps); `maps` as in `render`."""
        self._check_thread()
        if self._scenario is None:
            raise RuntimeError("set_scenario() first")
        n = self._scenario.num_frames
        if not 0 <= index < n:
            raise IndexError(f"frame {index} out of range: the scenario has {n} frames (0..{n - 1})")
        return self.render(float(self._scenario.frame_times()[index]), maps)

    # ---- internals ---------------------------------------------------------------------------
    def _inserted_ids(self) -> set[str]:
        if self._inserted_override is not None:
            return set(self._inserted_override)
        return {a.id for a in self._scene().agents if not a.locked}

    def _poses(self) -> PoseCache:
        """The pose cache on the scenario's frame times (rebuilt when the frame grid changes)."""
        times = self._scene().frame_times()
        cache = self._pose_cache
        if cache is None or cache.times.shape != times.shape or not np.array_equal(cache.times, times):
            cache = self._pose_cache = PoseCache(times)
        return cache

    def _ego_pose(self, t: float) -> NDArray[np.float64]:
        """(4, 4) world_from_ego at t (as `engine.rig.pose.ego_pose`, from the pose cache on frame times)."""
        (x, y, yaw), = self._poses().poses([self._scene().ego.trajectory], t)[0]
        return pose_matrix(float(x), float(y), float(yaw))

    def _placement(self, t: float, world_from_ego: NDArray[np.float64]) -> Placement:
        cache = self._poses()
        scenario = self._scene()
        known = [a for a in scenario.agents if a.id in self._agents]
        trajs = [a.trajectory for a in known]
        if len(cache) > 2 * len(trajs) + 8:      # edited agents left stale entries behind
            cache.forget_unused(trajs + [scenario.ego.trajectory])
        poses, present = cache.poses(trajs, t)
        agents = [a for a, p in zip(known, present) if p]
        return Placement.build(agents, t, self.rig, world_from_ego, self.lighting.shadow_reach, poses=poses[present])

    def _views(self, pl: Placement) -> list[TileView]:
        views = []
        for k in range(len(self.rig)):
            real = k in self._background_edges
            draws = [(self._agents[a.id].mesh_key, pl.models[i], self._instance_ids[a.id])
                     for i, a in enumerate(pl.agents) if pl.visible[k, i] and not (real and a.locked)]
            views.append(TileView(self._proj[k], pl.cam_from_world[k], self._kinv[k], draws,
                                  draw_static=not real, use_background=real))
        return views

    def _draw(self, pl: Placement, rects: Sequence[Rect | None] | None = None) -> None:
        """Draw the tiles (all, or `rects` per tile as in `TileRenderer.draw`).

        Contact shadows are one set per draw call, so tiles with a real background (which leave the
        recorded agents out) and synthetic tiles (which draw every agent) are drawn in two calls when
        a frame has both; each call clears and draws only its own tiles.
        """
        views = self._views(pl)
        n = len(views)
        real = np.array([k in self._background_edges for k in range(n)], bool)
        drawn = np.array([not a.locked for a in pl.agents], bool).reshape(-1)
        groups: list[tuple[NDArray[np.bool_], NDArray[np.bool_]]] = []
        if not real.all():
            groups.append((~real, np.ones(len(pl.agents), bool)))
        if real.any():
            groups.append((real, drawn))
        w, h = self.rig.size
        gl = self._tiles
        for tiles, casters in groups:
            gl.set_shadow_casters(pl.poses[casters], pl.sizes[casters][:, [1, 0]])
            if len(groups) == 1:
                gl.draw(views, rects)
                continue
            sub_views = [v if tiles[k] else None for k, v in enumerate(views)]
            sub_rects = [None if not tiles[k] else ((0, 0, w, h) if rects is None else rects[k]) for k in range(n)]
            if any(r is not None for r in sub_rects):
                gl.draw(sub_views, sub_rects)

    def _map_layers(self, t: float, pl: Placement, want_hdmap: bool = True,
                    want_bev: bool = True) -> tuple[NDArray[np.uint8] | None, NDArray[np.uint8] | None]:
        """(C, H, W, 3) projected HD maps and the BEV map layers at t (each None when not wanted); cached per t."""
        cache = self._last_map_cache
        if cache is None or cache[0] != t:
            cache = self._last_map_cache = (t, None, None)
        hd, bev_map = cache[1], cache[2]
        if want_hdmap and hd is None:
            w, h = self.rig.size
            hd = np.empty((len(self.rig), h, w, 3), np.uint8)    # render_hdmaps writes every pixel
            render_hdmaps(self._static_part(self._segments), self.rig.cameras, pl.cam_from_world, hd)
        if want_bev and bev_map is None:
            bev_map = self._static_part(self._bev).map_layers(pl.ego_from_world)
        self._last_map_cache = (t, hd, bev_map)
        return (hd if want_hdmap else None), (bev_map if want_bev else None)

    def _static_part(self, part: _T | None) -> _T:
        """A part of the static scene (HD-map segments, BEV rasteriser), set by `set_scenario`."""
        if part is None:
            raise RuntimeError("set_scenario() first")
        return part

    def _box_items(self, k: int, pl: Placement, classes: list[int]) -> list[tuple[int, NDArray[np.float64]]]:
        """Camera k's boxes as (class index, (3, 8) camera-frame corners), far to near."""
        idx = np.flatnonzero(pl.visible[k])
        cfw = pl.cam_from_world[k]
        cam_corners = pl.corners[idx] @ cfw[:3, :3].T + cfw[:3, 3]           # (n, 8, 3)
        order = np.argsort(-np.linalg.norm(cam_corners.mean(axis=1), axis=1))  # far to near
        return [(classes[idx[j]], cam_corners[j].T) for j in order]

    def _boxes(self, k: int, pl: Placement, out: NDArray[np.uint8]) -> None:
        """Redraw camera k's boxes map into `out` (H, W, classes)."""
        classes = [class_index(a.cls) for a in pl.agents]
        render_boxes(self._box_items(k, pl, classes), self.rig.cameras[k], len(class_names()), out=out)

    def _boxes_all(self, pl: Placement, out: NDArray[np.uint8]) -> None:
        """Every camera's boxes map into `out` (C, H, W, classes), known to be all zeros."""
        classes = [class_index(a.cls) for a in pl.agents]
        items = [self._box_items(k, pl, classes) for k in range(len(self.rig))]
        render_box_stack(items, self.rig.cameras, len(class_names()), out, out_is_zero=True)

    def _bev_frame(self, pl: Placement, bev_map: NDArray[np.uint8]) -> NDArray[np.uint8]:
        return self._static_part(self._bev).with_agent_layers(bev_map, [a.cls for a in pl.agents],
                                                              pl.corners[:, [0, 4, 5, 1], :2], pl.ego_from_world)

    def _post(self, k: int, m: CameraMaps, region: Rect | None, lut: NDArray[np.bool_]) -> None:
        """Masks, object colour, edges and blanking of camera k, whole or in `region` (u0, v0, u1, v1)."""
        st = self.settings
        finish_maps(m, region, lut, self._background_edges.get(k), st.canny_low, st.canny_high,
                    st.edge_blank_dilate if st.blank_inserted else None)

    def _lut(self) -> NDArray[np.bool_]:
        lut = np.zeros(max(self._instance_ids.values(), default=0) + 1, bool)
        for aid in self._inserted_ids():
            if aid in self._instance_ids and aid in self._agents:
                lut[self._instance_ids[aid]] = True
        return lut

    def _frame_ids(self) -> dict[str, int]:
        return {a.id: self._instance_ids[a.id] for a in self._scene().agents if a.id in self._instance_ids}

    def _remember(self, pl: Placement) -> None:
        """Where every agent was drawn (box grown by the shadow reach), for the next partial update."""
        for state in self._agents.values():
            state.corners = None
        for i, a in enumerate(pl.agents):
            self._agents[a.id].corners = pl.grown[i]

    def _render_full(self, t: float, want: frozenset[str] = ALL_MAPS) -> GuidanceFrame:
        n = len(self.rig)
        w, h = self.rig.size
        ncls = len(class_names())
        pl = self._placement(t, self._ego_pose(t))
        self._draw(pl)
        # CPU-only maps while the rasteriser works
        hd, bev_map = self._map_layers(t, pl, "hdmap" in want, "bev" in want)
        boxes = None
        if "boxes" in want:
            boxes = np.zeros((n, h, w, ncls), np.uint8)     # fresh zero pages: no clearing pass
            self._boxes_all(pl, boxes)
        bev = self._bev_frame(pl, bev_map) if bev_map is not None else None
        if want & {"object", "edge"}:
            want = want | {"rgb"}    # both are made from the shaded pass (kept: partial updates need it)
        need_rgb = "rgb" in want

        def buf(name: str, shape: tuple[int, ...]) -> NDArray[np.uint8] | None:
            return np.empty((n, *shape), np.uint8) if name in want else None

        rgb = np.empty((n, h, w, 3), np.uint8) if need_rgb else None
        normal = buf("normal_encoded", (h, w, 3))
        depth = np.empty((n, h, w), np.float32) if "depth" in want else None
        instance = np.empty((n, h, w), np.int32)
        edge = buf("edge", (h, w))
        obj = buf("object", (h, w, 3))
        inserted = np.empty((n, h, w), bool)
        self._tiles.read(rgb, normal, depth, instance)
        lut = self._lut()
        maps = {}

        def at(a: NDArray[_G] | None, k: int) -> NDArray[_G] | None:
            return None if a is None else a[k]

        for k, cam in enumerate(self.rig):
            maps[cam.name] = CameraMaps(cam.name, at(rgb, k), at(depth, k), at(normal, k), at(edge, k), at(obj, k),
                                        instance[k], inserted[k], at(hd, k), at(boxes, k))
        st = self.settings
        finish_stack(rgb, depth, normal, edge, obj, instance, inserted, lut, self._background_edges,
                     st.canny_low, st.canny_high, st.edge_blank_dilate if st.blank_inserted else None)
        self._remember(pl)
        return GuidanceFrame(t, self.rig, pl.world_from_ego, maps, bev, bev_channels(), self._frame_ids(),
                             tuple(self._warnings.values()), want)

    def _dirty_rects(self, pl: Placement) -> list[Rect | None]:
        """Per camera, the pixel rectangle covering where changed agents were and are (None = unchanged)."""
        w, h = self.rig.size
        index = {a.id: i for i, a in enumerate(pl.agents)}
        boxes = []
        for aid in self._dirty_agents:
            state = self._agents.get(aid)
            if state is not None and state.corners is not None:
                boxes.append(state.corners)
            elif aid in self._removed_corners:
                boxes.append(self._removed_corners[aid])
            if aid in index:
                boxes.append(pl.grown[index[aid]])
        rects: list[Rect | None] = []
        for k, cam in enumerate(self.rig):
            cfw = pl.cam_from_world[k]
            region = None
            for corners in boxes:
                bb = silhouette_bbox(cfw[:3, :3] @ corners.T + cfw[:3, 3:4], cam, NEAR)
                if bb is not None:
                    region = bb if region is None else (min(region[0], bb[0]), min(region[1], bb[1]),
                                                        max(region[2], bb[2]), max(region[3], bb[3]))
            if region is None:
                rects.append(None)
                continue
            u0, v0 = max(int(np.floor(region[0])) - EDGE_PAD, 0), max(int(np.floor(region[1])) - EDGE_PAD, 0)
            u1, v1 = min(int(np.ceil(region[2])) + 1 + EDGE_PAD, w), min(int(np.ceil(region[3])) + 1 + EDGE_PAD, h)
            if (u1 - u0) * (v1 - v0) > FULL_TILE_FRACTION * w * h:
                u0, v0, u1, v1 = 0, 0, w, h
            rects.append((u0, v0, u1, v1) if u1 > u0 and v1 > v0 else None)
        return rects

    def _render_partial(self, t: float) -> GuidanceFrame:
        last = self._last
        if last is None:
            raise RuntimeError("a partial update needs a previous frame")
        w, h = self.rig.size
        pl = self._placement(t, last.world_from_ego)
        rects = self._dirty_rects(pl)
        if any(r is not None for r in rects):
            self._draw(pl, rects)
        # CPU work while the rasteriser works: copies of the changed cameras, their boxes, the BEV
        maps = dict(last.maps)   # unchanged cameras share the previous frame's arrays
        for k, rect in enumerate(rects):
            if rect is not None:
                name = self.rig.cameras[k].name
                maps[name] = last.maps[name].copy(share=("hdmap",))   # the map does not move with agents
                boxes = maps[name].boxes
                if boxes is not None:
                    self._boxes(k, pl, boxes)
        bev = None if last.bev is None else self._bev_frame(pl, last.bev[..., :4])
        lut = self._lut()
        half = EDGE_PAD // 2
        for k, rect in enumerate(rects):
            if rect is None:
                continue
            m = maps[self.rig.cameras[k].name]
            u0, v0, u1, v1 = rect
            rw, rh = u1 - u0, v1 - v0
            b_rgb, b_normal, b_depth, b_instance = (_like(m.rgb, rh, rw), _like(m.normal_encoded, rh, rw),
                                                    _like(m.depth, rh, rw), _like(m.instance, rh, rw))
            self._tiles.read(b_rgb, b_normal, b_depth, b_instance, viewport=(u0, k * h + v0, rw, rh))
            for a, b in ((m.rgb, b_rgb), (m.normal_encoded, b_normal), (m.depth, b_depth), (m.instance, b_instance)):
                if a is not None:
                    a[v0:v1, u0:u1] = b
            if m.edge is None:
                self._post(k, m, rect, lut)
                continue
            # Canny runs over the whole re-rendered rectangle; its result is kept but for a thin outer
            # ring, where it lacked context and the previous edges stay (image borders have no ring)
            iu0, iv0 = (u0 + half if u0 > 0 else 0), (v0 + half if v0 > 0 else 0)
            iu1, iv1 = (u1 - half if u1 < w else w), (v1 - half if v1 < h else h)
            ring_edges = m.edge[v0:v1, u0:u1].copy()
            self._post(k, m, rect, lut)
            inner = m.edge[iv0:iv1, iu0:iu1].copy()
            m.edge[v0:v1, u0:u1] = ring_edges
            m.edge[iv0:iv1, iu0:iu1] = inner
        self._remember(pl)
        return GuidanceFrame(t, self.rig, last.world_from_ego, maps, bev, last.bev_channels, self._frame_ids(),
                             tuple(self._warnings.values()), last.rendered)


def _like(a: NDArray[_G] | None, rows: int, cols: int) -> NDArray[_G] | None:
    """An empty (rows, cols, ...) buffer of `a`'s dtype and trailing shape (None for None)."""
    return None if a is None else np.empty((rows, cols, *a.shape[2:]), a.dtype)


def _ego_bounds(s: Scenario) -> tuple[float, float, float, float]:
    xy = s.ego.trajectory.key_xy
    return (float(xy[:, 0].min()), float(xy[:, 1].min()), float(xy[:, 0].max()), float(xy[:, 1].max()))
