"""Write docs/realscene/insertion_crops.png: naive insertion before / after matching it to the footage.

    python docs/realscene/make_insertion_crops.py [--dataroot DIR --version V --scene NAME] [--frame 4]

Without --dataroot it builds the test dataset (tests/fixtures/nuscenes_builder.py) at 800x450 under
/tmp. Two inserted cars (a moving one in the next lane, a parked one) in an edited real scene go
through `engine.conditions.clip_conditions`; per car the figure shows, cropped around it in CAM_FRONT:
the recorded frame | the plain paste (the render composited by depth) | the naive backend's output
(colour / exposure matched, cast shadow, motion blur, sensor noise, anti-aliased edges).
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
from engine.scenario.model import Agent  # noqa: E402
from engine.scenario.trajectory import Trajectory  # noqa: E402
from engine.sources import open_nuscenes_scene  # noqa: E402
from engine.worldmodel import GenerationSettings, create_backend, generate_clip  # noqa: E402
from engine.worldmodel.naive.effects import composite_over_background  # noqa: E402
from engine.worldmodel.naive.insertion import visible_inserted  # noqa: E402

OUT = Path(__file__).resolve().parent
SIZE = (800, 450)
CAM = "CAM_FRONT"


def _label(img: np.ndarray, text: str) -> np.ndarray:
    img = img.copy()
    cv2.putText(img, text, (5, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(img, text, (5, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1, cv2.LINE_AA)
    return img


def _moving(lead: Agent, left: float, back: float) -> Agent:
    pts = [type(p)(p.t, p.x - np.cos(p.yaw) * back - np.sin(p.yaw) * left,
                   p.y - np.sin(p.yaw) * back + np.cos(p.yaw) * left, p.yaw, p.v) for p in lead.trajectory.points]
    return Agent("car_moving", "car", (1.95, 4.6, 1.72), Trajectory(tuple(pts)))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataroot")
    p.add_argument("--version", default="v1.0-mini")
    p.add_argument("--scene", default="scene-0001")
    p.add_argument("--frame", type=int, default=4)
    a = p.parse_args(argv)
    if a.dataroot:
        root, version, name = Path(a.dataroot), a.version, a.scene
    else:
        from tests.fixtures.nuscenes_builder import cached_dataset

        ds = cached_dataset(Path("/tmp/cornercase_docs_nuscenes_800"), image_size=SIZE)
        root, version, name = ds.dataroot, ds.version, "scene-0001"
    scene = open_nuscenes_scene(root, version, name, duration=(a.frame + 1) / 12)
    lead = max((x for x in scene.scenario.agents if x.cls == "car"),
               key=lambda x: -np.hypot(*np.subtract(x.trajectory.pose_at(0)[:2], scene.scenario.ego.trajectory.pose_at(0)[:2])))
    moving = _moving(lead, left=3.5, back=-2.0)
    x, y, yaw = scene.scenario.ego.trajectory.pose_at(0.0)
    parked = Agent("car_parked", "car", (1.95, 4.6, 1.72),
                   Trajectory.static(x + 14 * np.cos(yaw) + 4.2 * np.sin(yaw), y + 14 * np.sin(yaw) - 4.2 * np.cos(yaw),
                                     yaw + 0.2, 0.0, 1.0))
    edited = replace(scene.scenario.with_agent(moving).with_agent(parked), duration=(a.frame + 1) / 12)
    with clip_conditions(edited, SIZE) as c:
        fc = c.frame(a.frame)
        k = c.camera_names.index(CAM)
        clip = generate_clip(create_backend("naive"), c, GenerationSettings(seed=0))
    before, _ = composite_over_background(fc.shaded, fc.depth, fc.inserted, fc.background, fc.background_depth)
    vis = visible_inserted(fc)[k]
    after = clip.frames[a.frame, k]
    real = fc.background[k]
    rows = []
    n_labels, labels = cv2.connectedComponents(vis.astype(np.uint8))
    for lab in range(1, n_labels):
        ys, xs = np.nonzero(labels == lab)
        if ys.size < 150:
            continue
        pad = max(12, int(0.35 * (ys.max() - ys.min())))
        y0, y1 = max(ys.min() - pad, 0), min(ys.max() + pad, SIZE[1])
        x0, x1 = max(xs.min() - pad, 0), min(xs.max() + pad, SIZE[0])
        crops = [real[y0:y1, x0:x1], before[k][y0:y1, x0:x1], after[y0:y1, x0:x1]]
        scale = 220 / (y1 - y0)
        crops = [cv2.resize(cc, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST) for cc in crops]
        crops = [_label(cc, t) for cc, t in zip(crops, ("recorded", "before: plain paste", "after: matched"))]
        rows.append(np.concatenate([np.concatenate([cc, np.full((cc.shape[0], 4, 3), 255, np.uint8)], 1)
                                    for cc in crops], axis=1))
    if not rows:
        print("no inserted car is visible in CAM_FRONT at this frame", file=sys.stderr)
        return 1
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    out = OUT / "insertion_crops.png"
    cv2.imwrite(str(out), cv2.cvtColor(np.concatenate(rows, axis=0), cv2.COLOR_RGB2BGR))
    print(f"wrote {out} ({len(rows)} inserted cars)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
