"""nuScenes categories -> the ten detection classes.

The devkit's detection mapping (`nuscenes.eval.detection.utils.category_to_detection_name`) comes
first. Categories it leaves out (animals, emergency vehicles, strollers, debris, bicycle racks ...)
are still obstacles an inserted asset must not drive through, so they map to the nearest class by
their category prefix and are flagged as not a detection class (`detection_name` is None).
"""
from __future__ import annotations

from nuscenes.eval.detection.utils import category_to_detection_name

# nearest class for categories outside the detection mapping, longest prefix wins
_FALLBACK_BY_PREFIX: tuple[tuple[str, str], ...] = (
    ("vehicle.emergency.ambulance", "truck"),
    ("vehicle.emergency", "car"),
    ("vehicle.bus", "bus"),
    ("vehicle", "car"),
    ("human.pedestrian", "pedestrian"),
    ("human", "pedestrian"),
    ("animal", "pedestrian"),
    ("movable_object.trafficcone", "traffic_cone"),
    ("movable_object", "barrier"),
    ("static_object", "barrier"),
)


def detection_name(category: str) -> str | None:
    """The detection class the nuScenes benchmark uses for `category`, or None if it has none."""
    det: str | None = category_to_detection_name(category)   # the devkit is untyped
    return det


def class_for_category(category: str) -> str | None:
    """The class an annotated object of `category` becomes in a scenario (None: unknown category).

    Detection categories map as in the benchmark; others to the nearest class by prefix.
    """
    det = detection_name(category)
    if det is not None:
        return det
    for prefix, cls in _FALLBACK_BY_PREFIX:
        if category == prefix or category.startswith(prefix + "."):
            return cls
    return None
