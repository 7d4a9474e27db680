"""The render process's side: a loop that owns one GuidanceRenderer and answers requests (no Qt
widgets: the QApplication lives in the editor process only).

Messages from the editor (over a multiprocessing Pipe):
    ("render", request_id, scenario, map_or_None, t, map_name[, options])   map None = the map sent before;
        options: PreviewRequest's camera_maps / overlay / draft
    ("stop",)
Answers:
    ("ready", gl_renderer_name) | ("setup_failed", message)
    ("ok", request_id, images (C, H, W, 3) uint8, names, warnings, seconds, boxes)
    ("error", request_id, message)
"""
from __future__ import annotations

import os
import time
import traceback
from dataclasses import replace


def lean_scenario(scenario):
    """A copy whose trajectories carry no cached interpolants (cheap to pickle), and an empty map."""
    from engine.scenario.model import Scenario  # noqa: F401  (type only)
    from engine.scenario.roadmap import RoadMap
    from engine.scenario.trajectory import Trajectory

    def lean(agent):
        return replace(agent, trajectory=Trajectory(agent.trajectory.points))

    return replace(scenario, ego=lean(scenario.ego), agents=tuple(lean(a) for a in scenario.agents), map=RoadMap())


def child_main(conn, size: tuple[int, int]) -> None:
    """Entry point of the render process."""
    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        from app.preview_pane import PreviewRequest, make_renderer, render_request

        renderer = make_renderer(size)
        conn.send(("ready", getattr(renderer.renderer, "gl_renderer", "")))
    except Exception as e:
        conn.send(("setup_failed", f"{type(e).__name__}: {e}"))
        return
    current_map = None
    try:
        while True:
            msg = conn.recv()
            if msg[0] == "stop":
                break
            _, rid, scenario, road_map, t, map_name = msg[:6]
            opts = msg[6] if len(msg) > 6 else {}
            if road_map is not None:
                current_map = road_map
            try:
                t0 = time.perf_counter()
                s = replace(scenario, map=current_map) if current_map is not None else scenario
                result = render_request(renderer, PreviewRequest(s, t, map_name, 0.0, **opts))
                conn.send(("ok", rid, result.images, result.names, result.warnings,
                           time.perf_counter() - t0, result.boxes))
            except Exception as e:
                conn.send(("error", rid, f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=4)}"))
    except (EOFError, OSError, KeyboardInterrupt):
        pass
    finally:
        try:
            renderer.release()
        except Exception:
            pass
