"""One scene in nuScenes format: frames streamed in, JPEGs written, the scene's table records built.

`SceneWriter` writes into a dataset folder of its own (a staging folder; `nuscenes_dataset.merge`
appends it to the real dataset): ``samples/<CAM>/`` for key frames, ``sweeps/<CAM>/`` for the
others, and at `finish()` the thirteen tables under ``<version>/`` plus a map mask under ``maps/``.

Records (nuScenes v1.0 schema), per scene:
  log (one), scene (one), map (one, log_tokens = [this log]), calibrated_sensor (one per camera,
  K at the export size), sample (one per key frame, 2 Hz), sample_data + ego_pose (one per camera
  and frame; ego pose token = sample data token, as in nuScenes), instance (one per agent seen at a
  key frame), sample_annotation (one per agent and key frame).
Boxes are in the global frame (the scenario's world frame): centre at z = h/2, size [w, l, h],
rotation the quaternion of the yaw about +z. ``num_lidar_pts`` and ``num_radar_pts`` are 0:
there is no lidar or radar (see the manifest notes). Timestamps are microseconds; every camera of a
synthetic frame shares the frame's timestamp, while an edited real scene keeps each camera's own capture
time and the log's ego pose at it (`camera_poses`). As in nuScenes, a sweep belongs to the NEXT key
frame's sample (the last ones to the last sample): nuscenes-devkit's `get_boxes` interpolates a sweep's
boxes between that sample's prev and the sample, at the sweep's own timestamp.

Edited real scenes (``recorded=RecordedLabels``, `engine.realscene.labels`): key frames are the clip
frames nearest the source scene's samples; recorded agents keep their nuScenes category
(``vehicle.emergency.police`` stays that, categories outside the ten classes are added to the
vocabulary) and, with ``keep_source_tokens``, their instance tokens; while locked (unchanged) their
boxes are the original annotations as recorded (box with its real height and rotation, attributes,
lidar / radar point counts, annotation token). Their visibility is the recorded one, lowered by the
part of the box that inserted agents in front now cover. The log takes the source's location,
vehicle and start time unless the options name them. `source_tokens` maps every exported
instance / annotation token that stands for a recorded one to the source token.
"""
from __future__ import annotations

import datetime as _dt
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TYPE_CHECKING, Mapping

import cv2
import numpy as np
from numpy.typing import NDArray
from pyquaternion import Quaternion

from engine.config.runtime import NuScenesOptions as NuScenesOptions  # re-exported
from engine.export.attributes import attribute_name
from engine.export.map_mask import write_map_mask
from engine.export.nuscenes_schema import (
    MAP_CATEGORY, TABLES, VISIBILITY_BINS, Record, Tables, category_name, new_token,
    visibility_token, vocabulary_records,
)
from engine.export.visibility import silhouette, visibility_counts
from engine.fileio import atomic_write_json
from engine.geometry import yaw_to_quaternion
from engine.rig import CameraRig
from engine.rig.pose import agent_present, ego_pose
from engine.rig.projection import agent_box, transform_points
from engine.scenario.model import Agent, Scenario

if TYPE_CHECKING:
    from engine.realscene.labels import RecordedAnnotation, RecordedLabels

LIDAR_CHANNEL = "LIDAR_TOP"
JPEG_THREADS = 3
SYNTHETIC_LOCATION = "cornercase-synthetic"
SYNTHETIC_VEHICLE = "cornercase-ego"


def keyframe_indices(times: NDArray[np.float64], fps: float, key_hz: float = 2.0) -> list[int]:
    """Indices of the 2 Hz key frames among frames at `times` (N,): every round(fps / key_hz)-th from 0."""
    step = max(1, int(round(fps / key_hz)))
    return list(range(0, len(times), step))


def _quat(yaw: float) -> list[float]:
    return list(yaw_to_quaternion(yaw))


def _safe(name: str) -> str:
    out = "".join(c if (c.isalnum() or c in "-_") else "-" for c in name).strip("-")
    return out[:48] or "scene"


