"""Naive insertion that looks like it belongs: an inserted asset matched to the real footage around it.

Dream4Drive's naive-insertion baseline pastes the rendered asset into the recorded frame. The render
is clean, evenly exposed and sharp; the footage is not. `InsertionMatcher.apply` makes the pasted
pixels agree with the frame they sit in, per camera:

1. colour and exposure: the asset's luminance is scaled towards the local scene's (the ring of real
   pixels around it) and the scene's colour cast (channel means over luminance) is applied, both
   half-way and clamped, so a red car stays red but darkens in a dim street;
2. a soft contact shadow on the real ground, offset along the scene's light direction (from the
   sun's azimuth / elevation in the ego frame), blurred and darker under the body;
3. motion blur along the asset's image motion (its mask's shift since the previous frame) over the
   camera's exposure time, and sensor noise with the footage's own noise level (Immerkaer's
   estimate on the real image), seeded;
4. anti-aliased edges: the asset is blended into the frame with a feathered alpha (one pixel).

Arrays: images (V, H, W, 3) uint8, masks (V, H, W) bool, depth (V, H, W) float32 metres. Only pixels
near inserted objects change; frames without inserted objects come back untouched.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.rig import Camera, CameraRig
from engine.worldmodel.conditions import FrameConditions

RING_PX = 12              # the local scene: real pixels within this distance of the asset
EXPOSURE_STRENGTH = 0.5   # 0: keep the render's exposure, 1: match the local scene fully
GAIN_RANGE = (0.55, 1.5)
EXPOSURE_S = 0.02         # nuScenes cameras expose for a few to ~20 ms; blur = motion over this time
FRAME_DT_S = 1 / 12
SHADOW_STRENGTH = 0.45    # darkening of the ground under the body
LUMA = np.array([0.299, 0.587, 0.114], np.float32)


@dataclass
class InsertionMatcher:
    """Per-generation state (previous masks for motion blur) and settings; one per clip and thread.

    light_dir_ego: (3,) unit vector towards the light in the ego frame (x forward, y left, z up);
    seed: the generation seed (noise).
    """

    seed: int = 0
    light_dir_ego: tuple[float, float, float] = (-0.4, 0.3, 0.87)
    exposure_s: float = EXPOSURE_S
    frame_dt_s: float = FRAME_DT_S
    _previous: dict[int, NDArray[np.bool_]] = field(default_factory=dict)
    _frame: int = 0

    def apply(self, composite: NDArray[np.uint8], background: NDArray[np.uint8], inserted: NDArray[np.bool_],
              depth: NDArray[np.float32] | None = None, rig: CameraRig | None = None) -> NDArray[np.uint8]:
        """(V, H, W, 3) uint8: `composite` (real frames with the assets pasted where they are visible,
        `inserted` (V, H, W) bool) with the asset pixels matched to `background` (the real frames).

        depth / rig (optional): for the contact shadow's footprint and light direction per camera.
        """
        out = composite.copy()
        rng = np.random.default_rng((int(self.seed), self._frame))
        for k in range(composite.shape[0]):
            mask = inserted[k]
            if not mask.any():
                self._previous.pop(k, None)
                continue
            cam = rig.cameras[k] if rig is not None else None
            out[k] = self._match_view(composite[k], background[k], mask, k, rng, cam)
        self._frame += 1
        return out

    # ---- one camera ----------------------------------------------------------------------------
    def _match_view(self, comp: NDArray[np.uint8], bg: NDArray[np.uint8], mask: NDArray[np.bool_], k: int,
                    rng: np.random.Generator, cam: Camera | None) -> NDArray[np.uint8]:
        img = comp.astype(np.float32)
        real = bg.astype(np.float32)
        asset = img.copy()
        ring = _ring(mask, RING_PX)
        # 1. colour and exposure
        asset = match_colour(asset, real, mask, ring)
        # 2. contact shadow on the real ground, along the light direction
        shadowed = contact_shadow(real, mask, self._shadow_offset(mask, cam))
        # 3. motion blur over the exposure, then the footage's sensor noise
        shift = self._motion(mask, k)
        asset, alpha = motion_blur(asset, mask.astype(np.float32), shift * (self.exposure_s / self.frame_dt_s))
        sigma = noise_sigma(bg)
        if sigma > 0.2:
            asset = asset + rng.normal(0.0, sigma, asset.shape).astype(np.float32)
        # 4. anti-aliased edges: feather the (blurred) alpha by one pixel
        alpha = feather(alpha)
        out = shadowed * (1.0 - alpha[..., None]) + asset * alpha[..., None]
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)

    def _motion(self, mask: NDArray[np.bool_], k: int) -> NDArray[np.float64]:
        """(2,) pixels the asset moved since the previous frame (centroid shift; 0 on its first frame)."""
        prev = self._previous.get(k)
        self._previous[k] = mask
        if prev is None or not prev.any():
            return np.zeros(2)
        a = np.argwhere(prev).mean(axis=0)
        b = np.argwhere(mask).mean(axis=0)
        d = (b - a)[::-1]                   # (du, dv)
        return d if np.hypot(*d) < 0.25 * max(mask.shape) else np.zeros(2)   # a jump is not motion

    def _shadow_offset(self, mask: NDArray[np.bool_], cam: Camera | None) -> NDArray[np.float64]:
        """(2,) pixel offset (du, dv) of the cast shadow from the asset's foot: away from the light along
        the ground, as long as the light's elevation makes it (about height / tan(elevation))."""
        ys = np.nonzero(mask)[0]
        height_px = float(ys.max() - ys.min() + 1)
        light = np.asarray(self.light_dir_ego, np.float64)
        light = light / np.linalg.norm(light)
        reach = min(1.0 / np.tan(np.arcsin(np.clip(light[2], 0.3, 1.0))), 2.0)   # shadow length / object height
        if cam is None or np.hypot(light[0], light[1]) < 1e-6:
            return np.array([0.0, 0.05 * height_px])
        away = -light[:2] / np.hypot(light[0], light[1])                         # on the ground, ego frame
        d = cam.camera_from_ego[:3, :3] @ np.array([away[0], away[1], 0.0])      # its image direction (approx.)
        dv = d[1] - 0.3 * d[2]                                                   # receding ground rises in the image
        n = np.hypot(d[0], dv)
        if n < 1e-6:
            return np.array([0.0, 0.05 * height_px])
        offset: NDArray[np.float64] = np.array([d[0] / n, dv / n]) * 0.3 * reach * height_px
        return offset


