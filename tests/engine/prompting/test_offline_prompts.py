"""The offline interpreter on everyday prompts: the agents, behaviours and environment each must
produce (run end to end through the sandbox), determinism, and reporting what it did not understand."""
from __future__ import annotations

from collections import Counter

import pytest

from engine.prompting import OfflineInterpreter, prompt_to_scenario
from engine.sandbox.runner import RunOptions

# prompt -> expectations: agents {"class:behavior": count} (exact for the listed keys), ego behavior,
# environment (time_of_day, weather), params {"class:behavior": {param: value}} of the first such agent.
CASES: list[tuple[str, dict]] = [
    ("a truck cuts in from the left at night while a pedestrian crosses",
     {"agents": {"truck:cut_in": 1, "pedestrian:pedestrian_crossing": 1}, "env": ("night", "clear"),
      "params": {"truck:cut_in": {"side": "left", "target": "ego"}}}),
    ("A car suddenly cuts in front of us from the right in the rain",
     {"agents": {"car:cut_in": 1}, "env": ("day", "rain"), "params": {"car:cut_in": {"side": "right"}}}),
    ("a pedestrian crosses the road ahead", {"agents": {"pedestrian:pedestrian_crossing": 1}}),
    ("a kid runs out between parked cars",
     {"agents": {"pedestrian:run_out": 1, "car:parked": 2}}),
    ("a cyclist crosses from the left at dusk",
     {"agents": {"bicycle:cyclist_crossing": 1}, "env": ("dusk", "clear"),
      "params": {"bicycle:cyclist_crossing": {"side": "left"}}}),
    ("roadworks in the right lane", {"agents": {"traffic_cone:work_zone": 5}}),
    ("the car in front brakes hard", {"agents": {"car:emergency_stop": 1}}),
    ("two cars ahead and a bus coming the other way in fog",
     {"agents": {"car:forward": 2, "bus:forward": 1}, "env": ("day", "fog"),
      "params": {"bus:forward": {"lane": "WB_1"}}}),
    ("we turn left at the intersection while an oncoming car goes straight",
     {"ego": "turn_left", "agents": {"car:forward": 1}, "params": {"car:forward": {"lane": "WB_1"}}}),
    ("a motorbike overtakes us on the left at 80 km/h",
     {"agents": {"motorcycle:overtake": 1}, "params": {"motorcycle:overtake": {"speed": 22.222}}}),
    ("a van merges onto the highway from the on-ramp", {"agents": {"car:merge": 1}}),
    ("a lorry is parked on the right and a person jaywalks",
     {"agents": {"truck:parked": 1, "pedestrian:jaywalk": 1}}),
    ("three parked cars on the left side at dusk",
     {"agents": {"car:parked": 3}, "env": ("dusk", "clear"), "params": {"car:parked": {"side": "left"}}}),
    ("an SUV makes a U-turn in front of us", {"agents": {"car:u_turn": 1}}),
    ("a bus turns right at the junction", {"agents": {"bus:turn_right": 1}}),
    ("the ego vehicle accelerates to 60 km/h", {"ego": "accelerate", "agents": {}}),
    ("we are stuck in stop and go traffic", {"ego": "stop_and_go"}),
    ("a truck follows closely behind us", {"agents": {"truck:follow": 1}, "params": {"truck:follow": {"leader": "ego"}}}),
    ("a car runs a red light from the right",
     {"agents": {"car:crossing_traffic": 1}, "params": {"car:crossing_traffic": {"side": "right"}}}),
    ("snowy night, a bus brakes suddenly ahead", {"agents": {"bus:emergency_stop": 1}, "env": ("night", "snow")}),
    ("a broken-down car in our lane", {"agents": {"car:static_object": 1},
                                       "params": {"car:static_object": {"lane": "EB_2"}}}),
    ("a row of cones in the left lane", {"agents": {"traffic_cone:cone_row": 5},
                                         "params": {"traffic_cone:cone_row": {"lane": "EB_1"}}}),
    ("a child darts into the street from behind a parked van", {"agents": {"pedestrian:run_out": 1}}),
    ("a motorcycle changes lanes to the right", {"agents": {"motorcycle:change_lane": 1},
                                                 "params": {"motorcycle:change_lane": {"side": "right"}}}),
    ("an oncoming truck turns left across our path",
     {"agents": {"truck:turn_left": 1}, "params": {"truck:turn_left": {"approach": "oncoming"}}}),
    ("a cyclist rides ahead of us in the right lane", {"agents": {"bicycle:forward": 1},
                                                       "params": {"bicycle:forward": {"lane": "EB_3"}}}),
    ("heavy rain, a car slows down to 20 km/h in front of us",
     {"agents": {"car:brake": 1}, "env": ("day", "rain"), "params": {"car:brake": {"to_speed": 5.556}}}),
    ("two pedestrians cross from the right", {"agents": {"pedestrian:pedestrian_crossing": 2}}),
    ("a group of pedestrians crossing at the crosswalk", {"agents": {"pedestrian:pedestrian_crossing": 4}}),
    ("a couple of motorcycles overtake us", {"agents": {"motorcycle:overtake": 2}}),
    ("an ambulance speeds past us on the left", {"agents": {"car:overtake": 1}}),
    ("we change lanes to the left while a truck comes up behind",
     {"ego": "change_lane", "agents": {"truck:follow": 1}}),
    ("foggy morning on the motorway, a car merges from the right",
     {"agents": {"car:merge": 1}, "env": ("day", "fog")}),
    ("the ego makes a U-turn at night", {"ego": "u_turn", "env": ("night", "clear")}),
    ("a bus is parked at the bus stop on the right", {"agents": {"bus:parked": 1}}),
    ("a car overtakes the truck ahead",
     {"agents": {"truck:forward": 1, "car:overtake": 1}, "params": {"car:overtake": {"target": "truck_1"}}}),
    ("we follow a truck at 40 km/h",
     {"ego": "follow", "agents": {"truck:forward": 1}, "params": {"truck:forward": {"speed": 11.111}}}),
    ("an excavator works in a construction zone on the right",
     {"agents": {"construction_vehicle:work_zone": 1}}),
    ("a scooter cuts in front of the ego 3 m ahead",
     {"agents": {"motorcycle:cut_in": 1}, "params": {"motorcycle:cut_in": {"gap": 3.0}}}),
    ("Dusk, light drizzle: an SUV pulls out and overtakes us on the right",
     {"agents": {"car:overtake": 1}, "env": ("dusk", "rain"), "params": {"car:overtake": {"side": "right"}}}),
    ("at night in the snow a jogger crosses the road from the left",
     {"agents": {"pedestrian:pedestrian_crossing": 1}, "env": ("night", "snow"),
      "params": {"pedestrian:pedestrian_crossing": {"side": "left"}}}),
    ("a delivery truck is stopped in the right lane with its hazard lights on",
     {"agents": {"truck:static_object": 1}, "params": {"truck:static_object": {"lane": "EB_3"}}}),
    ("we drive at 30 mph while a dog walker jaywalks",
     {"ego": "forward", "agents": {"pedestrian:jaywalk": 1}}),
    ("an oncoming bus makes a left turn at the traffic lights while we wait",
     {"agents": {"bus:turn_left": 1}, "ego": "forward"}),
    ("several cyclists ride in the oncoming lane", {"agents": {"bicycle:forward": 3}}),
    ("a tractor drives slowly ahead of us", {"agents": {"construction_vehicle:forward": 1},
                                             "params": {"construction_vehicle:forward": {"speed": 4.0}}}),
    ("a taxi stops suddenly in front of us at dawn", {"agents": {"car:emergency_stop": 1}, "env": ("dusk", "clear")}),
    ("a car crosses the intersection from the left", {"agents": {"car:crossing_traffic": 1}}),
    ("we turn right at the crossroads", {"ego": "turn_right"}),
]


