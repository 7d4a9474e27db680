"""The recorded labels of a real scene, for exporting an edited copy of it in nuScenes format.

An edited real scene keeps its recorded objects. Its export writes their original annotations
(category, instance and annotation tokens, the box as annotated, attributes, lidar / radar point
counts) next to the boxes of the inserted agents, at the scene's own key frames: the clip frames
nearest the scene's 2 Hz samples (then every round(fps / 2)-th frame past the last sample).

    labels = recorded_labels(edited_scenario, times)    # times: (T,) frame times of the clip, s
    labels.key_frames                                   # (0, 6, 12, ...)
    labels.annotation(agent, 6)        # RecordedAnnotation of a locked recorded agent at frame 6, or None
    labels.category_of(agent)          # 'vehicle.emergency.police' for a recorded police car

Which agents are recorded: those whose ``behavior_params['instance_token']`` names an instance of the
source scene (`engine.sources.tracks` puts it there) and whose class is still the one of that
instance's category. They keep their category and instance token in the export even when edited;
their original boxes are written only while they are `locked` (unchanged), otherwise their boxes come
from their (edited) trajectories.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from engine.scenario.model import Agent, Scenario, SceneSource
from engine.sources.categories import class_for_category
from engine.sources.errors import SceneSourceError
from engine.sources.nuscenes_db import Record

if TYPE_CHECKING:
    from nuscenes.nuscenes import NuScenes

KEY_HZ = 2.0


@dataclass(frozen=True)
class RecordedAnnotation:
    """One original ``sample_annotation``: the box in the global frame (translation (3,) m, size
    [w, l, h] m, rotation [w, x, y, z]), attribute names, visibility level ('v0-40' ... 'v80-100',
    '' when unknown) and the lidar / radar point counts, with its own and its instance's tokens."""

    token: str
    sample_token: str
    instance_token: str
    translation: tuple[float, float, float]
    size: tuple[float, float, float]
    rotation: tuple[float, float, float, float]
    attributes: tuple[str, ...]
    visibility: str
    num_lidar_pts: int
    num_radar_pts: int


@dataclass(frozen=True)
class RecordedInstance:
    """A recorded object of the scene as an agent of the edited scenario: its original category and
    instance token, and its annotations by clip key frame index."""

    agent_id: str
    instance_token: str
    category: str
    annotations: Mapping[int, RecordedAnnotation]


@dataclass(frozen=True)
class RecordedLabels:
    """What an export of an edited real scene keeps from the recording (see the module docstring).

    t0_us: clip time 0 (the scene's first sample + the source's start offset); location / vehicle / date_captured:
    the scene's log; key_frames: clip frame indices that become samples, ascending, 0 first;
    key_samples: key frame index -> source sample token (key frames past the recording have none);
    instances: agent id -> RecordedInstance; category_descriptions: category name -> description.
    """

    source: SceneSource
    t0_us: int
    location: str
    vehicle: str
    date_captured: str
    key_frames: tuple[int, ...]
    key_samples: Mapping[int, str]
    instances: Mapping[str, RecordedInstance]
    category_descriptions: Mapping[str, str]

    def category_of(self, agent: Agent) -> str | None:
        """The original nuScenes category of a recorded agent (None for inserted agents)."""
        rec = self.instances.get(agent.id)
        return rec.category if rec is not None else None

    def instance_token_of(self, agent: Agent) -> str | None:
        """The original instance token of a recorded agent (None for inserted agents)."""
        rec = self.instances.get(agent.id)
        return rec.instance_token if rec is not None else None

    def annotation(self, agent: Agent, index: int) -> RecordedAnnotation | None:
        """The original annotation of `agent` at clip frame `index`: only for a locked (unchanged)
        recorded agent annotated at the sample that frame stands for; else None."""
        rec = self.instances.get(agent.id)
        if rec is None or not agent.locked:
            return None
        return rec.annotations.get(int(index))


def clip_key_frames(sample_times: NDArray[np.float64], times: NDArray[np.float64], fps: float,
                    key_hz: float = KEY_HZ) -> dict[int, int]:
    """Clip frames standing for the samples: {frame index: sample index}.

    sample_times (S,) and times (T,) are seconds from clip time 0. Each sample inside the clip takes
    the nearest frame (within half a frame period; the first sample wins a shared frame); past the
    last sample, every round(fps / key_hz)-th frame is a key frame too (value -1: no sample).
    Frame 0 is always a key frame (a scene starts with a sample).
    """
    times = np.asarray(times, dtype=np.float64).reshape(-1)
    half = 0.5 / fps + 1e-6
    out: dict[int, int] = {}
    for i, ts in enumerate(np.asarray(sample_times, dtype=np.float64).reshape(-1)):
        k = int(np.argmin(np.abs(times - ts)))
        if abs(times[k] - ts) <= half and k not in out:
            out[k] = i
    if 0 not in out:
        out[0] = -1
    step = max(1, int(round(fps / key_hz)))
    k = max(out) + step
    while k < len(times):
        out[k] = -1
        k += step
    return dict(sorted(out.items()))


