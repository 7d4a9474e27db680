"""The sensor streams of one scene and their mapping onto the scenario's frames.

nuScenes cameras run at 12 Hz (key frames at 2 Hz, the rest are "sweeps"), LIDAR_TOP at 20 Hz;
every sample_data has its own timestamp and ego pose. Scenario frame k is at time
``t0 + k / fps`` where t0 is the scene's first key frame (sample) timestamp; each camera
contributes its sample_data nearest in time (key frame or sweep). The offset between the real
capture time and the frame time is kept (`CameraFrame.offset_s`), and so is the ego pose at the
real capture time, so geometry can be placed exactly where the image was taken.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from engine.sources.errors import SceneSourceError
from engine.sources.nuscenes_db import Record

if TYPE_CHECKING:
    from nuscenes.nuscenes import NuScenes   # untyped: Any to the type checker

LIDAR_CHANNEL = "LIDAR_TOP"


@dataclass(frozen=True)
class CameraFrame:
    """One real image mapped to a scenario frame.

    `world_from_ego` (4, 4) is the ego pose when the image was taken; `offset_s` is capture time
    minus frame time (|offset| is about half a camera period at most when the stream is complete).
    """

    camera: str
    index: int
    path: Path
    timestamp_us: int
    offset_s: float
    is_key_frame: bool
    token: str
    world_from_ego: NDArray[np.float64]
    calibrated_sensor_token: str


@dataclass(frozen=True)
class LidarSweep:
    """One LIDAR_TOP point file with its poses: `world_from_ego` and `ego_from_sensor`, both (4, 4)."""

    path: Path
    timestamp_us: int
    token: str
    is_key_frame: bool
    world_from_ego: NDArray[np.float64]
    ego_from_sensor: NDArray[np.float64]


@dataclass(frozen=True)
class SampleData:
    """One sample_data record of a channel: its file, time, key-frame flag and pose tokens."""

    token: str
    timestamp_us: int
    path: Path
    is_key_frame: bool
    ego_pose_token: str
    calibrated_sensor_token: str


def pose_record_matrix(record: Record) -> NDArray[np.float64]:
    """(4, 4) parent_from_child of an ego_pose or calibrated_sensor record.

    Same result as the devkit's ``transform_matrix(t, Quaternion(q))`` (a test checks it), written out
    because a scene has thousands of poses and pyquaternion costs ~40 us each.
    """
    w, x, y, z = np.asarray(record["rotation"], dtype=np.float64)
    n = w * w + x * x + y * y + z * z
    s = 2.0 / n if n > 0 else 0.0
    m = np.eye(4)
    m[:3, :3] = [[1 - s * (y * y + z * z), s * (x * y - w * z), s * (x * z + w * y)],
                 [s * (x * y + w * z), 1 - s * (x * x + z * z), s * (y * z - w * x)],
                 [s * (x * z - w * y), s * (y * z + w * x), 1 - s * (x * x + y * y)]]
    m[:3, 3] = record["translation"]
    return m


def channel_records(nusc: NuScenes, scene_record: Record) -> dict[str, list[SampleData]]:
    """Every sample_data of the scene by channel, sorted by timestamp (key frames and sweeps)."""
    sample_tokens: set[str] = set()
    tok = scene_record["first_sample_token"]
    while tok:
        sample_tokens.add(tok)
        tok = nusc.get("sample", tok)["next"]
    root = Path(nusc.dataroot)
    out: dict[str, list[SampleData]] = {}
    first = nusc.get("sample", scene_record["first_sample_token"])
    # walk each channel's prev/next chain from the first key frame: O(scene), not O(dataset)
    for channel, sd_token in first["data"].items():
        start = nusc.get("sample_data", sd_token)
        while start["prev"] and nusc.get("sample_data", start["prev"])["sample_token"] in sample_tokens:
            start = nusc.get("sample_data", start["prev"])
        recs: list[SampleData] = []
        sd = start
        while True:
            recs.append(SampleData(sd["token"], int(sd["timestamp"]), root / sd["filename"], bool(sd["is_key_frame"]),
                                sd["ego_pose_token"], sd["calibrated_sensor_token"]))
            if not sd["next"]:
                break
            sd = nusc.get("sample_data", sd["next"])
            if sd["sample_token"] not in sample_tokens:
                break
        recs.sort(key=lambda r: r.timestamp_us)
        out[channel] = recs
    return out


def camera_channels(nusc: NuScenes, records: dict[str, list[SampleData]]) -> list[str]:
    """The camera channels among the scene's streams."""
    cams: list[str] = []
    for ch, recs in records.items():
        cs = nusc.get("calibrated_sensor", recs[0].calibrated_sensor_token)
        if nusc.get("sensor", cs["sensor_token"])["modality"] == "camera":
            cams.append(ch)
    return cams