def _summary(s) -> Counter:
    return Counter(f"{a.cls}:{a.behavior}" for a in s.agents)


def _first(s, key):
    cls, beh = key.split(":")
    return next(a for a in s.agents if a.cls == cls and a.behavior == beh)


def test_at_least_40_prompts():
    assert len(CASES) >= 40


@pytest.mark.parametrize("prompt,expect", CASES, ids=[c[0][:40] for c in CASES])
def test_prompt_produces_the_expected_scenario(prompt, expect):
    result = prompt_to_scenario(prompt, options=RunOptions(seed=1))
    s = result.scenario
    got = _summary(s)
    for key, n in expect.get("agents", {}).items():
        assert got[key] == n, (key, dict(got), result.script)
    if "ego" in expect:
        assert s.ego.behavior == expect["ego"], result.script
    tod, weather = expect.get("env", ("day", "clear"))
    assert (s.environment.time_of_day, s.environment.weather) == (tod, weather)
    for key, params in expect.get("params", {}).items():
        bp = _first(s, key).behavior_params
        for k, v in params.items():
            if isinstance(v, float):
                assert bp[k] == pytest.approx(v, abs=0.01), (key, k, bp)
            else:
                assert bp[k] == v, (key, k, bp)
    assert s.prompt == prompt and s.script == result.script
    assert result.script.startswith("# Scenario script written by the offline interpreter")


def test_interpretation_is_deterministic_and_seeds_vary_the_scenario():
    prompt = "a truck cuts in from the left while two pedestrians cross"
    a = OfflineInterpreter().interpret(prompt)
    b = OfflineInterpreter().interpret(prompt)
    assert a == b
    s1 = prompt_to_scenario(prompt, options=RunOptions(seed=1)).scenario
    s1b = prompt_to_scenario(prompt, options=RunOptions(seed=1)).scenario
    s2 = prompt_to_scenario(prompt, options=RunOptions(seed=2)).scenario
    assert s1 == s1b
    assert s1.agents != s2.agents


def test_reports_what_it_does_not_understand():
    r = OfflineInterpreter().interpret("a deer crosses the road while a car reverses out of a driveway flamboyantly")
    text = " ".join(r.not_understood + r.notes)
    assert "animals" in text and "reversing" in text and "flamboyantly" in text
    assert "# not understood" in r.script or "# notes" in r.script
    r2 = OfflineInterpreter().interpret("a car cuts in from the left")
    assert r2.not_understood == () and r2.notes == ()


def test_numbers_units_and_counts():
    it = OfflineInterpreter()
    s = it.interpret("a car at 36 km/h, a truck at 20 mph and a bus at 5 m/s, all ahead").script
    assert "kmh(36.0)" in s and "mph(20.0)" in s and "speed=5.0" in s
    s = it.interpret("a couple of cars and three trucks ahead").script
    assert s.count('forward("car"') == 2 and s.count('forward("truck"') == 3
    s = it.interpret("a car 25 m ahead brakes").script
    assert "ahead=25.0" in s
    s = it.interpret("a car 15 metres behind us").script
    assert "ahead=-15.0" in s


def test_empty_prompt_is_an_error():
    with pytest.raises(ValueError, match="empty"):
        OfflineInterpreter().interpret("   ")
