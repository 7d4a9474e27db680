"""The nuScenes database schema as far as the exporter writes it: table names, fixed vocabularies, tokens.

The thirteen tables nuscenes-devkit loads (``NuScenes(version, dataroot)``) are JSON lists of
records with a ``token``. Vocabulary tables (category, attribute, visibility, sensor) are shared
by every scene of a dataset and matched by name when scenes are merged; the others grow by one
scene's records per export. Field lists follow the nuScenes v1.0 schema.
"""
from __future__ import annotations

import uuid
from typing import Any, TypeAlias

from engine.classes import class_table
from engine.config.runtime import DEFAULT_VERSION as DEFAULT_VERSION  # the one default, re-exported

Record: TypeAlias = dict[str, Any]
"""One record of a nuScenes table (JSON object; every record has a ``token``)."""
Tables: TypeAlias = dict[str, list[Record]]
"""Table name -> its records."""

TABLES: tuple[str, ...] = (
    "category", "attribute", "visibility", "instance", "sensor", "calibrated_sensor", "ego_pose",
    "log", "scene", "sample", "sample_data", "sample_annotation", "map",
)
VOCABULARY_TABLES: dict[str, str] = {  # table -> the field that identifies a record across datasets
    "category": "name", "attribute": "name", "visibility": "level", "sensor": "channel",
}
MAP_CATEGORY = "semantic_prior"

ATTRIBUTES: dict[str, str] = {
    "vehicle.moving": "Vehicle is moving.",
    "vehicle.stopped": "Vehicle, with a driver/rider in/on it, is currently stationary but has an intent to move.",
    "vehicle.parked": "Vehicle is stationary (usually for longer duration) with no immediate intent to move.",
    "cycle.with_rider": "There is a rider on the bicycle or motorcycle.",
    "cycle.without_rider": "There is NO rider on the bicycle or motorcycle.",
    "pedestrian.moving": "The human is moving.",
    "pedestrian.standing": "The human is standing.",
    "pedestrian.sitting_lying_down": "The human is sitting or lying down.",
}

# nuScenes visibility: the fraction of the annotation visible in all six images, in four bins.
VISIBILITY_BINS: tuple[tuple[str, str, float, float, str], ...] = (
    ("1", "v0-40", 0.0, 0.4, "visibility of whole object is between 0 and 40%"),
    ("2", "v40-60", 0.4, 0.6, "visibility of whole object is between 40 and 60%"),
    ("3", "v60-80", 0.6, 0.8, "visibility of whole object is between 60 and 80%"),
    ("4", "v80-100", 0.8, 1.0, "visibility of whole object is between 80 and 100%"),
)

CATEGORY_DESCRIPTIONS: dict[str, str] = {
    "vehicle.car": "Vehicle designed primarily for personal use, e.g. sedans, hatch-backs, wagons, vans, mini-vans, SUVs and jeeps.",
    "vehicle.truck": "Vehicles primarily designed to haul cargo including pick-ups, lorrys, trucks and semi-tractors.",
    "vehicle.bus.rigid": "Rigid bus.",
    "vehicle.trailer": "Any vehicle trailer, both for trucks, cars and bikes.",
    "vehicle.construction": "Vehicles primarily designed for construction. Typically very slow moving or stationary.",
    "human.pedestrian.adult": "Adult subcategory.",
    "vehicle.motorcycle": "Gasoline or electric powered 2-wheeled vehicle designed to move rapidly (at the speed of standard cars) on the road surface.",
    "vehicle.bicycle": "Human or electric powered 2-wheeled vehicle designed to travel at lower speeds either on road surface, sidewalks or bike paths.",
    "movable_object.trafficcone": "All types of traffic cone.",
    "movable_object.barrier": "Temporary road barrier placed in the scene in order to redirect traffic.",
}


def new_token() -> str:
    """A fresh 32-hex-digit token, as nuScenes uses."""
    return uuid.uuid4().hex


def category_name(cls: str) -> str:
    """The nuScenes category of one of the ten detection classes (``car`` -> ``vehicle.car``)."""
    return class_table()[cls].category


def vocabulary_records(channels: list[str]) -> Tables:
    """Fresh category, attribute, visibility and sensor records (sensor: one per channel, camera or lidar)."""
    cats = []
    for i, info in enumerate(class_table().values()):
        cats.append({"token": new_token(), "name": info.category,
                     "description": CATEGORY_DESCRIPTIONS.get(info.category, info.category), "index": i})
    attrs = [{"token": new_token(), "name": n, "description": d} for n, d in ATTRIBUTES.items()]
    vis = [{"token": tok, "level": level, "description": desc} for tok, level, _, _, desc in VISIBILITY_BINS]
    sensors = [{"token": new_token(), "channel": ch, "modality": "lidar" if ch.startswith("LIDAR") else "camera"}
               for ch in channels]
    return {"category": cats, "attribute": attrs, "visibility": vis, "sensor": sensors}


def visibility_token(fraction: float) -> str:
    """The visibility token ('1'..'4') of a visible fraction in [0, 1]."""
    f = min(max(float(fraction), 0.0), 1.0)
    for tok, _, _lo, hi, _ in VISIBILITY_BINS:
        if f < hi:
            return tok
    return VISIBILITY_BINS[-1][0]
