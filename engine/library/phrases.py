"""What selects each library function in an everyday prompt: phrases, slots and units (a registry).

Every library function declares here the phrases (verbs in base form, expanded to -s/-ing/-ed by the
interpreter, and nouns) that select it, the interpreter's manoeuvre tag it answers to, and its slots:
which parameter a number or word of the prompt fills and in which units. The offline interpreter's
lexicon (engine.prompting.lexicon) adds every declared phrase to its manoeuvre table, so a function
added with a declaration is understood without editing the word lists; `tests/engine/library`
checks that every registered function has one.
"""
from __future__ import annotations

from dataclasses import dataclass, field

SPEED_UNITS = ("m/s", "km/h", "mph")
DISTANCE_UNITS = ("m", "ft", "yards", "car lengths")
TIME_UNITS = ("s",)


@dataclass(frozen=True)
class PhraseSpec:
    """maneuver: the interpreter's tag (None for setup functions); verbs / nouns: phrases that select it;
    slots: parameter -> (what fills it, accepted units)."""

    maneuver: str | None
    verbs: tuple[str, ...] = ()
    nouns: tuple[str, ...] = ()
    slots: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)


_SPEED = ("a speed ('at 50 km/h')", SPEED_UNITS)
_TO_SPEED = ("a target speed ('to 20 km/h')", SPEED_UNITS)
_AHEAD = ("a distance ('30 m ahead', '10 m behind')", DISTANCE_UNITS)
_START = ("a time ('after 2 seconds', 'at 3 s')", TIME_UNITS)
_SIDE = ("'left' / 'right' ('from the left')", ())
_LANE = ("a lane ('in the left lane', 'oncoming')", ())

