"""Open one scene of a nuScenes-format dataset as an editable scenario plus its real sensor data.

    scene = open_nuscenes_scene("/data/nuscenes", "v1.0-mini", "scene-0061")
    scene.scenario            # Scenario: ego from its poses, annotations as locked agents, the map,
                              # source = SceneSource('nuscenes', dataroot, version, 'scene-0061')
    scene.rig                 # CameraRig of that log's calibration (native image size)
    scene.frame(12, "CAM_FRONT").path   # the real image of frame 12 (key frame or sweep)
    scene.image(12, "CAM_FRONT", (448, 256))   # (256, 448, 3) uint8 RGB

The scenario file refers to the scene (`Scenario.source`); it never copies images. Reopen the real
data of a saved scenario with `scene_for_scenario(scenario)`. Frame k of the scenario is at
``t0 + k / fps`` where t0 = the scene's first key frame + `SceneSource.start` (seconds into the log,
default 0): frames, ego poses, annotated tracks and the labels of an export all count from there.
"""
from __future__ import annotations

import difflib
import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.rig.rig import CameraRig, RigFormatError, panorama_sorted
from engine.scenario.model import DEFAULT_FPS, Scenario, SceneSource
from engine.sources.errors import SceneSourceError
from engine.sources.nuscenes_db import Record, SceneInfo, load_nuscenes
from engine.sources.scene_map import MapOrigin, MapSource, scene_road_map
from engine.sources.streams import (
    LIDAR_CHANNEL, CameraFrame, LidarSweep, SampleData, camera_channels, channel_records, frame_count, lidar_sweeps,
    map_camera_frames, nearest_sweeps, pose_record_matrix,
)
from engine.sources.tracks import annotated_agents, ego_agent

if TYPE_CHECKING:
    from nuscenes.nuscenes import NuScenes   # untyped: Any to the type checker

SOURCE_KIND = "nuscenes"


@dataclass(frozen=True)
class NuScenesScene:
    """A real scene opened for editing: the scenario and where its real frames are.

    `frames[camera][k]` is the image of scenario frame k; `lidar` the scene's LIDAR_TOP sweeps;
    `rig` the log's calibration at the native image size; `map_source` 'expansion' or 'traffic'.
    """

    source: SceneSource
    info: SceneInfo
    scenario: Scenario
    rig: CameraRig
    t0_us: int
    frames: Mapping[str, tuple[CameraFrame, ...]]
    lidar: tuple[LidarSweep, ...]
    map_source: MapOrigin
    warnings: tuple[str, ...] = ()

    @property
    def cameras(self) -> tuple[str, ...]:
        """Camera names in panorama order."""
        return self.rig.names

    @property
    def num_frames(self) -> int:
        return self.scenario.num_frames

    def frame(self, index: int, camera: str) -> CameraFrame:
        """The real image of scenario frame `index` from `camera` (KeyError / IndexError name the problem)."""
        if camera not in self.frames:
            raise KeyError(f"{self.source.scene}: no camera {camera!r}; cameras: {', '.join(self.cameras)}")
        n = self.num_frames
        if not 0 <= int(index) < n:
            raise IndexError(f"{self.source.scene}: frame {index} out of range 0..{n - 1}")
        return self.frames[camera][int(index)]

    def frame_time_us(self, index: int) -> int:
        """Timestamp (microseconds) of scenario frame `index`."""
        return self.t0_us + int(round(index / self.scenario.fps * 1e6))

    def image(self, index: int, camera: str, size: tuple[int, int] | None = None) -> NDArray[np.uint8]:
        """(H, W, 3) uint8 RGB image of frame `index`, resized to `size` = (W, H) when given."""
        return read_image(self.frame(index, camera).path, size)

    def sweeps_for(self, frame: CameraFrame, count: int = 1) -> list[LidarSweep]:
        """The `count` LIDAR_TOP sweeps nearest in time to a camera frame, nearest first."""
        return nearest_sweeps(self.lidar, frame.timestamp_us, count)


@lru_cache(maxsize=4096)
def _image_size(path: str) -> tuple[int, int] | None:
    """(width, height) from the file header (PIL reads no pixels), None if unreadable."""
    try:
        from PIL import Image

        with Image.open(path) as im:
            return im.size
    except OSError:
        return None


