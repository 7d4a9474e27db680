"""Write the before/after figures of docs/realscene/ (an insertion into a real-format scene).

    python docs/realscene/make_before_after.py [--dataroot DIR --version V --scene NAME] [--frame 18]

Without --dataroot it builds the test dataset (tests/fixtures/nuscenes_builder.py) at 800x450 under
/tmp. It opens the scene, adds a library cut-in from the right lane and the best straight-line
proposal, a car hidden behind the real lead car (occlusion check), renders the guidance maps over
the real frames and runs the naive world model, and writes:

    before.png     the real six cameras of one frame (panorama order FL F FR BR B BL)
    after.png      the same frame from the naive world model with the inserted cars
    guidance.png   CAM_FRONT maps: real image | D | N | E, then O | M | boxes | the real frame's labels
    bev.png        the scene from above: map, locked annotated agents (grey), inserted agents (colour)
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from engine.conditions import clip_conditions  # noqa: E402
from engine.realscene import place_maneuver, propose_insertions, real_rig, render_real_frame  # noqa: E402
from engine.render.guidance import GuidanceRenderer  # noqa: E402
from engine.scenario.model import Agent  # noqa: E402
from engine.scenario.trajectory import Trajectory  # noqa: E402
from engine.sources import open_nuscenes_scene  # noqa: E402

OUT = Path(__file__).resolve().parent
SIZE = (448, 256)


def _depth_rgb(d: np.ndarray, far: float = 60.0) -> np.ndarray:
    c = cv2.applyColorMap(np.clip(255 - d / far * 255, 0, 255).astype(np.uint8), cv2.COLORMAP_TURBO)
    c[d <= 0] = 0
    return cv2.cvtColor(c, cv2.COLOR_BGR2RGB)


def _label(img: np.ndarray, text: str) -> np.ndarray:
    img = img.copy()
    cv2.putText(img, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(img, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return img


def _behind(lead: Agent, gap: float) -> Agent:
    pts = [type(p)(p.t, p.x + np.cos(p.yaw) * gap, p.y + np.sin(p.yaw) * gap, p.yaw, p.v) for p in lead.trajectory.points]
    return Agent("car_hidden", "car", (1.95, 4.6, 1.72), Trajectory(tuple(pts)), behavior="manual")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataroot")
    p.add_argument("--version", default="v1.0-mini")
    p.add_argument("--scene", default="scene-0001")
    p.add_argument("--frame", type=int, default=18)
    a = p.parse_args(argv)
    if a.dataroot:
        root, version = a.dataroot, a.version
    else:
        from tests.fixtures.nuscenes_builder import cached_dataset

        base = Path("/tmp/cornercase_docs_nuscenes")
        base.mkdir(exist_ok=True)
        root, version = cached_dataset(base, image_size=(800, 450)).dataroot, "v1.0-mini"
    scene = open_nuscenes_scene(root, version, a.scene)
    s = scene.scenario
    cut = place_maneuver(s, "cut_in", side="right").agents
    edited = s
    for ag in cut:
        edited = edited.with_agent(ag)
    props = propose_insertions(edited, "truck", speeds=(5.0,), count=1)
    for pr in props:
        edited = edited.with_agent(pr.agent)
    lead = min((x for x in s.agents if x.cls == "car" and x.trajectory.covers(0.0) and x.trajectory.speed_at(0.5) > 4),
               key=lambda x: np.hypot(*(x.trajectory.sample(0.0).xy[0] - s.ego.trajectory.sample(0.0).xy[0])))
    edited = edited.with_agent(_behind(lead, 9.0))
    edited = replace(edited, name=f"{s.name}-edited")
    inserted = [x.id for x in edited.agents if not x.locked]
    print("inserted:", ", ".join(inserted))

    k = min(a.frame, scene.num_frames - 1)
    rig = real_rig(scene, SIZE)
    before = np.concatenate([scene.image(k, cam, SIZE) for cam in rig.names], axis=1)
    with clip_conditions(edited, SIZE) as cond:
        from engine.worldmodel import GenerationSettings, create_backend, generate_clip

        frame_k = replace(cond, times=cond.times[k:k + 1], source=lambda i, src=cond.source: src(i + k))
        clip = generate_clip(create_backend("naive"), frame_k, GenerationSettings(seed=0))
    after = np.concatenate(list(clip.frames[0]), axis=1)
    cv2.imwrite(str(OUT / "before.png"), cv2.cvtColor(before, cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(OUT / "after.png"), cv2.cvtColor(after, cv2.COLOR_RGB2BGR))

    with GuidanceRenderer(rig) as r:
        r.set_scenario(edited)          # recorded agents included: not drawn over the real frames, but in the boxes
        g = render_real_frame(r, scene, k)
        m = g["CAM_FRONT"]
        hidden = int(g.instance_mask("car_hidden", "CAM_FRONT").sum())
        vis = g.visible_pixels() if hasattr(g, "visible_pixels") else {}
    normal = ((m.normal + 1) * 127.5).astype(np.uint8)
    normal[~m.normal.any(-1)] = 0
    from engine.render.visualize import colorize_boxes

    tiles = [_label(scene.image(k, "CAM_FRONT", SIZE), "real"), _label(_depth_rgb(m.depth), "D"), _label(normal, "N"),
             _label(np.repeat(m.edge[..., None], 3, -1), "E"), _label(m.object, "O"),
             _label(np.repeat((m.inserted * 255).astype(np.uint8)[..., None], 3, -1), "M"),
             _label(colorize_boxes(m.boxes), "boxes: recorded + inserted"),
             _label(_labels_overlay(m.rgb, m.boxes), "rendered rgb + box edges")]
    sheet = np.concatenate([np.concatenate(tiles[:4], 1), np.concatenate(tiles[4:], 1)], 0)
    cv2.imwrite(str(OUT / "guidance.png"), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    _bev(edited, k / s.fps, OUT / "bev.png")
    print(f"frame {k}: car_hidden has {hidden} visible pixels in CAM_FRONT (behind the real lead car {lead.id})")
    print("visible pixels:", {i: v for i, v in vis.items() if i in inserted})
    return 0


def _labels_overlay(rgb: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """The renderer's rgb (real image + inserted assets) with the box edges of every agent on top."""
    from engine.render.boxes import EDGE_VALUE
    from engine.render.visualize import colorize_boxes

    out = rgb.copy()
    edge = boxes.max(axis=-1) >= EDGE_VALUE
    out[edge] = colorize_boxes(boxes)[edge]
    return out


