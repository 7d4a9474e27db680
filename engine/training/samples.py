"""One training sample from one real frame of a nuScenes-format scene (all cameras at one time).

    with ScenePreparer(dataroot, version, "scene-0061", PrepareSettings(size=(448, 256))) as sp:
        for k in sp.targets():
            sample = sp.sample(k)        # dict of arrays, the layout of `engine.training.cache`

D, N, E come from the real frame through the one path (`engine.conditions.real_scene_inputs`: the log's
rig at the size, the recorded image and its LiDAR depth densified by `engine.realscene`, normals from that
depth, Canny on the image); boxes and HD map from the guidance renderer over the real frames; for a share of
samples one recorded object is rendered into O/M (`engine.training.insertion`) and E is blanked inside
M (D and N are blanked by `FrameConditions.guidance` when the sample is read, as at generation time).
"""
from __future__ import annotations

import time
import zlib
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
from numpy.typing import NDArray

from engine.scenario.model import TIMES_OF_DAY, WEATHERS, Agent, Environment
from engine.training.cache import SampleArrays

if TYPE_CHECKING:
    from engine.realscene.backgrounds import DepthSource, RealFrameMaps
    from engine.render.frame import GuidanceFrame
    from engine.training.latents import LatentEncoder

ENV_WORDS = {"night": ("time_of_day", "night"), "dusk": ("time_of_day", "dusk"), "sunset": ("time_of_day", "dusk"),
             "rain": ("weather", "rain"), "fog": ("weather", "fog"), "snow": ("weather", "snow")}


@dataclass(frozen=True)
class PrepareSettings:
    """What `train prepare` makes (stored in CACHE/prepare.json; a resumed run must use the same).

    size (W, H) per camera; stride: every stride-th 12 Hz frame is a sample (6 = the 2 Hz key frames,
    1 = every sweep); insert_share: share of samples with a self-supervised insertion; shard_size:
    samples per shard; val_share: share of scenes held out for `train eval`; model: a pipeline folder
    whose VAE encodes latents (None = no latents); depth: 'lidar' or 'auto' (a configured monocular model).
    """

    size: tuple[int, int] = (448, 256)
    fps: float = 12.0
    stride: int = 6
    insert_share: float = 0.3
    seed: int = 0
    shard_size: int = 16
    val_share: float = 0.1
    model: str | None = None
    depth: DepthSource = "lidar"
    min_insert_fraction: float = 0.002
    insert_tries: int = 3
    max_insert_distance: float = 40.0
    device: str = "cpu"

    def __post_init__(self) -> None:
        w, h = self.size
        if w <= 0 or h <= 0 or w % 8 or h % 8:
            raise ValueError(f"size {w}x{h}: width and height must be positive multiples of 8 (the VAE factor)")
        if self.stride < 1:
            raise ValueError(f"stride must be at least 1 (got {self.stride})")
        if not 0.0 <= self.insert_share <= 1.0:
            raise ValueError(f"insert share must be in [0, 1] (got {self.insert_share})")
        if self.shard_size < 1:
            raise ValueError(f"shard size must be at least 1 (got {self.shard_size})")
        if not 0.0 <= self.val_share < 1.0:
            raise ValueError(f"validation share must be in [0, 1) (got {self.val_share})")

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["size"] = list(self.size)
        d.pop("device")
        return d


def environment_from_description(text: str) -> Environment:
    """The environment a scene description names ('Night, rain, ...' -> night, rain); day and clear otherwise."""
    low = text.lower()
    kw: dict[str, str] = {}
    for word, (key, value) in ENV_WORDS.items():
        if word in low and key not in kw:
            kw[key] = value
    return Environment(**kw)


def environment_one_hot(env: Environment) -> NDArray[np.float32]:
    """(7,) float32: time of day (day, dusk, night), weather (clear, rain, fog, snow)."""
    v = np.zeros(len(TIMES_OF_DAY) + len(WEATHERS), np.float32)
    v[TIMES_OF_DAY.index(env.time_of_day)] = 1.0
    v[len(TIMES_OF_DAY) + WEATHERS.index(env.weather)] = 1.0
    return v


@dataclass
class Timings:
    """Seconds spent per stage (summed over samples)."""

    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))

    def add(self, stage: str, dt: float) -> None:
        self.seconds[stage] += dt


