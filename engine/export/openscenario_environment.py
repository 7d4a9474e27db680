"""Scenario environment (time of day, weather) <-> OpenSCENARIO Environment, both directions.

Writing picks representative values: day is 12:00, dusk 19:30, night 23:00 (on 21 June); rain and
snow are precipitation of 5 mm/h (1.1+: ``precipitationIntensity``; 1.0: intensity 0.5 on its 0..1
scale), fog is a visual range of 50 m (clear: 100 km). Reading maps any file back onto the four
weathers and three times of day by thresholds, so files from other tools read sensibly too.
"""
from __future__ import annotations

import datetime as _dt
import xml.etree.ElementTree as ET

from scenariogeneration import xosc

from engine.scenario.model import Environment

TIME_OF_DAY_CLOCK: dict[str, tuple[int, int]] = {"day": (12, 0), "dusk": (19, 30), "night": (23, 0)}
SUN: dict[str, tuple[float, float, float]] = {  # intensity (lux), azimuth (rad), elevation (rad)
    "day": (100000.0, 3.14, 1.0),
    "dusk": (400.0, 5.0, 0.05),
    "night": (0.0, 0.0, -0.5),
}
FOG_RANGE_M = 50.0
CLEAR_RANGE_M = 100000.0
PRECIPITATION_MM_H = 5.0
DATE = (2025, 6, 21)


def build_environment(env: Environment, minor_version: int) -> xosc.Environment:
    """The scenariogeneration Environment for `env` in OpenSCENARIO 1.<minor_version>."""
    hour, minute = TIME_OF_DAY_CLOCK[env.time_of_day]
    tod = xosc.TimeOfDay(False, DATE[0], DATE[1], DATE[2], hour, minute, 0)
    intensity, azimuth, elevation = SUN[env.time_of_day]
    precip_type = {"rain": xosc.PrecipitationType.rain, "snow": xosc.PrecipitationType.snow}.get(
        env.weather, xosc.PrecipitationType.dry)
    amount = 0.0 if env.weather not in ("rain", "snow") else (PRECIPITATION_MM_H if minor_version >= 1 else 0.5)
    fog = xosc.Fog(FOG_RANGE_M if env.weather == "fog" else CLEAR_RANGE_M)
    cloudy = env.weather != "clear"
    if minor_version >= 2:
        clouds = xosc.FractionalCloudCover.eightOktas if cloudy else xosc.FractionalCloudCover.zeroOktas
    else:
        clouds = xosc.CloudState.overcast if cloudy else xosc.CloudState.free
    weather = xosc.Weather(
        cloudstate=clouds,
        sun=xosc.Sun(intensity, azimuth, elevation),
        fog=fog,
        precipitation=xosc.Precipitation(precip_type, amount),
    )
    road = xosc.RoadCondition(0.7 if env.weather in ("rain", "snow") else 1.0)
    return xosc.Environment("environment", tod, weather, road)


def parse_environment(element: ET.Element | None) -> Environment:
    """An Environment from an OpenSCENARIO ``Environment`` element (defaults where absent)."""
    if element is None:
        return Environment()
    time_of_day = "day"
    tod = element.find("TimeOfDay")
    if tod is not None and "dateTime" in tod.attrib:
        try:
            hour = _dt.datetime.fromisoformat(tod.attrib["dateTime"]).hour + \
                _dt.datetime.fromisoformat(tod.attrib["dateTime"]).minute / 60.0
        except ValueError:
            hour = 12.0
        if 7.0 <= hour < 18.0:
            time_of_day = "day"
        elif 18.0 <= hour < 21.0 or 5.0 <= hour < 7.0:
            time_of_day = "dusk"
        else:
            time_of_day = "night"
    weather = "clear"
    w = element.find("Weather")
    if w is not None:
        p = w.find("Precipitation")
        ptype = p.attrib.get("precipitationType", "dry") if p is not None else "dry"
        fog = w.find("Fog")
        visual = float(fog.attrib.get("visualRange", CLEAR_RANGE_M)) if fog is not None else CLEAR_RANGE_M
        if ptype == "snow":
            weather = "snow"
        elif ptype == "rain":
            weather = "rain"
        elif visual < 1000.0:
            weather = "fog"
    return Environment(time_of_day, weather)