PHRASES: dict[str, PhraseSpec] = {
    "set_environment": PhraseSpec(None, slots={"time_of_day": ("'at night', 'dusk'", ()),
                                               "weather": ("'in the rain', 'fog', 'snow'", ())}),
    "set_road": PhraseSpec(None, nouns=("three-lane road", "highway", "narrow road"),
                           slots={"lanes": ("'highway' (3), 'narrow road' (1)", ())}),
    "forward": PhraseSpec("forward", ("drive", "cruise", "travel"), (), {"speed": _SPEED, "ahead": _AHEAD,
                                                                       "lane": _LANE}),
    "accelerate": PhraseSpec("accelerate", ("accelerate", "speed up", "pick up speed"), (),
                             {"to_speed": _TO_SPEED, "speed": _SPEED, "start": _START, "ahead": _AHEAD}),
    "brake": PhraseSpec("brake", ("brake", "slow down", "decelerate"), (),
                        {"to_speed": _TO_SPEED, "speed": _SPEED, "start": _START, "ahead": _AHEAD}),
    "emergency_stop": PhraseSpec("emergency_stop", ("brake hard", "slam on the brakes"), ("emergency stop",),
                                 {"speed": _SPEED, "start": _START, "ahead": _AHEAD}),
    "stop_and_go": PhraseSpec("stop_and_go", (), ("stop and go", "traffic jam"), {"speed": _SPEED}),
    "change_lane": PhraseSpec("change_lane", ("change lanes", "switch lanes"), ("lane change",),
                              {"side": _SIDE, "start": _START, "ahead": _AHEAD}),
    "follow": PhraseSpec("follow", ("follow", "tailgate"), (), {"gap": _AHEAD}),
    "cut_in": PhraseSpec("cut_in", ("cut in", "squeeze in"), ("cut-in",),
                         {"side": _SIDE, "gap": _AHEAD, "speed": _SPEED, "start": _START}),
    "overtake": PhraseSpec("overtake", ("overtake", "pass"), (), {"side": _SIDE, "speed": _SPEED}),
    "merge": PhraseSpec("merge", ("merge",), ("on-ramp", "slip road"), {"side": _SIDE, "speed": _SPEED}),
    "turn_left": PhraseSpec("turn_left", ("turn left",), ("left turn",), {"speed": _SPEED}),
    "turn_right": PhraseSpec("turn_right", ("turn right",), ("right turn",), {"speed": _SPEED}),
    "roundabout": PhraseSpec("roundabout", ("go around the roundabout", "drive round the roundabout",
                                            "enter the roundabout", "take the exit", "take the first exit",
                                            "take the second exit", "take the third exit", "take the fourth exit",
                                            "take the last exit", "take the 1 st exit", "take the 2 nd exit",
                                            "take the 3 rd exit", "take the 4 th exit", "leave at the second exit", "go round the roundabout"),
                             ("roundabout", "traffic circle", "first exit", "second exit", "third exit", "fourth exit"),
                             {"exit": ("an exit ('takes the second exit', 'third exit')", ()), "speed": _SPEED,
                              "entry": ("'in front of us' (ahead), 'from the left' / 'from the right'", ())}),
    "u_turn": PhraseSpec("u_turn", ("make a u turn", "turn around"), ("u-turn",), {"speed": _SPEED}),
    "crossing_traffic": PhraseSpec("crossing_traffic", ("blow through the intersection",), ("cross traffic",),
                                   {"side": _SIDE, "speed": _SPEED}),
    "pedestrian_crossing": PhraseSpec("crossing", ("cross", "walk across"), ("crosswalk",),
                                      {"side": _SIDE, "ahead": _AHEAD, "speed": _SPEED, "start": _START}),
    "jaywalk": PhraseSpec("jaywalk", ("jaywalk",), ("jaywalking",), {"side": _SIDE, "ahead": _AHEAD}),
    "cyclist_crossing": PhraseSpec("crossing", ("ride across",), (), {"side": _SIDE, "ahead": _AHEAD}),
    "run_out": PhraseSpec("run_out", ("run out", "dart out", "dash out"), (), {"side": _SIDE, "ahead": _AHEAD}),
    "parked": PhraseSpec("parked", ("park",), ("parked",), {"side": _SIDE, "count": ("a count ('three')", ())}),
    "static_object": PhraseSpec("static", ("break down", "stall"), ("broken down", "stationary"),
                                {"lane": _LANE, "ahead": _AHEAD}),
    "cone_row": PhraseSpec(None, (), ("row of cones",), {"lane": _LANE, "count": ("a count", ())}),
    "work_zone": PhraseSpec(None, (), ("roadworks", "work zone"), {"lane": _LANE}),
    "then": PhraseSpec(None, (), ("then", "after that", "before", "after", "twice"),
                       {"start": _START, "after": _START, "times": ("'twice', 'three times'", ()),
                        "to_speed": _TO_SPEED}),
    "ego_reacts": PhraseSpec("react", ("react", "brake to avoid", "swerve to avoid"), ()),
    "traffic_light": PhraseSpec(None, (), ("traffic light", "red light", "traffic signal"),
                                {"main": ("'red light' for the ego", ())}),
    "stop_at_light": PhraseSpec("stop_at_light", ("stop at the red light", "wait at the light", "wait for green"),
                                (), {"speed": _SPEED, "run_red": ("'runs the red light'", ())}),
    "sidewalk_walk": PhraseSpec("walk", ("walk along the sidewalk", "stroll", "walk beside"),
                                (), {"side": _SIDE, "speed": _SPEED, "child": ("'child', 'kid', 'boy'", ())}),
    "pull_out": PhraseSpec("pull_out", ("pull out", "pull out of a parking spot", "leave the bus stop"), (),
                           {"side": _SIDE, "ahead": _AHEAD, "start": _START}),
    "animal": PhraseSpec(None, (), ("deer", "dog", "animal"), {"kind": ("'deer', 'dog', 'cow' ...", ()),
                                                                "ahead": _AHEAD, "lane": _LANE}),
}


def phrase_table() -> tuple[dict[str, str], dict[str, str]]:
    """(verb phrase -> manoeuvre tag, noun phrase -> manoeuvre tag) over every declaration with a tag."""
    verbs: dict[str, str] = {}
    nouns: dict[str, str] = {}
    for spec in PHRASES.values():
        if spec.maneuver is None:
            continue
        for v in spec.verbs:
            verbs.setdefault(v, spec.maneuver)
        for n in spec.nouns:
            nouns.setdefault(n, spec.maneuver)
    return verbs, nouns