class ScenePreparer:
    """Makes the samples of one scene (opens it, owns a guidance renderer on the calling thread)."""

    def __init__(self, dataroot: str, version: str, scene: str, settings: PrepareSettings,
                 encoder: LatentEncoder | None = None) -> None:
        from engine.conditions import real_scene_inputs
        from engine.realscene import RealDepthSettings
        from engine.render.guidance import GuidanceRenderer, RenderSettings
        from engine.sources import open_nuscenes_scene

        self.settings = settings
        self.timings = Timings()
        t0 = time.perf_counter()
        self.scene = open_nuscenes_scene(dataroot, version, scene, fps=settings.fps)
        self.timings.add("open scene", time.perf_counter() - t0)
        # training targets must be the recorded frames: a missing file is an error here, not a substitution
        fatal = [w for w in self.scene.warnings if "missing" in w or "no LIDAR_TOP" in w]
        if fatal:
            from engine.sources import SceneSourceError

            raise SceneSourceError("; ".join(fatal))
        self.depth_settings = RealDepthSettings(source=settings.depth)
        # the one path (`engine.conditions`): the log's rig at the size and the recorded frames with their depth,
        # exactly what the preview, `guidance`, `generate` and `export` use for this scene
        self.inputs = real_scene_inputs(self.scene, tuple(settings.size), self.depth_settings)
        self.rig = self.inputs.rig
        self.render_settings = RenderSettings()
        t0 = time.perf_counter()
        self.renderer = GuidanceRenderer(self.rig, settings=RenderSettings(blank_inserted=False))
        self.timings.add("renderer setup", time.perf_counter() - t0)
        self.encoder = encoder
        self.environment = environment_from_description(self.scene.info.description)
        self.text = self.scene.info.description or self.scene.info.name
        self._scene_key = zlib.crc32(self.scene.info.name.encode())

    def targets(self) -> list[int]:
        """Scenario frame indices (at settings.fps) that become samples."""
        return list(range(0, self.scene.num_frames, self.settings.stride))

    def close(self) -> None:
        self.renderer.release()

    def __enter__(self) -> "ScenePreparer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def min_insert_pixels(self) -> int:
        w, h = self.settings.size
        return max(8, int(round(self.settings.min_insert_fraction * w * h)))

    def _choose(self, k: int, t: float, world_from_ego: NDArray[np.float64]) -> list[Agent]:
        """Up to insert_tries recorded agents to try as the inserted object, in a seeded order (empty: none)."""
        from engine.training.insertion import candidate_agents

        rng = np.random.default_rng([self.settings.seed, self._scene_key, k])
        if rng.random() >= self.settings.insert_share:
            return []
        cands = candidate_agents(self.scene.scenario, t, self.rig, world_from_ego,
                                 max_distance=self.settings.max_insert_distance)
        order = rng.permutation(len(cands))[: self.settings.insert_tries]
        return [cands[int(i)] for i in order]

    def _render(self, k: int, t: float, maps: Mapping[str, RealFrameMaps], world_from_ego: NDArray[np.float64],
                agent: Agent | None) -> GuidanceFrame:
        from engine.render.guidance import Background
        from engine.training.insertion import as_inserted, clear_object_depth

        scenario = self.scene.scenario if agent is None else as_inserted(self.scene.scenario, agent)
        bgs: dict[str, Background] = {}
        for cam in self.rig:
            m = maps[cam.name]
            depth = m.depth if agent is None else clear_object_depth(m.depth, agent, t, cam, world_from_ego)
            bgs[cam.name] = Background(m.image, depth)
        self.renderer.set_scenario(scenario)
        self.renderer.set_backgrounds(bgs)
        return self.renderer.render_frame(k, maps={"object", "inserted", "boxes", "hdmap"})

    def sample(self, k: int) -> SampleArrays:
        """The sample of scenario frame k (see `engine.training.cache` for the arrays)."""
        from engine.render.frame import encode_normals
        from engine.rig.pose import ego_pose
        from engine.training.insertion import blank_edges

        scene, rig, tm = self.scene, self.rig, self.timings
        names = rig.names
        t = k / scene.scenario.fps
        t0 = time.perf_counter()
        maps = self.inputs.frame_maps(k, canny=(self.render_settings.canny_low, self.render_settings.canny_high))
        tm.add("real maps (image, LiDAR depth, normals, Canny)", time.perf_counter() - t0)

        t0 = time.perf_counter()
        world_from_ego = ego_pose(scene.scenario, t)
        tries = self._choose(k, t, world_from_ego)
        tm.add("insertion choice", time.perf_counter() - t0)
        t0 = time.perf_counter()
        agent: Agent | None = None
        g: GuidanceFrame | None = None
        for cand in tries:
            g = self._render(k, t, maps, world_from_ego, cand)
            if int(sum(g[n].inserted.sum() for n in names)) >= self.min_insert_pixels:
                agent = cand
                break
        if agent is None or g is None:
            g = self._render(k, t, maps, world_from_ego, None)
        tm.add("render O/M, boxes, HD map", time.perf_counter() - t0)

        t0 = time.perf_counter()
        image = np.stack([maps[n].image for n in names])
        depth_m = np.stack([maps[n].depth for n in names]).astype(np.float32)
        inserted = np.stack([g[n].inserted for n in names]).astype(bool)
        obj = g.stack("object").astype(np.uint8)
        edge = blank_edges(np.stack([maps[n].edge for n in names]), inserted, self.render_settings.edge_blank_dilate)
        normal = encode_normals(np.stack([maps[n].normal for n in names]))
        has_prev = k > 0
        prev = np.stack([scene.image(k - 1, n, rig.size) for n in names]) if has_prev else np.zeros_like(image)
        depth = np.where(depth_m > 0, depth_m, np.inf).astype(np.float16)
        sample: SampleArrays = {
            "image": image, "prev_image": prev, "has_prev": np.bool_(has_prev),
            "depth": depth, "depth_valid": depth_m > 0, "normal": normal, "edge": edge, "object": obj,
            "inserted": inserted, "boxes": g.stack("boxes").astype(np.uint8),
            "hdmap": g.stack("hdmap").astype(np.uint8),
            "env": environment_one_hot(self.environment),
            "K": np.stack([c.K for c in rig]).astype(np.float32),
            "ego_from_camera": np.stack([c.ego_from_camera for c in rig]).astype(np.float32),
            "frame": np.int32(k), "inserted_class": np.str_(agent.cls if agent is not None else ""),
            "inserted_agent": np.str_(agent.id if agent is not None else ""),
            "text": np.str_(self.text[:256]),
        }
        tm.add("assemble, previous frame", time.perf_counter() - t0)
        if self.encoder is not None:
            t0 = time.perf_counter()
            sample["latent"] = self.encoder.encode(image).astype(np.float16)
            sample["prev_latent"] = (self.encoder.encode(prev).astype(np.float16) if has_prev
                                     else np.zeros_like(sample["latent"]))
            tm.add("VAE latents", time.perf_counter() - t0)
        return sample
