"""Turn an everyday English prompt into clauses of tagged words (offline, deterministic).

`tokenize` normalises the text and splits it into words; `tag` matches the longest lexicon phrase
at each position; `clauses` cuts the tagged words at punctuation and conjunctions and reads, for
each clause, who does what: the subject (a class or the ego, with a count), the manoeuvre, sides,
positions, lanes, speeds, distances, times, modifiers, environment and road words. Words no rule
used and that are not filler are kept as `unknown` so they can be reported.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Mapping

from engine.prompting import lexicon as L

MAX_PHRASE = 7


@dataclass(frozen=True)
class Tok:
    """One tagged word or phrase. tag: CLASS, EGO, MANEUVER, SIDE, POS, LANE, TOD, WEATHER, ROAD, COUNT,
    NUM, SPEED, DIST, TIME, MOD, PUNCT, BREAK, WORD."""

    text: str
    tag: str
    value: object = None


def _num(value: object) -> float:
    """The number a NUM, COUNT, DIST or TIME token carries."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"token value {value!r} is not a number")
    return float(value)


def _side(value: object) -> tuple[str, str]:
    """The (side, relation) a SIDE token carries, e.g. ('left', 'from')."""
    if not (isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], str)):
        raise TypeError(f"token value {value!r} is not a side")
    return value[0], value[1]


def _speed(value: object) -> tuple[float, str]:
    """The (number, unit) a SPEED token carries, e.g. (30.0, 'kmh')."""
    if not (isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], str)):
        raise TypeError(f"token value {value!r} is not a speed")
    return _num(value[0]), value[1]


def _norm(text: str) -> str:
    t = text.lower()
    t = t.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    t = t.replace("\u2013", " - ").replace("\u2014", " - ")
    t = re.sub(r"(\d),(\d{3})", r"\1\2", t)
    t = re.sub(r"(\d)\s*(km/h|kmh|kph|kmph|k/h|mph|m/s|mps|m|ft|s|sec|secs)\b", r"\1 \2", t)
    t = re.sub(r"(\d)-([a-z])", r"\1 \2", t)            # 18-wheeler, 3-lane
    t = re.sub(r"([a-z])-([a-z])", r"\1 \2", t)         # u-turn, cut-in, broken-down
    t = re.sub(r"([a-z])-([a-z])", r"\1 \2", t)
    t = re.sub(r"'s\b", "", t)
    # "a kid on a bike", "a man riding a scooter": one agent, the vehicle (nuScenes boxes the rider with it)
    t = _RIDER_RE.sub(lambda m: f"{m.group(1) or 'a'} {m.group(4)}", t)
    return t


_RIDER_RE = re.compile(
    r"\b(a|an|the|one)?\s*(man|woman|person|child|kid|boy|girl|teen|teenager|guy|lady|someone|courier)\s+"
    r"(riding|on)\s+(?:(?:a|an|the|his|her|their)\s+)?"
    r"(bike|bicycle|e bike|ebike|electric bike|scooter|e scooter|electric scooter|kick scooter|motorbike|motorcycle|moped)\b")


_TOKEN_RE = re.compile(r"\d+(?:\.\d+)?|km/h|k/h|m/s|[a-z]+(?:'[a-z]+)?|[.,;:!?()\"]")


def tokenize(text: str) -> list[str]:
    """Lower-cased words, numbers and punctuation of `text`."""
    return _TOKEN_RE.findall(_norm(text))


def _key(phrase: str) -> tuple[str, ...]:
    return tuple(tokenize(phrase))


def _class_value(value: object) -> tuple[str, bool, str]:
    """(class, plural, head word) of a CLASS token."""
    if not (isinstance(value, tuple) and len(value) == 3 and isinstance(value[0], str)
            and isinstance(value[1], bool) and isinstance(value[2], str)):
        raise TypeError(f"token value {value!r} is not a class entry")
    return value[0], value[1], value[2]


@lru_cache(maxsize=1)
def _table() -> dict[tuple[str, ...], tuple[str, object]]:
    """phrase words -> (tag, value); earlier categories win on conflicts."""
    table: dict[tuple[str, ...], tuple[str, object]] = {}

    def add(entries: Mapping[str, object], tag: str) -> None:
        for phrase, v in entries.items():
            k = _key(phrase)
            if k and k not in table:
                table[k] = (tag, v)

    add({p: True for p in L.EGO_PHRASES}, "EGO")
    add(L.SPEED_UNITS, "UNIT_SPEED")
    add(L.LANE_PHRASES, "LANE")
    add(L.POSITION_PHRASES, "POS")
    add(L.ROAD_PHRASES, "ROAD")
    add({p: "sudden" for p in L.SUDDEN_WORDS if " " in p}, "MOD")
    add({p: "standstill" for p in L.STANDSTILL_WORDS}, "MOD")
    add({p: "contact" for p in L.CONTACT_WORDS}, "MOD")
    add(L.MANEUVERS, "MANEUVER")
    add(L.SIDE_PHRASES, "SIDE")
    add(L.class_phrases(), "CLASS")
    add({**{w: ("animal", False, w) for w in L.ANIMAL_WORDS},
         **{w + "s": ("animal", True, w) for w in L.ANIMAL_WORDS if not w.endswith(("s", "deer", "cattle"))}},
        "CLASS")
    add({p: f"repeat:{n}" for p, n in L.REPEAT_WORDS.items()}, "MOD")
    add(L.TIME_OF_DAY, "TOD")
    add(L.WEATHER, "WEATHER")
    add({p: "sudden" for p in L.SUDDEN_WORDS}, "MOD")
    add({p: "slow" for p in L.SLOW_WORDS}, "MOD")
    add({p: "fast" for p in L.FAST_WORDS}, "MOD")
    add({p: "close" for p in L.CLOSE_WORDS}, "MOD")
    add(L.COUNT_PHRASES, "COUNT")
    add(L.NUMBER_WORDS, "NUM")
    add({p: True for p in L.CLAUSE_BREAKS}, "BREAK")
    return table