def read_image(path: str | os.PathLike[str], size: tuple[int, int] | None = None) -> NDArray[np.uint8]:
    """(H, W, 3) uint8 RGB image from a file; resized (area filter) to `size` = (W, H) when given."""
    flag = cv2.IMREAD_COLOR
    if size is not None and str(path).lower().endswith((".jpg", ".jpeg")):
        # decode JPEGs at 1/2, 1/4 or 1/8 scale (DCT-domain, far cheaper) when the output is that small
        full = _image_size(str(path))
        if full is not None:
            for factor, reduced in ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4),
                                    (2, cv2.IMREAD_REDUCED_COLOR_2)):
                if full[0] // factor >= size[0] and full[1] // factor >= size[1]:
                    flag = reduced
                    break
    bgr = cv2.imread(str(path), flag)
    if bgr is None:
        raise SceneSourceError(f"cannot read image {path}" + ("" if Path(path).exists() else " (file does not exist)"))
    if size is not None and (bgr.shape[1], bgr.shape[0]) != tuple(size):
        interp = cv2.INTER_AREA if size[0] < bgr.shape[1] else cv2.INTER_LINEAR
        bgr = cv2.resize(bgr, tuple(int(v) for v in size), interpolation=interp)
    return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), np.uint8)   # imread gives uint8: no copy


