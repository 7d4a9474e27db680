"""Contact sheets: every map of every camera of one frame in one image, to look at.

Columns are the cameras in panorama order (FL, F, FR, BR, B, BL), rows the maps; a last column holds
the BEV layout and a class colour legend.
"""
from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.classes import CLASS_COLORS, class_names
from engine.render.frame import GuidanceFrame
from engine.render.visualize import colorize, colorize_bev

SHEET_MAPS: tuple[str, ...] = ("rgb", "depth", "normal", "edge", "object", "mask", "hdmap", "boxes")
SHORT_NAMES = {"CAM_FRONT_LEFT": "FL", "CAM_FRONT": "F", "CAM_FRONT_RIGHT": "FR", "CAM_BACK_RIGHT": "BR",
               "CAM_BACK": "B", "CAM_BACK_LEFT": "BL"}
LABEL_W, HEADER_H = 64, 18
FONT = cv2.FONT_HERSHEY_SIMPLEX


def _text(img: NDArray[np.uint8], text: str, org: tuple[int, int], scale: float = 0.4,
          color: tuple[int, int, int] = (230, 230, 230)) -> None:
    cv2.putText(img, text, org, FONT, scale, color, 1, cv2.LINE_AA)


def contact_sheet(frame: GuidanceFrame, maps: tuple[str, ...] = SHEET_MAPS, scale: float = 0.5,
                  title: str | None = None) -> NDArray[np.uint8]:
    """(H', W', 3) uint8 RGB sheet of one frame: a row per map, a column per camera, then BEV and legend."""
    w, h = frame.rig.size
    tw, th = max(1, int(round(w * scale))), max(1, int(round(h * scale)))
    names = frame.camera_names
    bev_side = max(th * 2, 160)
    width = LABEL_W + tw * len(names) + bev_side + 8
    height = HEADER_H * 2 + th * len(maps)
    sheet = np.full((height, width, 3), 18, np.uint8)
    _text(sheet, title or f"t = {frame.time:.3f} s", (4, 13))
    for j, name in enumerate(names):
        _text(sheet, SHORT_NAMES.get(name, name), (LABEL_W + j * tw + 4, HEADER_H * 2 - 5))
    for i, m in enumerate(maps):
        y = HEADER_H * 2 + i * th
        _text(sheet, m, (4, y + th // 2 + 4))
        for j, name in enumerate(names):
            tile: NDArray[np.uint8] | cv2.typing.MatLike = colorize(frame[name], m)
            if (tw, th) != (w, h):
                tile = cv2.resize(tile, (tw, th), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_NEAREST)
            sheet[y:y + th, LABEL_W + j * tw:LABEL_W + (j + 1) * tw] = tile
            cv2.line(sheet, (LABEL_W + j * tw, y), (LABEL_W + j * tw, y + th - 1), (18, 18, 18), 1)
    x0 = LABEL_W + tw * len(names) + 8
    if frame.bev is None:
        raise ValueError("contact_sheet needs the BEV map: render the frame with 'bev' among its maps")
    bev = cv2.resize(colorize_bev(frame.bev, frame.bev_channels), (bev_side, bev_side), interpolation=cv2.INTER_NEAREST)
    y0 = HEADER_H * 2
    _text(sheet, "BEV (ego up)", (x0, y0 - 5))
    bh = min(bev_side, height - y0)
    sheet[y0:y0 + bh, x0:x0 + bev_side] = bev[:bh]
    y = y0 + bh + 14
    for cls in class_names():
        if y + 4 > height:
            break
        cv2.rectangle(sheet, (x0, y - 9), (x0 + 10, y + 1), CLASS_COLORS[cls], -1)
        _text(sheet, cls, (x0 + 14, y), 0.36)
        y += 14
    return sheet


def agent_gallery(frame: GuidanceFrame, classes: dict[str, str], cell: tuple[int, int] = (176, 132),
                  columns: int = 5, map_name: str = "object") -> NDArray[np.uint8]:
    """(H', W', 3) uint8 close-ups of every visible agent: a crop of `map_name` around its mask in the
    camera that sees most of it, scaled to `cell` (width, height), labelled with id, class and camera.

    `classes` maps agent id -> class name (e.g. ``{a.id: a.cls for a in scenario.agents}``).
    """
    cw, ch = cell
    seen = frame.visible_pixels()
    items = [(aid, max(cams, key=lambda name: cams[name])) for aid, cams in seen.items()]
    if not items:
        return np.full((ch, cw, 3), 18, np.uint8)
    rows = (len(items) + columns - 1) // columns
    out = np.full((rows * (ch + HEADER_H), min(columns, len(items)) * cw, 3), 18, np.uint8)
    for i, (aid, cam) in enumerate(items):
        mask = frame.instance_mask(aid, cam)
        ys, xs = np.nonzero(mask)
        pad = 4
        y0, y1 = max(ys.min() - pad, 0), min(ys.max() + pad + 1, mask.shape[0])
        x0, x1 = max(xs.min() - pad, 0), min(xs.max() + pad + 1, mask.shape[1])
        crop: NDArray[np.uint8] | cv2.typing.MatLike = colorize(frame[cam], map_name)[y0:y1, x0:x1]
        s = min(cw / crop.shape[1], ch / crop.shape[0])
        crop = cv2.resize(crop, (max(1, int(crop.shape[1] * s)), max(1, int(crop.shape[0] * s))),
                          interpolation=cv2.INTER_NEAREST if s > 1 else cv2.INTER_AREA)
        r, c = divmod(i, columns)
        oy, ox = r * (ch + HEADER_H) + HEADER_H, c * cw
        out[oy:oy + crop.shape[0], ox:ox + crop.shape[1]] = crop
        label = f"{classes.get(aid, '?')} ({aid}, {SHORT_NAMES.get(cam, cam)})"
        _text(out, label[:30], (ox + 3, oy - 5), 0.36)
    return out
