"""How an environment looks: the grading, lights and weather parameters of the naive backend.

`look_for(environment, lit_for)` gives the parameters that turn a shaded pass lit for `lit_for`
(the time of day the renderer already lit it for) into the requested environment. Colours are
linear RGB in 0..1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from engine.scenario.model import Environment
from engine.worldmodel.naive.precipitation import Precipitation

Color = tuple[float, float, float]

# Grading relative to a daylight render, for when the renderer could not light for the time of day.
_GRADE_FROM_DAY: dict[str, tuple[float, Color]] = {
    "day": (1.0, (1.0, 1.0, 1.0)),
    "dusk": (0.62, (1.05, 0.82, 0.64)),
    "night": (0.16, (0.62, 0.72, 1.0)),
}
_SKY: dict[str, tuple[Color, Color] | None] = {  # (horizon, zenith)
    "day": None,
    "dusk": ((0.92, 0.56, 0.36), (0.2, 0.24, 0.45)),
    "night": ((0.05, 0.06, 0.11), (0.008, 0.012, 0.035)),
}


@dataclass(frozen=True)
class Look:
    """Parameters of the environment pass (see `engine.worldmodel.naive.effects`).

    exposure, tint: multiply the shaded pass (grading); sky: (horizon, zenith) colours replacing
    pixels where nothing was hit, or None; light_gain: how strongly headlight beams lift lit surfaces
    (0 by day); glow_gain: brightness of visible head / tail lamps; fog_visibility: metres at which
    contrast falls to 1/e (inf = no fog); fog_color; wet: 0..1 darkening of the road (rain);
    precipitation: None, "rain" or "snow"; snow_cover: 0..1 whitening of the ground; desaturate: 0..1;
    street_lamps: light pools and lamp heads at night; brightness: the scene's light level relative to day;
    ambient_tint: the colour cast of the ambient light (lamp light is warm white against it).
    """

    time_of_day: str
    weather: str
    exposure: float = 1.0
    tint: Color = (1.0, 1.0, 1.0)
    sky: tuple[Color, Color] | None = None
    light_gain: float = 0.0
    glow_gain: float = 0.0
    fog_visibility: float = math.inf
    fog_color: Color = (0.7, 0.72, 0.75)
    wet: float = 0.0
    precipitation: Precipitation | None = None
    precipitation_gain: float = 0.0
    snow_cover: float = 0.0
    desaturate: float = 0.0
    street_lamps: bool = False
    brightness: float = 1.0
    ambient_tint: Color = (1.0, 1.0, 1.0)

    @property
    def is_identity(self) -> bool:
        """True when the pass would return the shaded frames unchanged (clear day on a day render)."""
        return (self.exposure == 1.0 and self.tint == (1.0, 1.0, 1.0) and self.sky is None and self.light_gain == 0
                and self.glow_gain == 0 and math.isinf(self.fog_visibility) and self.wet == 0
                and self.precipitation is None and self.snow_cover == 0 and self.desaturate == 0)


def look_for(env: Environment, lit_for: str = "day") -> Look:
    """The look of `env` for a shaded pass already lit for the time of day `lit_for`."""
    tod, weather = env.time_of_day, env.weather
    if tod not in _GRADE_FROM_DAY:
        raise ValueError(f"unknown time of day {tod!r}")
    if lit_for not in _GRADE_FROM_DAY:
        raise ValueError(f"unknown time of day {lit_for!r} for the shaded pass")
    e_to, t_to = _GRADE_FROM_DAY[tod]
    e_from, t_from = _GRADE_FROM_DAY[lit_for]
    exposure = e_to / e_from
    tint: Color = (t_to[0] / t_from[0], t_to[1] / t_from[1], t_to[2] / t_from[2])
    sky = _SKY[tod] if lit_for != tod else None
    light = {"day": 0.0, "dusk": 0.8, "night": 3.2}[tod]
    glow = {"day": 0.0, "dusk": 0.6, "night": 1.0}[tod]
    fog_color: Color = {"day": (0.72, 0.74, 0.77), "dusk": (0.55, 0.47, 0.45), "night": (0.05, 0.055, 0.07)}[tod]
    look = Look(time_of_day=tod, weather=weather, exposure=exposure, tint=tint, sky=sky,
                light_gain=light, glow_gain=glow, fog_color=fog_color, street_lamps=tod == "night",
                brightness=e_to, ambient_tint=t_to)
    if weather == "rain":
        look = replace(look, fog_visibility=260.0, wet=0.3, precipitation="rain",
                       precipitation_gain={"day": 0.28, "dusk": 0.2, "night": 0.12}[tod], desaturate=0.3,
                       exposure=exposure * 0.82, fog_color=(fog_color[0] * 0.85, fog_color[1] * 0.85, fog_color[2] * 0.85))
        if sky is None and tod == "day":
            look = replace(look, sky=((0.62, 0.64, 0.67), (0.45, 0.47, 0.5)))
    elif weather == "fog":
        look = replace(look, fog_visibility=38.0, desaturate=0.35, glow_gain=glow * 1.6)
    elif weather == "snow":
        look = replace(look, fog_visibility=140.0, precipitation="snow", snow_cover=0.45,
                       precipitation_gain={"day": 0.85, "dusk": 0.6, "night": 0.35}[tod], desaturate=0.2)
        if sky is None and tod == "day":
            look = replace(look, sky=((0.8, 0.81, 0.83), (0.62, 0.64, 0.68)))
    elif weather != "clear":
        raise ValueError(f"unknown weather {weather!r}")
    return look
