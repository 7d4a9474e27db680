"""The render process's side: a loop that owns one PreviewRenderer and answers requests. Qt-free: it
imports `app.preview_render` only (never PySide6; the QApplication lives in the editor process).

Messages from the editor (over a multiprocessing Pipe; only small ones when a frame buffer is shared):
    ("render", request_id, scenario, map_or_None, t, map_name[, options[, slot[, agent_spec]]])   map None =
        the map sent before; options: PreviewRequest's camera_maps / overlay / draft; slot: which half of
        the shared frame buffer to write the pictures into (None: send them over the pipe); agent_spec:
        `split_agents`' list (the scenario then travels without agents; unchanged ones are ids)
    ("stop",)
Answers:
    ("ready", gl_renderer_name, qt_loaded) | ("setup_failed", message)
    ("ok", request_id, images, names, warnings, seconds, boxes)   images: (C, H, W, 3) uint8, or
        ("shm", slot, (C, H, W, 3)) when they were written into the shared buffer's slot
    ("error", request_id, message)

The frame buffer (`FrameBuffer`): one `multiprocessing.shared_memory` block made by the editor, two
slots of `slot_bytes` each (a double buffer: the child writes one while the editor reads the other).
"""
from __future__ import annotations

import os
import sys
import time
import traceback
from dataclasses import replace

import numpy as np


class FrameBuffer:
    """Two slots of (C, H, W, 3) uint8 pictures in one shared-memory block (both processes map it).

    create=True (the editor): makes the block, sized for `cameras` pictures of `size` = (W, H) per slot;
    else (the render process) opens the block called `name`.
    """

    SLOTS = 2

    def __init__(self, size: tuple[int, int] | None = None, cameras: int = 6, name: str | None = None,
                 create: bool = False) -> None:
        from multiprocessing import shared_memory

        if create:
            w, h = size
            self.slot_bytes = cameras * h * w * 3
            self.shm = shared_memory.SharedMemory(create=True, size=self.SLOTS * self.slot_bytes)
        else:
            self.shm = shared_memory.SharedMemory(name=name)
            self.slot_bytes = self.shm.size // self.SLOTS
        self.owner = create

    @property
    def name(self) -> str:
        return self.shm.name

    def view(self, slot: int, shape: tuple[int, ...]) -> np.ndarray:
        """The pictures in `slot` as a (C, H, W, 3) uint8 array over the shared memory (no copy)."""
        if self.shm.buf is None:
            raise ValueError("the frame buffer is closed")
        n = int(np.prod(shape))
        if n > self.slot_bytes:
            raise ValueError(f"{shape} does not fit a frame-buffer slot of {self.slot_bytes} bytes")
        return np.ndarray(shape, dtype=np.uint8, buffer=self.shm.buf, offset=slot * self.slot_bytes)

    def write(self, slot: int, images: np.ndarray) -> bool:
        """Copy images into `slot`; False (nothing written) when they do not fit."""
        if images.dtype != np.uint8 or images.nbytes > self.slot_bytes:
            return False
        self.view(slot, images.shape)[...] = images
        return True

    def close(self) -> None:
        try:
            self.shm.close()
        except BufferError:   # a view is still alive somewhere: the OS frees the block at exit
            pass
        if self.owner:
            try:
                self.shm.unlink()
            except FileNotFoundError:
                pass


def lean_scenario(scenario):
    """A copy whose trajectories carry no cached interpolants (cheap to pickle), and an empty map."""
    from engine.scenario.map_elements import RoadMap
    from engine.scenario.trajectory import Trajectory

    def lean(agent):
        return replace(agent, trajectory=Trajectory(agent.trajectory.points))

    return replace(scenario, ego=lean(scenario.ego), agents=tuple(lean(a) for a in scenario.agents), map=RoadMap())


def split_agents(scenario, sent: dict) -> tuple[object, list]:
    """(lean scenario without agents, spec): spec lists each agent (ego first) as the lean agent when it is
    new or changed since the last request, or as its id when `sent` (id -> agent object sent last) holds
    the very same object. Updates `sent`. Unchanged agents thus neither travel nor lose the child's cached
    interpolants (a drag sends one agent, not twenty)."""
    spec: list = []
    for agent in (scenario.ego, *scenario.agents):
        if sent.get(agent.id) is agent:
            spec.append(agent.id)
        else:
            spec.append(_lean_agent(agent))
            sent[agent.id] = agent
    live = {scenario.ego.id, *(a.id for a in scenario.agents)}
    for gone in set(sent) - live:
        del sent[gone]
    return lean_scenario(replace(scenario, agents=())), spec


def join_agents(scenario, spec: list, cache: dict):
    """The inverse of `split_agents` in the child: ids are taken from `cache` (id -> agent), new agents
    are stored there."""
    agents = []
    for item in spec:
        if isinstance(item, str):
            agents.append(cache[item])
        else:
            cache[item.id] = item
            agents.append(item)
    live = {a.id for a in agents}
    for gone in set(cache) - live:
        del cache[gone]
    return replace(scenario, ego=agents[0], agents=tuple(agents[1:]))


def _lean_agent(agent):
    from engine.scenario.trajectory import Trajectory

    return replace(agent, trajectory=Trajectory(agent.trajectory.points))


def _die_with_parent() -> None:
    """Linux: ask the kernel to SIGTERM this process when the editor dies (even by SIGKILL)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def child_main(conn, size: tuple[int, int], shm_name: str | None = None) -> None:
    """Entry point of the render process (`shm_name`: the editor's FrameBuffer; None = pictures over the pipe)."""
    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    os.environ.setdefault("MPLBACKEND", "Agg")
    if shm_name is not None:
        _die_with_parent()
    buffer = None
    try:
        from app.preview_render import PreviewRequest, make_renderer, render_request

        if shm_name is not None:
            buffer = FrameBuffer(name=shm_name)
        renderer = make_renderer(size)
        qt_loaded = any(m == "PySide6" or m.startswith("PySide6.") for m in sys.modules)
        conn.send(("ready", getattr(renderer.renderer, "gl_renderer", ""), qt_loaded))
    except Exception as e:  # noqa: BLE001 - process boundary: any setup failure (no EGL, no GL) goes to the editor
        conn.send(("setup_failed", f"{type(e).__name__}: {e}"))
        return
    current_map = None
    agents: dict = {}   # id -> the agent object last received (keeps its interpolants between requests)
    try:
        while True:
            msg = conn.recv()
            if msg[0] == "stop":
                break
            _, rid, scenario, road_map, t, map_name = msg[:6]
            opts = msg[6] if len(msg) > 6 else {}
            slot = msg[7] if len(msg) > 7 else None
            if len(msg) > 8:
                scenario = join_agents(scenario, msg[8], agents)
            if road_map is not None:
                current_map = road_map
            try:
                t0 = time.perf_counter()
                s = replace(scenario, map=current_map) if current_map is not None else scenario
                result = render_request(renderer, PreviewRequest(s, t, map_name, 0.0, **opts))
                images = result.images
                if buffer is not None and slot is not None and buffer.write(slot, images):
                    images = ("shm", slot, tuple(result.images.shape))
                conn.send(("ok", rid, images, result.names, result.warnings, time.perf_counter() - t0, result.boxes))
            except Exception as e:  # noqa: BLE001 - process boundary: a failed render is answered, the loop goes on
                conn.send(("error", rid, f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=4)}"))
    except (EOFError, OSError, KeyboardInterrupt):
        pass
    finally:
        try:
            renderer.release()
        except Exception:  # noqa: BLE001 - the process is exiting; a GL release error has nobody to go to
            pass
        if buffer is not None:
            buffer.close()
