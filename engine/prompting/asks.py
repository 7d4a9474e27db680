"""What a prompt asks the checks to confirm: contact ("crashes into", "hits"), a near miss ("near
miss", "close call", "barely avoids", "TTC under 1.5 s") or a PET bound, and between whom.

`asks_of(prompt)` reads the prompt clause by clause (the offline interpreter's tokenizer and
tagger, `engine.prompting.parse`) and returns `Ask`s: the intent kind of `engine.checks.intents`,
the class of the agent it is about (None: whichever agent comes closest), the other party ('ego'
or a class) and the thresholds the prompt gave. Contact words after "almost", "nearly",
"barely", "avoids" ... ask for a near miss; after "not", "never", "without" ... for nothing.
Fixed phrases that merely contain such words ("hit the brakes", "a crashed car") ask for nothing.
The asks are what the prompt wants; `engine.prompting.binding` ties them to the agents of a result.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

from engine.checks.intents import IntentKind
from engine.prompting.parse import Clause, Tok, read_clause, split_clauses, tag, tokenize

CONTACT, NEAR_MISS, MIN_TTC, PET = IntentKind.CONTACT, IntentKind.NEAR_MISS, IntentKind.MIN_TTC, IntentKind.PET

# single words that ask for contact
_CONTACT_WORDS = re.compile(
    r"(crash|crashes|crashing|collide|collides|collided|colliding|collision|collisions|hit|hits|hitting|"
    r"struck|strike|strikes|striking|rams|rammed|ramming|sideswipe|sideswipes|sideswiped|sideswiping|"
    r"clips|clipped|clipping|smash|smashes|smashed|smashing)$")
# what a contact word may hit without it being an agent ("hits the brakes", "hit the kerb")
_NOT_AGENTS = {"brake", "brakes", "gas", "accelerator", "pedal", "horn", "road", "kerb", "curb", "pothole", "ground",
               "wall", "puddle", "bump", "button", "jackpot", "lights", "switch", "spot", "mark"}
# two-word phrases that ask for contact (first word, second word patterns)
_CONTACT_PAIRS = [
    (re.compile(r"rear$"), re.compile(r"(end|ends|ended|ending)$")),
    (re.compile(r"t$"), re.compile(r"(bone|bones|boned|boning)$")),
    (re.compile(r"(run|runs|ran|running)$"), re.compile(r"(over|down)$")),
    (re.compile(r"(knock|knocks|knocked|knocking|mow|mows|mowed|mowing)$"), re.compile(r"(down|over)$")),
]
# "<verb> into <someone>" asks for contact when someone follows (not "runs into the road")
_INTO_VERBS = re.compile(r"(crash|crashes|crashed|crashing|smash|smashes|smashed|slam|slams|slammed|slamming|"
                         r"plough|ploughs|ploughed|plow|plows|plowed|bump|bumps|bumped|bumping|run|runs|ran|"
                         r"running|drive|drives|drove|driving|veer|veers|veered|swerve|swerves|swerved|plunge|"
                         r"plunges|plunged|careen|careens|careened)$")
# words shortly before a contact word that turn it into a near miss
_NEAR_ADVERBS = re.compile(r"(almost|nearly|narrowly|barely|avoid|avoids|avoided|avoiding|dodge|dodges|dodged|"
                           r"dodging|escape|escapes|escaped|escaping|about|prevent|prevents|prevented|preventing)$")
# words shortly before a contact word that say there is none
_NEGATORS = re.compile(r"(not|never|no|without|nobody|none|cannot|\w+n't)$")
# phrases that ask for a near miss on their own
_NEAR_MISS_PHRASES = [
    "near miss", "near misses", "near collision", "near crash", "near accident", "near hit", "close call",
    "close calls", "close shave", "narrow escape", "narrowly misses", "narrowly missed", "narrowly miss",
    "narrowly missing", "narrowly avoids", "narrowly avoided", "narrowly avoid", "narrowly avoiding",
    "barely misses", "barely missed", "barely miss", "barely avoids", "barely avoided", "barely avoid",
    "barely avoiding", "barely clears", "just misses", "just missed", "just miss", "just avoids", "just avoided",
    "misses by", "missed by", "miss by", "dangerously close", "too close for comfort", "within inches",
    "inches away", "inches from", "almost collide", "nearly collide",
]
_LOOKBACK = 4
CLOSE_PASS_GAP = 2.0      # m: "passes within X m" asks for a near miss when X is at most this
_MAX_WORDS = re.compile(r"(under|below|less|lower|within|most|drops|falls|drop|fall|dropping|falling|beneath|"
                        r"short|smaller|max|maximum)$")
_MIN_WORDS = re.compile(r"(above|over|more|greater|least|exceeding|exceeds|exceed|higher|min|minimum|longer)$")
_SMALL_UNITS = {"cm": 0.01, "centimetres": 0.01, "centimeters": 0.01, "centimetre": 0.01, "centimeter": 0.01,
                "inch": 0.0254, "inches": 0.0254, "mm": 0.001}


@dataclass(frozen=True)
class Ask:
    """One thing the prompt asks the checks to confirm.

    kind: an intent kind of `engine.checks.intents` ('contact', 'near_miss', 'min_ttc', 'pet');
    who: the class of the agent it is about, or None for whichever agent comes closest; other: 'ego'
    or a class; params: thresholds the prompt gave (``max_ttc``, ``max_distance``, ``min`` ...),
    empty when it gave none; phrase: the words that asked for it.
    """

    kind: IntentKind
    who: str | None = None
    other: str = "ego"
    params: Mapping[str, float] = field(default_factory=dict)
    phrase: str = ""

    def describe(self) -> str:
        """'contact between a truck and the ego' and the like."""
        what = {"contact": "contact", "near_miss": "a near miss", "min_ttc": "a time to collision",
                "pet": "a post-encroachment time"}.get(self.kind, self.kind)
        a = f"a {self.who.replace('_', ' ')}" if self.who else "another agent"
        b = "the ego" if self.other == "ego" else f"a {self.other.replace('_', ' ')}"
        nums = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        return f"{what} between {a} and {b}" + (f" ({nums})" if nums else "")


@dataclass
class _Words:
    """A clause as plain words; `opaque[i]` marks words of a fixed manoeuvre phrase ("hit the brakes")."""

    words: list[str]
    opaque: list[bool]
    tags: list[str]
    values: list[object]
    tok: list[int]


def _flatten(toks: list[Tok]) -> _Words:
    w = _Words([], [], [], [], [])
    for k, t in enumerate(toks):
        parts = t.text.split()
        for p in parts:
            w.words.append(p)
            w.opaque.append(t.tag == "MANEUVER")
            w.tags.append(t.tag)
            w.values.append(t.value if len(parts) == 1 or t.tag in ("TIME", "DIST", "SPEED") else None)
            w.tok.append(k)
    return w


def _contact_at(w: _Words) -> list[tuple[int, int]]:
    """(start, end) word spans that say contact (before looking at negations)."""
    spans: list[tuple[int, int]] = []
    n = len(w.words)
    i = 0
    while i < n:
        if w.opaque[i]:
            i += 1
            continue
        word = w.words[i]
        nxt = w.words[i + 1] if i + 1 < n else ""
        pair = next((True for a, b in _CONTACT_PAIRS if a.match(word) and b.match(nxt)), False)
        if pair and not (i + 1 < n and w.opaque[i + 1]):
            spans.append((i, i + 2))
            i += 2
            continue
        if _INTO_VERBS.match(word) and nxt == "into" and i + 2 < n:
            k = i + 2
            while k < n and w.words[k] in ("the", "a", "an", "back", "of", "side", "rear", "front"):
                k += 1
            if k < n and w.tags[k] in ("EGO", "CLASS"):
                spans.append((i, i + 2))
                i += 2
                continue
        if _CONTACT_WORDS.match(word):
            k = i + 1
            while k < n and w.words[k] in ("the", "a", "an", "his", "her", "their", "its", "on"):
                k += 1
            if not (k < n and w.words[k] in _NOT_AGENTS):
                spans.append((i, i + 1))
        i += 1
    return spans


def _near_miss_phrase(w: _Words) -> tuple[str, int] | None:
    """The near-miss phrase of the clause and the index of its first word."""
    for p in _NEAR_MISS_PHRASES:
        at = _find(w.words, p)
        if at is not None:
            return p, at - len(p.split())
    return None


def _number_after(w: _Words, i: int, want: tuple[str, ...]) -> tuple[float, str] | None:
    """(value in s or m, 'max' | 'min') of the first number of kind `want` ('TIME' / 'DIST') after word i."""
    relation = "max"
    for k in range(i, min(len(w.words), i + 8)):
        word = w.words[k]
        if _MIN_WORDS.match(word):
            relation = "min"
        elif _MAX_WORDS.match(word):
            relation = "max"
        val = w.values[k]
        if not isinstance(val, (int, float)):       # TIME and DIST tokens always carry a number
            continue
        if w.tags[k] in want:
            return float(val), relation
        if w.tags[k] == "NUM" and "DIST" in want:
            unit = w.words[k + 1] if k + 1 < len(w.words) else ""
            if unit in _SMALL_UNITS:
                return float(val) * _SMALL_UNITS[unit], relation
    return None


def _find(words: list[str], *phrases: str) -> int | None:
    """The index just after the first of `phrases` found in `words` (None: none is there)."""
    for p in phrases:
        pw = p.split()
        for i in range(len(words) - len(pw) + 1):
            if words[i:i + len(pw)] == pw:
                return i + len(pw)
    return None


def _numbers(w: _Words) -> dict[str, dict[str, float]]:
    """Thresholds named in the clause: {'ttc': {...}, 'pet': {...}, 'gap': {...}}."""
    out: dict[str, dict[str, float]] = {}
    at = _find(w.words, "ttc", "time to collision", "time to contact", "time to crash", "time to impact")
    if at is not None:
        got = _number_after(w, at, ("TIME",))
        if got:
            out["ttc"] = {got[1]: got[0]}
    at = _find(w.words, "pet", "post encroachment time", "postencroachment time")
    if at is not None:
        got = _number_after(w, at, ("TIME",))
        if got:
            out["pet"] = {got[1]: got[0]}
    at = _find(w.words, "within", "by", "only", "just", "gap of", "apart")
    if at is not None:
        got = _number_after(w, at - 1, ("DIST",))
        if got:
            out["gap"] = {"max": got[0]}
    return out


def _parties(c: Clause, cls_list: list[Clause], idx: int, trigger: int) -> tuple[str | None, str]:
    """(who, other) for an ask whose words start at token `trigger` of clause `idx`: the mention
    before the trigger is the subject (none: the previous clause's subject, as in "a truck cuts in
    and nearly hits a bus"), the one after it the object ("... is hit by the car": the car)."""
    mentions = sorted([m for m in ([c.subject] if c.subject else []) + list(c.objects)], key=lambda m: m.index)
    before = [m for m in mentions if m.index < trigger]
    after = [m for m in mentions if m.index > trigger]
    subject: str | None = before[0].cls if before else None
    prev_subject = cls_list[idx - 1].subject if idx > 0 else None
    if subject is None and prev_subject is not None:
        subject = prev_subject.cls
    obj = after[0].cls if after else (before[1].cls if len(before) > 1 else None)
    parties = [p for p in (subject, obj) if p is not None]
    non_ego = [p for p in parties if p != "ego"]
    if not non_ego:
        return _neighbour_subject(cls_list, idx), "ego"
    if len(non_ego) == 1:
        return non_ego[0], "ego"
    return non_ego[0], non_ego[1]


def _neighbour_subject(cls_list: list[Clause], idx: int, forward: bool = True) -> str | None:
    """The class of the nearest other clause's non-ego subject (earlier first, then later)."""
    order = [idx - k for k in range(1, idx + 1)]
    if forward:
        order += list(range(idx + 1, len(cls_list)))
    for k in order:
        s = cls_list[k].subject
        if s is not None and not s.is_ego:
            return s.cls
        obj = next((o for o in cls_list[k].objects if not o.is_ego), None)
        if obj is not None:
            return obj.cls
    return None


def _clause_asks(c: Clause, toks: list[Tok], cls_list: list[Clause], idx: int) -> list[Ask]:
    w = _flatten(toks)
    kinds: list[tuple[IntentKind, str, int]] = []          # (kind, phrase, token index of its first word)
    for s, e in _contact_at(w):
        before = w.words[max(0, s - _LOOKBACK):s]
        phrase = " ".join(w.words[s:e])
        if any(_NEAR_ADVERBS.match(b) for b in before):
            kinds.append((NEAR_MISS, " ".join(before[-2:] + [phrase]), w.tok[s]))
        elif any(_NEGATORS.match(b) for b in before):
            continue
        else:
            kinds.append((CONTACT, phrase, w.tok[s]))
    p = _near_miss_phrase(w)
    if p:
        kinds.append((NEAR_MISS, p[0], w.tok[p[1]]))
    nums = _numbers(w)
    for key, words in (("ttc", ("ttc", "time")), ("gap", ("within",))):
        at = next((k for k, x in enumerate(w.words) if x in words), None)
        if key not in nums or at is None or any(k == NEAR_MISS for k, _, _ in kinds):
            continue
        if key == "ttc" and "max" in nums["ttc"]:
            kinds.append((NEAR_MISS, "ttc", w.tok[at]))
        if key == "gap" and nums["gap"]["max"] <= CLOSE_PASS_GAP:
            kinds.append((NEAR_MISS, "within", w.tok[at]))     # "passes within 30 cm of a cyclist"
    thresholds = [k for k, x in enumerate(w.words) if x in ("ttc", "pet", "time", "post")]
    if not kinds and not (nums.get("ttc") or nums.get("pet")):
        return []
    trigger = kinds[0][2] if kinds else w.tok[thresholds[0]] if thresholds else 0
    who, other = _parties(c, cls_list, idx, trigger)
    out: list[Ask] = []
    if any(k == CONTACT for k, _, _ in kinds):
        out.append(Ask(CONTACT, who, other, {}, next(ph for k, ph, _ in kinds if k == CONTACT)))
    elif any(k == NEAR_MISS for k, _, _ in kinds):
        params: dict[str, float] = {}
        if "ttc" in nums and "max" in nums["ttc"]:
            params["max_ttc"] = nums["ttc"]["max"]
        if "gap" in nums:
            params["max_distance"] = nums["gap"]["max"]
        out.append(Ask(NEAR_MISS, who, other, params, next(ph for k, ph, _ in kinds if k == NEAR_MISS)))
    if "ttc" in nums and "min" in nums["ttc"]:
        out.append(Ask(MIN_TTC, who, other, {"min": nums["ttc"]["min"]}, "ttc"))
    if "pet" in nums:
        out.append(Ask(PET, who, other, dict(nums["pet"]), "pet"))
    return out


#: words the ask reader understands (an interpreter need not report them as not understood)
VOCABULARY = frozenset(
    {w for p in _NEAR_MISS_PHRASES for w in p.split()}
    | {"ttc", "pet", "time", "to", "collision", "contact", "crash", "impact", "post", "encroachment",
       "postencroachment", "under", "below", "above", "over", "less", "more", "than", "least", "most", "within",
       "drops", "falls", "almost", "nearly", "narrowly", "barely", "avoid", "avoids", "avoided", "avoiding",
       "being", "hit", "hits", "hitting", "collides", "collide", "collided", "colliding", "struck", "cm", "inches",
       "dodges", "dodge", "dodged", "escapes", "escape", "escaped", "sideswipes", "sideswipe", "crashes", "crashed",
       "smashes", "rams", "rammed", "clips", "clipped", "knocks", "knocked", "down", "run", "runs"})


def names_a_threshold(clause_text: str) -> bool:
    """Whether a clause names a TTC / PET threshold (its time is then not a start time)."""
    words = clause_text.split()
    return _find(words, "ttc", "time to collision", "time to contact", "pet", "post encroachment time") is not None


def asks_of(prompt: str) -> tuple[Ask, ...]:
    """What the prompt asks the checks to confirm, in prompt order, without repeats."""
    if not isinstance(prompt, str) or not prompt.strip():
        return ()
    parts = split_clauses(tag(tokenize(prompt)))
    cls_list = [read_clause(j, ts) for j, ts in parts]
    out: list[Ask] = []
    for idx, ((_, toks), c) in enumerate(zip(parts, cls_list)):
        for a in _clause_asks(c, toks, cls_list, idx):
            same = next((k for k, b in enumerate(out) if (b.kind, b.who, b.other) == (a.kind, a.who, a.other)), None)
            if same is None:
                out.append(a)
            else:                               # "a close call: ... with TTC under 1.5 s": one ask
                b = out[same]
                out[same] = Ask(b.kind, b.who, b.other, {**a.params, **b.params}, b.phrase)
    return tuple(out)


__all__ = ["Ask", "CONTACT", "MIN_TTC", "NEAR_MISS", "PET", "VOCABULARY", "asks_of", "names_a_threshold"]