def visible_inserted(frame: FrameConditions) -> NDArray[np.bool_]:
    """(V, H, W) bool: inserted-object pixels of a FrameConditions that are nearer than its real background
    (where `composite_over_background` shows the asset); ValueError for a frame without a real background."""
    bg = frame.background_depth
    if bg is None:
        raise ValueError(f"frame {frame.index}: no real background depth to compare the inserted objects with")
    bg_d = np.where((bg > 0) & np.isfinite(bg), bg, np.inf)
    return frame.inserted & (frame.depth < bg_d)


def _ring(mask: NDArray[np.bool_], px: int) -> NDArray[np.bool_]:
    k = 2 * px + 1
    grown = np.asarray(cv2.dilate(mask.astype(np.uint8), np.ones((k, k), np.uint8))).astype(np.bool_)
    return grown & ~mask


def match_colour(asset: NDArray[np.float32], real: NDArray[np.float32], mask: NDArray[np.bool_], ring: NDArray[np.bool_],
                 strength: float = EXPOSURE_STRENGTH) -> NDArray[np.float32]:
    """(H, W, 3) float32: the asset's pixels (`mask`) scaled towards the local scene's exposure and colour
    cast (`ring` pixels of the real image `real`), half-way (`strength`) and clamped."""
    if ring.sum() < 20:
        return asset
    scene = real[ring]
    obj = asset[mask]
    scene_l = float(np.percentile(scene @ LUMA, 75)) + 1.0
    obj_l = float(np.percentile(obj @ LUMA, 75)) + 1.0
    gain = float(np.clip((scene_l / obj_l) ** strength, *GAIN_RANGE))
    cast = scene.mean(axis=0) / max(float(scene.mean(axis=0) @ LUMA), 1.0)      # (3,) channel / luminance
    cast = np.clip(cast, 0.7, 1.4) ** strength
    cast = cast / float(cast @ LUMA)                                             # keep luminance
    out = asset.copy()
    out[mask] = obj * gain * cast
    return out