def _find_scene(nusc: NuScenes, scene: str, dataroot: str | os.PathLike[str], version: str) -> Record:
    for rec in nusc.scene:
        if rec["name"] == scene or rec["token"] == scene:
            found: Record = rec
            return found
    names = sorted(r["name"] for r in nusc.scene)
    close = difflib.get_close_matches(scene, names, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; scenes: {', '.join(names[:10])}" + \
        (f" ... ({len(names)} in all)" if len(names) > 10 else "")
    raise SceneSourceError(f"{dataroot} ({version}): no scene named {scene!r}{hint}")


def _rig(nusc: NuScenes, records: Mapping[str, list[SampleData]], cameras: list[str]) -> CameraRig:
    cal: dict[str, Record] = {}
    sizes: set[tuple[int, int]] = set()
    for ch in cameras:
        first = records[ch][0]
        sd = nusc.get("sample_data", first.token)
        cal[ch] = nusc.get("calibrated_sensor", first.calibrated_sensor_token)
        w, h = int(sd.get("width") or 0), int(sd.get("height") or 0)
        if w <= 0 or h <= 0:
            img = cv2.imread(str(first.path), cv2.IMREAD_UNCHANGED)
            if img is None:
                raise SceneSourceError(f"{ch}: sample_data has no image size and {first.path} cannot be read")
            h, w = img.shape[:2]
        sizes.add((w, h))
    if len(sizes) != 1:
        raise SceneSourceError(f"cameras have different image sizes {sorted(sizes)}; a rig needs one size")
    try:
        return CameraRig.from_calibrated_sensors(cal, image_size=sizes.pop())
    except RigFormatError as e:
        raise SceneSourceError(f"camera calibration: {e}") from None


def open_nuscenes_scene(
    dataroot: str | os.PathLike[str],
    version: str,
    scene: str,
    *,
    fps: float = DEFAULT_FPS,
    duration: float | None = None,
    map_source: MapSource = "auto",
    map_margin: float = 60.0,
    start: float = 0.0,
) -> NuScenesScene:
    """Open `scene` (name or token) of the dataset at `dataroot` / `version`.

    start: seconds into the recording (from its first key frame) where the clip begins (default 0);
    duration: seconds of clip from there (default: all of the rest, as far as every camera
    reaches); fps: scenario frame rate (nuScenes cameras: 12 Hz); map_source: 'auto',
    'expansion' or 'traffic' (see `engine.sources.scene_map`). Raises SceneSourceError.
    """
    if not (fps > 0 and np.isfinite(fps)):
        raise SceneSourceError(f"fps must be a positive number (got {fps!r})")
    if duration is not None and not (duration > 0 and np.isfinite(duration)):
        raise SceneSourceError(f"duration must be a positive number of seconds (got {duration!r})")
    start = float(start)
    if not (start >= 0 and np.isfinite(start)):
        raise SceneSourceError(f"start must be a number of seconds >= 0 into the scene (got {start!r})")
    nusc = load_nuscenes(dataroot, version)
    rec = _find_scene(nusc, scene, dataroot, version)
    log = nusc.get("log", rec["log_token"])
    first_us = int(nusc.get("sample", rec["first_sample_token"])["timestamp"])
    t_last = int(nusc.get("sample", rec["last_sample_token"])["timestamp"])
    info = SceneInfo(rec["name"], rec["token"], rec.get("description", ""), log.get("location", ""),
                     log.get("logfile", ""), int(rec.get("nbr_samples", 0)), (t_last - first_us) / 1e6, first_us)
    t0_us = first_us + int(round(start * 1e6))      # clip time 0
    if t0_us > t_last:
        raise SceneSourceError(f"{rec['name']}: start {start:g} s is past the end of the scene "
                               f"({info.duration:g} s of key frames)")
    records = channel_records(nusc, rec)
    cameras = panorama_sorted(camera_channels(nusc, records))
    if not cameras:
        raise SceneSourceError(f"{rec['name']}: the scene has no camera data")
    warnings: list[str] = []
    n_avail = frame_count(records, cameras, t0_us, fps)
    n = n_avail
    if duration is not None:
        n = max(1, int(np.floor(duration * fps + 1e-6)))
        if n > n_avail:
            warnings.append(f"{rec['name']}: asked for {duration:g} s but the cameras cover {n_avail / fps:g} s; "
                            "the clip is shortened")
            n = n_avail
    t_end = (n - 1) / fps
    frames: dict[str, tuple[CameraFrame, ...]] = {}
    for ch in cameras:
        frames[ch], w = map_camera_frames(nusc, records[ch], ch, t0_us, fps, n)
        warnings += w
    rig = _rig(nusc, records, cameras)
    lidar = lidar_sweeps(nusc, records.get(LIDAR_CHANNEL, []))
    if not lidar:
        warnings.append(f"{rec['name']}: no LIDAR_TOP sweeps found; real depth needs a monocular depth model")

    pose_src = records.get(LIDAR_CHANNEL) or records[cameras[0]]
    poses = [(r.timestamp_us, pose_record_matrix(nusc.get("ego_pose", r.ego_pose_token))) for r in pose_src]
    try:
        ego = ego_agent(poses, t0_us, t_end)
    except ValueError as e:
        raise SceneSourceError(f"{rec['name']}: {e}") from None
    sample_tokens: list[str] = []
    tok = rec["first_sample_token"]
    while tok:
        sample_tokens.append(tok)
        tok = nusc.get("sample", tok)["next"]
    agents, w = annotated_agents(nusc, sample_tokens, t0_us, t_end)
    warnings += w
    times = np.arange(n) / fps
    road, map_used, w = scene_road_map(Path(nusc.dataroot), log["location"], ego, agents, times,
                                       source=map_source, margin=map_margin)
    warnings += w
    source = SceneSource(SOURCE_KIND, str(Path(dataroot).expanduser().resolve()), version, rec["name"], start)
    scenario = Scenario(
        name=rec["name"], description=rec.get("description", ""), fps=float(fps), duration=n / fps,
        ego=ego, agents=tuple(agents), map=road, source=source,
    )
    return NuScenesScene(source, info, scenario, rig, t0_us, frames, lidar, map_used, tuple(warnings))


_scene_lock = threading.Lock()
_scene_cache: dict[tuple[SceneSource, float, float | None, MapSource], NuScenesScene] = {}


def open_scene_source(source: SceneSource, fps: float = DEFAULT_FPS, duration: float | None = None,
                      map_source: MapSource = "auto") -> NuScenesScene:
    """Open the real scene a `SceneSource` names (cached: the same arguments return the same object)."""
    if source.kind != SOURCE_KIND:
        raise SceneSourceError(f"scene source kind {source.kind!r} is not supported (only {SOURCE_KIND!r})")
    key = (source, float(fps), duration, map_source)
    with _scene_lock:
        if key in _scene_cache:
            return _scene_cache[key]
    scene = open_nuscenes_scene(source.dataroot, source.version, source.scene, fps=fps, duration=duration,
                                map_source=map_source, start=float(getattr(source, "start", 0.0) or 0.0))
    with _scene_lock:
        _scene_cache.clear()
        _scene_cache[key] = scene
    return scene


def scene_for_scenario(scenario: Scenario) -> NuScenesScene:
    """The real scene behind a scenario (its `source`), with frames at the scenario's fps and length.

    The returned `scene.scenario` is the scene as recorded, not the edited `scenario`.
    SceneSourceError when the scenario has no source or the dataset cannot be opened.
    """
    if scenario.source is None:
        raise SceneSourceError(f"scenario {scenario.name!r} has no source scene")
    return open_scene_source(scenario.source, scenario.fps, scenario.duration)

