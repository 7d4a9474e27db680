"""Word lists for the offline interpreter: classes and their synonyms, the ego, manoeuvres, sides,
positions, speeds, counts, time of day, weather and road words.

Each entry maps a phrase (one or more words, lower case) to a (tag, value). Verb phrases are
listed in their base form and expanded to -s / -ing / -ed forms by `verb_forms`.
"""
from __future__ import annotations

from typing import Mapping, TypeVar

# ---------------------------------------------------------------------------------- helpers
_IRREGULAR = {
    "run": ["runs", "running", "ran"], "cut": ["cuts", "cutting"], "stop": ["stops", "stopping", "stopped"],
    "swerve": ["swerves", "swerving", "swerved"], "dart": ["darts", "darting", "darted"],
    "come": ["comes", "coming", "came"], "go": ["goes", "going", "went"], "drive": ["drives", "driving", "drove"],
    "overtake": ["overtakes", "overtaking", "overtook", "overtaken"], "pass": ["passes", "passing", "passed"],
    "slam": ["slams", "slamming", "slammed"], "step": ["steps", "stepping", "stepped"],
    "make": ["makes", "making", "made"], "ride": ["rides", "riding", "rode"], "pull": ["pulls", "pulling", "pulled"],
    "speed": ["speeds", "speeding", "sped"], "break": ["breaks", "breaking", "broke"],
    "get": ["gets", "getting", "got"], "sit": ["sits", "sitting", "sat"], "stand": ["stands", "standing", "stood"],
    "leave": ["leaves", "leaving", "left"], "brake": ["brakes", "braking", "braked"],
    "dash": ["dashes", "dashing", "dashed"], "cross": ["crosses", "crossing", "crossed"],
    "merge": ["merges", "merging", "merged"], "change": ["changes", "changing", "changed"],
    "move": ["moves", "moving", "moved"], "park": ["parks", "parking", "parked"],
    "jaywalk": ["jaywalks", "jaywalking", "jaywalked"], "walk": ["walks", "walking", "walked"],
    "follow": ["follows", "following", "followed"], "tailgate": ["tailgates", "tailgating", "tailgated"],
    "turn": ["turns", "turning", "turned"], "slow": ["slows", "slowing", "slowed"],
    "accelerate": ["accelerates", "accelerating", "accelerated"], "decelerate": ["decelerates", "decelerating",
                                                                                   "decelerated"],
    "halt": ["halts", "halting", "halted"], "travel": ["travels", "travelling", "traveling", "travelled", "traveled"],
    "cruise": ["cruises", "cruising", "cruised"], "approach": ["approaches", "approaching", "approached"],
    "jump": ["jumps", "jumping", "jumped"], "emerge": ["emerges", "emerging", "emerged"],
    "switch": ["switches", "switching", "switched"], "squeeze": ["squeezes", "squeezing", "squeezed"],
    "block": ["blocks", "blocking", "blocked"], "wait": ["waits", "waiting", "waited"],
    "head": ["heads", "heading", "headed"], "enter": ["enters", "entering", "entered"],
    "join": ["joins", "joining", "joined"], "creep": ["creeps", "creeping", "crept"],
    "queue": ["queues", "queuing", "queueing", "queued"], "take": ["takes", "taking", "took"],
    "blow": ["blows", "blowing", "blew"], "ignore": ["ignores", "ignoring", "ignored"],
    "hurry": ["hurries", "hurrying", "hurried"], "sprint": ["sprints", "sprinting", "sprinted"],
    "pop": ["pops", "popping", "popped"], "veer": ["veers", "veering", "veered"],
    "drift": ["drifts", "drifting", "drifted"], "chase": ["chases", "chasing", "chased"],
    "pursue": ["pursues", "pursuing", "pursued"], "wander": ["wanders", "wandering", "wandered"],
    "reverse": ["reverses", "reversing", "reversed"], "back": ["backs", "backing", "backed"],
    "stall": ["stalls", "stalling", "stalled"], "decide": ["decides", "deciding", "decided"],
    "appear": ["appears", "appearing", "appeared"], "keep": ["keeps", "keeping", "kept"],
    "proceed": ["proceeds", "proceeding", "proceeded"], "continue": ["continues", "continuing",
                                                                                           "continued"],
}


def verb_forms(phrase: str) -> list[str]:
    """The phrase with its first word in base, -s, -ing and past forms."""
    words = phrase.split()
    head, rest = words[0], words[1:]
    forms = [head] + _IRREGULAR.get(head, _regular(head))
    return [" ".join([f] + rest) for f in dict.fromkeys(forms)]


def _regular(w: str) -> list[str]:
    if w.endswith("e"):
        return [w + "s", w[:-1] + "ing", w + "d"]
    if w.endswith(("s", "sh", "ch", "x")):
        return [w + "es", w + "ing", w + "ed"]
    return [w + "s", w + "ing", w + "ed"]


V = TypeVar("V")