def tag(words: list[str]) -> list[Tok]:
    """Longest-match tagging; numbers followed by a unit become SPEED / DIST / TIME."""
    table = _table()
    out: list[Tok] = []
    i = 0
    while i < len(words):
        w = words[i]
        if w in ".,;:!?()\"":
            out.append(Tok(w, "PUNCT"))
            i += 1
            continue
        is_number = re.fullmatch(r"\d+(?:\.\d+)?", w) is not None
        for n in range(min(MAX_PHRASE, len(words) - i), 1 if is_number else 0, -1):
            k = tuple(words[i:i + n])
            if k in table:
                t, v = table[k]
                out.append(Tok(" ".join(k), t, v))
                i += n
                break
        else:
            out.append(Tok(w, "NUM", float(w)) if is_number else Tok(w, "WORD"))
            i += 1
    return _units(out)


def _units(toks: list[Tok]) -> list[Tok]:
    out: list[Tok] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if t.tag == "NUM" and nxt is not None:
            word = nxt.text
            if nxt.tag == "UNIT_SPEED":
                out.append(Tok(f"{t.text} {word}", "SPEED", (_num(t.value), nxt.value)))
                i += 2
                continue
            if word in L.DISTANCE_UNITS or (nxt.tag == "WORD" and word in L.DISTANCE_UNITS):
                out.append(Tok(f"{t.text} {word}", "DIST", _num(t.value) * L.DISTANCE_UNITS[word]))
                i += 2
                continue
            if word in L.TIME_UNITS:
                out.append(Tok(f"{t.text} {word}", "TIME", _num(t.value) * L.TIME_UNITS[word]))
                i += 2
                continue
            if word == "car" and i + 2 < len(toks) and toks[i + 2].text in ("lengths", "length"):
                out.append(Tok(f"{t.text} car lengths", "DIST", _num(t.value) * 4.6))
                i += 3
                continue
        if t.tag == "UNIT_SPEED" and t.text in ("m",):
            out.append(Tok(t.text, "WORD"))
        else:
            out.append(t)
        i += 1
    return out


@dataclass
class Mention:
    """An agent named in a clause: class (or 'ego'), how many, and how it was said."""

    cls: str
    count: int = 1
    plural: bool = False
    definite: bool = False
    head: str = ""
    index: int = 0
    child: bool = False
    maneuvers: list[str] = field(default_factory=list)
    side: tuple[str, str] | None = None

    @property
    def is_ego(self) -> bool:
        return self.cls == "ego"


@dataclass
class Clause:
    """What one clause says."""

    text: str
    joiner: str = ""
    subject: Mention | None = None
    objects: list[Mention] = field(default_factory=list)
    maneuvers: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    side: tuple[str, str] | None = None
    position: str | None = None
    lane: str | None = None
    speed: tuple[float, str] | None = None
    to_speed: tuple[float, str] | None = None
    distance: float | None = None
    time: float | None = None
    modifiers: set[str] = field(default_factory=set)
    road: set[str] = field(default_factory=set)
    time_of_day: str | None = None
    weather: str | None = None
    unknown: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.subject or self.maneuvers or self.time_of_day or self.weather or self.road
                    or self.side or self.position or self.lane or self.speed or self.unsupported or self.objects)


def split_clauses(toks: list[Tok]) -> list[tuple[str, list[Tok]]]:
    """Cut at punctuation and conjunctions; each part keeps the word that joined it to the previous."""
    parts: list[tuple[str, list[Tok]]] = []
    cur: list[Tok] = []
    joiner = ""
    for t in toks:
        if t.tag in ("PUNCT", "BREAK"):
            if cur:
                parts.append((joiner, cur))
            cur = []
            joiner = t.text if t.tag == "BREAK" else (joiner if t.text in "()\"" else ",")
            continue
        cur.append(t)
    if cur:
        parts.append((joiner, cur))
    return parts


_OBJECT_PREP = {"of", "past", "behind", "around", "towards", "toward", "than", "beside", "after", "for", "with",
                "from", "between", "near", "by"}


