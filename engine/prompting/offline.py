"""The offline prompt interpreter: English prompt -> readable library script, deterministically.

Reads the prompt's clauses (`engine.prompting.parse`), gathers one actor per mentioned agent (the
ego included) with its manoeuvre, side, lane, position, speed and modifiers, plans the road
(lanes, intersection) and the environment, and writes one library call per agent. Words and
clauses it could not use are reported in `Interpretation.not_understood`, never silently dropped.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Sequence

from engine.prompting.asks import CONTACT, VOCABULARY, Ask, asks_of, names_a_threshold
from engine.prompting.parse import Clause, Mention, clauses
from engine.prompting import lexicon as L

VEHICLE_CLASSES = ("car", "truck", "bus", "trailer", "construction_vehicle", "motorcycle", "bicycle")
MAX_COUNT = 10
#: Manoeuvres that describe part of another one (a red-light runner "crosses"; a cut-in "changes lanes").
_WAIT_FIRST = {"stand", "static", "walk", "brake"}     # crossers wait at the kerb before they set off
SAME_MOTION = {"run_red": {"crossing", "crossing_traffic"}, "crossing_traffic": {"crossing", "run_red"},
               "run_out": {"crossing", "jaywalk"} | _WAIT_FIRST, "jaywalk": {"crossing"} | _WAIT_FIRST,
               "crossing": {"jaywalk", "run_out"} | _WAIT_FIRST,
               "cut_in": {"change_lane", "overtake", "accelerate"}, "merge": {"change_lane"},
               "overtake": {"change_lane", "accelerate"}, "pull_out": {"accelerate", "cut_in", "merge"},
               "u_turn": {"turn_left"}, "roundabout": {"turn_left", "turn_right", "u_turn", "forward"},
               "change_lane": {"overtake", "merge", "cut_in"}, "stop_at_light": {"accelerate", "forward", "brake", "static", "pull_out"}}
RED_RUN_DURATION = 8.0       # s: the clip length for a red-light run that does not say one
SEQUENCE_DURATION = 12.0     # s: the clip length for prompts with manoeuvre sequences that do not say one
SLOW_SPEED = {"pedestrian": 0.9, "bicycle": 2.5, "motorcycle": 5.0}
FAST_SPEED = {"pedestrian": 3.0, "bicycle": 7.0, "motorcycle": 20.0, "car": 17.0, "truck": 14.0, "bus": 13.0}
TOP_SPEED = {"car": 45.0, "truck": 33.0, "bus": 30.0, "trailer": 30.0, "construction_vehicle": 15.0,
             "motorcycle": 50.0, "bicycle": 14.0, "pedestrian": 7.0}


@dataclass(frozen=True)
class Interpretation:
    """What the interpreter made of a prompt: the script, the calls in it, what it did not understand,
    and what the prompt asks the checks to confirm (`asks`: contact, near miss ...)."""

    prompt: str
    script: str
    calls: tuple[str, ...]
    not_understood: tuple[str, ...]
    notes: tuple[str, ...] = ()
    asks: tuple[Ask, ...] = ()
    duration: float | None = None          # the clip length the prompt asks for ("for 10 seconds"), if any

    @property
    def complete(self) -> bool:
        """Whether every word of the prompt was used (nothing dropped, nothing not understood)."""
        return not self.not_understood


@dataclass
class Step:
    """One manoeuvre said of an actor, in the order the prompt puts them ("then", "after", "before")."""

    maneuver: str
    clause: Clause
    order: int
    after: float | None = None          # seconds after the previous manoeuvre ("then, 2 s later, ...")


@dataclass
class Actor:
    """One agent (or a group of `count` alike) the prompt talks about."""

    cls: str
    count: int = 1
    head: str = ""
    maneuvers: list[str] = field(default_factory=list)
    side: tuple[str, str] | None = None
    position: str | None = None
    lane: str | None = None
    speed: tuple[float, str] | None = None
    to_speed: tuple[float, str] | None = None
    distance: float | None = None
    time: float | None = None
    modifiers: set[str] = field(default_factory=set)
    road: set[str] = field(default_factory=set)
    target: "Actor | None" = None
    implicit: bool = False
    skip: bool = False
    var: str = ""
    steps: list[Step] = field(default_factory=list)

    @property
    def is_ego(self) -> bool:
        return self.cls == "ego"

    def absorb(self, c: Clause) -> None:
        if any(w in c.text for w in ("weav", "zigzag")) and "change_lane" in c.maneuvers:
            c.modifiers.add("repeat:3")                 # weaving: lane changes back and forth
        new = [m for m in c.maneuvers if m in L.MANEUVER_PRIORITY]
        if not new and "running" in c.modifiers and self.cls == "pedestrian" and self.steps and c.subject is None:
            new = ["run_out"]                          # "... and then runs"
            c.maneuvers = c.maneuvers + new
        if (not new and c.side and c.subject is None and self.steps and self.steps[-1].maneuver == "change_lane"
                and c.joiner in ("then", "and then", "after that", ",", "and")):
            new = ["change_lane"]                      # "... changes lanes to the left and then back to the right"
            c.maneuvers = c.maneuvers + new
        if not new and c.time is not None and self.steps and c.joiner in ("after", "then", ","):
            self.steps[-1].after = c.time           # "... then brakes, after 3 seconds"
            return
        followup_clause = (bool(new) and bool(self.steps) and c.subject is None
                           and all(m in self.followups or m == "forward" for m in new))
        if new:
            if c.joiner == "after" and self.steps:     # "X after Y": Y happened first
                last = self.steps[-1].order
                at = next(i for i, st in enumerate(self.steps) if st.order == last)
                self.steps[at:at] = [Step(m, c, last) for m in new]
                for st in self.steps[at + len(new):]:
                    st.order += 1
            else:
                order = (self.steps[-1].order + 1) if self.steps else 0
                self.steps += [Step(m, c, order) for m in new]
        self.maneuvers += c.maneuvers
        if followup_clause:                  # its speeds, sides and times belong to that later step
            self.modifiers |= {m for m in c.modifiers if not m.startswith("repeat:") and m != "sudden"}
            self.road |= c.road
            return
        if c.side and (self.side is None or self.side[1] == "on"):
            self.side = c.side
        self.position = self.position or c.position
        self.lane = self.lane or c.lane
        self.speed = self.speed or c.speed
        self.to_speed = self.to_speed or c.to_speed
        self.distance = self.distance if self.distance is not None else c.distance
        self.time = self.time if self.time is not None else c.time
        self.modifiers |= c.modifiers
        self.road |= c.road

    @property
    def has_detail(self) -> bool:
        return bool(self.maneuvers or self.side or self.position or self.lane or self.speed or self.distance)

    @property
    def followups(self) -> dict[str, str]:
        return L.FOLLOWUPS_WALKER if self.cls == "pedestrian" else L.FOLLOWUPS_VEHICLE

    def maneuver(self) -> str | None:
        """The manoeuvre that starts the agent's motion: the most specific one that cannot be appended
        to a motion; when all can (brake, accelerate, walk ...), the first said."""
        ms = [m for m in self.maneuvers if m in L.MANEUVER_PRIORITY and m != "react"]
        if not ms:
            return None
        starters = [m for m in ms if m not in self.followups and m != "forward"]
        if "pull_out" in starters and set(starters) <= {"pull_out"} | SAME_MOTION["pull_out"]:
            return "pull_out"                  # "leaves the bus stop and merges into our lane"
        if starters:
            return min(starters, key=L.MANEUVER_PRIORITY.index)
        ordered = [st for st in self.steps if st.maneuver not in ("forward", "react")]
        if ordered:                     # the most specific of the first clause that says one
            first = [st.maneuver for st in ordered if st.order == ordered[0].order]
            return min(first, key=L.MANEUVER_PRIORITY.index)
        return min(ms, key=L.MANEUVER_PRIORITY.index)

    def repeat(self, step_maneuver: str) -> int:
        for st in self.steps:
            if st.maneuver == step_maneuver:
                for mod in st.clause.modifiers:
                    if mod.startswith("repeat:"):
                        return int(mod.split(":")[1])
        return 1


#: A call's arguments as the script writes them: (keyword or None for positional, source text).
Args = list[tuple[str | None, str]]


class _Writer:
    """Collects script lines and the functions called."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.calls: list[str] = []
        self.used: dict[str, int] = {}
        self.work_zone_done = False
        self.busy_lanes: set[str] = set()      # lanes other agents move out of (keep work zones clear of them)

    def var(self, head: str) -> str:
        base = "".join(ch if ch.isalnum() else "_" for ch in head.lower()).strip("_") or "agent"
        if base[0].isdigit():
            base = "v_" + base
        if base in ("ego",) or base in _RESERVED:
            base += "_agent"
        self.used[base] = self.used.get(base, 0) + 1
        return f"{base}_{self.used[base]}"

    def call(self, fn: str, args: Sequence[tuple[str | None, str]], var: str | None = None,
             comment: str = "") -> None:
        text = ", ".join(v if k is None else f"{k}={v}" for k, v in args)
        line = f"{fn}({text})"
        if var:
            line = f"{var} = {line}"
        if comment:
            line += f"  # {comment}"
        self.lines.append(line)
        self.calls.append(fn)


