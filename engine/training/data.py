"""Reading a prepared cache as model inputs: stitched panoramas, in the encoding the pipeline samples with.

    ds = CacheDataset(read_index(cache), split="train")
    item = ds[0]          # dict of tensors (no batch axis) + 'text' str
    batch = collate([ds[i] for i in idx])

Per item (V views of H x W stitched side by side, panorama width P = V*W):
    dense    (9, H, P)  float32  D, N, E, O, M = `FrameConditions.guidance` (D and N blanked inside M)
    layout   (16, H, P) float32  boxes (10) + HD map (3) = `FrameConditions.layout`, then camera rays (3)
                                 as `engine.worldmodel.diffusion.tensors.camera_ray_map` encodes them
    mask     (1, H, P)  float32  inserted-object mask M (for the foreground-weighted loss)
    image, prev_image (3, H, P) float32 in [-1, 1]; has_prev () bool; env (7,) float32
    latent, prev_latent (C, H/f, P/f) float32 when the cache has latents
The guidance and layout go through `FrameConditions` itself, so training sees exactly the channels the
pipeline is conditioned on at generation time.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Literal, NotRequired, Sequence, TypedDict

import numpy as np
import torch
from numpy.typing import NDArray

from engine.training.cache import CacheError, CacheIndex, load_shard

if TYPE_CHECKING:
    from engine.worldmodel.conditions import FrameConditions

Arrays = dict[str, NDArray[Any]]   # one shard: name -> array with the samples on axis 0 (engine.training.cache)
TensorKey = Literal["dense", "layout", "mask", "image", "prev_image", "has_prev", "env"]
TENSOR_KEYS: tuple[TensorKey, ...] = ("dense", "layout", "mask", "image", "prev_image", "has_prev", "env")


class CacheItem(TypedDict):
    """One sample as model inputs (no batch axis; shapes in the module docstring)."""

    dense: torch.Tensor
    layout: torch.Tensor
    mask: torch.Tensor
    image: torch.Tensor
    prev_image: torch.Tensor
    has_prev: torch.Tensor
    env: torch.Tensor
    text: str
    inserted_class: str
    latent: NotRequired[torch.Tensor]
    prev_latent: NotRequired[torch.Tensor]


class CacheBatch(TypedDict):
    """`CacheItem`s collated: tensors stacked on a new batch axis 0, strings in lists."""

    dense: torch.Tensor
    layout: torch.Tensor
    mask: torch.Tensor
    image: torch.Tensor
    prev_image: torch.Tensor
    has_prev: torch.Tensor
    env: torch.Tensor
    text: list[str]
    inserted_class: list[str]
    latent: NotRequired[torch.Tensor]
    prev_latent: NotRequired[torch.Tensor]


def ray_map(K: NDArray[np.floating[Any]], ego_from_camera: NDArray[np.floating[Any]], width: int,
            height: int) -> NDArray[np.float32]:
    """(V, H, W, 3) float32 in [0, 1]: unit viewing direction of each pixel in the ego frame, (d + 1) / 2.

    K (V, 3, 3) intrinsics and ego_from_camera (V, 4, 4); the encoding of `camera_ray_map`."""
    u, v = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    pix = np.stack([u, v, np.ones_like(u)], axis=-1)
    out = np.empty((len(K), height, width, 3), np.float32)
    for i in range(len(K)):
        rays = pix @ np.linalg.inv(K[i].astype(np.float64)).T @ ego_from_camera[i][:3, :3].astype(np.float64).T
        rays /= np.linalg.norm(rays, axis=-1, keepdims=True)
        out[i] = (rays + 1.0) * 0.5
    return out


def stitch(views: NDArray[Any]) -> torch.Tensor:
    """(V, H, W, C) -> (C, H, V*W) float32 tensor, views side by side."""
    v, h, w, c = views.shape
    return torch.from_numpy(np.ascontiguousarray(views, dtype=np.float32)).permute(3, 1, 0, 2).reshape(c, h, v * w)


def frame_conditions(arrays: Arrays, row: int) -> FrameConditions:
    """A `FrameConditions` of one cached sample (the same class generation is conditioned with)."""
    from engine.worldmodel.conditions import FrameConditions

    return FrameConditions(
        index=int(arrays["frame"][row]), time=0.0, depth=arrays["depth"][row].astype(np.float32),
        normal=arrays["normal"][row], edge=arrays["edge"][row], object=arrays["object"][row],
        inserted=arrays["inserted"][row].astype(bool), boxes=arrays["boxes"][row], hdmap=arrays["hdmap"][row])


class CacheDataset:
    """Samples of one split ('train', 'val' or 'all') of a prepared cache (shards loaded lazily, two kept)."""

    def __init__(self, index: CacheIndex, split: str = "train", keep_shards: int = 2) -> None:
        shards = index.shards if split == "all" else index.split(split)
        if not shards:
            have = sorted({s.split for s in index.shards})
            raise CacheError(f"{index.root}: no '{split}' samples (splits in this cache: {', '.join(have)})")
        self.index = index
        self.split = split
        self.items = [(si, r) for si, s in enumerate(shards) for r in range(s.num_samples)]
        self.shards = shards
        self._cache: OrderedDict[int, Arrays] = OrderedDict()
        self._keep = keep_shards
        self._rays: dict[bytes, NDArray[np.float32]] = {}

    def __len__(self) -> int:
        return len(self.items)

    def _shard(self, si: int) -> Arrays:
        if si in self._cache:
            self._cache.move_to_end(si)
            return self._cache[si]
        arrays = load_shard(self.index.root / self.shards[si].file)
        self._cache[si] = arrays
        while len(self._cache) > self._keep:
            self._cache.popitem(last=False)
        return arrays

    def _ray_map(self, K: NDArray[np.float32], E: NDArray[np.float32], w: int, h: int) -> NDArray[np.float32]:
        key = K.tobytes() + E.tobytes() + bytes([w % 256, h % 256])
        if key not in self._rays:
            self._rays[key] = ray_map(K, E, w, h)
        return self._rays[key]

    def __getitem__(self, i: int) -> CacheItem:
        si, row = self.items[int(i)]
        a = self._shard(si)
        fc = frame_conditions(a, row)
        v, h, w = fc.depth.shape
        rays = self._ray_map(a["K"][row], a["ego_from_camera"][row], w, h)
        item: CacheItem = {
            "dense": stitch(fc.guidance),
            "layout": stitch(np.concatenate([fc.layout, rays], axis=-1)),
            "mask": stitch(fc.inserted[..., None].astype(np.float32)),
            "image": stitch(a["image"][row].astype(np.float32) / 127.5 - 1.0),
            "prev_image": stitch(a["prev_image"][row].astype(np.float32) / 127.5 - 1.0),
            "has_prev": torch.tensor(bool(a["has_prev"][row])),
            "env": torch.from_numpy(np.asarray(a["env"][row], np.float32)),
            "text": str(a["text"][row]),
            "inserted_class": str(a["inserted_class"][row]),
        }
        if "latent" in a:
            item["latent"] = torch.from_numpy(a["latent"][row].astype(np.float32))
            item["prev_latent"] = torch.from_numpy(a["prev_latent"][row].astype(np.float32))
        return item


def collate(items: Sequence[CacheItem]) -> CacheBatch:
    """Stack tensors on a new batch axis; strings become lists."""
    t = {k: torch.stack([it[k] for it in items]) for k in TENSOR_KEYS}
    out: CacheBatch = {"dense": t["dense"], "layout": t["layout"], "mask": t["mask"], "image": t["image"],
                       "prev_image": t["prev_image"], "has_prev": t["has_prev"], "env": t["env"],
                       "text": [it["text"] for it in items], "inserted_class": [it["inserted_class"] for it in items]}
    if "latent" in items[0]:
        out["latent"] = torch.stack([it["latent"] for it in items])
        out["prev_latent"] = torch.stack([it["prev_latent"] for it in items])
    return out


def batch_indices(step: int, batch_size: int, n: int, seed: int, rank: int = 0, world: int = 1) -> list[int]:
    """Sample indices of this process's batch at `step`: epochs of seeded permutations, consecutive slices.

    A pure function of its arguments, so a resumed run draws exactly the batches of an uninterrupted one."""
    global_b = batch_size * world
    start = step * global_b + rank * batch_size
    out: list[int] = []
    for pos in range(start, start + batch_size):
        epoch, j = divmod(pos, n)
        perm = np.random.default_rng([seed, epoch]).permutation(n)
        out.append(int(perm[j]))
    return out