def _expand(entries: Mapping[str, V], verbs: bool = False) -> dict[str, V]:
    out: dict[str, V] = {}
    for phrase, value in entries.items():
        for p in (verb_forms(phrase) if verbs else [phrase]):
            out.setdefault(p, value)
    return out


# ---------------------------------------------------------------------------------- classes
CLASS_WORDS: dict[str, list[str]] = {
    "car": ["car", "vehicle", "sedan", "saloon", "suv", "van", "minivan", "hatchback", "taxi", "cab", "jeep", "pickup",
            "pick-up", "pickup truck", "coupe", "convertible", "ambulance", "police car", "cop car", "patrol car",
            "automobile", "estate car", "station wagon", "wagon", "limo", "limousine", "sports car", "delivery van",
            "camper van", "campervan", "minicab", "roadster", "crossover", "compact car", "electric car", "tesla",
            "auto", "motorcar", "motor vehicle", "mpv", "people carrier", "4x4", "racing car", "race car", "uber"],
    "truck": ["truck", "lorry", "hgv", "semi", "semi truck", "box truck", "delivery truck", "garbage truck",
              "dump truck", "fire truck", "fire engine", "tanker", "18 wheeler", "eighteen wheeler", "big rig",
              "rig", "articulated lorry", "tow truck", "cement truck", "moving truck", "heavy goods vehicle",
              "refuse truck", "bin lorry", "flatbed", "tipper", "pickup lorry"],
    "bus": ["bus", "coach", "minibus", "school bus", "double decker", "double-decker", "tram", "shuttle",
            "shuttle bus", "city bus", "trolleybus", "autobus"],
    "trailer": ["trailer", "semi trailer", "semi-trailer", "caravan", "horse trailer", "car transporter"],
    "construction_vehicle": ["construction vehicle", "excavator", "digger", "bulldozer", "crane", "road roller",
                             "steamroller", "forklift", "tractor", "cement mixer", "concrete mixer", "backhoe",
                             "grader", "loader", "front loader", "construction truck", "paver", "dozer"],
    "pedestrian": ["pedestrian", "person", "man", "woman", "kid", "child", "boy", "girl", "jogger", "runner",
                   "walker", "elderly person", "old man", "old woman", "old lady", "adult", "teenager", "teen",
                   "worker", "construction worker", "road worker", "jaywalker", "toddler", "student", "guy", "lady",
                   "human", "passer-by", "passerby", "pedestrain", "cop", "police officer", "officer",
                   "schoolchild", "schoolkid", "mother", "father", "skater",
                   "skateboarder", "dog walker", "tourist", "youngster", "infant", "senior", "wheelchair user",
                   "delivery driver", "delivery man", "courier", "postman", "mail carrier", "pedestrian with a pram"],
    "motorcycle": ["motorcycle", "motorbike", "motorcyclist", "biker", "scooter", "moped", "motor bike",
                   "dirt bike", "motor cycle", "motocycle", "superbike", "vespa", "rider on a motorcycle",
                   "delivery scooter", "motor scooter"],
    "bicycle": ["e scooter", "electric scooter", "kick scooter", "e scooter rider", "bicycle", "bike", "cyclist", "bicyclist", "bike rider", "e-bike", "ebike", "push bike", "pushbike",
                "cycle", "cargo bike", "bmx", "rider", "racing cyclist", "delivery cyclist", "bicycle rider"],
    "traffic_cone": ["cone", "traffic cone", "pylon", "safety cone", "road cone", "witch hat"],
    "barrier": ["barrier", "jersey barrier", "barricade", "road block", "roadblock", "bollard", "road barrier",
                "concrete barrier", "crash barrier", "water barrier", "fence", "guardrail", "guard rail"],
}
IRREGULAR_PLURALS = {"person": "people", "man": "men", "woman": "women", "child": "children", "bus": "buses",
                     "lorry": "lorries", "taxi": "taxis", "lady": "ladies", "passer-by": "passers-by",
                     "passerby": "passersby", "old lady": "old ladies", "old man": "old men",
                     "old woman": "old women", "schoolchild": "schoolchildren", "coach": "coaches",
                     "policeman": "policemen", "worker": "workers", "baby": "babies", "minibus": "minibuses",
                     "bollard": "bollards", "cab": "cabs", "infant": "infants", "city": "cities"}
CHILD_WORDS = {"kid", "child", "boy", "girl", "toddler", "schoolchild", "schoolkid", "youngster", "infant",
               "kids", "children", "boys", "girls", "toddlers", "schoolchildren", "schoolkids", "youngsters"}
RUNNER_WORDS = {"jogger", "runner", "joggers", "runners"}


def class_phrases() -> dict[str, tuple[str, bool, str]]:
    """phrase -> (class, is_plural, head word)."""
    out: dict[str, tuple[str, bool, str]] = {}
    for cls, words in CLASS_WORDS.items():
        for w in words:
            out.setdefault(w, (cls, False, w))
            parts = w.split()
            last = parts[-1]
            plural = IRREGULAR_PLURALS.get(w) or IRREGULAR_PLURALS.get(last)
            if plural and " " in w and plural == IRREGULAR_PLURALS.get(last):
                plural = " ".join(parts[:-1] + [plural])
            if not plural:
                if last.endswith(("s", "sh", "ch", "x")):
                    pl_last = last + "es"
                elif last.endswith("y") and last[-2:-1] not in "aeiou":
                    pl_last = last[:-1] + "ies"
                else:
                    pl_last = last + "s"
                plural = " ".join(parts[:-1] + [pl_last])
            out.setdefault(plural, (cls, True, w))
    return out