def contact_shadow(real: NDArray[np.float32], mask: NDArray[np.bool_], offset: NDArray[np.float64]) -> NDArray[np.float32]:
    """(H, W, 3) float32: the real image darkened by a soft shadow under the asset's lower edge,
    shifted by `offset` (2,) pixels (du, dv) along the light direction."""
    ys, xs = np.nonzero(mask)
    h, w = mask.shape
    foot = np.zeros((h, w), np.float32)
    bottom = ys.max()
    height_px = bottom - ys.min() + 1
    band = ys >= bottom - max(2, int(0.25 * height_px))            # the lower quarter: the wheels' band
    cx, cy = int(round(xs[band].mean() + offset[0])), int(round(bottom + offset[1]))
    ax = max(2, int(0.55 * (xs[band].max() - xs[band].min() + 1)))
    ay = max(1, int(0.12 * height_px))
    cv2.ellipse(foot, (cx, cy), (ax, ay), 0.0, 0, 360, (1.0,), -1)
    blur = max(3, int(0.15 * height_px) | 1)
    foot = np.asarray(cv2.GaussianBlur(foot, (blur, blur), 0), np.float32)
    foot[mask] = 0.0
    return real * (1.0 - SHADOW_STRENGTH * foot)[..., None]


def motion_blur(asset: NDArray[np.float32], alpha: NDArray[np.float32], shift: NDArray[np.float64],
                ) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Blur the premultiplied asset and its alpha along `shift` (2,) pixels (a line kernel); unchanged when
    the motion is under half a pixel. Returns (colour, alpha) with colour un-premultiplied."""
    length = float(np.hypot(*shift))
    if length < 0.5:
        return asset, alpha
    n = int(np.ceil(length)) * 2 + 1
    kernel = np.zeros((n, n), np.float32)
    c = n // 2
    for s in np.linspace(-0.5, 0.5, 4 * n):
        kernel[int(round(c + s * shift[1])), int(round(c + s * shift[0]))] = 1.0
    kernel /= kernel.sum()
    pre = cv2.filter2D(asset * alpha[..., None], -1, kernel)
    a = np.clip(cv2.filter2D(alpha, -1, kernel), 0.0, 1.0)
    colour = np.where(a[..., None] > 1e-3, pre / np.maximum(a[..., None], 1e-3), asset)
    return colour.astype(np.float32), a.astype(np.float32)


def feather(alpha: NDArray[np.float32]) -> NDArray[np.float32]:
    """(H, W) float32 alpha with its edges softened over about one pixel (anti-aliasing)."""
    soft = cv2.GaussianBlur(alpha.astype(np.float32), (3, 3), 0.7)
    return np.minimum(alpha, soft) * 0.5 + soft * 0.5


def noise_sigma(image: NDArray[np.uint8]) -> float:
    """The image's per-channel sensor-noise standard deviation in grey levels (Immerkaer 1996, fast noise
    variance estimation), averaged over the channels of an (H, W, C) or (H, W) uint8 image."""
    img = np.asarray(image, np.float64)
    if img.ndim == 2:
        img = img[..., None]
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float64)
    h, w = img.shape[:2]
    sig = [np.sqrt(np.pi / 2) * np.abs(cv2.filter2D(img[..., c], -1, kernel)[1:-1, 1:-1]).sum() / (6.0 * (w - 2) * (h - 2))
           for c in range(img.shape[2])]
    return float(np.mean(sig))