def _bev(scenario, t: float, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 6))
    for poly in scenario.map.drivable_area:
        arr = np.array(poly + (poly[0],))
        ax.fill(arr[:, 0], arr[:, 1], color="0.88", lw=0)
    for lane in scenario.map.lanes:
        ax.plot(*lane.array.T, color="0.6", lw=0.6, ls="--")
    for c in scenario.map.ped_crossings:
        arr = np.vstack([c.array, c.array[:1]])
        ax.plot(*arr.T, color="m", lw=0.8)
    times = scenario.frame_times()
    for ag in scenario.all_agents:
        color = "k" if ag.id == "ego" else ("0.55" if ag.locked else "tab:red")
        cov = times[ag.trajectory.covers(times)] if ag.id != "ego" else times
        if len(cov):
            ax.plot(*ag.trajectory.sample(cov).xy.T, color=color, lw=0.8, alpha=0.7)
        if ag.id == "ego" or ag.trajectory.covers(t):
            c = ag.box_corners_2d(t)[0]
            ax.fill(*np.vstack([c, c[:1]]).T, color=color, alpha=0.8)
            if not ag.locked:
                ax.annotate(ag.id, c.mean(0), fontsize=7, color=color, xytext=(4, 4), textcoords="offset points")
    xy = scenario.ego.trajectory.sample(t).xy[0]
    ax.set_xlim(xy[0] - 25, xy[0] + 55)
    ax.set_ylim(xy[1] - 15, xy[1] + 40)
    ax.set_aspect("equal")
    ax.set_title(f"{scenario.name} at t = {t:.2f} s: grey = recorded (locked), red = inserted")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