# ---------------------------------------------------------------------------------- the ego
EGO_PHRASES = [
    "ego", "the ego", "ego vehicle", "ego car", "the ego vehicle", "the ego car", "we", "us", "our car",
    "our vehicle", "i", "me", "my car", "my vehicle", "the self-driving car", "the self driving car",
    "the autonomous vehicle", "the autonomous car", "the av", "av", "the test vehicle", "the host vehicle",
    "host vehicle", "the subject vehicle", "subject vehicle", "our ego", "my ego", "the ego-vehicle",
    "ego-vehicle", "ourselves", "you", "your car", "self-driving car", "autonomous vehicle", "the robotaxi",
]

# ---------------------------------------------------------------------------------- manoeuvres
_MANEUVER_VERBS: dict[str, str] = {
    "cut in": "cut_in", "cut into": "cut_in", "cut off": "cut_in", "cut in front": "cut_in", "cut across": "cut_in",
    "squeeze in": "cut_in", "swerve in front": "cut_in", "pull in front": "cut_in", "pull in": "cut_in",
    "barge in": "cut_in", "dive in": "cut_in", "swoop in": "cut_in", "nip in": "cut_in",
    "swerve into our lane": "cut_in", "move into our lane": "cut_in", "pull into our lane": "cut_in",
    "change into our lane": "cut_in", "veer into our lane": "cut_in", "drift into our lane": "cut_in",
    "swerve into my lane": "cut_in", "move into my lane": "cut_in", "merge into our lane": "cut_in",
    "cut us off": "cut_in", "cut me off": "cut_in", "cut the ego off": "cut_in", "cut in on us": "cut_in",
    "weave through traffic": "change_lane", "weave between lanes": "change_lane", "weave": "change_lane",
    "zigzag": "change_lane",
    "overtake": "overtake", "pass": "overtake", "zoom past": "overtake", "speed past": "overtake",
    "overtake us": "overtake", "get past": "overtake",
    "merge": "merge", "join the highway": "merge", "join the motorway": "merge", "join the freeway": "merge",
    "enter the highway": "merge", "enter the motorway": "merge",
    "brake": "brake", "slow down": "brake", "decelerate": "brake", "stop": "brake",
    "come to a stop": "brake", "halt": "brake", "come to a halt": "brake", "hit the brakes": "emergency_stop",
    "slam on the brakes": "emergency_stop", "slam the brakes": "emergency_stop", "brake hard": "emergency_stop",
    "brake suddenly": "emergency_stop", "stop suddenly": "emergency_stop", "stop abruptly": "emergency_stop",
    "brake abruptly": "emergency_stop", "stop dead": "emergency_stop", "brake sharply": "emergency_stop",
    "accelerate": "accelerate", "speed up": "accelerate", "pull away": "accelerate", "take off": "accelerate",
    "pick up speed": "accelerate", "gather speed": "accelerate",
    "change lane": "change_lane", "change lanes": "change_lane", "switch lane": "change_lane",
    "switch lanes": "change_lane", "move over": "change_lane", "swerve": "change_lane",
    "move into the left lane": "change_lane", "move into the right lane": "change_lane",
    "move to the left lane": "change_lane", "move to the right lane": "change_lane",
    "turn left": "turn_left", "turn right": "turn_right", "make a left turn": "turn_left",
    "make a right turn": "turn_right", "take a left": "turn_left", "take a right": "turn_right",
    "make a u turn": "u_turn", "make a uturn": "u_turn", "u turn": "u_turn", "uturn": "u_turn",
    "turn around": "u_turn", "do a u turn": "u_turn", "perform a u turn": "u_turn", "pull a u turn": "u_turn",
    "follow": "follow", "tailgate": "follow", "keep behind": "follow", "chase": "follow", "pursue": "follow",
    "pull out": "pull_out", "pull out of a parking spot": "pull_out", "pull out of a parking space": "pull_out",
    "pull away from the kerb": "pull_out", "pull away from the curb": "pull_out", "pull out of the bus stop": "pull_out",
    "leave the bus stop": "pull_out", "leave a parking spot": "pull_out", "pull into traffic": "pull_out",
    "pull over": "brake",
    "park": "parked",
    "cross": "crossing", "walk across": "crossing", "ride across": "crossing", "walk over": "crossing",
    "jaywalk": "jaywalk",
    "run out": "run_out", "run into the road": "run_out", "run into the street": "run_out", "dart out": "run_out",
    "dart into": "run_out", "dash out": "run_out", "dash into": "run_out", "jump out": "run_out",
    "step out": "run_out", "emerge from between": "run_out", "emerge from behind": "run_out",
    "run onto the road": "run_out", "run across": "run_out", "dart across": "run_out", "dash across": "run_out",
    "pop out": "run_out", "run in front": "run_out", "dart in front": "run_out", "sprint across": "run_out",
    "run out into the road": "run_out", "run out into the street": "run_out", "chase a ball": "run_out",
    "run a red light": "run_red", "run the red light": "run_red",
    "run a red": "run_red", "blow through the intersection": "crossing_traffic",
    "blow the light": "run_red", "ignore the red light": "run_red", "jump the red light": "run_red",
    "jump the lights": "run_red", "go through the red light": "run_red", "drive through the red light": "run_red",
    "run the light": "run_red", "run a stop sign": "crossing_traffic", "run the stop sign": "crossing_traffic",
    "run through the stop sign": "crossing_traffic", "ignore the stop sign": "crossing_traffic",
    "blow through the stop sign": "crossing_traffic", "roll through the stop sign": "crossing_traffic",
    "step into the road": "crossing", "step onto the road": "crossing", "step off the kerb": "crossing",
    "step off the curb": "crossing", "step into the street": "crossing", "walk into the road": "crossing",
    "walk into the street": "crossing", "walk out into the road": "crossing", "walk onto the road": "crossing",
    "stop at the red light": "stop_at_light", "stop at the light": "stop_at_light",
    "stop at the traffic light": "stop_at_light", "stop at the traffic lights": "stop_at_light",
    "wait at the red light": "stop_at_light", "wait at the light": "stop_at_light",
    "wait at the traffic light": "stop_at_light", "wait at the traffic lights": "stop_at_light",
    "stop for the red light": "stop_at_light", "wait for the green light": "stop_at_light",
    "wait for green": "stop_at_light", "stop at a red light": "stop_at_light", "wait at a red light": "stop_at_light",
    "block": "static", "stall": "static", "break down": "static", "sit": "static", "stand": "static",
    "wait": "static",
    "drive": "forward", "travel": "forward", "cruise": "forward", "go straight": "forward", "come": "forward",
    "approach": "forward", "move": "forward", "ride": "forward", "go": "forward", "head": "forward",
    "proceed": "forward", "continue": "forward", "keep going": "forward", "drive straight": "forward",
    "reverse": "unsupported:reversing", "back up": "unsupported:reversing", "back out": "unsupported:reversing",
    "walk": "walk", "wander": "walk", "stroll": "walk", "walk along": "walk", "walk along the sidewalk": "walk",
    "walk along the pavement": "walk", "walk on the sidewalk": "walk", "walk on the pavement": "walk",
    "walk beside": "walk", "walk next to": "walk", "jog": "walk", "jog along": "walk",
    "stand on the sidewalk": "stand", "stand on the pavement": "stand", "stand at the kerb": "stand",
    "stand at the curb": "stand", "stand by the road": "stand", "stand beside the road": "stand",
    "run along": "walk", "run along the sidewalk": "walk", "run along the pavement": "walk",
    "jog along the sidewalk": "walk", "jog along the pavement": "walk", "run it": "run_red",
    "run through it": "run_red", "run the red": "run_red", "play": "stand", "chat": "stand",
    "wait for the bus": "stand", "loiter": "stand", "hang around": "stand", "react": "react", "brake to avoid": "react", "stop in time": "react",
    "swerve to avoid": "react", "avoid": "react", "evade": "react",
}
_MANEUVER_NOUNS: dict[str, str] = {
    "cut-in": "cut_in", "cutting in": "cut_in", "overtaking": "overtake", "overtaking maneuver": "overtake",
    "emergency stop": "emergency_stop", "emergency brake": "emergency_stop", "emergency braking": "emergency_stop",
    "hard braking": "emergency_stop", "sudden braking": "emergency_stop", "sudden stop": "emergency_stop",
    "slows": "brake", "slowing": "brake", "slowed": "brake", "full stop": "brake", "stop and go": "stop_and_go", "stop-and-go": "stop_and_go", "traffic jam": "stop_and_go",
    "congestion": "stop_and_go", "queue": "stop_and_go", "queuing": "stop_and_go", "stop and start": "stop_and_go",
    "rush hour traffic": "stop_and_go", "gridlock": "stop_and_go", "bumper to bumper": "stop_and_go",
    "creeping": "stop_and_go", "lane change": "change_lane", "lane-change": "change_lane",
    "left turn": "turn_left", "right turn": "turn_right", "u-turn": "u_turn", "u turn": "u_turn",
    "parked": "parked", "parking": "parked",
    "crossing": "crossing", "jaywalking": "jaywalk",
    "red light runner": "run_red", "red-light runner": "run_red", "red light violation": "run_red",
    "cross traffic": "crossing_traffic", "crossing traffic": "crossing_traffic",
    "broken down": "static", "broken-down": "static", "stalled": "static", "stopped": "static",
    "queued": "static", "queueing": "static", "lined up": "static",
    "double parked": "static", "double-parked": "static", "rush hour": "stop_and_go",
    "stationary": "static", "disabled": "static", "crashed": "static", "stuck": "static", "abandoned": "static",
    "standing still": "static", "at a standstill": "static", "wrecked": "static", "hazard lights": "static",
    "on-ramp": "merge", "on ramp": "merge", "onramp": "merge", "slip road": "merge", "entrance ramp": "merge",
    "merging lane": "merge", "merge lane": "merge", "acceleration lane": "merge",
    "waiting at the light": "stop_at_light", "waiting at the red light": "stop_at_light",
    "stopped at the light": "stop_at_light", "stopped at the red light": "stop_at_light",
    "wrong way": "unsupported:wrong-way driving", "wrong-way": "unsupported:wrong-way driving",
    "ghost driver": "unsupported:wrong-way driving", "roundabout": "roundabout", "rotary": "roundabout",
    "traffic circle": "roundabout", "drifting": "unsupported:drifting",
    "lane splitting": "unsupported:lane splitting", "filtering": "unsupported:lane splitting",
    "three-point turn": "unsupported:three-point turns", "tunnel": "unsupported:tunnels",
    "bridge": "unsupported:bridges", "parking lot": "unsupported:parking lots", "car park": "unsupported:car parks",
    "toll": "unsupported:toll booths", "railway crossing": "unsupported:level crossings",
    "level crossing": "unsupported:level crossings", "train": "unsupported:trains",
    "ball": "note:ball",
}

