"""moderngl (EGL, headless) renderer of N camera tiles in one framebuffer, every map in one pass per tile.

The framebuffer stacks the tiles vertically: camera k owns window rows [k*H, (k+1)*H). The projection
maps image row v to window row k*H + v, so a plain read-back gives every tile top row first and each
camera's pixels are one contiguous block of the read buffer: no flip, no copy.

Per tile: [real background, if any] -> agents -> static scene (early depth rejection does the rest)
-> contact-shadow quads (rgb only, blended in the same framebuffer) -> sky at the far plane (only where nothing was drawn).
Static geometry is uploaded once, each mesh (asset) once; agents are drawn with a model matrix and
an instance id.

A GL context belongs to one thread and must be current while it is used: call every method of a
`TileRenderer` inside ``with renderer.ctx:`` on the thread that created it (`GuidanceRenderer` does).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np
from numpy.typing import NDArray

from engine.render.shaders import (
    BACKGROUND_FS, BACKGROUND_VS, SCENE_FS, SCENE_VS, SHADOW_FS, SHADOW_VS, SKY_FS, SKY_VS,
)

NEAR_PLANE = 0.3
FAR_PLANE = 600.0
SHADOW_Z = 0.025          # contact-shadow quads float just above road markings

if TYPE_CHECKING:   # moderngl is imported when a renderer is made (importing this module starts no OpenGL)
    import moderngl

MeshKey = tuple[str, str | None]          # (asset ref, asset class): one uploaded mesh per key
Rect = tuple[int, int, int, int]          # (u0, v0, u1, v1) pixels of a tile, end-exclusive
_GLMesh = tuple["moderngl.VertexArray", tuple["moderngl.Buffer", "moderngl.Buffer"]]   # (vao, (vbo, ibo))


def create_context() -> moderngl.Context:
    """A standalone OpenGL 3.3+ context: EGL (headless) first, then the platform default."""
    import moderngl

    errors = []
    for backend in ("egl", None):
        try:
            if backend is None:
                return moderngl.create_standalone_context(require=330)
            return moderngl.create_standalone_context(require=330, backend=backend)  # type: ignore[arg-type]  # moderngl-stubs type **settings values as dicts
        except Exception as e:  # glcontext reports every failure (no EGL device, no display, no library) as a plain Exception
            errors.append(f"{backend or 'default'}: {e}")
    raise RuntimeError("cannot create an OpenGL 3.3 context (" + "; ".join(errors) + "); "
                       "install Mesa EGL (libegl1, libegl-mesa0, libgl1-mesa-dri)")


def projection_matrix(K: NDArray[np.float64], width: int, height: int, near: float = NEAR_PLANE,
                      far: float = FAR_PLANE) -> NDArray[np.float64]:
    """(4, 4) camera (OpenCV) -> clip transform for a tile of width x height.

    Pixel centre u (nuScenes convention, integers at pixel centres) lands at window x = u + 0.5 and
    image row v at window y = v + 0.5 (so read-back rows come top row first).
    """
    fx, s, cx = K[0]
    _, fy, cy = K[1]
    a = (far + near) / (far - near)
    b = -2.0 * far * near / (far - near)
    return np.array([
        [2 * fx / width, 2 * s / width, 2 * (cx + 0.5) / width - 1, 0],
        [0, 2 * fy / height, 2 * (cy + 0.5) / height - 1, 0],
        [0, 0, a, b],
        [0, 0, 1, 0],
    ], dtype=np.float64)


@dataclass
class TileView:
    """One camera tile to draw: its projection, world->camera transform and what to draw in it."""

    proj: NDArray[np.float64]             # (4, 4) camera -> clip
    view: NDArray[np.float64]             # (4, 4) world -> camera
    kinv: NDArray[np.float64]             # (3, 3) inverse intrinsics
    draws: list[tuple[MeshKey, NDArray[np.float64], int]]   # [(mesh key, (4, 4) model, instance id)]
    draw_static: bool = True
    use_background: bool = False


@dataclass
class Lighting:
    """Shading of the rgb pass. Colours are linear 0..1 RGB; `sun_direction` points towards the sun (world).

    A weak fill light (`fill_color`) comes from the side opposite the sun, slightly from above, so that
    faces turned away from the sun keep their colour.
    """

    sun_direction: tuple[float, float, float] = (0.35, 0.45, 0.82)
    sun_color: tuple[float, float, float] = (0.58, 0.56, 0.52)
    ambient: tuple[float, float, float] = (0.46, 0.48, 0.52)
    sky_zenith: tuple[float, float, float] = (0.36, 0.55, 0.82)
    sky_horizon: tuple[float, float, float] = (0.78, 0.84, 0.9)
    ground_far: tuple[float, float, float] = (0.55, 0.6, 0.5)
    shadow_strength: float = 0.55
    shadow_reach: float = 0.6
    fill_color: tuple[float, float, float] = (0.2, 0.2, 0.22)

    @classmethod
    def for_time_of_day(cls, time_of_day: str) -> "Lighting":
        """Presets for day, dusk and night (a low warm sun; a dark sky with weak ambient light)."""
        if time_of_day == "dusk":
            return cls(sun_direction=(-0.8, 0.3, 0.2), sun_color=(0.75, 0.5, 0.3), ambient=(0.32, 0.3, 0.36),
                       sky_zenith=(0.22, 0.25, 0.45), sky_horizon=(0.85, 0.55, 0.4), ground_far=(0.3, 0.3, 0.28),
                       fill_color=(0.12, 0.12, 0.18))
        if time_of_day == "night":
            return cls(sun_direction=(0.2, 0.3, 0.9), sun_color=(0.08, 0.08, 0.1), ambient=(0.16, 0.17, 0.22),
                       sky_zenith=(0.01, 0.015, 0.04), sky_horizon=(0.05, 0.06, 0.1), ground_far=(0.04, 0.04, 0.05),
                       shadow_strength=0.3, fill_color=(0.03, 0.03, 0.05))
        if time_of_day != "day":
            raise ValueError(f"time_of_day must be day, dusk or night, got {time_of_day!r}")
        return cls()


_RGB_ONLY = ((True, True, True, True), (False,) * 4, (False,) * 4, (False,) * 4)   # colour masks of the 4 targets
_ALL_TARGETS = ((True, True, True, True),) * 4


def _flush() -> None:
    """glFlush: start rasterising now (llvmpipe bins draws until a flush), so that CPU work done before
    the read-back overlaps with the rendering. moderngl only offers the blocking finish()."""
    try:
        from OpenGL import GL, error
    except (ImportError, OSError, AttributeError):   # PyOpenGL missing or its platform library not loadable
        return
    try:
        GL.glFlush()
    except (error.Error, AttributeError):   # no usable glFlush (NullFunctionError...): the read-back flushes anyway
        pass


def _uniform(program: moderngl.Program, name: str) -> moderngl.Uniform:
    """The uniform `name` of a shader program (KeyError when the program has none of that name)."""
    import moderngl

    member = program[name]
    if not isinstance(member, moderngl.Uniform):
        raise TypeError(f"shader member {name!r} is a {type(member).__name__}, not a uniform")
    return member


def _mat(m: NDArray[np.float64]) -> bytes:
    """A numpy matrix as GLSL column-major float32 bytes."""
    return np.ascontiguousarray(np.asarray(m).T, dtype="f4").tobytes()


class TileRenderer:
    """Draws and reads back `tiles` camera tiles of `width` x `height` in one framebuffer."""

    def __init__(self, width: int, height: int, tiles: int) -> None:
        import moderngl

        self.mgl = moderngl
        self.width, self.height, self.tiles = int(width), int(height), int(tiles)
        self.ctx = create_context()
        size = (self.width, self.height * self.tiles)
        ctx = self.ctx
        with ctx:
            self.scene_prog = ctx.program(vertex_shader=SCENE_VS, fragment_shader=SCENE_FS)
            self.sky_prog = ctx.program(vertex_shader=SKY_VS, fragment_shader=SKY_FS)
            self.bg_prog = ctx.program(vertex_shader=BACKGROUND_VS, fragment_shader=BACKGROUND_FS)
            self.shadow_prog = ctx.program(vertex_shader=SHADOW_VS, fragment_shader=SHADOW_FS)
            self.targets = [
                ctx.renderbuffer(size, components=4),
                ctx.renderbuffer(size, components=4),
                ctx.renderbuffer(size, components=1, dtype="f4"),
                ctx.renderbuffer(size, components=1, dtype="i4"),
            ]
            self.depth_buffer = ctx.depth_renderbuffer(size)
            self.fbo = ctx.framebuffer(color_attachments=self.targets, depth_attachment=self.depth_buffer)
            self._tri = ctx.buffer(np.array([-1, -1, 3, -1, -1, 3], dtype="f4").tobytes())
            self._sky_vao = ctx.vertex_array(self.sky_prog, [(self._tri, "2f", "in_xy")])
            self._bg_vao = ctx.vertex_array(self.bg_prog, [(self._tri, "2f", "in_xy")])
            self.bg_textures = {
                "color": ctx.texture(size, 4),
                "depth": ctx.texture(size, 1, dtype="f4"),
                "normal": ctx.texture(size, 4),
            }
            for i, name in enumerate(("color", "depth", "normal")):
                self.bg_textures[name].filter = (moderngl.NEAREST, moderngl.NEAREST)
                _uniform(self.bg_prog, f"u_bg_{name}").value = i
            a = (FAR_PLANE + NEAR_PLANE) / (FAR_PLANE - NEAR_PLANE)
            _uniform(self.bg_prog, "u_depth_ab").value = (a, -2.0 * FAR_PLANE * NEAR_PLANE / (FAR_PLANE - NEAR_PLANE))
            _uniform(self.sky_prog, "u_tile_size").value = (float(self.width), float(self.height))
            self.gl_renderer = str(ctx.info.get("GL_RENDERER", "?"))
            # uniforms written per tile or per draw, looked up once
            self._scene_uniforms = tuple(_uniform(self.scene_prog, n) for n in
                                         ("u_proj", "u_view", "u_world_from_cam", "u_model", "u_instance"))
            self._sky_kinv = _uniform(self.sky_prog, "u_kinv")
            self._sky_world_from_cam = _uniform(self.sky_prog, "u_world_from_cam")
            self._shadow_proj = _uniform(self.shadow_prog, "u_proj")
            self._shadow_view = _uniform(self.shadow_prog, "u_view")
        self._meshes: dict[MeshKey, _GLMesh] = {}
        self._static: _GLMesh | None = None
        self._shadow: _GLMesh | None = None          # quads of up to `_shadow_capacity` casters, reused per frame
        self._shadow_capacity = 0
        self._shadow_count = 0
        self._reach = 0.6
        self._released = False
        self._identity = _mat(np.eye(4))

    # ---- geometry ------------------------------------------------------------------------
    def _vao(self, vertices: NDArray[np.float64], colors: NDArray[np.uint8], faces: NDArray[np.int64]) -> _GLMesh:
        data = np.empty(len(vertices), dtype=[("p", "f4", 3), ("c", "u1", 4)])
        data["p"] = vertices
        data["c"] = colors
        vbo = self.ctx.buffer(data.tobytes())
        ibo = self.ctx.buffer(np.ascontiguousarray(faces, dtype="i4").tobytes())
        vao = self.ctx.vertex_array(self.scene_prog, [(vbo, "3f 4f1", "in_pos", "in_color")], ibo)
        return vao, (vbo, ibo)

    def set_static(self, vertices: NDArray[np.float64], colors: NDArray[np.uint8], faces: NDArray[np.int64]) -> None:
        """Upload the static scene: vertices (V, 3) world metres, colours (V, 4) uint8, faces (F, 3).

        Draw order follows face order: put occluders (buildings) first for early depth rejection.
        """
        self._release(self._static)
        self._static = self._vao(vertices, colors, faces) if len(faces) else None

    def add_mesh(self, key: MeshKey, vertices: NDArray[np.float64], colors: NDArray[np.uint8],
                 faces: NDArray[np.int64]) -> None:
        """Upload a mesh (asset) once under `key`; agents draw it with their model matrix."""
        if key not in self._meshes:
            self._meshes[key] = self._vao(vertices, colors, faces)

    def has_mesh(self, key: MeshKey) -> bool:
        return key in self._meshes

    def _release(self, entry: _GLMesh | None) -> None:
        if entry is None:
            return
        vao, bufs = entry
        vao.release()
        for b in bufs:
            b.release()

    # ---- per-frame state -------------------------------------------------------------------
    def set_background(self, tile: int, color: NDArray[np.uint8], depth: NDArray[np.float32],
                       normal_encoded: NDArray[np.uint8]) -> None:
        """Upload one tile's background: colour (H, W, 3) uint8, depth (H, W) float32 m, normal (H, W, 3) uint8."""
        h, w = self.height, self.width
        vp = (0, tile * h, w, h)
        rgba = np.full((h, w, 4), 255, np.uint8)
        rgba[..., :3] = color
        nrm = np.zeros((h, w, 4), np.uint8)
        nrm[..., :3] = normal_encoded
        self.bg_textures["color"].write(rgba.tobytes(), viewport=vp)
        self.bg_textures["depth"].write(np.ascontiguousarray(depth, dtype="f4").tobytes(), viewport=vp)
        self.bg_textures["normal"].write(nrm.tobytes(), viewport=vp)

    def set_lighting(self, lighting: Lighting) -> None:
        """Sun, ambient, sky and shadow parameters of the rgb target."""
        sun = np.asarray(lighting.sun_direction, float)
        _uniform(self.scene_prog, "u_sun_dir").value = tuple(sun / np.linalg.norm(sun))
        _uniform(self.scene_prog, "u_sun_color").value = tuple(lighting.sun_color)
        _uniform(self.scene_prog, "u_ambient").value = tuple(lighting.ambient)
        fill = np.array([-sun[0], -sun[1], 0.4 * np.linalg.norm(sun[:2]) + 1e-6])
        _uniform(self.scene_prog, "u_fill_dir").value = tuple(fill / np.linalg.norm(fill))
        _uniform(self.scene_prog, "u_fill_color").value = tuple(lighting.fill_color)
        _uniform(self.shadow_prog, "u_shadow_strength").value = float(lighting.shadow_strength)
        _uniform(self.shadow_prog, "u_shadow_reach").value = float(lighting.shadow_reach)
        _uniform(self.sky_prog, "u_sky_zenith").value = tuple(lighting.sky_zenith)
        _uniform(self.sky_prog, "u_sky_horizon").value = tuple(lighting.sky_horizon)
        _uniform(self.sky_prog, "u_ground_far").value = tuple(lighting.ground_far)
        self._reach = float(lighting.shadow_reach)

    def set_shadow_casters(self, poses: NDArray[np.float64], sizes: NDArray[np.float64]) -> None:
        """Footprints that darken the ground: poses (N, 3) [x, y, yaw], sizes (N, 2) [length, width].

        The quads go into one vertex buffer kept between frames (grown when more casters come), so a
        frame creates no GL objects.
        """
        n = len(poses)
        self._shadow_count = n
        if n == 0:
            return
        reach = self._reach
        half = np.asarray(sizes, float) / 2
        grown = half + reach
        signs = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], float)
        local = signs[None] * grown[:, None, :]                       # (N, 4, 2)
        c, s = np.cos(poses[:, 2]), np.sin(poses[:, 2])
        rot = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)  # (N, 2, 2)
        world = np.einsum("nij,nkj->nki", rot, local) + poses[:, None, :2]
        data = np.empty((n, 4), dtype=[("p", "f4", 3), ("l", "f4", 2), ("h", "f4", 2)])
        data["p"][..., :2] = world
        data["p"][..., 2] = SHADOW_Z
        data["l"] = local
        data["h"] = half[:, None, :]
        if self._shadow is None or n > self._shadow_capacity:
            self._release(self._shadow)
            cap = max(n, 2 * self._shadow_capacity, 16)
            faces = (np.arange(cap)[:, None] * 4 + np.array([0, 1, 2, 0, 2, 3])).astype("i4")
            vbo = self.ctx.buffer(reserve=cap * 4 * data.itemsize, dynamic=True)
            ibo = self.ctx.buffer(faces.tobytes())
            vao = self.ctx.vertex_array(self.shadow_prog, [(vbo, "3f 2f 2f", "in_pos", "in_local", "in_half")], ibo)
            self._shadow = (vao, (vbo, ibo))
            self._shadow_capacity = cap
        self._shadow[1][0].write(data.tobytes())

    # ---- drawing ---------------------------------------------------------------------------
    def draw(self, views: Sequence[TileView | None], rects: Sequence[Rect | None] | None = None) -> None:
        """Draw the tiles (None = skip); with `rects`, only (u0, v0, u1, v1) of each tile (None = skip it)."""
        ctx, mgl = self.ctx, self.mgl
        h, w = self.height, self.width
        u_proj, u_view, u_world_from_cam, u_model, u_instance = self._scene_uniforms
        ctx.enable(mgl.DEPTH_TEST)
        ctx.disable(mgl.CULL_FACE | mgl.BLEND)
        self.fbo.use()
        if rects is None:
            self.fbo.clear(depth=1.0)
        for k, view in enumerate(views):
            rect = None if rects is None else rects[k]
            if view is None or (rects is not None and rect is None):
                continue
            tile = (0, k * h, w, h)
            scissor = None if rect is None else (rect[0], k * h + rect[1], rect[2] - rect[0], rect[3] - rect[1])
            if scissor is not None:
                self.fbo.clear(depth=1.0, viewport=scissor)
            self.fbo.use()
            ctx.viewport = tile
            ctx.scissor = scissor
            world_from_cam = view.view[:3, :3].T
            if view.use_background:
                for i, name in enumerate(("color", "depth", "normal")):
                    self.bg_textures[name].use(location=i)
                ctx.depth_func = "1"
                self._bg_vao.render(mgl.TRIANGLES, vertices=3)
            ctx.depth_func = "<"
            u_proj.write(_mat(view.proj))
            u_view.write(_mat(view.view))
            u_world_from_cam.write(_mat(world_from_cam))
            for key, model, inst in view.draws:
                u_model.write(_mat(model))
                u_instance.value = int(inst)
                self._meshes[key][0].render()
            if view.draw_static and self._static is not None:
                u_model.write(self._identity)
                u_instance.value = 0
                self._static[0].render()
            if self._shadow_count and view.draws:
                self._draw_shadows(view)
            if not view.use_background:
                ctx.depth_func = "<="
                self._sky_kinv.write(_mat(view.kinv))
                self._sky_world_from_cam.write(_mat(world_from_cam))
                self._sky_vao.render(mgl.TRIANGLES, vertices=3)
        ctx.scissor = None
        ctx.depth_func = "<"
        _flush()

    def _draw_shadows(self, view: TileView) -> None:
        """Multiply the rgb target by the contact shadows of the current casters (same viewport and scissor).

        Drawn into the main framebuffer with the other targets and the depth buffer write-masked: the
        pixels of a framebuffer holding the rgb target alone, without switching framebuffers (a switch
        makes llvmpipe flush the draws binned so far).
        """
        ctx, mgl, fbo = self.ctx, self.mgl, self.fbo
        if self._shadow is None:
            return
        fbo.color_mask = _RGB_ONLY  # type: ignore[assignment]  # moderngl takes one mask per attachment; its stubs know one
        fbo.depth_mask = False
        ctx.enable(mgl.BLEND)
        try:
            ctx.blend_func = mgl.ZERO, mgl.SRC_COLOR
            ctx.depth_func = "<"
            self._shadow_proj.write(_mat(view.proj))
            self._shadow_view.write(_mat(view.view))
            self._shadow[0].render(vertices=6 * self._shadow_count)
        finally:   # later passes and clears write every target again
            ctx.disable(mgl.BLEND)
            fbo.depth_mask = True
            fbo.color_mask = _ALL_TARGETS  # type: ignore[assignment]  # as above

    def read(self, rgb: NDArray[np.uint8] | None, normal: NDArray[np.uint8] | None, depth: NDArray[np.float32] | None,
             instance: NDArray[np.int32] | None, viewport: tuple[int, int, int, int] | None = None) -> None:
        """Read the targets into preallocated C-contiguous arrays (None = leave that target unread).

        Whole framebuffer: rgb (T*H, W, 3) uint8, normal (T*H, W, 3) uint8, depth (T*H, W) float32,
        instance (T*H, W) int32 (any shape with that many elements). With `viewport` (x, y, w, h): h*w pixels.
        """
        if rgb is not None:
            self.fbo.read_into(rgb, viewport=viewport, components=3, attachment=0, alignment=1)
        if normal is not None:
            self.fbo.read_into(normal, viewport=viewport, components=3, attachment=1, alignment=1)
        if depth is not None:
            self.fbo.read_into(depth, viewport=viewport, components=1, attachment=2, alignment=1, dtype="f4")
        if instance is not None:
            self.fbo.read_into(instance, viewport=viewport, components=1, attachment=3, alignment=1, dtype="i4")

    def release(self) -> None:
        """Free every GL object and the context (on the owning thread)."""
        if self._released:
            return
        with self.ctx:
            for entry in [*self._meshes.values(), self._static, self._shadow]:
                self._release(entry)
        self._meshes.clear()
        self._static = self._shadow = None
        self._shadow_capacity = self._shadow_count = 0
        self.ctx.release()
        self._released = True
