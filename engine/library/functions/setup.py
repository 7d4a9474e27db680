"""Setup functions: environment and road shape."""
from __future__ import annotations

from dataclasses import replace

from engine.library.builder import ScenarioBuilder
from engine.library.errors import PlacementError
from engine.library.placing import choice, number
from engine.library.registry import library_function
from engine.scenario.model import TIMES_OF_DAY, WEATHERS


@library_function("setup")
def set_environment(ctx: ScenarioBuilder, time_of_day: str = "day", weather: str = "clear") -> None:
    """Set the lighting and the weather of the scenario.

    Args:
        time_of_day: 'day', 'dusk' or 'night'.
        weather: 'clear', 'rain', 'fog' or 'snow'.
    """
    choice(ctx, "time_of_day", time_of_day, TIMES_OF_DAY)
    choice(ctx, "weather", weather, WEATHERS)
    ctx.environment = replace(ctx.environment, time_of_day=time_of_day, weather=weather)


@library_function("setup")
def set_road(ctx: ScenarioBuilder, lanes: int | None = None, ego_lane: int | None = None,
             lane_width: float | None = None, intersection: bool = False, roundabout: bool = False) -> None:
    """Shape the road; call it first, before any agent is placed.

    The ego drives east in lane `ego_lane` of the main road (lane 1 is next to the centre line,
    higher numbers are further right). Without this call the road has 2 lanes per direction, the
    ego drives in lane 2, and lanes are added on the right when a function needs them.

    Args:
        lanes: lanes per direction, 1 to 5 (fixed from then on).
        ego_lane: the ego's lane number, 1 to `lanes`.
        lane_width: metres, 2.75 to 4.5 (default 3.5).
        intersection: True puts a 4-way intersection ahead of the ego.
        roundabout: True puts a single-ring roundabout ahead of the ego instead (4 arms).
    """
    if intersection and roundabout:
        raise ctx.error("set_road: choose intersection=True or roundabout=True, not both")
    if len(ctx.records()) > 1 or not ctx.record("ego").provisional or ctx.layout.intersection_x is not None:
        raise ctx.error("set_road must come before any other agent, the ego's motion or an intersection is placed",
                        PlacementError)
    layout = ctx.layout
    if lanes is not None:
        number(ctx, "lanes", lanes, 1, 5)
        layout = layout.with_lanes(lanes)
    if lane_width is not None:
        number(ctx, "lane_width", lane_width, 2.75, 4.5)
        layout = replace(layout, lane_width=float(lane_width))
    ego_lane_n = ctx.ego_lane if ego_lane is None else int(ego_lane)
    if ego_lane is not None:
        number(ctx, "ego_lane", ego_lane, 1, 5)
    if lanes is None and ego_lane_n > layout.lanes_per_direction:
        layout = layout.with_lanes(ego_lane_n)
    if ego_lane_n > layout.lanes_per_direction:
        raise ctx.error(f"ego_lane {ego_lane_n} does not exist on a road with {layout.lanes_per_direction} "
                        f"lanes per direction")
    ctx.set_layout(layout)
    ctx.ego_lane = ego_lane_n
    if lanes is not None:
        ctx.fix_lanes("set_road(lanes=...) fixed it")
    ctx.reset_default_ego()
    if intersection:
        from engine.library.functions.intersection import ensure_intersection

        ensure_intersection(ctx, None)
    if roundabout:
        from engine.library.functions.roundabout import ensure_roundabout

        ensure_roundabout(ctx, None)