def _declared() -> tuple[dict[str, str], dict[str, str]]:
    """The phrases each library function declares (engine.library.phrases): a function added with a
    declaration is understood without editing these lists."""
    from engine.library.phrases import phrase_table

    return phrase_table()


_DECLARED_VERBS, _DECLARED_NOUNS = _declared()
MANEUVERS: dict[str, str] = {**_expand(_DECLARED_VERBS, verbs=True), **_DECLARED_NOUNS,
                             **_expand(_MANEUVER_VERBS, verbs=True), **_MANEUVER_NOUNS}

#: When several manoeuvres are said of one agent, the more specific one wins.
MANEUVER_PRIORITY = ["run_red", "crossing_traffic", "run_out", "jaywalk", "cut_in", "overtake", "merge", "u_turn",
                     "roundabout", "turn_left", "turn_right", "stop_at_light", "emergency_stop", "stop_and_go", "change_lane",
                     "crossing", "follow", "pull_out", "brake", "accelerate", "walk", "stand", "static", "parked",
                     "forward", "react"]

#: Manoeuvres `then(agent, ...)` can append (offline name -> the sequence manoeuvre), for vehicles
#: and for walkers; the rest can only start an agent's motion.
FOLLOWUPS_VEHICLE = {"brake": "brake", "emergency_stop": "emergency_stop", "accelerate": "accelerate",
                     "change_lane": "change_lane", "static": "stop", "stop_and_go": "stop"}
