"""Reading and checking a pool: participants, pair lists and policy, into arrays.

Everything the solver needs is held as numpy arrays indexed by position in the (id-sorted)
participant list, so large pools are read once and never turned into per-pair Python objects.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

GENDERS = ("woman", "man", "non-binary", "undisclosed")

DEFAULT_WEIGHTS = {
    "skills": 10.0,      # the balanced mutual gain from skills (the heart of the score)
    "gender": 5.0,       # different gender identities, when cross_gender is "prefer"
    "department": 3.0,   # different departments
    "location": 1.0,     # different locations
    "timezone": 1.0,     # close time zones (easier follow-ups)
    "requests": 8.0,     # both asked for each other (one-way requests count half)
    "availability": 1.0, # shared free hours for follow-up meetings
}

DEFAULT_POLICY: dict[str, Any] = {
    "cross_gender": "prefer",       # require | prefer | off
    "undisclosed": "any",           # any (compatible with anyone) | manual (left for the facilitator)
    "department": "any",            # different | any
    "max_timezone_hours": None,     # hard limit on the UTC-offset difference, or None
    "min_shared_slots": 0,          # shared availability slots needed for follow-up meetings
    "max_level_gap": None,          # hard limit on |level a - level b|, or None (reverse mentoring welcome)
    "require_mutual_gain": True,    # both partners must gain something from the other's offers
    "objective": "balanced",        # balanced | egalitarian
    "attach_leftovers": False,      # attach a leftover person to the team where the trio gains most
    "weights": DEFAULT_WEIGHTS,
}

REQUIRED_FIELDS = ("id", "gender", "department", "location", "timezone", "level", "manager_id", "offers",
                   "wants", "availability", "previous_partners")


class MatchingError(ValueError):
    """Bad input, or a must-pair that a hard rule refuses.

    Bad input: the message names the participant and the field ("participant 'p7', field 'level':
    must be an integer"). A refused must-pair: the message names the people in plain words, and
    ``rule`` ("manager", "never_pair" or "decline") and ``people`` (the must-pair's ids) say which
    rule refused which pair; ``refusals`` lists every refused must-pair as
    ``{"rule", "rules", "members", "message"}``. For bad input ``rule`` is None.
    """

    def __init__(self, message: str, *, rule: str | None = None, people: list | tuple = (),
                 refusals: list[dict] | tuple = ()):
        super().__init__(message)
        self.rule, self.people, self.refusals = rule, list(people), list(refusals)


@dataclass
class Pool:
    """A validated pool, as arrays in id order."""

    ids: list[Any]
    names: list[str]
    raw: list[dict]
    gender: np.ndarray          # int codes: 0 woman, 1 man, 2 non-binary, 3 undisclosed, 4+ self-described
    gender_label: list[str]
    department: np.ndarray      # int codes
    location: np.ndarray        # int codes
    tz_offset: np.ndarray       # hours east of UTC at the reference instant
    level: np.ndarray
    manager: np.ndarray         # index of manager in pool, or -1
    skills: list[str]           # vocabulary (display names)
    wants: np.ndarray           # n x V want weights, rows sum to 1 (0 row when no wants)
    offers: np.ndarray          # n x V offer strengths in (0, 1]
    slots: np.ndarray           # n x S bool availability
    index: dict[Any, int]
    must: list[tuple[int, int]]
    never: set[tuple[int, int]]
    requests: set[tuple[int, int]]       # (requester, requested)
    declines: set[tuple[int, int]]
    previous: set[tuple[int, int]]
    policy: dict[str, Any]
    weights: dict[str, float] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.ids)


def _fail(pid: Any, field_name: str, message: str) -> MatchingError:
    who = f"participant {pid!r}" if pid is not None else "pool"
    return MatchingError(f"{who}, field '{field_name}': {message}")


def _skill_key(name: str) -> str:
    return " ".join(name.lower().split())


def merge_policy(policy: dict | None) -> dict[str, Any]:
    """The policy with documented defaults filled in, checked."""
    merged = {**DEFAULT_POLICY, **(policy or {})}
    merged["weights"] = {**DEFAULT_WEIGHTS, **((policy or {}).get("weights") or {})}
    choices = {"cross_gender": ("require", "prefer", "off"), "undisclosed": ("any", "manual"),
               "department": ("different", "any"), "objective": ("balanced", "egalitarian")}
    for key, allowed in choices.items():
        if merged[key] not in allowed:
            raise _fail(None, f"policy.{key}", f"{merged[key]!r} is not one of {', '.join(allowed)}")
    for key in ("max_timezone_hours", "max_level_gap"):
        value = merged[key]
        if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0):
            raise _fail(None, f"policy.{key}", "must be a non-negative number or null")
    if not isinstance(merged["min_shared_slots"], int) or merged["min_shared_slots"] < 0:
        raise _fail(None, "policy.min_shared_slots", "must be a non-negative integer")
    for name, value in merged["weights"].items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise _fail(None, f"policy.weights.{name}", "must be a non-negative number")
    return merged


def _offset_hours(tz: str, at: datetime) -> float:
    return ZoneInfo(tz).utcoffset(at.astimezone(ZoneInfo(tz)).replace(tzinfo=None)).total_seconds() / 3600


def read_pool(data: dict, *, allow_empty: bool = False) -> Pool:
    """Validate POOL data (docs/contracts.md) and build the arrays.

    An empty ``participants`` list is bad input unless ``allow_empty`` (the library then returns an
    empty result; the command line still calls it an error: an empty POOL.json is the wrong file).
    """
    if not isinstance(data, dict):
        raise _fail(None, "participants", "the pool must be a JSON object")
    people = data.get("participants")
    if not isinstance(people, list) or not (people or allow_empty):
        raise _fail(None, "participants", "the pool has no participants")
    policy = merge_policy(data.get("policy"))
    seen: dict[Any, int] = {}
    for position, person in enumerate(people):
        if not isinstance(person, dict):
            raise _fail(None, f"participants[{position}]", "each participant must be an object")
        pid = person.get("id")
        if not isinstance(pid, (str, int)) or isinstance(pid, bool) or pid == "":
            raise _fail(None, f"participants[{position}].id", "missing or not a string/integer")
        if pid in seen:
            raise _fail(pid, "id", "duplicate id")
        seen[pid] = position
        for name in REQUIRED_FIELDS:
            if name not in person:
                raise _fail(pid, name, "missing")
    order = sorted(range(len(people)), key=lambda i: (str(type(people[i]["id"])), str(people[i]["id"])))
    people = [people[i] for i in order]
    ids = [p["id"] for p in people]
    index = {pid: i for i, pid in enumerate(ids)}
    n = len(people)

    gender = np.empty(n, dtype=np.int32)
    labels: list[str] = []
    self_described: dict[str, int] = {}
    dept_codes: dict[str, int] = {}
    loc_codes: dict[str, int] = {}
    department = np.empty(n, dtype=np.int32)
    location = np.empty(n, dtype=np.int32)
    tz_offset = np.empty(n, dtype=np.float64)
    level = np.empty(n, dtype=np.int32)
    manager = np.full(n, -1, dtype=np.int64)
    at = datetime(2026, 1, 15, 12, tzinfo=timezone.utc)
    vocab: dict[str, int] = {}
    vocab_names: list[str] = []
    want_entries: list[tuple[int, int, float]] = []
    offer_entries: list[tuple[int, int, float]] = []
    slot_codes: dict[str, int] = {}
    slot_entries: list[tuple[int, int]] = []
    zones: dict[str, float] = {}

    for i, person in enumerate(people):
        pid = person["id"]
        g = person["gender"]
        if not isinstance(g, str):
            raise _fail(pid, "gender", "must be a string")
        if g in GENDERS:
            gender[i] = GENDERS.index(g)
        elif g.startswith("self-described:") and g[len("self-described:"):].strip():
            words = " ".join(g[len("self-described:"):].lower().split())
            gender[i] = self_described.setdefault(words, len(GENDERS) + len(self_described))
        else:
            raise _fail(pid, "gender", f"{g!r} is not woman, man, non-binary, self-described:<words> or undisclosed")
        labels.append(g)
        for name, codes, target in (("department", dept_codes, department), ("location", loc_codes, location)):
            value = person[name]
            if not isinstance(value, str):
                raise _fail(pid, name, "must be a string")
            target[i] = codes.setdefault(value.strip().lower(), len(codes))
        tz = person["timezone"]
        if not isinstance(tz, str):
            raise _fail(pid, "timezone", "must be an IANA time zone name")
        if tz not in zones:
            try:
                zones[tz] = _offset_hours(tz, at)
            except (ZoneInfoNotFoundError, ValueError):
                raise _fail(pid, "timezone", f"unknown time zone {tz!r}") from None
        tz_offset[i] = zones[tz]
        lvl = person["level"]
        if not isinstance(lvl, int) or isinstance(lvl, bool):
            raise _fail(pid, "level", "must be an integer")
        level[i] = lvl
        boss = person["manager_id"]
        if boss is not None and (not isinstance(boss, (str, int)) or isinstance(boss, bool)):
            raise _fail(pid, "manager_id", "must be an id or null")
        if boss == pid:
            raise _fail(pid, "manager_id", "a person cannot be their own manager")
        manager[i] = index.get(boss, -1) if boss is not None else -1
        for name, entries in (("wants", want_entries), ("offers", offer_entries)):
            items = person[name]
            if not isinstance(items, list) or not all(isinstance(s, str) and s.strip() for s in items):
                raise _fail(pid, name, "must be a list of skill names")
            keys = list(dict.fromkeys(_skill_key(s) for s in items))
            for rank, key in enumerate(keys):
                if key not in vocab:
                    vocab[key] = len(vocab)
                    vocab_names.append(next(s.strip() for s in items if _skill_key(s) == key))
                if name == "wants":
                    weight = 1.0 / (rank + 1)  # the first want matters most
                else:
                    weight = 1.0 - 0.5 * rank / max(len(keys) - 1, 1)  # strongest offer first
                entries.append((i, vocab[key], weight))
        slots = person["availability"]
        if not isinstance(slots, list) or not all(isinstance(s, str) for s in slots):
            raise _fail(pid, "availability", "must be a list of slot names")
        for slot in set(slots):
            slot_entries.append((i, slot_codes.setdefault(slot, len(slot_codes))))
        prev = person["previous_partners"]
        if not isinstance(prev, list):
            raise _fail(pid, "previous_partners", "must be a list of ids")
        if "name" in person and not isinstance(person["name"], str):
            raise _fail(pid, "name", "must be a string")

    V = max(len(vocab), 1)
    wants = np.zeros((n, V))
    offers = np.zeros((n, V))
    for i, j, w in want_entries:
        wants[i, j] = w
    for i, j, w in offer_entries:
        offers[i, j] = w
    sums = wants.sum(axis=1, keepdims=True)
    wants = np.divide(wants, sums, out=np.zeros_like(wants), where=sums > 0)
    slots_matrix = np.zeros((n, max(len(slot_codes), 1)), dtype=bool)
    for i, j in slot_entries:
        slots_matrix[i, j] = True

    def pairs(key: str, ordered: bool = False) -> list[tuple[int, int]]:
        value = data.get(key, [])
        if not isinstance(value, list):
            raise _fail(None, key, "must be a list of [id, id] pairs")
        out = []
        for item in value:
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                raise _fail(None, key, f"{item!r} is not a pair [id, id]")
            a, b = item
            for pid in (a, b):
                if pid not in index:
                    raise _fail(pid, key, "unknown id (not in participants)")
            if a == b:
                raise _fail(a, key, "a person cannot be paired with themselves")
            ia, ib = index[a], index[b]
            out.append((ia, ib) if ordered else (min(ia, ib), max(ia, ib)))
        return out

    must = list(dict.fromkeys(pairs("must_pair")))
    never = set(pairs("never_pair"))  # a must-pair also in never_pair is refused when solving
    in_must: dict[int, int] = {}
    for a, b in must:
        for x in (a, b):
            if x in in_must:
                raise _fail(ids[x], "must_pair", "appears in more than one must-pair")
            in_must[x] = 1
    previous = set()
    for i, person in enumerate(people):
        for other in person["previous_partners"]:
            if other in index and index[other] != i:
                previous.add((min(i, index[other]), max(i, index[other])))
    names = [p.get("name") or str(p["id"]) for p in people]
    return Pool(ids=ids, names=names, raw=people, gender=gender, gender_label=labels, department=department,
                location=location, tz_offset=tz_offset, level=level, manager=manager, skills=vocab_names,
                wants=wants, offers=offers, slots=slots_matrix, index=index, must=must, never=never,
                requests=set(pairs("requests", ordered=True)), declines=set(pairs("declines", ordered=True)),
                previous=previous, policy=policy, weights=policy["weights"])
