"""The ten nuScenes detection classes: names, nuScenes categories, default box sizes, colours."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from engine.paths import CLASSES_FILE

# Display colour per class (RGB 0..255), used by the BEV canvas, box maps and legends.
CLASS_COLORS: dict[str, tuple[int, int, int]] = {
    "car": (31, 119, 180),
    "truck": (255, 127, 14),
    "bus": (227, 119, 194),
    "trailer": (140, 86, 75),
    "construction_vehicle": (188, 189, 34),
    "pedestrian": (44, 160, 44),
    "motorcycle": (148, 103, 189),
    "bicycle": (23, 190, 207),
    "traffic_cone": (255, 152, 0),
    "barrier": (127, 127, 127),
}

VEHICLE_CLASSES = frozenset({"car", "truck", "bus", "trailer", "construction_vehicle", "motorcycle"})
VULNERABLE_CLASSES = frozenset({"pedestrian", "bicycle", "motorcycle"})
STATIC_CLASSES = frozenset({"traffic_cone", "barrier"})


@dataclass(frozen=True)
class ClassInfo:
    """One detection class: `wlh` is the default box size [width, length, height] in metres."""

    name: str
    category: str
    wlh: tuple[float, float, float]
    color: tuple[int, int, int]


@lru_cache(maxsize=1)
def class_table() -> dict[str, ClassInfo]:
    """All ten classes keyed by name, in the order of the classes file."""
    raw = json.loads(CLASSES_FILE.read_text())["classes"]
    table: dict[str, ClassInfo] = {}
    for name, rec in raw.items():
        w, l, h = (float(v) for v in rec["wlh"])
        table[name] = ClassInfo(name, rec["category"], (w, l, h), CLASS_COLORS[name])
    return table


def class_names() -> list[str]:
    """The ten class names in canonical order."""
    return list(class_table())


def default_size(class_name: str) -> tuple[float, float, float]:
    """Default box size [w, l, h] in metres for a class; KeyError names the unknown class."""
    try:
        return class_table()[class_name].wlh
    except KeyError:
        raise KeyError(f"unknown class {class_name!r}; expected one of {', '.join(class_names())}") from None


def class_index(class_name: str) -> int:
    """Position of a class in canonical order (0..9), e.g. for one-channel-per-class maps."""
    return class_names().index(class_name)