def read_clause(joiner: str, toks: list[Tok]) -> Clause:
    """Read one clause's tokens into a Clause."""
    c = Clause(text=" ".join(t.text for t in toks), joiner=joiner)
    mentions: list[Mention] = []
    trailing: list[tuple[int, str, object]] = []         # (index, kind, value) of manoeuvres and sides
    pending_count: int | None = None
    definite = False
    first_maneuver_at: int | None = None
    for i, t in enumerate(toks):
        prev = toks[i - 1] if i else None
        if t.tag == "COUNT":
            pending_count = int(_num(t.value))
            definite = False
        elif t.tag == "NUM":
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            if nxt is not None and nxt.tag in ("CLASS", "MANEUVER", "MOD", "WORD", "POS", "SIDE"):
                pending_count = int(_num(t.value))
            elif t.value is not None:
                c.unknown.append(t.text)
        elif t.tag == "WORD" and t.text in ("the", "this", "that", "these", "those", "our", "my"):
            definite = True
            pending_count = None
        elif t.tag == "CLASS":
            cls, plural, head = _class_value(t.value)
            count = pending_count if pending_count is not None else (2 if plural else 1)
            m = Mention(cls, max(1, count), plural, definite, head, i, head in L.CHILD_WORDS or t.text in L.CHILD_WORDS)
            mentions.append(m)
            pending_count = None
            definite = False
        elif t.tag == "EGO":
            is_object = (prev is not None and (prev.text in _OBJECT_PREP or prev.tag == "MANEUVER")) or (
                first_maneuver_at is not None)
            mentions.append(Mention("ego", 1, False, True, t.text, i))
            if is_object:
                mentions[-1].head = "object"
        elif t.tag == "MANEUVER":
            v = str(t.value)
            if v.startswith("unsupported:"):
                c.unsupported.append(v.split(":", 1)[1])
            elif v.startswith("note:"):
                pass
            else:
                c.maneuvers.append(v)
                trailing.append((i, "maneuver", v))
                if first_maneuver_at is None:
                    first_maneuver_at = i
            if t.text.split()[0] in L.RUNNING_WORDS:
                c.modifiers.add("running")
        elif t.tag == "SIDE":
            side = _side(t.value)
            trailing.append((i, "side", side))
            if c.side is None or (c.side[1] == "on" and side[1] != "on"):
                c.side = side
        elif t.tag == "POS":
            c.position = c.position or str(t.value)
        elif t.tag == "LANE":
            c.lane = c.lane or str(t.value)
        elif t.tag == "SPEED":
            said = _speed(t.value)
            rel = "to" if prev is not None and prev.text in ("to", "up", "down") else "at"
            if rel == "to":
                c.to_speed = said
            else:
                c.speed = said
        elif t.tag == "DIST":
            c.distance = _num(t.value)
            if prev is not None and prev.text in ("within", "only", "just"):
                c.modifiers.add("close")
        elif t.tag == "TIME":
            c.time = _num(t.value)
        elif t.tag == "MOD":
            c.modifiers.add(str(t.value))
        elif t.tag == "TOD":
            c.time_of_day = str(t.value)
        elif t.tag == "WEATHER":
            c.weather = str(t.value)
        elif t.tag == "ROAD":
            c.road.add(str(t.value))
        elif t.tag == "WORD":
            if t.text in ("run", "runs", "running", "ran", "sprinting", "sprints", "jogging"):
                c.modifiers.add("running")
            elif t.text not in L.STOPWORDS and not t.text.isdigit():
                c.unknown.append(t.text)
        elif t.tag == "UNIT_SPEED":
            c.unknown.append(t.text)
    # subject: the first mention that is not an object; objects: the rest
    subj = next((m for m in mentions if m.head != "object"), None)
    if subj is not None and subj.is_ego and first_maneuver_at is not None and subj.index > first_maneuver_at:
        subj = None
    if subj is None and mentions and not mentions[0].is_ego:
        subj = mentions[0]
    c.subject = subj
    c.objects = [m for m in mentions if m is not subj]
    # "we slow down for a bus stopped on the right": what follows an object, after the subject's own
    # manoeuvre, is said of the object
    if subj is not None and first_maneuver_at is not None:
        for obj in c.objects:
            if obj.is_ego or obj.index < first_maneuver_at:
                continue
            for idx, kind, val in trailing:
                if idx > obj.index and not any(o.index > obj.index and o.index < idx for o in c.objects):
                    if kind == "maneuver":
                        obj.maneuvers.append(str(val))
                        c.maneuvers.remove(str(val))
                    elif obj.side is None:
                        obj.side = _side(val)
                        if c.side == val:
                            c.side = None
    for m in mentions:
        if m.child:
            c.modifiers.add("child")
    return c


def clauses(prompt: str) -> list[Clause]:
    """The prompt's clauses, in order."""
    return [read_clause(j, ts) for j, ts in split_clauses(tag(tokenize(prompt)))]