@dataclass
class _Frame:
    index: int
    time: float
    timestamp: int
    is_key: bool
    sample_token: str | None = None
    data_tokens: dict[str, str] = field(default_factory=dict)


class SceneWriter:
    """Writes one scene into the dataset folder `root` (see the module docstring).

    Call `add_frame` for every frame in order (0..T-1), then `finish`. `times` (T,) are the frame
    times in seconds; key frames are every round(fps/2)-th frame from 0 unless `key_frames` is given
    (or `recorded` gives the source scene's). `recorded`: the labels of the real scene the scenario
    edits; `keep_source_tokens`: write its instance and annotation tokens as they are (a dataset can
    hold each token once: `pipeline.export_clip` re-keys them when the target already has them).
    """

    def __init__(self, root: str | os.PathLike[str], scenario: Scenario, rig: CameraRig, times: NDArray[np.float64],
                 options: NuScenesOptions | None = None, key_frames: list[int] | None = None,
                 recorded: "RecordedLabels | None" = None, keep_source_tokens: bool = False,
                 camera_poses: "Callable[[int, str], tuple[int, NDArray[np.float64]] | None] | None" = None) -> None:
        self.root = Path(root)
        # (frame index, camera) -> (capture timestamp us, world_from_ego (4, 4)) of a real image, or None:
        # an edited real scene keeps each camera's own capture time and ego pose from its log
        self.camera_poses = camera_poses
        self.scenario = scenario
        self.rig = rig
        self.times = np.asarray(times, dtype=np.float64).reshape(-1)
        if self.times.size == 0:
            raise ValueError("a scene needs at least one frame")
        self.options = options or NuScenesOptions()
        self.recorded = recorded
        self.keep_source_tokens = bool(keep_source_tokens)
        if key_frames is None:
            key_frames = ([k for k in recorded.key_frames if k < len(self.times)] if recorded is not None
                          else keyframe_indices(self.times, scenario.fps))
        self.key_frames = set(key_frames)
        if 0 not in self.key_frames:
            raise ValueError("frame 0 must be a key frame (a scene starts with a sample)")
        start = self.options.start_time_us
        if start is None and recorded is not None:
            start = recorded.t0_us
        self.t0_us = int(time.time() * 1e6) if start is None else int(start)
        self.location = self.options.location or (recorded.location if recorded is not None else "") \
            or SYNTHETIC_LOCATION
        self.vehicle = self.options.vehicle or (recorded.vehicle if recorded is not None else "") or SYNTHETIC_VEHICLE
        self.scene_token = new_token()
        self.log_token = new_token()
        self.map_token = new_token()
        self.scene_name = self.options.scene_name or scenario.name or "scene"
        self.log_name = f"{_safe(self.scene_name)}-{self.scene_token[:8]}"
        channels = list(rig.names) + ([LIDAR_CHANNEL] if self.options.lidar_stub else [])
        self.vocab = vocabulary_records(channels)
        self._sensor_token = {s["channel"]: s["token"] for s in self.vocab["sensor"]}
        if recorded is not None:   # categories outside the ten classes (police car, animal ...)
            known = {c["name"] for c in self.vocab["category"]}
            for name, desc in sorted(recorded.category_descriptions.items()):
                if name not in known:
                    self.vocab["category"].append({"token": new_token(), "name": name, "description": desc,
                                                   "index": len(self.vocab["category"])})
        known = {c["name"] for c in self.vocab["category"]}      # H16: authored category overrides (child, animal)
        for name in sorted({a.category for a in scenario.agents if getattr(a, "category", "")} - known):
            self.vocab["category"].append({"token": new_token(), "name": name, "description": name,
                                           "index": len(self.vocab["category"])})
        self._category_token = {c["name"]: c["token"] for c in self.vocab["category"]}
        self._attribute_token = {a["name"]: a["token"] for a in self.vocab["attribute"]}
        self.calibrated = {}
        for cam in rig.cameras:
            self.calibrated[cam.name] = {"token": new_token(), "sensor_token": self._sensor_token[cam.name],
                                         **cam.to_calibrated_sensor()}
        if self.options.lidar_stub:
            t, q = self.options.lidar_pose
            self.calibrated[LIDAR_CHANNEL] = {"token": new_token(), "sensor_token": self._sensor_token[LIDAR_CHANNEL],
                                              "translation": list(t), "rotation": list(q), "camera_intrinsic": []}
        self._frames: list[_Frame] = []
        self._sample_data: list[Record] = []
        self._ego_poses: list[Record] = []
        self._annotations: list[Record] = []  # with a private "_agent" key until finish
        self._visibility: dict[tuple[int, str], float] = {}
        self.files: list[Path] = []
        self.instance_agents: dict[str, str] = {}  # instance token -> agent id, filled by finish()
        # exported token -> source token of recorded instances / annotations (filled as written)
        self.source_tokens: dict[str, dict[str, str]] = {"instance": {}, "sample_annotation": {}}
        self._used_tokens: set[str] = set()
        self._pool: ThreadPoolExecutor | None = None
        self._pending: list[Future[Any]] = []

    # ---- frames --------------------------------------------------------------------------
    def add_frame(self, index: int, images: NDArray[np.uint8], instance: NDArray[np.int32] | None = None,
                  instance_ids: Mapping[str, int] | None = None, depth: NDArray[np.floating[Any]] | None = None,
                  own_pixels: Mapping[str, int] | None = None) -> None:
        """Write frame `index`: images (V, H, W, 3) uint8 in `rig.names` order.

        Key frames also need `instance` (V, H, W) int32 with `instance_ids` (agent id -> mask id) for the
        visibility bins; `depth` (V, H, W) float32 metres (0 = none) lets the static scene count as occluder.
        `own_pixels` (agent id -> pixels of the agent's own full silhouette over all cameras, rendered alone)
        makes an agent's visibility its visible pixels over its own silhouette (nuScenes: the visible part of
        the object), instead of over the part of its box not left empty by the mesh (too low for thin objects).
        """
        if index != len(self._frames):
            raise ValueError(f"frames must be added in order: expected frame {len(self._frames)}, got {index}")
        if index >= len(self.times):
            raise ValueError(f"frame {index} is beyond the {len(self.times)} frame times")
        w, h = self.rig.size
        v = len(self.rig)
        images = np.asarray(images)
        if images.shape != (v, h, w, 3) or images.dtype != np.uint8:
            raise ValueError(f"frame {index}: images must be ({v}, {h}, {w}, 3) uint8, got {images.shape} {images.dtype}")
        t = float(self.times[index])
        is_key = index in self.key_frames
        frame = _Frame(index, t, self.t0_us + int(round(t * 1e6)), is_key)
        world_from_ego = ego_pose(self.scenario, t)
        if is_key:
            if instance is None or instance_ids is None:
                raise ValueError(f"frame {index} is a key frame: instance masks and instance_ids are needed "
                                 "for the visibility of its annotations")
            if instance.shape != (v, h, w):
                raise ValueError(f"frame {index}: instance must be ({v}, {h}, {w}), got {instance.shape}")
            frame.sample_token = new_token()
            counts = visibility_counts(self.scenario.agents, t, self.rig, world_from_ego, instance,
                                       instance_ids, depth)
            for aid, (vis, tot) in counts.items():
                own = int((own_pixels or {}).get(aid, 0))
                if own > 0:
                    self._visibility[(index, aid)] = min(1.0, vis / own)
                else:
                    self._visibility[(index, aid)] = vis / tot if tot else 0.0
            self._recorded_visibility(index, t, world_from_ego, instance, instance_ids)
            self._annotate(frame)
        folder = "samples" if is_key else "sweeps"
        ego_tr = [float(world_from_ego[0, 3]), float(world_from_ego[1, 3]), 0.0]
        ego_rot = list(map(float, Quaternion(matrix=world_from_ego[:3, :3]).elements))
        for ci, cam in enumerate(self.rig.cameras):
            real_pose = self.camera_poses(index, cam.name) if self.camera_poses is not None else None
            stamp, tr, rot = frame.timestamp, ego_tr, ego_rot
            if real_pose is not None:      # the real image's capture time and the log's ego pose at that time
                stamp, m = int(real_pose[0]), np.asarray(real_pose[1], np.float64)
                tr = [float(v) for v in m[:3, 3]]
                rot = list(map(float, Quaternion(matrix=m[:3, :3], atol=1e-6).elements))
            rel = f"{folder}/{cam.name}/{self.log_name}__{cam.name}__{stamp}.jpg"
            self._write_jpeg(rel, images[ci])
            self._add_sample_data(frame, cam.name, rel, "jpg", w, h, tr, rot, stamp)
        if is_key and self.options.lidar_stub:
            rel = f"samples/{LIDAR_CHANNEL}/{self.log_name}__{LIDAR_CHANNEL}__{frame.timestamp}.pcd.bin"
            path = self.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"")  # zero points: there is no lidar
            self.files.append(path)
            self._add_sample_data(frame, LIDAR_CHANNEL, rel, "pcd", 0, 0, ego_tr, ego_rot)
        self._frames.append(frame)

    def _write_jpeg(self, rel: str, image: NDArray[np.uint8]) -> None:
        """Encode and write on the writer's threads (OpenCV and file I/O release the GIL)."""
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        quality = int(self.options.jpeg_quality)

        def work() -> None:
            ok, buf = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
            if not ok:
                raise OSError(f"cannot encode {rel} as JPEG")
            path.write_bytes(buf.tobytes())

        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=JPEG_THREADS, thread_name_prefix="jpeg")
        self._pending.append(self._pool.submit(work))
        self.files.append(path)

    def _drain(self) -> None:
        """Wait for every queued JPEG; the first failure is raised."""
        pending, self._pending = self._pending, []
        try:
            for f in pending:
                f.result()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None

    def close(self) -> None:
        """Stop the JPEG threads without raising (after a failure elsewhere)."""
        try:
            self._drain()
        except Exception:  # noqa: BLE001 - a JPEG failure here is secondary: the error that made us close propagates
            pass

    def _add_sample_data(self, frame: _Frame, channel: str, rel: str, fmt: str, w: int, h: int,
                         ego_tr: list[float], ego_rot: list[float], timestamp: int | None = None) -> None:
        token = new_token()
        stamp = frame.timestamp if timestamp is None else int(timestamp)
        self._ego_poses.append({"token": token, "timestamp": stamp, "rotation": ego_rot, "translation": ego_tr})
        self._sample_data.append({
            "token": token, "sample_token": frame.sample_token or "", "ego_pose_token": token,
            "calibrated_sensor_token": self.calibrated[channel]["token"], "timestamp": stamp,
            "fileformat": fmt, "is_key_frame": frame.is_key, "height": h, "width": w, "filename": rel,
            "prev": "", "next": "", "_channel": channel, "_frame": frame.index,
        })
        frame.data_tokens[channel] = token

    def _token(self, source: str | None) -> str:
        """`source` when source tokens are kept and it is still unused in this scene, else a fresh one."""
        if self.keep_source_tokens and source and source not in self._used_tokens:
            self._used_tokens.add(source)
            return source
        return new_token()

    def _recorded_visibility(self, index: int, t: float, world_from_ego: NDArray[np.float64], instance: NDArray[np.int32],
                             instance_ids: Mapping[str, int]) -> None:
        """Visibility of the recorded agents with an original annotation at key frame `index`.

        They are not drawn over real frames, so the masks cannot measure them: their recorded visible
        fraction (the middle of its bin) is scaled by the part of their box silhouettes, over all
        cameras, that inserted agents nearer to the camera cover now.
        """
        if self.recorded is None:
            return
        recorded = self.recorded
        annotated = [(a, ann) for a in self.scenario.agents
                     if agent_present(a, t) and (ann := recorded.annotation(a, index)) is not None]
        if not annotated:
            return
        inserted = [a for a in self.scenario.agents if not a.locked and a.id in instance_ids and agent_present(a, t)]
        bins = {level: (lo + hi) / 2 for _, level, lo, hi, _ in VISIBILITY_BINS}
        for a, ann in annotated:
            level = ann.visibility
            covered, total = 0, 0
            box = agent_box(a, t).corners()
            for ci, cam in enumerate(self.rig.cameras):
                cfw = cam.camera_from_world(world_from_ego)
                corners = transform_points(cfw, box)
                sil = silhouette(corners, cam.K, cam.width, cam.height)
                if sil is None:
                    continue
                mask, (x0, y0) = sil
                h, w = mask.shape
                dist = float(np.linalg.norm(corners.mean(axis=1)))
                nearer = [int(instance_ids[o.id]) for o in inserted
                          if np.linalg.norm(transform_points(cfw, agent_box(o, t).center[:, None])) < dist]
                total += int(mask.sum())
                if nearer:
                    covered += int((mask & np.isin(instance[ci, y0:y0 + h, x0:x0 + w], nearer)).sum())
            base = bins.get(level, 1.0)
            self._visibility[(index, a.id)] = base * (1.0 - covered / total) if total else base

    def _annotate(self, frame: _Frame) -> None:
        for agent in self.scenario.agents:
            if not agent_present(agent, frame.time):
                continue
            rec = self.recorded.annotation(agent, frame.index) if self.recorded is not None else None
            if rec is not None:
                self._annotations.append(self._recorded_record(frame, agent, rec))
                continue
            x, y, yaw = agent.trajectory.pose_at(frame.time)
            attr = attribute_name(agent, frame.time, self.times)
            z = agent.height / 2.0
            if self.recorded is not None and agent.locked and self.recorded.category_of(agent) is not None:
                params = agent.behavior_params or {}
                if isinstance(params.get("z"), (int, float)):
                    z = float(params["z"])          # the recorded box height, between its annotations
                if params.get("attribute") in self._attribute_token:
                    attr = params["attribute"]
            self._annotations.append({
                "token": new_token(), "sample_token": frame.sample_token, "instance_token": "",
                "visibility_token": visibility_token(self._visibility.get((frame.index, agent.id), 0.0)),
                "attribute_tokens": [self._attribute_token[attr]] if attr else [],
                "translation": [float(x), float(y), z], "size": [float(s) for s in agent.size],
                "rotation": _quat(yaw), "prev": "", "next": "", "num_lidar_pts": 0, "num_radar_pts": 0,
                "_agent": agent.id, "_time": frame.time,
            })

    def _recorded_record(self, frame: _Frame, agent: Agent, rec: "RecordedAnnotation") -> Record:
        """The original annotation `rec` of a recorded agent, as a record of this scene."""
        token = self._token(rec.token)
        self.source_tokens["sample_annotation"][token] = rec.token
        return {
            "token": token, "sample_token": frame.sample_token, "instance_token": "",
            "visibility_token": visibility_token(self._visibility.get((frame.index, agent.id), 1.0)),
            "attribute_tokens": [self._attribute_token[n] for n in rec.attributes if n in self._attribute_token],
            "translation": list(rec.translation), "size": list(rec.size), "rotation": list(rec.rotation),
            "prev": "", "next": "", "num_lidar_pts": rec.num_lidar_pts, "num_radar_pts": rec.num_radar_pts,
            "_agent": agent.id, "_time": frame.time,
        }

    # ---- finish ---------------------------------------------------------------------------
    @property
    def visibility(self) -> dict[tuple[int, str], float]:
        """Visible fraction per (key frame index, agent id), as measured from the masks."""
        return dict(self._visibility)

    def finish(self) -> Tables:
        """Link the chains, write the map mask and the 13 tables; returns the tables."""
        if len(self._frames) != len(self.times):
            self.close()
            raise ValueError(f"only {len(self._frames)} of {len(self.times)} frames were added")
        self._drain()
        keys = [f for f in self._frames if f.is_key]
        samples = []
        for i, f in enumerate(keys):
            samples.append({"token": f.sample_token, "timestamp": f.timestamp, "scene_token": self.scene_token,
                            "prev": keys[i - 1].sample_token if i else "",
                            "next": keys[i + 1].sample_token if i + 1 < len(keys) else ""})
        key_times = np.array([f.time for f in keys])
        for sd in self._sample_data:
            if not sd["sample_token"]:   # a sweep belongs to the NEXT key frame, as in nuScenes: the devkit's
                t = self._frames[sd["_frame"]].time   # get_boxes interpolates between that sample's prev and it
                nxt = int(np.searchsorted(key_times, t - 1e-9))
                sd["sample_token"] = keys[min(nxt, len(keys) - 1)].sample_token
        by_channel: dict[str, list[Record]] = {}
        for sd in self._sample_data:
            by_channel.setdefault(sd.pop("_channel"), []).append(sd)
            sd.pop("_frame")
        for chain in by_channel.values():
            for a, b in zip(chain, chain[1:]):
                a["next"], b["prev"] = b["token"], a["token"]
        instances = []
        by_agent: dict[str, list[Record]] = {}
        for ann in self._annotations:
            by_agent.setdefault(ann.pop("_agent"), []).append(ann)
            ann.pop("_time")
        for agent in self.scenario.agents:
            anns = by_agent.get(agent.id)
            if not anns:
                continue
            source = self.recorded.instance_token_of(agent) if self.recorded is not None else None
            category = (self.recorded.category_of(agent) if self.recorded is not None else None) \
                or getattr(agent, "category", "") or category_name(agent.cls)
            token = self._token(source)
            if source:
                self.source_tokens["instance"][token] = source
            self.instance_agents[token] = agent.id
            for a, b in zip(anns, anns[1:]):
                a["next"], b["prev"] = b["token"], a["token"]
            for a in anns:
                a["instance_token"] = token
            instances.append({"token": token, "category_token": self._category_token[category],
                              "nbr_annotations": len(anns), "first_annotation_token": anns[0]["token"],
                              "last_annotation_token": anns[-1]["token"]})
        date = _dt.datetime.fromtimestamp(self.t0_us / 1e6, tz=_dt.UTC).strftime("%Y-%m-%d")
        map_file = f"maps/{self.map_token}.png"
        write_map_mask(self.scenario.map, self.root / map_file)
        self.files.append(self.root / map_file)
        tables = {
            **self.vocab,
            "instance": instances,
            "calibrated_sensor": list(self.calibrated.values()),
            "ego_pose": self._ego_poses,
            "log": [{"token": self.log_token, "logfile": self.log_name, "vehicle": self.vehicle,
                     "date_captured": date, "location": self.location}],
            "scene": [{"token": self.scene_token, "log_token": self.log_token, "nbr_samples": len(samples),
                       "first_sample_token": samples[0]["token"], "last_sample_token": samples[-1]["token"],
                       "name": self.scene_name,
                       "description": self.options.description if self.options.description is not None
                       else (self.scenario.description or self.scenario.prompt or "")}],
            "sample": samples,
            "sample_data": self._sample_data,
            "sample_annotation": [a for anns in by_agent.values() for a in anns],
            "map": [{"token": self.map_token, "log_tokens": [self.log_token], "category": MAP_CATEGORY,
                     "filename": map_file}],
        }
        table_dir = self.root / self.options.version
        for name in TABLES:
            atomic_write_json(table_dir / f"{name}.json", tables[name], indent=None)
        return tables