def frame_count(records: dict[str, list[SampleData]], cameras: list[str], t0_us: int, fps: float) -> int:
    """How many frames at `fps` from t0 every camera covers (within half a frame of its last image)."""
    last = min(recs[-1].timestamp_us for ch, recs in records.items() if ch in cameras)
    return max(1, int(np.floor((last - t0_us) / 1e6 * fps + 0.5)) + 1)


def map_camera_frames(
    nusc: NuScenes, records: list[SampleData], camera: str, t0_us: int, fps: float, num_frames: int,
) -> tuple[tuple[CameraFrame, ...], list[str]]:
    """The nearest existing image for each of `num_frames` frames, and warnings about gaps.

    Images whose file is missing are skipped (a dataset with key frames only still opens, with
    each key frame held over its neighbours); SceneSourceError when a camera has no image at all.
    """
    warnings: list[str] = []
    present = [r for r in records if r.path.is_file()]
    if not present:
        example = records[0].path if records else "(no sample_data)"
        raise SceneSourceError(f"{camera}: none of the {len(records)} image files exist (first: {example})")
    if len(present) < len(records):
        warnings.append(f"{camera}: {len(records) - len(present)} of {len(records)} image files are missing "
                        f"(first: {next(r.path for r in records if not r.path.is_file())}); nearest images are used")
    ts = np.array([r.timestamp_us for r in present], dtype=np.int64)
    frame_us = t0_us + np.round(np.arange(num_frames) / fps * 1e6).astype(np.int64)
    j = np.clip(np.searchsorted(ts, frame_us), 1, len(ts) - 1) if len(ts) > 1 else np.zeros(num_frames, int)
    if len(ts) > 1:
        j = np.where(np.abs(ts[j - 1] - frame_us) <= np.abs(ts[j] - frame_us), j - 1, j)
    frames: list[CameraFrame] = []
    poses: dict[str, NDArray[np.float64]] = {}
    worst = 0.0
    for k in range(num_frames):
        r = present[int(j[k])]
        if r.ego_pose_token not in poses:
            poses[r.ego_pose_token] = pose_record_matrix(nusc.get("ego_pose", r.ego_pose_token))
        off = (r.timestamp_us - int(frame_us[k])) / 1e6
        worst = max(worst, abs(off))
        frames.append(CameraFrame(camera, k, r.path, r.timestamp_us, off, r.is_key_frame, r.token,
                                  poses[r.ego_pose_token], r.calibrated_sensor_token))
    if worst > 1.0 / fps:
        warnings.append(f"{camera}: images are up to {worst * 1000:.0f} ms away from their frame times")
    return tuple(frames), warnings


def lidar_sweeps(nusc: NuScenes, records: list[SampleData]) -> tuple[LidarSweep, ...]:
    """The scene's LIDAR_TOP sweeps whose point files exist, in time order."""
    out: list[LidarSweep] = []
    calib: dict[str, NDArray[np.float64]] = {}
    for r in records:
        if not r.path.is_file():
            continue
        if r.calibrated_sensor_token not in calib:
            calib[r.calibrated_sensor_token] = pose_record_matrix(nusc.get("calibrated_sensor", r.calibrated_sensor_token))
        out.append(LidarSweep(r.path, r.timestamp_us, r.token, r.is_key_frame,
                              pose_record_matrix(nusc.get("ego_pose", r.ego_pose_token)), calib[r.calibrated_sensor_token]))
    return tuple(out)


def nearest_sweeps(sweeps: tuple[LidarSweep, ...], timestamp_us: int, count: int = 1) -> list[LidarSweep]:
    """The `count` sweeps nearest in time to `timestamp_us`, nearest first."""
    if not sweeps:
        return []
    ts = np.array([s.timestamp_us for s in sweeps], dtype=np.int64)
    order = np.argsort(np.abs(ts - int(timestamp_us)), kind="stable")
    return [sweeps[i] for i in order[:max(1, count)]]