FOLLOWUPS_WALKER = {"walk": "walk", "brake": "stop", "static": "stop", "emergency_stop": "stop", "run_out": "run",
                    "accelerate": "run", "stand": "stop"}
#: Library functions whose agents take further manoeuvres (engine.library.functions.sequences).
SEQUENCEABLE = {"forward", "accelerate", "brake", "emergency_stop", "change_lane", "stop_and_go", "cut_in", "merge",
                "stop_at_light", "pull_out", "sidewalk_walk", "ego"}

# ---------------------------------------------------------------------------------- animals
ANIMAL_WORDS = {"deer": "deer", "stag": "deer", "moose": "deer", "elk": "deer", "dog": "dog",
                "puppy": "dog", "stray dog": "dog", "cat": "cat", "fox": "dog", "cow": "cow", "cattle": "cow",
                "sheep": "dog", "goat": "dog", "horse": "horse", "pony": "horse", "animal": "animal",
                "wild animal": "animal", "boar": "dog", "wild boar": "dog", "kangaroo": "deer"}

# ---------------------------------------------------------------------------------- modifiers
REPEAT_WORDS = {"twice": 2, "two times": 2, "three times": 3, "thrice": 3, "again": 2, "back and forth": 2}
SUDDEN_WORDS = {"harder", "suddenly", "abruptly", "hard", "sharply", "unexpectedly", "without warning", "all of a sudden",
                "without signalling", "without signaling", "without indicating", "without looking",
                "at the last moment", "at the last second", "violently", "aggressively", "recklessly",
                "dangerously", "emergency", "panic", "urgently", "harshly"}
SLOW_WORDS = {"slowly", "slow", "slow-moving", "slow moving", "crawling", "leisurely", "gently", "gradually",
              "carefully", "cautiously", "at low speed", "at a low speed", "slower"}
FAST_WORDS = {"fast", "quickly", "speeding", "at high speed", "at a high speed", "rapidly", "racing", "at speed",
              "high-speed", "high speed", "faster", "quick", "speedy", "hurrying"}
CLOSE_WORDS = {"closely", "close", "tight", "tightly", "very close", "dangerously close", "too close",
               "narrowly", "right in front", "just in front", "barely"}
