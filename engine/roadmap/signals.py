"""Traffic signals at the procedural intersection: where the heads and stop lines are, their state
timelines, and whether an agent passed a stop line on red.

Stop lines lie `STOP_LINE_GAP` before the intersection crosswalk of each approach, across that
approach's lanes; the head stands on the kerb side of the stop line. Main road (EB/WB) and cross
road (NB/SB) heads run complementary timelines with a yellow of `YELLOW` seconds and an all-red
of `ALL_RED` seconds between them.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Iterable

import numpy as np
from numpy.typing import NDArray

from engine.roadmap.layout import (
    DIRECTION_HEADING, DIRECTIONS, INTERSECTION_CROSSWALK_WIDTH, MAIN_ROAD, RoadLayout,
)
from engine.scenario.map_elements import SignalPhase, TrafficSignal

if TYPE_CHECKING:
    from engine.scenario.model import Scenario

YELLOW = 3.0
ALL_RED = 1.0
STOP_LINE_GAP = 1.0


def stop_line_s(layout: RoadLayout, direction: str) -> float:
    """s (in `direction`'s frame) of the stop line of that approach."""
    return layout.intersection_crosswalk_s(direction) - INTERSECTION_CROSSWALK_WIDTH / 2 - STOP_LINE_GAP


def timelines(main_state: str, change_at: float | None) -> tuple[tuple[SignalPhase, ...], tuple[SignalPhase, ...]]:
    """(main-road phases, cross-road phases) for a main road starting `main_state` ('red' or 'green')
    that changes at `change_at` seconds (None: never)."""
    if main_state == "green":
        main = [SignalPhase(0.0, "green")]
        cross = [SignalPhase(0.0, "red")]
        if change_at is not None:
            main += [SignalPhase(change_at, "yellow"), SignalPhase(change_at + YELLOW, "red")]
            cross += [SignalPhase(change_at + YELLOW + ALL_RED, "green")]
    else:
        main = [SignalPhase(0.0, "red")]
        cross = [SignalPhase(0.0, "green")]
        if change_at is not None:
            t_y = max(change_at - YELLOW - ALL_RED, 0.0)
            cross += [SignalPhase(t_y, "yellow"), SignalPhase(t_y + YELLOW, "red")] if t_y > 0 else \
                [SignalPhase(0.0, "red")]
            main += [SignalPhase(change_at, "green")]
    return _dedupe(main), _dedupe(cross)


def _dedupe(phases: Iterable[SignalPhase]) -> tuple[SignalPhase, ...]:
    """One phase per time: a later phase at the same time wins (first-seen time order kept)."""
    return tuple({p.t: p for p in phases}.values())


def intersection_signals(layout: RoadLayout, main_state: str = "red", change_at: float | None = None,
                         kind: str = "light") -> list[TrafficSignal]:
    """One signal head per approach of the layout's intersection (ids ``signal_EB`` ...)."""
    if layout.intersection_x is None:
        raise ValueError("the layout has no intersection")
    main_ph, cross_ph = timelines(main_state, change_at)
    out: list[TrafficSignal] = []
    for d in DIRECTIONS:
        frame = layout.frame(d)
        s = stop_line_s(layout, d)
        ends = frame.to_world(np.array([s, s]), np.array([0.0, -layout.half_width]))
        head = frame.to_world(np.array([s]), np.array([-layout.half_width - 1.0]))[0]
        out.append(TrafficSignal(
            f"signal_{d}", (round(float(head[0]), 3), round(float(head[1]), 3)), DIRECTION_HEADING[d],
            ((round(float(ends[0, 0]), 3), round(float(ends[0, 1]), 3)),
             (round(float(ends[1, 0]), 3), round(float(ends[1, 1]), 3))),
            main_ph if d in MAIN_ROAD else cross_ph, kind, d))
    return out


def stop_line_crossing(signal: TrafficSignal, xy: NDArray[np.float64], yaw: NDArray[np.float64],
                       times: NDArray[np.float64]) -> float | None:
    """The time (s) at which a front point path `xy` (T, 2) crosses the signal's stop line in its
    controlled direction (heading within 45 degrees of the signal's yaw), or None."""
    a, b = np.asarray(signal.stop_line[0]), np.asarray(signal.stop_line[1])
    t_dir = np.array([math.cos(signal.yaw), math.sin(signal.yaw)])
    along = (xy - a) @ t_dir
    seg = b - a
    u = ((xy - a) @ seg) / max(float(seg @ seg), 1e-9)
    aligned = np.cos(yaw - signal.yaw) > math.cos(math.pi / 4)
    for i in range(1, len(times)):
        if along[i - 1] < 0 <= along[i] and aligned[i] and -0.1 <= u[i] <= 1.1:
            f = -along[i - 1] / max(along[i] - along[i - 1], 1e-9)
            return float(times[i - 1] + f * (times[i] - times[i - 1]))
    return None


def red_light_violations(scenario: Scenario) -> list[tuple[str, str, float]]:
    """(agent id, signal id, time) for every agent whose front passes a stop line while its light is red."""
    sigs = [s for s in scenario.map.signals if s.kind == "light"]
    if not sigs:
        return []
    times = scenario.frame_times()
    out: list[tuple[str, str, float]] = []
    for agent in scenario.all_agents:
        smp = agent.trajectory.sample(times)
        front = smp.xy + (agent.length / 2) * np.stack([np.cos(smp.yaw), np.sin(smp.yaw)], -1)
        for sg in sigs:
            t = stop_line_crossing(sg, front, smp.yaw, times)
            if t is not None and sg.state_at(t) == "red":
                out.append((agent.id, sg.id, round(t, 3)))
    return out