def _scene_record(nusc: NuScenes, source: SceneSource) -> Record:
    for rec in nusc.scene:
        if rec["name"] == source.scene or rec["token"] == source.scene:
            found: Record = rec
            return found
    raise SceneSourceError(f"{source.dataroot} ({source.version}): no scene named {source.scene!r}")


def _vector3(values: Sequence[float]) -> tuple[float, float, float]:
    x, y, z = values          # load_nuscenes checked the table: 3 finite numbers (`table_checks.VECTORS`)
    return float(x), float(y), float(z)


def _vector4(values: Sequence[float]) -> tuple[float, float, float, float]:
    w, x, y, z = values
    return float(w), float(x), float(y), float(z)


def _annotation(nusc: NuScenes, ann: Record) -> RecordedAnnotation:
    attrs = tuple(nusc.get("attribute", t)["name"] for t in ann.get("attribute_tokens", []))
    vis = ""
    if ann.get("visibility_token"):
        try:
            vis = nusc.get("visibility", ann["visibility_token"])["level"]
        except KeyError:
            vis = ""
    return RecordedAnnotation(
        ann["token"], ann["sample_token"], ann["instance_token"],
        _vector3(ann["translation"]), _vector3(ann["size"]), _vector4(ann["rotation"]), attrs, vis,
        int(ann.get("num_lidar_pts", 0) or 0), int(ann.get("num_radar_pts", 0) or 0))


def recorded_labels(scenario: Scenario, times: NDArray[np.float64] | None = None) -> RecordedLabels:
    """The recorded labels behind an edited real scenario (its `source`), for clip frame `times` (T,) s
    (default: the scenario's frame times). SceneSourceError when it has no source or the dataset
    cannot be read."""
    from engine.sources.nuscenes_db import load_nuscenes

    source = scenario.source
    if source is None:
        raise SceneSourceError(f"scenario {scenario.name!r} has no source scene")
    if source.kind != "nuscenes":
        raise SceneSourceError(f"scene source kind {source.kind!r} is not supported (only 'nuscenes')")
    times = scenario.frame_times() if times is None else np.asarray(times, dtype=np.float64).reshape(-1)
    nusc = load_nuscenes(source.dataroot, source.version)
    scene = _scene_record(nusc, source)
    log = nusc.get("log", scene["log_token"])
    samples = []
    tok = scene["first_sample_token"]
    while tok:
        samples.append(nusc.get("sample", tok))
        tok = samples[-1]["next"]
    t0_us = int(samples[0]["timestamp"]) + int(round(float(getattr(source, "start", 0.0) or 0.0) * 1e6))  # clip time 0
    sample_times = np.array([(int(s["timestamp"]) - t0_us) / 1e6 for s in samples])
    keys = clip_key_frames(sample_times, times, scenario.fps)
    key_samples = {k: samples[i]["token"] for k, i in keys.items() if i >= 0}
    frame_of_sample = {tok: k for k, tok in key_samples.items()}

    instances: dict[str, RecordedInstance] = {}
    descriptions: dict[str, str] = {}
    for agent in scenario.agents:
        inst_token = (agent.behavior_params or {}).get("instance_token")
        if not isinstance(inst_token, str):
            continue
        try:
            inst = nusc.get("instance", inst_token)
        except KeyError:                   # not an instance of this dataset (copied from elsewhere)
            continue
        cat = nusc.get("category", inst["category_token"])
        if class_for_category(cat["name"]) != agent.cls:
            continue                       # the class was changed: the original category no longer holds
        descriptions[cat["name"]] = cat.get("description", "") or cat["name"]
        anns: dict[int, RecordedAnnotation] = {}
        tok = inst["first_annotation_token"]
        while tok:
            ann = nusc.get("sample_annotation", tok)
            k = frame_of_sample.get(ann["sample_token"])
            if k is not None:
                anns[k] = _annotation(nusc, ann)
            tok = ann["next"]
        instances[agent.id] = RecordedInstance(agent.id, inst_token, cat["name"], anns)
    return RecordedLabels(source, t0_us, log.get("location", ""), log.get("vehicle", ""),
                          log.get("date_captured", ""), tuple(keys), key_samples, instances, descriptions)
