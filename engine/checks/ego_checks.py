"""Near misses (low TTC) and tailgating (low time headway) with respect to the ego."""
from __future__ import annotations

import numpy as np

from engine.checks.config import CheckConfig
from engine.checks.findings import Finding, FindingCode, Severity
from engine.checks.relations import gap_at
from engine.checks.sampling import FloatArray, SampledScene, runs_2d


def _span(scene: SampledScene, k0: int, k1: int, what: str) -> str:
    """'; <what> from a to b s' for a run of several frames, '' for a single frame."""
    return "" if k1 == k0 else f"; {what} from {scene.times[k0]:.2f} to {scene.times[k1]:.2f} s"


def near_miss_findings(scene: SampledScene, rel: dict[str, FloatArray], cfg: CheckConfig,
                       skip_rows: set[int]) -> list[Finding]:
    """A warning per run of frames where the TTC to the ego is below `ttc_warning` and the boxes do not overlap.

    rel: `ego_relation_arrays` output ((A, T) arrays, row 0 the ego). Rows in `skip_rows` (agents
    that touch the ego; the contact is reported instead) are left out.
    """
    ttc = np.nan_to_num(rel["ttc"], nan=np.inf)
    mask = (ttc < cfg.ttc_warning) & ~(np.nan_to_num(rel["depth"], nan=-np.inf) > cfg.contact_tolerance)
    if skip_rows:
        mask[sorted(skip_rows)] = False
    out: list[Finding] = []
    for r, k0, k1 in zip(*runs_2d(mask)):
        km = k0 + int(np.argmin(ttc[r, k0:k1 + 1]))
        t_min = float(ttc[r, km])
        gap = gap_at(scene, 0, r, km)
        closing = gap / t_min if t_min > 0 else float("nan")
        aid = scene.ids[r]
        where = (float((scene.x[0, km] + scene.x[r, km]) / 2), float((scene.y[0, km] + scene.y[r, km]) / 2))
        out.append(Finding(
            FindingCode.NEAR_MISS, Severity.WARNING, scene.times[k0], scene.times[k1], ("ego", aid),
            f"Time to collision between the ego and {aid} falls to {t_min:.2f} s at {scene.times[km]:.2f} s "
            f"({gap:.1f} m apart)" + _span(scene, k0, k1, f"below {cfg.ttc_warning:g} s") + ".",
            where, {"min_ttc": t_min, "t_min_ttc": float(scene.times[km]), "gap": gap, "closing_speed": closing}))
    return out


def tailgating_findings(scene: SampledScene, rel: dict[str, FloatArray], cfg: CheckConfig,
                        skip_rows: set[int]) -> list[Finding]:
    """A warning per run where the ego's time headway behind an agent is below `thw_warning`."""
    thw = np.nan_to_num(rel["thw"], nan=np.inf)
    mask = thw < cfg.thw_warning
    if skip_rows:
        mask[sorted(skip_rows)] = False
    out: list[Finding] = []
    for r, k0, k1 in zip(*runs_2d(mask)):
        km = k0 + int(np.argmin(thw[r, k0:k1 + 1]))
        aid = scene.ids[r]
        out.append(Finding(
            FindingCode.SHORT_HEADWAY, Severity.WARNING, scene.times[k0], scene.times[k1], ("ego", aid),
            f"The ego follows {aid} at a time headway of {thw[r, km]:.2f} s at {scene.times[km]:.2f} s "
            f"({gap_at(scene, 0, r, km):.1f} m gap)" + _span(scene, k0, k1, f"below {cfg.thw_warning:g} s") + ".",
            (float(scene.x[r, km]), float(scene.y[r, km])),
            {"min_thw": float(thw[r, km]), "t_min_thw": float(scene.times[km]), "gap": gap_at(scene, 0, r, km)}))
    return out