_RESERVED = {"range", "len", "min", "max", "abs", "round", "int", "float", "kmh", "mph"}


def _q(s: str) -> str:
    return json.dumps(s)


def _num(v: float) -> str:
    return repr(round(float(v), 2))


def _speed_expr(spec: tuple[float, str]) -> tuple[str, float]:
    v, unit = spec
    if unit == "kmh":
        return f"kmh({_num(v)})", v / 3.6
    if unit == "mph":
        return f"mph({_num(v)})", v * 0.44704
    return _num(v), v


class OfflineInterpreter:
    """Deterministic English -> script translation; `interpret(prompt)` -> Interpretation."""

    def __init__(self, duration: float = 2.75) -> None:
        self.duration = duration
        self._base_duration = duration
        self._dropped: list[str] = []
        self._auto_react = False

    # ---- reading -----------------------------------------------------------------------
    def _gather(self, cls_list: list[Clause]) -> tuple[Actor, list[Actor], dict[str, str], list[str], list[str]]:
        ego = Actor("ego", head="ego")
        actors: list[Actor] = []
        env: dict[str, str] = {}
        unknown: list[str] = []
        notes: list[str] = []
        last: Actor | None = None
        last_object: Actor | None = None
        bare_prev: Actor | None = None
        for c in cls_list:
            if names_a_threshold(c.text):
                c.time = None                  # "TTC under 1.5 s" is a threshold, not a start time
            if c.time_of_day and "time_of_day" not in env:
                env["time_of_day"] = c.time_of_day
            if c.weather and "weather" not in env:
                env["weather"] = c.weather
            for u in c.unsupported:
                unknown.append(f"not supported: {u} (in '{c.text}')")
            if c.unknown:
                unknown.append(f"{' '.join(dict.fromkeys(c.unknown))} (in '{c.text}')")
            actor: Actor | None = None
            if "work_zone" in c.road and (c.subject is None or c.subject.cls in ("traffic_cone", "barrier")):
                actor = next((a for a in actors if "work_zone" in a.road), None)
                if actor is None:
                    actor = Actor("traffic_cone", 1, "work_zone")
                    actors.append(actor)
            elif c.subject is not None:
                actor = self._actor_for(c.subject, ego, actors)
            elif c.joiner in L.RELATIVE_PRONOUNS and last_object is not None:
                actor = last_object            # "... a motorbike that runs a red light"
            elif "run_red" in c.maneuvers and (last is None or last.is_ego) and not any(
                    o.is_ego and o.head != "object" for o in c.objects):
                actor = Actor("car", 1, "red_light_runner")      # "a red-light runner ..."
                actors.append(actor)
            elif c.maneuvers or c.speed or c.to_speed or c.side or c.position or c.lane or c.distance is not None:
                actor = last if last is not None else ego
            elif c.time is not None and last is not None and c.subject is None:
                actor = last                   # "..., then brakes after 3 seconds"
            if actor is None:
                if c.road:
                    ego.road |= c.road
                elif not c.is_empty and not (c.time_of_day or c.weather) and "contact" not in c.modifiers:
                    unknown.append(f"'{c.text}'")          # ("... and collides with us" is read by asks_of)
                continue
            if c.unsupported and not c.maneuvers and c.subject is not None and not actor.is_ego:
                actor.skip = True
            if (c.joiner == "and" and bare_prev is not None and bare_prev is not actor
                    and not bare_prev.has_detail and c.maneuvers):
                bare_prev.absorb(c)            # "a car and a truck overtake us"
            actor.absorb(c)
            if c.road:
                ego.road |= c.road - {"work_zone"}
            obj = next((o for o in c.objects if not o.is_ego), None)
            last_object = None
            if obj is not None and actor.target is None:
                actor.target = self._object_for(obj, actors, actor, c)
                last_object = actor.target
            last = actor
            bare_prev = actor if not actor.has_detail and not actor.is_ego else None
        return ego, actors, env, unknown, notes

    def _actor_for(self, m: Mention, ego: Actor, actors: list[Actor]) -> Actor:
        if m.is_ego:
            return ego
        if m.definite:
            for a in reversed(actors):
                if a.cls == m.cls and not a.implicit:
                    return a
            for a in reversed(actors):
                if a.cls == m.cls:
                    a.implicit = False
                    return a
        a = Actor(m.cls, min(m.count, MAX_COUNT), m.head or m.cls)
        if m.head in ("jaywalker", "jaywalkers"):
            a.maneuvers.append("jaywalk")          # "a jaywalker" says what the pedestrian does
        if m.child:
            a.modifiers.add("child")
        if m.count > MAX_COUNT:
            a.modifiers.add(f"capped:{m.count}")
        actors.append(a)
        return a

    def _object_for(self, m: Mention, actors: list[Actor], subject: Actor, c: Clause) -> Actor:
        for a in reversed(actors):
            if a.cls == m.cls and a is not subject:
                a.maneuvers += m.maneuvers
                a.side = a.side or m.side
                return a
        a = Actor(m.cls, 1, m.head or m.cls, implicit=True)
        a.maneuvers += m.maneuvers
        a.side = m.side
        if not subject.is_ego:              # "an SUV follows a sedan in the left lane": both are there
            a.lane = c.lane
            a.position = c.position if c.position in ("oncoming", "ahead") else None
        actors.insert(actors.index(subject) if subject in actors else len(actors), a)
        return a

    # ---- planning ------------------------------------------------------------------------
    def interpret(self, prompt: str) -> Interpretation:
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValueError("the prompt is empty")
        from engine.prompting.duration import clip_duration, duration_in_prompt, strip_duration

        asked_duration = duration_in_prompt(prompt)
        self._needs_time = 0.0        # a clip length some motion needs to be seen whole (e.g. a red-light run)
        self.duration = clip_duration(prompt, self._base_duration) if asked_duration is not None \
            else self._base_duration
        self._dropped = []
        self._auto_react = False
        self._clip_final = asked_duration if asked_duration is not None else max(self._base_duration,
                                                                                 SEQUENCE_DURATION)
        from engine.prompting.duration import trigger_in_prompt

        trigger, text = trigger_in_prompt(strip_duration(prompt))
        cls_list = clauses(text)
        asks = asks_of(text)
        if asks:                               # words the ask reader used are understood
            for c in cls_list:
                c.unknown = [u for u in c.unknown if u not in VOCABULARY]
        ego, actors, env, unknown, notes = self._gather(cls_list)
        self._actors = actors
        if trigger is not None:           # the cut-in, lane change or braking starts on that condition
            kind, value = trigger
            starter = next((a for a in actors if a.maneuver() in ("cut_in", "change_lane", "merge", "brake",
                                                                   "emergency_stop")), None)
            if starter is None:
                unit = "s time to collision" if kind == "ttc" else "m distance"
                unknown.append(f"a {value:g} {unit} trigger (no cut-in, lane change or braking to start on it)")
            else:
                starter.modifiers.add(f"{kind}:{value:g}")
        self._towing: set[str] = set()
        self._mark_contacts(actors, asks, notes)
        w = _Writer()
        road = set(ego.road)
        for a in actors:
            road |= a.road
        ego_m = ego.maneuver()
        actor_ms = {id(a): a.maneuver() for a in actors}
        wants_signal = bool({"signal", "red_signal", "green_signal"} & road) or ego_m == "stop_at_light" or any(
            m in ("run_red", "stop_at_light") for m in actor_ms.values())
        makes_intersection = ("intersection" in road or ego_m in ("turn_left", "turn_right") or wants_signal
                              or any(m in ("turn_left", "turn_right", "crossing_traffic") for m in actor_ms.values()))
        needs_right = self._needs_right_lane(ego, actors, actor_ms)
        road_args: list[tuple[str | None, str]] = []
        if "narrow" in road:
            road_args += [("lanes", "1"), ("ego_lane", "1")]
        elif "highway" in road:
            road_args += [("lanes", "3")]
        elif makes_intersection:
            n = 3 if needs_right else 2
            road_args += [("lanes", str(n))]
            if ego_m == "turn_left" and not self._needs_left_lane(actors, actor_ms):
                road_args += [("ego_lane", "1")]          # left turns from the inner lane
            elif ego_m == "turn_right":
                road_args += [("ego_lane", str(n - 1 if needs_right else n))]   # right turns from the kerb lane
        if "intersection" in road and not wants_signal:
            road_args.append(("intersection", "True"))
        if not road_args and any(a.repeat("change_lane") > 1 for a in [ego, *actors]):
            road_args += [("lanes", "3")]                    # room for two lane changes
        w.lines.append("# Scenario script written by the offline interpreter for the prompt:")
        w.lines.append(f"#   {prompt.strip()!r}"[:400])
        if road_args:
            w.call("set_road", road_args)
        if env:
            w.call("set_environment", [("time_of_day", _q(env.get("time_of_day", "day"))),
                                       ("weather", _q(env.get("weather", "clear")))])
        self._ego_waits_at_red = ego_m == "stop_at_light" or (
            "red_signal" in road and ego_m in ("static", "brake", None) and not any(
                m == "run_red" for m in actor_ms.values()))
        if wants_signal:
            main = "red" if self._ego_waits_at_red else "green"
            w.call("traffic_light", [("main", _q(main))])
            if ego_m is None and main == "red":
                ego_m = "stop_at_light"
        # the ego first (agents are placed relative to its motion); a leader it follows before it
        if ego_m == "follow" or (ego_m is None and ego.target is not None):
            leader = ego.target or Actor("car", 1, "car", implicit=True)
            ego.target = leader
            if leader in actors:
                actors.remove(leader)
            leader.position = leader.position or "ahead"
            if ego.speed and not leader.speed:
                leader.speed, ego.speed = ego.speed, None
            tailgating = any("tailgat" in st.clause.text for st in ego.steps)
            if tailgating and leader.distance is None:    # a short time gap: about 0.45 s plus 2 m
                v = _speed_expr(leader.speed)[1] if leader.speed else 10.0
                leader.distance = round(2.0 + 0.45 * v, 1)
            self._agent(w, leader, notes)
        for a in actors:                       # "a car tailgates us at 100 km/h": both drive at that speed
            if (actor_ms.get(id(a)) == "follow" and (a.target is None or a.target.is_ego) and a.speed
                    and not ego.speed and ego_m in (None, "forward")):
                ego.speed = a.speed
                ego_m = "forward"
        self._ego(w, ego, ego_m, notes)
        for a in actors:
            m = actor_ms.get(id(a))
            if m in ("cut_in", "merge", "change_lane", "overtake"):
                w.busy_lanes.add(a.lane or (a.side[0] if a.side else ("right" if m == "merge" else "left")))
        order = sorted(range(len(actors)), key=lambda i: (self._group(actors[i], actor_ms.get(id(actors[i]))), i))
        for i in order:
            a = actors[i]
            if a.skip:
                notes.append(f"left out: {a.count} x {a.head} (nothing supported to do)")
                continue
            self._agent(w, a, notes)
        for a in actors:
            for m in a.modifiers:
                if m.startswith("capped:"):
                    notes.append(f"{m.split(':')[1]} {a.head} asked; made {MAX_COUNT}")
        if "react" in ego.maneuvers or self._auto_react:
            w.call("ego_reacts", [], comment="the ego brakes for what happens ahead")
            if self._auto_react and "react" not in ego.maneuvers:
                notes.append("the ego reacts (car following and emergency braking) to what happens ahead")
        unknown += self._dropped
        if unknown:
            w.lines.insert(2, "# not understood: " + "; ".join(unknown))
        if notes:
            w.lines.insert(2, "# notes: " + "; ".join(notes))
        script = "\n".join(w.lines) + "\n"
        duration = asked_duration
        if duration is None and self._needs_time > self._base_duration and "then" not in w.calls:
            duration = self._needs_time
            notes.append(f"the clip is {duration:g} s long so the red-light run is seen from the approach "
                         f"(say 'for N seconds' to choose)")
        if duration is None and "then" in w.calls and self._base_duration < SEQUENCE_DURATION:
            duration = SEQUENCE_DURATION                # a sequence needs time to play out
            notes.append(f"the clip is {SEQUENCE_DURATION:g} s long so the manoeuvre sequence fits "
                         f"(say 'for N seconds' to choose)")
        return Interpretation(prompt, script, tuple(w.calls), tuple(unknown), tuple(notes), asks, duration)

    @staticmethod
    def _mark_contacts(actors: list[Actor], asks: tuple[Ask, ...], notes: list[str]) -> None:
        """Contact is written where the prompt asks for it (`asks_of` reads negations like "almost
        hits"), not wherever a contact word appears."""
        for a in actors:
            a.modifiers.discard("contact")
        for ask in asks:
            if ask.kind != CONTACT:
                continue
            pool = [a for a in actors if not a.skip and (ask.who is None or a.cls == ask.who)]
            if ask.other != "ego":
                pool = [a for a in pool if a.target is not None and a.target.cls == ask.other] or \
                    [a for a in actors if not a.skip and a.cls == ask.other and ask.who is not None
                     and a.target is not None and a.target.cls == ask.who]
            if pool:
                pool[0].modifiers.add("contact")
                if "rear" in ask.phrase:
                    pool[0].modifiers.add("rear_end")

    @staticmethod
    def _group(a: Actor, m: str | None) -> int:
        if a.cls == "trailer":
            return 4                          # after the truck that tows it
        if a.cls == "pedestrian" and m in ("static", "stand", "walk"):
            return 3                          # after parked vehicles (they may add the parking lane)
        if a.cls in ("traffic_cone", "barrier") or m in ("parked", "static") or "work_zone" in a.road:
            return 0
        if m == "run_out":
            return 1
        if a.cls in ("pedestrian",) or m in ("crossing", "jaywalk"):
            return 3
        return 2

    @staticmethod
    def _needs_left_lane(actors: list[Actor], ms: dict[int, str | None]) -> bool:
        for a in actors:
            m = ms.get(id(a))
            if a.lane == "left" or (m in ("cut_in", "overtake") and (a.side is None or a.side[0] == "left")):
                return True
        return False

    def _needs_right_lane(self, ego: Actor, actors: list[Actor], ms: dict[int, str | None]) -> bool:
        if ego.maneuver() == "change_lane" and ego.side and ego.side[0] == "right":
            return True
        for a in actors:
            m = ms.get(id(a))
            if m not in ("parked", "crossing", "jaywalk", "run_out", "crossing_traffic", "run_red") \
                    and a.cls != "pedestrian" \
                    and self._lane(a) == "right":
                return True
            if m in ("cut_in", "overtake", "change_lane") and a.side and a.side[0] == "right":
                return True
            if a.cls in ("traffic_cone", "barrier") and a.side and a.side[0] == "right":
                return True
        if "work_zone" in ego.road or any("work_zone" in a.road for a in actors):
            return True
        return False

    # ---- helpers ---------------------------------------------------------------------------
    def _speed(self, a: Actor, cls: str, notes: list[str]) -> str | None:
        if "standstill" in a.modifiers:
            return "0.0"
        if a.speed is not None:
            expr, v = _speed_expr(a.speed)
            top = TOP_SPEED.get(cls, 45.0)
            if v > top:
                notes.append(f"{a.head} speed {a.speed[0]:g} {a.speed[1]} is above a {cls}'s top speed; used {top:g} m/s")
                return _num(top)
            return expr
        if "slow" in a.modifiers:
            return _num(SLOW_SPEED.get(cls, 4.0))
        if "fast" in a.modifiers or ("running" in a.modifiers and cls == "pedestrian" and a.maneuver() != "run_out"):
            return _num(FAST_SPEED.get(cls, 15.0))
        return None

    def _lane(self, a: Actor, default: str = "same") -> str:
        if a.lane:
            return a.lane
        if a.position == "oncoming":
            return "oncoming"
        if a.position == "alongside":
            return a.side[0] if a.side else "left"
        if a.side and a.side[1] in ("on", "from") and a.cls in VEHICLE_CLASSES:
            return a.side[0]
        return default

    def _ahead(self, a: Actor) -> str | None:
        if a.distance is None:
            return None
        return _num(-a.distance if a.position == "behind" else a.distance)

    def _start(self, a: Actor, name: str = "start") -> list[tuple[str | None, str]]:
        if a.time is None:
            return []
        return [(name, _num(min(max(a.time, 0.0), self.duration)))]

    # ---- the ego -----------------------------------------------------------------------------
    def _ego(self, w: _Writer, ego: Actor, m: str | None, notes: list[str]) -> None:
        n_calls = len(w.calls)
        said = m
        speed = self._speed(ego, "car", notes)
        sp: Args = [("speed", speed)] if speed else []
        to: Args = [("to_speed", _speed_expr(ego.to_speed)[0])] if ego.to_speed else []
        side = ego.side[0] if ego.side else (ego.lane if ego.lane in ("left", "right") else None)
        if m in ("cut_in", "overtake", "merge"):
            if "narrow" in ego.road or any("narrow" in a.road for a in self._actors):
                self._dropped.append(f"the ego's {m.replace('_', ' ')} on a one-lane road (it would need the "
                                     f"oncoming lane)")
                m = None
            else:
                notes.append(f"the ego's {m.replace('_', ' ')} is written as a lane change")
                m = "change_lane"
        if m == "stop_at_light":
            w.call("stop_at_light", [(None, "ego")] + sp)
        elif m == "brake":
            w.call("brake", [(None, "ego")] + to + sp + self._start(ego))
        elif m == "emergency_stop":
            w.call("emergency_stop", [(None, "ego")] + sp + self._start(ego))
        elif m == "accelerate":
            w.call("accelerate", [(None, "ego")] + to + sp + self._start(ego))
        elif m == "stop_and_go":
            w.call("stop_and_go", [(None, "ego")] + sp + self._start(ego))
        elif m == "change_lane":
            w.call("change_lane", [(None, "ego"), ("side", _q(side or "left"))] + sp + self._start(ego))
        elif m in ("turn_left", "turn_right"):
            w.call(m, [(None, "ego")] + sp + self._start(ego, "enter_time"))
        elif m == "u_turn":
            w.call("u_turn", [(None, "ego")] + sp + self._start(ego))
        elif m == "roundabout":
            w.call("roundabout", [(None, "ego"), ("exit", str(_roundabout_exit(ego)))] + sp
                   + self._start(ego, "enter_time"))
        elif m == "follow" or (m is None and ego.target is not None):
            leader = ego.target.var if ego.target and ego.target.var else None
            if leader:
                gap: Args = [("gap", _num(ego.distance))] if ego.distance else []
                w.call("follow", [(None, leader), ("who", "ego")] + gap)
        elif m in ("static", "parked"):
            w.call("forward", [(None, "ego"), ("speed", "0.0")], comment="standing still")
        elif speed:
            w.call("forward", [(None, "ego")] + sp)
        elif m == "pull_out":
            self._dropped.append("the ego does not pull out in this library (it starts in its lane)")
        if m is not None:
            ego.var = "ego"
            self._followups(w, ego, said, notes,
                            primary_written=len(w.calls) == n_calls or w.calls[-1] in L.SEQUENCEABLE)

    # ---- other agents --------------------------------------------------------------------------
    def _agent(self, w: _Writer, a: Actor, notes: list[str]) -> None:
        m = a.maneuver()
        cls = a.cls
        if cls == "animal":
            kind = L.ANIMAL_WORDS.get(a.head, "animal")
            for _ in range(a.count):
                a.var = w.var(kind)
                lane = self._lane(a, "same")
                w.call("animal", [(None, _q(kind)), ("lane", _q(lane))] + self._opt([("ahead", self._ahead(a))]),
                       a.var)
            if m not in (None, "static", "forward"):
                self._dropped.append(f"{a.head} {m.replace('_', ' ')}: animals stand still in this library "
                                     f"(a static obstacle)")
            return
        if cls in ("traffic_cone", "barrier") or "work_zone" in a.road and cls == "construction_vehicle":
            self._static_objects(w, a, notes)
            return
        if cls == "pedestrian":
            self._pedestrian(w, a, m, notes)
            return
        if cls == "bicycle" and m in ("crossing", "jaywalk", "run_out"):
            for _ in range(a.count):
                a.var = w.var(a.head)
                w.call("cyclist_crossing", [("side", _q(self._cross_side(a, "left")))] + self._opt(
                    [("speed", self._speed(a, cls, notes)), ("ahead", self._ahead(a))]) + self._start(a)
                    + self._contact(a), a.var)
            return
        if cls == "trailer" and m not in ("parked", "static"):
            self._trailer(w, a, m, notes)
            return
        if m == "parked" and a.lane:
            m = "static"                         # "double parked in our lane": stands in the lane
        if m == "parked" or (m == "static" and a.side and not a.lane and a.position is None):
            a.var = w.var(a.head)
            self._parked(w, a, cls)
            return
        for _ in range(a.count):
            a.var = w.var(a.head)
            n_before = len(w.calls)
            self._vehicle(w, a, m, cls, notes)
            self._followups(w, a, m, notes, primary_written=len(w.calls) > n_before
                            and w.calls[-1] in L.SEQUENCEABLE)

    @staticmethod
    def _contact(a: Actor) -> list[tuple[str | None, str]]:
        """contact=True where the prompt asks this agent to touch the ego."""
        return [("contact", "True")] if "contact" in a.modifiers else []

    @staticmethod
    def _opt(pairs: list[tuple[str, str | None]]) -> list[tuple[str | None, str]]:
        return [(k, v) for k, v in pairs if v is not None]

    def _target(self, a: Actor) -> str:
        return a.target.var if a.target is not None and a.target.var else "ego"

    def _vehicle(self, w: _Writer, a: Actor, m: str | None, cls: str, notes: list[str]) -> None:
        if m == "stand":
            m = "static"
        if m == "walk":
            self._dropped.append(f"{a.head}: a {cls} does not walk; it drives")
            m = None
        if m == "run_red" and not self._ego_waits_at_red:
            m = "crossing_traffic"           # the cross road has red while the ego has green
            # the runner must approach and pass its stop line on red inside the clip, not start past it
            self._needs_time = max(self._needs_time, RED_RUN_DURATION)
        speed = self._speed(a, cls, notes)
        to = _speed_expr(a.to_speed)[0] if a.to_speed else None
        side = a.side[0] if a.side else None
        who = _q(cls)
        ahead = self._ahead(a)
        if ahead is None and cls == "truck" and any(t.cls == "trailer" for t in self._actors) \
                and a.position != "behind":
            ahead = "25.0"                      # room for the trailer it tows
        place = self._opt([("lane", _q(self._lane(a)) if self._lane(a) != "same" else None),
                           ("ahead", ahead)])
        if "contact" in a.modifiers and m in (None, "forward") and a.target is None:
            if "rear_end" in a.modifiers or a.position == "behind":
                notes.append(f"{a.head}: the library has no rear-end contact; it follows closely and the checks "
                             f"report that the contact does not happen")
                w.call("follow", [(None, "ego"), ("who", who), ("gap", "0.5")], a.var)
                return
            m = "cut_in"                                    # "a car crashes into us from the left"
        if "contact" in a.modifiers and m not in ("cut_in", "overtake"):
            notes.append(f"{a.head}: contact is written for cut-ins, overtakes and crossings only; the checks "
                         f"report whether the {m or 'motion'} ends in contact")
        if m == "run_red":
            if self._ego_waits_at_red:               # it comes past the ego's red light in the next lane
                w.call("stop_at_light", [(None, who)] + self._opt([("speed", speed)])
                       + [("lane", _q(self._lane(a, "left") if self._lane(a) != "same" else "left")),
                          ("run_red", "True")], a.var)
            else:                                    # the cross road has red while the ego has green
                w.call("crossing_traffic", [("cls", who), ("side", _q(self._cross_side(a, "left")))]
                       + self._opt([("speed", speed)]) + self._start(a, "pass_time"), a.var)
            return
        if m == "stop_at_light":
            w.call("stop_at_light", [(None, who)] + self._opt([("speed", speed)]) + place, a.var)
            return
        if m == "pull_out":
            side = a.side[0] if a.side and a.side[1] in ("on", "from") else "right"
            spot = "bus_stop" if "bus stop" in " ".join(st.clause.text for st in a.steps) or cls == "bus" \
                else "parking"
            w.call("pull_out", [(None, who), ("side", _q(side))] + self._opt([("ahead", self._ahead(a))])
                   + self._start(a) + ([("from_spot", _q(spot))] if spot != "parking" else []), a.var)
            return
        trig: tuple[str, float] | None = next(((x.split(":")[0], float(x.split(":")[1])) for x in a.modifiers
                                              if x.startswith(("ttc:", "distance:"))), None)
        if trig is not None and m in ("cut_in", "change_lane", "merge", "brake", "emergency_stop") \
                and a.target is None:
            # 3 m/s slower than the ego, far enough ahead that the condition holds about 3 s into the clip;
            # the manoeuvre starts on the condition (an OpenSCENARIO start trigger)
            kind, value = trig
            ahead_m = 3.0 * value + 9.0 if kind == "ttc" else value + 9.0
            if m in ("brake", "emergency_stop"):
                # in the ego's lane: 1 m/s slower and far enough ahead that the ego does not reach it
                # within the clip unless it brakes (the condition holds before that)
                clip = self._clip_final
                ahead_m = max(value + 4.0, clip + 1.0)
                w.call("forward", [(None, who)] + ([("lane", _q(self._lane(a)))] if self._lane(a) != "same" else [])
                       + [("ahead", _num(ahead_m)), ("speed", "max(ego.speed - 1.0, 1.0)")], a.var)
                name = "emergency_stop" if (m == "emergency_stop" or "sudden" in a.modifiers) else "brake"
                w.call("then", [(None, a.var), (None, _q(name)), (kind, _num(value)), ("contact", "True")])
            else:
                from_side = side or ("right" if m == "merge" else "left")
                back = "right" if from_side == "left" else "left"
                w.call("forward", [(None, who), ("lane", _q(from_side)), ("ahead", _num(ahead_m)),
                                   ("speed", "max(ego.speed - 3.0, 1.0)")], a.var)
                w.call("then", [(None, a.var), (None, _q("change_lane")), ("side", _q(back)), (kind, _num(value)),
                                ("contact", "True")])
            self._auto_react = True
            return
        if m == "cut_in":
            gap = _num(a.distance) if a.distance is not None else ("2.5" if "close" in a.modifiers else None)
            args = [(None, self._target(a)), ("side", _q(side or "left")), ("cls", who)]
            args += self._opt([("gap", gap), ("speed", speed)]) + self._start(a)
            if "contact" in a.modifiers:
                args.append(("contact", "True"))
            w.call("cut_in", args, a.var)
        elif m == "overtake":
            w.call("overtake", [(None, self._target(a)), ("side", _q(side or "left")), ("cls", who)]
                   + self._opt([("speed", speed)]) + self._contact(a), a.var)
        elif m == "merge":
            w.call("merge", [(None, self._target(a)), ("side", _q(side or "right")), ("cls", who)]
                   + self._opt([("speed", speed)]) + self._start(a), a.var)
        elif m in ("brake", "emergency_stop"):
            fn = "emergency_stop" if (m == "emergency_stop" or "sudden" in a.modifiers) and not to else "brake"
            args = [(None, who)] + (self._opt([("to_speed", to)]) if fn == "brake" else [])
            w.call(fn, args + self._opt([("speed", speed)]) + place + self._start(a), a.var)
        elif m == "accelerate":
            w.call("accelerate", [(None, who)] + self._opt([("to_speed", to), ("speed", speed)]) + place
                   + self._start(a), a.var)
        elif m == "stop_and_go":
            w.call("stop_and_go", [(None, who)] + self._opt([("speed", speed)]) + place + self._start(a), a.var)
        elif m == "change_lane":
            if a.side and a.side[1] == "to":
                lane, ch = self._lane(a, "same") if a.lane else "same", a.side[0]
            elif a.side:
                lane, ch = a.side[0], "right" if a.side[0] == "left" else "left"
            else:
                lane = a.lane or "right"
                ch = "left" if lane in ("right", "same") else "right"
            args = [(None, who), ("side", _q(ch))] + self._opt([("speed", speed)])
            args += [("lane", _q(lane))] if lane != "same" else []
            ahead = self._ahead(a) or ("30.0" if a.repeat("change_lane") > 1 else None)
            args += self._opt([("ahead", ahead)]) + self._start(a)
            w.call("change_lane", args, a.var)
        elif m in ("turn_left", "turn_right"):
            if a.position == "oncoming":
                approach = "oncoming"
            elif a.side and a.side[1] == "from":
                approach = "from_left" if a.side[0] == "left" else "from_right"
            elif a.position == "ahead" or a.lane == "same":
                approach = "ahead"
            else:
                approach = "oncoming" if m == "turn_left" else "ahead"
            w.call(m, [(None, who)] + self._opt([("speed", speed)]) + [("approach", _q(approach))]
                   + self._start(a, "enter_time"), a.var)
        elif m == "roundabout":
            if a.position == "oncoming":
                entry = "oncoming"
            elif a.side and a.side[1] == "from":
                entry = "from_left" if a.side[0] == "left" else "from_right"
            else:
                entry = "ahead"
            w.call("roundabout", [(None, who), ("entry", _q(entry)), ("exit", str(_roundabout_exit(a)))]
                   + self._opt([("speed", speed)]) + self._start(a, "enter_time"), a.var)
        elif m == "u_turn":
            lane = "oncoming" if a.position == "oncoming" else (a.lane or "same")
            args = [(None, who)] + self._opt([("speed", speed)])
            args += [("lane", _q(lane))] if lane != "same" else []
            w.call("u_turn", args + self._opt([("ahead", self._ahead(a))]) + self._start(a), a.var)
        elif m == "follow" or (m in (None, "forward") and a.position == "behind" and a.distance is None):
            close = "close" in a.modifiers or any("tailgat" in st.clause.text for st in a.steps)
            gap = _num(a.distance) if a.distance is not None else ("3.0" if close else None)
            w.call("follow", [(None, self._target(a)), ("who", who)] + self._opt([("gap", gap)]), a.var)
        elif m == "crossing_traffic" or (m == "crossing" and cls != "bicycle"):
            w.call("crossing_traffic", [("cls", who), ("side", _q(self._cross_side(a, "left")))]
                   + self._opt([("speed", speed)]) + self._start(a, "pass_time"), a.var)
        elif m == "parked":
            self._parked(w, a, cls)
        elif m == "static":
            if a.side and not a.lane and a.position is None:
                self._parked(w, a, cls)
            else:
                w.call("static_object", [(None, who)] + [("lane", _q(self._lane(a)))]
                       + self._opt([("ahead", self._ahead(a))]), a.var)
        elif m in ("crossing", "jaywalk", "run_out"):          # a bicycle handled above; others cross the road
            w.call("crossing_traffic", [("cls", who), ("side", _q(self._cross_side(a, "left")))], a.var)
        else:
            w.call("forward", [(None, who)] + self._opt([("speed", speed)]) + place, a.var)

    def _followups(self, w: _Writer, a: Actor, primary: str | None, notes: list[str], primary_written: bool) -> None:
        """then(...) calls for what the prompt says the agent does after its first manoeuvre; what cannot
        follow is reported as dropped (never silently)."""
        import re

        todo: list[tuple[str, Step | None, int]] = []
        rep = a.repeat(primary) if primary else 1
        if rep > 1 and primary == "change_lane":
            # "changes lanes three times": the same way while there are lanes (3), then back
            side0 = (re.search(r'side="(left|right)"', w.lines[-1]) or [None, "left"])[1] if w.lines else "left"
            lane_m = re.search(r'lane="(left|right|same)"', w.lines[-1]) if w.lines else None
            cur = {"left": 1, "same": 2, "right": 3}[lane_m.group(1) if lane_m else "same"]
            cur += -1 if side0 == "left" else 1
            side = side0
            for _ in range(rep - 1):
                nxt = cur - 1 if side == "left" else cur + 1
                if not 1 <= nxt <= 3:
                    side = "right" if side == "left" else "left"
                    nxt = cur - 1 if side == "left" else cur + 1
                todo.append((f"change_lane:{side}", None, 1))
                cur = nxt
        elif rep > 1 and primary in a.followups:
            todo.append((a.followups[primary], None, rep - 1))
        prev = primary
        dropped: list[str] = []
        first = next((i for i, st in enumerate(a.steps) if st.maneuver == primary), None)
        for i, st in enumerate(a.steps):
            mm = st.maneuver
            if mm in ("react", "forward") and (i != first):
                if mm == "forward" and first is not None and i > first and prev in ("brake", "static",
                                                                                    "emergency_stop",
                                                                                    "stop_at_light"):
                    todo.append(("walk" if a.cls == "pedestrian" else "accelerate", st, 1))
                    prev = "accelerate"
                continue
            same_clause = first is not None and st.order == a.steps[first].order
            if i == first or (mm == primary and (same_clause or mm not in a.followups)) \
                    or mm in SAME_MOTION.get(primary or "", ()):
                continue                                 # the same manoeuvre said twice ("merges from the on-ramp")
            if first is None or i < first:
                if mm not in ("forward", "react") and mm != primary:
                    dropped.append(mm)
                continue
            name = a.followups.get(mm)
            if name is None:
                dropped.append(mm)
                continue
            if name in ("brake", "stop") and prev in ("brake", "static", "emergency_stop") and not (
                    st.clause.to_speed) and not todo:
                continue                                # "slows down and stops": one stop
            todo.append((name, st, a.repeat(mm) if mm != primary else 1))
            prev = mm
        who = a.head if not a.is_ego else "the ego"
        if todo and not primary_written:
            dropped += [t[0] for t in todo]
            todo = []
        for mm in dict.fromkeys(dropped):
            self._dropped.append(f"{who}: '{mm.replace('_', ' ')}' after '{(primary or 'its motion').replace('_', ' ')}'"
                                 f" (this library cannot chain them)")
        var = "ego" if a.is_ego else a.var
        last_side = re.search(r'side="(left|right)"', w.lines[-1]) if w.lines else None
        for name, step, times in todo:
            forced_side = None
            if name.startswith("change_lane:"):
                name, forced_side = name.split(":")
            c = step.clause if step is not None else None
            if c is not None and name == "brake" and "sudden" in c.modifiers:
                name = "emergency_stop"
            args: list[tuple[str | None, str]] = [(None, var), (None, _q(name))]
            if c is not None and c.to_speed and name in ("brake", "accelerate", "walk", "run"):
                args.append(("to_speed", _speed_expr(c.to_speed)[0]))
            elif c is not None and c.speed and name in ("accelerate", "walk", "run"):
                args.append(("to_speed", _speed_expr(c.speed)[0]))
            if name == "change_lane":
                side = forced_side or (c.side[0] if c is not None and c.side else
                                       (last_side.group(1) if last_side else "left"))
                args.append(("side", _q(side)))
            if step is not None and step.after is not None:
                args.append(("after", _num(min(step.after, 60.0))))
            elif c is not None and c.time is not None and c.time > 0:
                args.append(("start", _num(min(c.time, self.duration))))
            if times > 1:
                args.append(("times", str(times)))
            if (name in ("brake", "emergency_stop", "stop", "change_lane") and not a.is_ego and a.cls != "pedestrian"
                    and (w.calls and w.calls[-1] in ("cut_in", "then") or a.lane in (None, "same"))):
                args.append(("contact", "True"))       # it brakes in front of the ego: the ego reacts
                self._auto_react = True
            w.call("then", args)

    def _trailer(self, w: _Writer, a: Actor, m: str | None, notes: list[str]) -> None:
        """A trailer is towed: it follows a truck 1 m behind (the prompt's truck, or one added for it)."""
        for _ in range(a.count):
            tow = next((t for t in reversed(self._actors) if t.cls == "truck" and t.var
                        and t.var not in self._towing), None)
            tow_m = tow.maneuver() if tow is not None else None
            if tow_m not in (None, "forward", "brake", "accelerate", "stop_and_go", "merge", "emergency_stop",
                             "follow"):
                self._dropped.append(f"{a.head}: towing is written for trucks driving along their lane "
                                     f"(this truck does: {str(tow_m).replace('_', ' ')})")
                return
            if tow is None:
                truck = Actor("truck", 1, "truck", maneuvers=list(a.maneuvers), side=a.side, position=a.position,
                              lane=a.lane, speed=a.speed, distance=a.distance, modifiers=set(a.modifiers),
                              steps=list(a.steps))
                truck.var = w.var("truck")
                self._vehicle(w, truck, m, "truck", notes)
                notes.append(f"{a.head}: a truck tows it")
                tow = truck
            self._towing.add(tow.var)
            a.var = w.var(a.head)
            w.call("follow", [(None, tow.var), ("who", _q("trailer")), ("gap", "1.0")], a.var,
                   comment="towed")

    def _parked(self, w: _Writer, a: Actor, cls: str) -> None:
        side = a.side[0] if a.side else "right"
        args = [(None, _q(cls)), ("side", _q(side))] + self._opt([("ahead", self._ahead(a))])
        if a.count > 1:
            args.append(("count", str(a.count)))
        w.call("parked", args, a.var)
        a.count = 1          # one call made them all

    def _cross_side(self, a: Actor, default: str) -> str:
        if a.side is None:
            return default
        s, rel = a.side
        return ("right" if s == "left" else "left") if rel == "to" else s

    def _pedestrian(self, w: _Writer, a: Actor, m: str | None, notes: list[str]) -> None:
        speed = self._speed(a, "pedestrian", notes)
        side = _q(self._cross_side(a, "right"))
        for _ in range(a.count):
            a.var = w.var(a.head)
            ahead = self._opt([("ahead", self._ahead(a))])
            child: Args = [("child", "True")] if "child" in a.modifiers else []
            if m in ("walk", "stand") or ("sidewalk" in a.road and m in (None, "static", "forward")):
                walk_side = _q(a.side[0] if a.side else "right")
                standing = m in ("stand", "static")
                args: Args = [("side", walk_side)] + self._opt([("speed", "0.0" if standing else speed)]) + ahead
                if a.position == "oncoming":
                    args.append(("direction", _q("opposite")))
                w.call("sidewalk_walk", args + child, a.var)
                self._followups(w, a, m, notes, primary_written=True)
                continue
            if m == "run_out" or "between_parked" in a.road:
                between = "between_parked" in a.road or "child" in a.modifiers
                args = [("side", side)] + self._opt([("speed", speed)]) + ahead + self._start(a)
                if not between:
                    args.append(("between_parked", "False"))
                w.call("run_out", args + self._contact(a) + child, a.var)
            elif m == "jaywalk" or "midblock" in a.road:
                w.call("jaywalk", [("side", side)] + self._opt([("speed", speed)]) + ahead + self._start(a)
                       + self._contact(a), a.var)
            elif m == "static":
                w.call("pedestrian_crossing", [("side", side)] + ahead + [("start", _num(self.duration))],
                       a.var, comment="waits at the kerb")
            else:
                if m not in (None, "crossing", "forward"):
                    notes.append(f"{a.head}: '{m}' is not something a pedestrian does here; made it cross")
                w.call("pedestrian_crossing", [("side", side)] + self._opt([("speed", speed)]) + ahead
                       + self._start(a) + self._contact(a) + child, a.var)
            self._followups(w, a, m, notes, primary_written=False)

    def _static_objects(self, w: _Writer, a: Actor, notes: list[str]) -> None:
        lane = self._lane(a, "right") if (a.lane or a.side or a.position) else "right"
        if lane == "same" and not a.lane:
            lane = "right"
        if "work_zone" in a.road:
            if w.work_zone_done:
                return
            w.work_zone_done = True
            a.var = w.var("work_zone")
            ahead = self._ahead(a) or ("40.0" if lane in w.busy_lanes else None)
            w.call("work_zone", [("lane", _q(lane))] + self._opt([("ahead", ahead)])
                   + ([("with_vehicle", "True")] if a.cls == "construction_vehicle" else []), a.var)
            return
        if a.cls == "traffic_cone":
            a.var = w.var("cones")
            pattern = "line" if a.position == "alongside" else "taper"
            args = [("lane", _q(lane))] + self._opt([("ahead", self._ahead(a))])
            if a.count > 2:
                args.append(("count", str(min(a.count, 40))))
            if pattern != "taper":
                args.append(("pattern", _q(pattern)))
            w.call("cone_row", args, a.var)
            return
        for _ in range(a.count):
            a.var = w.var(a.head)
            w.call("static_object", [(None, _q(a.cls)), ("lane", _q(lane))] + self._opt([("ahead", self._ahead(a))]),
                   a.var)