CONTACT_WORDS = {"collides", "collide", "collision", "crashes into", "crash into", "hits", "hit", "rear-ends",
                 "rear ends", "sideswipes", "sideswipe", "bumps into", "strikes", "t-bones", "t-bone", "smashes into"}
STANDSTILL_WORDS = {"from a stop", "from standstill", "from a standstill", "from rest", "from stationary",
                    "from a standing start", "from zero"}
RUNNING_WORDS = {"running", "runs", "run", "sprinting", "sprints", "dashing", "dashes", "hurrying", "jogging"}

# ---------------------------------------------------------------------------------- sides and positions
SIDE_PHRASES: dict[str, tuple[str, str]] = {
    # phrase -> (side, relation): relation 'from' (origin), 'to' (destination), 'on' (where)
    "from the left": ("left", "from"), "from the right": ("right", "from"), "from left": ("left", "from"),
    "from right": ("right", "from"), "from the left side": ("left", "from"), "from the right side": ("right", "from"),
    "from the left lane": ("left", "from"), "from the right lane": ("right", "from"),
    "from our left": ("left", "from"), "from our right": ("right", "from"), "from my left": ("left", "from"),
    "from my right": ("right", "from"), "from the left-hand side": ("left", "from"),
    "from the right-hand side": ("right", "from"), "from the kerb": ("right", "from"), "from the curb": ("right", "from"),
    "from the sidewalk": ("right", "from"), "from the pavement": ("right", "from"),
    "to the left": ("left", "to"), "to the right": ("right", "to"), "into the left lane": ("left", "to"),
    "into the right lane": ("right", "to"), "left": ("left", "on"), "right": ("right", "on"),
    "on the left": ("left", "on"), "on the right": ("right", "on"), "on our left": ("left", "on"),
    "on our right": ("right", "on"), "on my left": ("left", "on"), "on my right": ("right", "on"),
    "left side": ("left", "on"), "right side": ("right", "on"), "left-hand": ("left", "on"),
    "right-hand": ("right", "on"), "on the left side": ("left", "on"), "on the right side": ("right", "on"),
    "leftward": ("left", "to"), "rightward": ("right", "to"), "towards the left": ("left", "to"),
    "towards the right": ("right", "to"), "on the left-hand side": ("left", "on"),
    "on the right-hand side": ("right", "on"), "at the kerb": ("right", "on"), "at the curb": ("right", "on"),
    "by the kerb": ("right", "on"), "by the curb": ("right", "on"), "on the shoulder": ("right", "on"),
    "on the hard shoulder": ("right", "on"), "roadside": ("right", "on"), "by the roadside": ("right", "on"),
    "at the side of the road": ("right", "on"), "on the side of the road": ("right", "on"),
    "at the bus stop": ("right", "on"), "at a bus stop": ("right", "on"), "bus stop": ("right", "on"),
    "in a parking spot": ("right", "on"), "in a parking space": ("right", "on"),
}
POSITION_PHRASES: dict[str, str] = {
    "ahead": "ahead", "in front": "ahead", "in front of us": "ahead", "in front of me": "ahead",
    "ahead of us": "ahead", "ahead of me": "ahead", "up ahead": "ahead", "leading": "ahead", "lead": "ahead",
    "preceding": "ahead", "down the road": "ahead", "in front of the ego": "ahead", "further ahead": "ahead",
    "directly ahead": "ahead", "right ahead": "ahead", "just ahead": "ahead", "before us": "ahead",
    "behind": "behind", "behind us": "behind", "behind me": "behind", "from behind": "behind",
    "in the rear": "behind", "at the rear": "behind", "to our rear": "behind", "behind the ego": "behind",
    "in our mirror": "behind", "in the mirror": "behind",
    "oncoming": "oncoming", "in the opposite direction": "oncoming", "the opposite direction": "oncoming",
    "from the opposite direction": "oncoming", "opposite direction": "oncoming", "the other way": "oncoming",
    "the other direction": "oncoming", "coming towards us": "oncoming", "coming toward us": "oncoming",
    "towards us": "oncoming", "toward us": "oncoming", "head-on": "oncoming", "head on": "oncoming",
    "opposing": "oncoming", "approaching us": "oncoming", "from the other direction": "oncoming",
    "in the oncoming lane": "oncoming", "in the opposite lane": "oncoming", "opposite lane": "oncoming",
    "across the centre line": "oncoming", "across the center line": "oncoming",
    "next to us": "alongside", "alongside": "alongside", "alongside us": "alongside", "beside us": "alongside",
    "beside": "alongside", "adjacent": "alongside", "in the next lane": "alongside", "in the adjacent lane": "alongside",
    "next to me": "alongside", "in the lane next to us": "alongside", "next to": "alongside",
}
LANE_PHRASES: dict[str, str] = {
    "in our lane": "same", "in my lane": "same", "our lane": "same", "my lane": "same", "same lane": "same",
    "the same lane": "same", "in the same lane": "same", "in the ego lane": "same", "ego lane": "same",
    "in the left lane": "left", "left lane": "left", "in the right lane": "right", "right lane": "right",
    "the left lane": "left", "the right lane": "right", "fast lane": "left", "the fast lane": "left",
    "overtaking lane": "left", "passing lane": "left", "slow lane": "right", "the slow lane": "right",
    "inside lane": "right", "outside lane": "left", "in the fast lane": "left", "in the slow lane": "right",
    "our path": "same", "our way": "same", "across our path": "same", "in our path": "same", "in our way": "same",
    "the middle of the road": "same", "in the middle of the road": "same",
}

