"""Qt-free half of the preview: what to render (`PreviewRequest`), what came back (`PreviewResult`),
the renderer that lives on the render thread or in the render process (`PreviewRenderer`), and
`render_request`, the one function both run. No Qt here: `app.render_child` (the render process)
imports only this module, so the child never loads PySide6 (tests/app/test_render_shm.py checks it).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from app.map_visuals import camera_map_rgb, frame_map_rgb
from engine.scenario.model import Scenario

PANORAMA = ("CAM_FRONT_LEFT", "CAM_FRONT", "CAM_FRONT_RIGHT", "CAM_BACK_RIGHT", "CAM_BACK", "CAM_BACK_LEFT")
PREVIEW_SIZE = (448, 256)
DRAFT_SCALE = 0.5   # the reduced-resolution preview while dragging


@dataclass(frozen=True)
class PreviewRequest:
    """What to render: a scenario at time t, one map, and when it was asked for (perf_counter s).

    camera_maps: (camera, map name) pairs for cameras that show another map than `map_name`;
    overlay: also project the agents' boxes (with their ids) into each camera; draft: render at
    reduced resolution (while dragging: the picture follows the hand, the full one comes when the
    drag ends).
    """

    scenario: Scenario
    t: float
    map_name: str
    submitted: float
    camera_maps: tuple[tuple[str, str], ...] = ()
    overlay: bool = False
    draft: bool = False

    def map_for(self, camera: str) -> str:
        return dict(self.camera_maps).get(camera, self.map_name)


@dataclass(frozen=True)
class PreviewResult:
    """Rendered pictures: images (C, H, W, 3) uint8 in the order of `names` (panorama order).

    boxes: camera -> [(agent id, class, (u0, v0, u1, v1) in image pixels)] when the request asked for
    the overlay (far to near), else empty. slot: set by the render process when `images` is a view
    over its shared frame buffer's slot (the pane copies it once and releases the slot), else None.
    """

    request: PreviewRequest
    images: np.ndarray
    names: tuple[str, ...]
    warnings: tuple[str, ...]
    boxes: dict = field(default_factory=dict)
    slot: int | None = None


class PreviewRenderer:
    """A GuidanceRenderer plus the time of day its lighting is set for (lives on the worker thread).

    For scenarios with a source scene it also holds the real frames (`RealFrameCache`) and a second
    renderer on that log's rig, made on first use by `real_renderer_factory(rig)`.
    """

    def __init__(self, renderer, real_renderer_factory=None, real_frames=None) -> None:
        self.renderer = renderer
        self.time_of_day: str | None = None
        self._real_factory = real_renderer_factory or _guidance_renderer
        self._real_frames = real_frames
        self._real = None                  # (rig, renderer, time of day it is lit for)
        self._background_key = None        # (source, frame index) whose real frame the real renderer has
        self._draft = None                 # (renderer, time of day it is lit for): reduced resolution

    @property
    def real_frames(self):
        """The `RealFrameCache` of this worker (made on first use)."""
        if self._real_frames is None:
            from engine.realscene.live import RealFrameCache

            self._real_frames = RealFrameCache()
        return self._real_frames

    def render(self, scenario: Scenario, t: float, maps=None, draft: bool = False):
        """The GuidanceFrame of `scenario` at t, lit for the scenario's time of day.

        maps: the map names to render (None: all; `GuidanceRenderer.render`'s subsets); draft: on a
        second renderer at `DRAFT_SCALE` of the size (synthetic scenes only; made on first use).
        With a source scene: over the recorded frame nearest t (rendered at that frame's time).
        """
        if scenario.source is not None:
            from engine.sources.errors import SceneSourceError

            try:
                return self._render_real(scenario, t, maps)
            except SceneSourceError as e:
                from dataclasses import replace

                frame = self._render_synthetic(scenario, t, maps)
                return replace(frame, warnings=tuple(frame.warnings) + (f"real frames unavailable: {e}",))
        if draft:
            return self._render_draft(scenario, t, maps)
        return self._render_synthetic(scenario, t, maps)

    def _render_synthetic(self, scenario: Scenario, t: float, maps=None):
        tod = scenario.environment.time_of_day
        if tod != self.time_of_day:
            from engine.render.gl_tiles import Lighting

            self.renderer.set_lighting(Lighting.for_time_of_day(tod))
            self.time_of_day = tod
        self.renderer.set_scenario(scenario)
        return self.renderer.render(t, maps=maps)

    def _render_draft(self, scenario: Scenario, t: float, maps=None):
        if self._draft is None:
            from engine.rig import CameraRig

            w, h = self.renderer.rig.size
            size = (max(16, int(round(w * DRAFT_SCALE / 8)) * 8), max(16, int(round(h * DRAFT_SCALE / 8)) * 8))
            self._draft = (self._real_factory(CameraRig.default(size)), None)
        renderer, lit = self._draft
        tod = scenario.environment.time_of_day
        if tod != lit:
            from engine.render.gl_tiles import Lighting

            renderer.set_lighting(Lighting.for_time_of_day(tod))
            self._draft = (renderer, tod)
        renderer.set_scenario(scenario)
        return renderer.render(t, maps=maps)

    def _render_real(self, scenario: Scenario, t: float, maps=None):
        frames = self.real_frames
        scene = frames.scene(scenario)
        inputs = frames.inputs(scene, self.renderer.rig.size)   # engine.conditions.real_scene_inputs: the one path
        rig = inputs.rig
        if self._real is None or self._real[0] != rig:
            if self._real is not None:
                self._real[1].release()
            self._real = (rig, self._real_factory(rig), None)
            self._background_key = None
        rig, renderer, lit = self._real
        tod = scenario.environment.time_of_day
        if tod != lit:
            from engine.render.gl_tiles import Lighting

            renderer.set_lighting(Lighting.for_time_of_day(tod))
            self._real = (rig, renderer, tod)
        k = frames.frame_index(scene, t)
        key = None if k is None else (scene.source, k)
        if key != self._background_key:     # a new background forces a full render: only when it changes
            renderer.set_backgrounds(None if k is None else frames.backgrounds(scene, k, rig))  # = inputs.backgrounds_at(k)
            self._background_key = key
        renderer.set_scenario(scenario)
        return renderer.render(t if k is None else k / scene.scenario.fps, maps=maps)

    def release(self) -> None:
        self.renderer.release()
        if self._real is not None:
            self._real[1].release()
            self._real = None
        if self._draft is not None:
            self._draft[0].release()
            self._draft = None


def _guidance_renderer(rig):
    from engine.render.guidance import GuidanceRenderer

    return GuidanceRenderer(rig)


def make_renderer(size: tuple[int, int] = PREVIEW_SIZE) -> PreviewRenderer:
    """A renderer for the default rig at `size` (called on the worker thread that will use it)."""
    from engine.render.guidance import GuidanceRenderer
    from engine.rig import CameraRig

    return PreviewRenderer(GuidanceRenderer(CameraRig.default(size)))


def render_request(renderer: PreviewRenderer, request: PreviewRequest) -> PreviewResult:
    """Render one request with a renderer that lives on the calling thread (only the maps it shows)."""
    wanted = {request.map_name} | {m for _c, m in request.camera_maps}
    frame = renderer.render(request.scenario, request.t, maps=wanted, draft=request.draft)
    names = tuple(frame.camera_names)
    if not request.camera_maps:
        images = np.ascontiguousarray(frame_map_rgb(frame, request.map_name))
    else:
        images = np.ascontiguousarray(np.stack([camera_map_rgb(frame, n, request.map_for(n)) for n in names]))
    boxes = overlay_boxes(frame, request.scenario, request.t) if request.overlay else {}
    return PreviewResult(request, images, names, tuple(frame.warnings), boxes)


def overlay_boxes(frame, scenario: Scenario, t: float) -> dict:
    """camera -> [(agent id, class, (u0, v0, u1, v1))]: the agents' (not the ego's) boxes in each camera of
    the frame's rig, image pixels of that rig, far to near (`engine.rig.projection.project_boxes`)."""
    from engine.rig.projection import project_boxes

    out = {}
    for name in frame.camera_names:
        cam = frame.rig[name]
        cfw = cam.camera_from_world(frame.world_from_ego)
        out[name] = [(b.agent_id, b.cls, b.bbox) for b in project_boxes(scenario.agents, t, cam, cfw)]
    return out


def _release(renderer: PreviewRenderer) -> None:
    renderer.release()
