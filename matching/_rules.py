"""Which rules a team breaks, in plain words naming the people.

The matcher never forms such a team itself (``Scorer.block`` leaves it out), but a must-pair (a
facilitator's pin, or people who enrol together) and a published team kept by a re-match are
teams someone chose. Three rules refuse them: a manager line, a never-pair and a decline. Every
other rule (previous partners, the policy's hard rules, one side gaining nothing) is overridden by
the people's choice: the team is kept and flagged. The checks mirror ``Scorer.block`` rule by rule
(a test holds them to it).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._pool import Pool
from ._scores import UNDISCLOSED

REFUSING = ("manager", "never_pair", "decline")


def name_list(items: list[str]) -> str:
    """"A", "A and B", "A, B and C"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


@dataclass(frozen=True)
class Breach:
    kind: str                 # manager | never_pair | decline | previous_partner | cross_gender | department
                              # | timezone | shared_slots | level_gap | one_sided
    people: tuple[int, ...]   # positions concerned: (manager, report), (decliner, declined), (learner,), ...
    text: str                 # plain words, people by name

    @property
    def refuses(self) -> bool:
        return self.kind in REFUSING


def gains_from(pool: Pool, learner: int, teachers: list[int]) -> float:
    """How much of what ``learner`` wants the ``teachers`` offer together (the best offer per skill)."""
    return float(pool.wants[learner] @ pool.offers[teachers].max(axis=0))


def team_gains(pool: Pool, members: list[int]) -> list[float]:
    """Each member's gain from what the rest of the team offers (for a pair: the other's offers)."""
    return [gains_from(pool, m, [o for o in members if o != m]) for m in members]


def one_sided_text(pool: Pool, learner: int, teachers: list[int]) -> str:
    who, them = pool.names[learner], name_list([pool.names[t] for t in teachers])
    if not (pool.wants[learner] > 0).any():
        return f"{who} listed nothing to learn, so gains nothing from {them}"
    verb = "offers" if len(teachers) == 1 else "offer"
    return f"{who} gains nothing from {them}: nothing {them} {verb} is on {who}'s list to learn"


def pair_breaches(pool: Pool, a: int, b: int, *, gains: bool = True) -> list[Breach]:
    """Every rule the pair a-b breaks (``gains``: including a side that gains nothing from the other)."""
    name, pol, out = pool.names, pool.policy, []
    both = f"{name[a]} and {name[b]}"
    key = (min(a, b), max(a, b))
    for boss, report in ((a, b), (b, a)):
        if pool.manager[report] == boss:
            out.append(Breach("manager", (boss, report), f"{name[boss]} is {name[report]}'s manager"))
    if key in pool.never:
        out.append(Breach("never_pair", (a, b), f"{both} are marked never to be paired"))
    for x, y in ((a, b), (b, a)):
        if (x, y) in pool.declines:
            out.append(Breach("decline", (x, y), f"{name[x]} declined to work with {name[y]}"))
    if key in pool.previous:
        out.append(Breach("previous_partner", (a, b), f"{both} were partners before"))
    undisclosed = UNDISCLOSED in (pool.gender[a], pool.gender[b])
    if pol["cross_gender"] == "require" and not undisclosed and pool.gender[a] == pool.gender[b]:
        out.append(Breach("cross_gender", (a, b),
                          f"{both} share a gender identity, and the policy requires cross-gender teams"))
    if pol["department"] == "different" and pool.department[a] == pool.department[b]:
        out.append(Breach("department", (a, b), f"{both} are both in {pool.raw[a]['department']}, and the "
                                                "policy asks for different departments"))
    gap = abs(float(pool.tz_offset[a] - pool.tz_offset[b]))
    if pol["max_timezone_hours"] is not None and gap > pol["max_timezone_hours"] + 1e-9:
        out.append(Breach("timezone", (a, b), f"{both} are {gap:g} hours apart, more than the policy's "
                                              f"{pol['max_timezone_hours']:g}-hour limit"))
    shared = shared_slots(pool, [a, b])
    if shared < pol["min_shared_slots"]:
        out.append(Breach("shared_slots", (a, b), f"{both} share {shared} free hour{'s' if shared != 1 else ''} "
                                                  f"a week, fewer than the {pol['min_shared_slots']} the policy asks for"))
    levels = abs(int(pool.level[a]) - int(pool.level[b]))
    if pol["max_level_gap"] is not None and levels > pol["max_level_gap"]:
        out.append(Breach("level_gap", (a, b), f"{name[a]} (level {pool.level[a]}) and {name[b]} (level "
                                               f"{pool.level[b]}) are {levels} levels apart, more than the "
                                               f"policy's limit of {pol['max_level_gap']:g}"))
    if gains and pol["require_mutual_gain"]:
        for learner, teacher in ((a, b), (b, a)):
            if not gains_from(pool, learner, [teacher]) > 0:
                out.append(Breach("one_sided", (learner,), one_sided_text(pool, learner, [teacher])))
    return out


def team_breaches(pool: Pool, members: list[int], gains: list[float]) -> list[Breach]:
    """Every rule a team of 2 or 3 breaks: each pair of members, then anyone who gains nothing from
    the rest of the team (when the policy requires mutual gain)."""
    out = [breach for i, a in enumerate(members) for b in members[i + 1:]
           for breach in pair_breaches(pool, a, b, gains=False)]
    if pool.policy["require_mutual_gain"]:
        for m, gain in zip(members, gains):
            if not gain > 0:
                out.append(Breach("one_sided", (m,), one_sided_text(pool, m, [o for o in members if o != m])))
    return out


ADVICE = {"must_pair": "kept because they are pinned together", "kept": "kept as published",
          "assigned": "kept because a facilitator put them together"}


def flag(pool: Pool, breach: Breach, members: list[int], origin: str) -> dict[str, Any]:
    """A team's flag (and ``stats["warnings"]`` entry): machine-readable fields and a sentence."""
    advice = "add a skill or swap" if breach.kind == "one_sided" else ADVICE.get(origin)
    item: dict[str, Any] = {"kind": breach.kind, "members": [pool.ids[m] for m in members],
                            "people": [pool.ids[p] for p in breach.people]}
    if breach.kind in ("one_sided", "decline"):
        item["person"] = pool.ids[breach.people[0]]
    item["message"] = breach.text + (f"; {advice}." if advice else ".")
    return item


def refusal(pool: Pool, a: int, b: int) -> dict[str, Any] | None:
    """Why a must-pair cannot be kept (a manager line, a never-pair or a decline), or None."""
    refusing = [x for x in pair_breaches(pool, a, b, gains=False) if x.refuses]
    if not refusing:
        return None
    texts = [("a facilitator marked them never to be paired (the pair is also in never_pair)"
              if x.kind == "never_pair" else x.text) for x in refusing]
    return {"rule": refusing[0].kind, "rules": list(dict.fromkeys(x.kind for x in refusing)),
            "members": [pool.ids[a], pool.ids[b]],
            "message": f"{pool.names[a]} and {pool.names[b]} cannot be a team: {name_list(texts)}."}


def shared_slots(pool: Pool, members: list[int]) -> int:
    return int(np.logical_and.reduce(pool.slots[members]).sum())