_EXIT_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
                  "last": 3}


def _roundabout_exit(a: Actor) -> int:
    """The exit a roundabout prompt names for `a` ('takes the second exit', 'goes straight on',
    'turns left at the roundabout'); 2 (straight on) when it names none."""
    import re

    text = " ".join(st.clause.text for st in a.steps).lower()
    m = re.search(r"\b(first|1st|second|2nd|third|3rd|fourth|4th|last)\s+exit", text)
    if m:
        return _EXIT_ORDINALS[m.group(1)]
    m = re.search(r"\b([1-4])\s*(?:st|nd|rd|th)\s+exit", text)
    if m:
        return int(m.group(1))
    m = re.search(r"\bexit\s+([1-4])\b", text)
    if m:
        return int(m.group(1))
    if "full circle" in text or "all the way round" in text or "all the way around" in text or "comes back" in text:
        return 4
    if re.search(r"\b(turns?|turning|goes|going|heads?|heading) left\b", text):
        return 3
    if re.search(r"\b(turns?|turning|goes|going|heads?|heading) right\b", text):
        return 1
    return 2


def interpret_offline(prompt: str, duration: float = 2.75) -> Interpretation:
    """Shorthand for `OfflineInterpreter(duration).interpret(prompt)`."""
    return OfflineInterpreter(duration).interpret(prompt)