# ---------------------------------------------------------------------------------- environment
TIME_OF_DAY: dict[str, str] = {
    "night": "night", "nighttime": "night", "night-time": "night", "at night": "night", "dark": "night",
    "darkness": "night", "midnight": "night", "after dark": "night", "late at night": "night", "nightfall": "night",
    "dusk": "dusk", "dawn": "dusk", "twilight": "dusk", "sunset": "dusk", "sunrise": "dusk", "evening": "dusk",
    "golden hour": "dusk", "daybreak": "dusk", "early morning": "dusk", "low sun": "dusk",
    "day": "day", "daytime": "day", "noon": "day", "midday": "day", "morning": "day", "afternoon": "day",
    "daylight": "day", "broad daylight": "day", "during the day": "day", "in the day": "day",
}
WEATHER: dict[str, str] = {
    "rain": "rain", "rainy": "rain", "raining": "rain", "rainstorm": "rain", "drizzle": "rain", "drizzling": "rain",
    "downpour": "rain", "wet": "rain", "storm": "rain", "stormy": "rain", "thunderstorm": "rain", "showers": "rain",
    "pouring": "rain", "heavy rain": "rain", "light rain": "rain", "rainfall": "rain", "wet road": "rain",
    "puddles": "rain", "monsoon": "rain",
    "fog": "fog", "foggy": "fog", "mist": "fog", "misty": "fog", "haze": "fog", "hazy": "fog", "smog": "fog",
    "dense fog": "fog", "thick fog": "fog", "low visibility": "fog", "poor visibility": "fog",
    "snow": "snow", "snowy": "snow", "snowing": "snow", "blizzard": "snow", "sleet": "snow", "snowfall": "snow",
    "icy": "snow", "ice": "snow", "snowstorm": "snow", "slush": "snow", "frost": "snow", "winter": "snow",
    "clear": "clear", "sunny": "clear", "dry": "clear", "bright": "clear", "clear sky": "clear",
    "clear skies": "clear", "fine weather": "clear", "good weather": "clear",
}

# ---------------------------------------------------------------------------------- road
ROAD_PHRASES: dict[str, str] = {
    "intersection": "intersection", "junction": "intersection", "crossroads": "intersection",
    "crossroad": "intersection", "traffic light": "signal", "traffic lights": "signal", "traffic signal": "signal",
    "traffic signals": "signal", "signalised intersection": "signal", "signalized junction": "signal",
    "red light": "red_signal", "red lights": "red_signal", "on red": "red_signal",
    "along the sidewalk": "sidewalk", "along the pavement": "sidewalk", "on the sidewalk": "sidewalk",
    "on the pavement": "sidewalk", "on the footpath": "sidewalk", "along the footpath": "sidewalk",
    "beside the road": "sidewalk", "by the road": "sidewalk", "along the road": "sidewalk",
    "green light": "green_signal", "the green light": "green_signal", "turns green": "green_signal",
    "the light turns green": "green_signal", "at the lights": "signal", "the lights": "signal",
    "stop sign": "intersection", "four-way stop": "intersection", "4-way stop": "intersection",
    "signalized intersection": "signal", "t-junction": "intersection", "crossing road": "intersection",
    "highway": "highway", "motorway": "highway", "freeway": "highway", "expressway": "highway",
    "interstate": "highway", "dual carriageway": "highway", "autobahn": "highway", "multi-lane road": "highway",
    "multilane road": "highway", "three-lane road": "highway", "3-lane road": "highway",
    "narrow road": "narrow", "narrow street": "narrow", "single-lane road": "narrow", "single lane road": "narrow",
    "two-lane road": "narrow", "country road": "narrow", "rural road": "narrow", "back road": "narrow",
    "residential street": "residential", "residential road": "residential", "neighborhood": "residential",
    "neighbourhood": "residential", "school zone": "residential", "suburb": "residential", "suburban": "residential",
    "crosswalk": "crosswalk", "zebra crossing": "crosswalk", "zebra": "crosswalk",
    "at the pedestrian crossing": "crosswalk", "at a pedestrian crossing": "crosswalk",
    "on the pedestrian crossing": "crosswalk", "on a pedestrian crossing": "crosswalk",
    "crossing point": "crosswalk", "at the crossing": "crosswalk", "pelican crossing": "crosswalk",
    "mid-block": "midblock", "midblock": "midblock", "not at a crosswalk": "midblock",
    "outside the crosswalk": "midblock", "away from the crosswalk": "midblock", "between crossings": "midblock",
    "roadworks": "work_zone", "road works": "work_zone", "roadwork": "work_zone", "road work": "work_zone",
    "construction zone": "work_zone", "work zone": "work_zone", "construction site": "work_zone",
    "construction": "work_zone", "lane closure": "work_zone", "lane closed": "work_zone", "closed lane": "work_zone",
    "works": "work_zone", "maintenance": "work_zone", "repair": "work_zone", "repairs": "work_zone",
    "between parked cars": "between_parked", "between two parked cars": "between_parked",
    "between the parked cars": "between_parked", "from between parked cars": "between_parked",
    "behind a parked car": "between_parked", "from behind a parked car": "between_parked",
    "behind parked cars": "between_parked", "from behind parked cars": "between_parked",
    "between parked vehicles": "between_parked", "behind a parked van": "between_parked",
    "from behind a parked van": "between_parked", "from behind a parked truck": "between_parked",
    "behind a parked truck": "between_parked", "from behind a bus": "between_parked",
    "from behind a parked bus": "between_parked", "between cars": "between_parked",
    "row of": "row", "a row of": "row", "line of": "row", "a line of": "row",
}

# ---------------------------------------------------------------------------------- numbers
NUMBER_WORDS: dict[str, int] = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "a hundred": 100, "a dozen": 12, "dozen": 12,
    "half a dozen": 6, "single": 1, "a single": 1, "both": 2,
}
COUNT_PHRASES: dict[str, int] = {
    "a": 1, "an": 1, "another": 1, "one more": 1, "a couple of": 2, "a couple": 2, "couple of": 2, "a pair of": 2,
    "pair of": 2, "a few": 3, "few": 3, "several": 3, "some": 2, "a group of": 4, "group of": 4, "a bunch of": 4,
    "a crowd of": 5, "crowd of": 5, "many": 5, "lots of": 5, "a lot of": 5, "multiple": 3, "numerous": 5,
    "a handful of": 3, "a gang of": 4, "a family of": 3, "a stream of": 4, "a line of cars": 4,
}
SPEED_UNITS: dict[str, str] = {
    "km/h": "kmh", "kmh": "kmh", "kph": "kmh", "kmph": "kmh", "km per hour": "kmh", "kilometers per hour": "kmh",
    "kilometres per hour": "kmh", "kilometer per hour": "kmh", "kilometre per hour": "kmh", "k/h": "kmh",
    "mph": "mph", "miles per hour": "mph", "mile per hour": "mph", "m/s": "mps", "mps": "mps",
    "meters per second": "mps", "metres per second": "mps", "meter per second": "mps", "metre per second": "mps",
}
DISTANCE_UNITS = {"m": 1.0, "meter": 1.0, "meters": 1.0, "metre": 1.0, "metres": 1.0, "ft": 0.3048,
                  "feet": 0.3048, "foot": 0.3048, "yards": 0.9144, "yard": 0.9144, "yd": 0.9144,
                  "car lengths": 4.6, "car length": 4.6}
TIME_UNITS = {"s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0}

# ---------------------------------------------------------------------------------- clause structure
CLAUSE_BREAKS = {"while", "whilst", "as", "when", "then", "meanwhile", "and then", "after that", "but", "whereas",
                 "just as", "at the same time", "simultaneously", "before", "after", "until", "so", "because",
                 "since", "although", "though", "which", "who", "that", "and", "also", "plus"}
RELATIVE_PRONOUNS = {"that", "which", "who"}
OBJECT_PREPOSITIONS = {"of", "past", "behind", "around", "towards", "toward", "to", "into", "than", "beside",
                       "follows", "at"}

#: Words that carry no meaning for the interpreter (not reported as not understood).
STOPWORDS = set("""
a an the this that these those there here it its it's is are was were be been being am do does did doing
has have had having will would shall should can could may might must to of in on at by for with from into onto
upon about over under up down out off through across along around near nearby just very really quite so too also
still even then than as while when where which who whom whose what how why if because suddenly and or but nor
not no yes our my your their his her them they he she we us i me you him one ones some any each every all both
either neither other another such own same few more most much many lot lots bit very scene scenario situation
case corner road street roads streets lane lanes way traffic time moment someone something somebody begins begin
starts start started starting tries try trying attempts attempt attempting decides decide happens happen appears
appear seems seem gets get getting got goes being again soon quickly later now currently ahead while driving
drive side front back middle edge centre center other direction directions lights light distance metres meters
m s km h seconds second speed speeds limit its normal normally typical typically busy heavy light city urban town
downtown area zone location place spot point kerb curb sidewalk pavement footpath path line lines marking
markings sign signs signal signals green red yellow amber close closer near nearer far farther further
right-of-way priority view visible visibility hidden sight mirror mirrors blind spot spots environment weather
conditions condition setting sky test testing case edge situation sudden unexpected dangerous risky tricky
during stroller pram buggy pushing carrying holding walking wearing its hazard hazards
scenario-like like same exactly around about approximately roughly almost nearly towing tows tow hauling
""".split())
