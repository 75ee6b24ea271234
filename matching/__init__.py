"""Reciprocal team matching: optimal, explainable and fast. Pure Python (numpy/scipy); no web app.

Each person is mentor and mentee: a team is worth something only when each partner offers what
the other wants. ``solve`` takes a pool as in docs/contracts.md (``participants``, ``must_pair``,
``never_pair``, optional ``requests`` and ``declines``, ``policy``) and returns a
:class:`MatchResult` whose :meth:`MatchResult.to_dict` is RESULT.json.

Policy keys and defaults (anything left out takes these):

=====================  =========================================================================
cross_gender            ``prefer`` (bonus) | ``require`` (hard) | ``off``
undisclosed             ``any`` (compatible with anyone) | ``manual`` (left for the facilitator)
department              ``any`` | ``different`` (hard)
max_timezone_hours      ``None`` | hard limit on the UTC-offset difference (hours)
min_shared_slots        ``0`` | shared availability slots needed for follow-up meetings (hard)
max_level_gap           ``None`` (reverse mentoring welcome) | hard limit on the level difference
require_mutual_gain     ``True``: both partners must gain something (hard)
objective               ``balanced`` (max total team value) | ``egalitarian`` (max worst team first)
team_value              ``harmonic`` (balance-rewarding, default) | ``sum`` (plain, for comparison)
attach_leftovers        ``False`` | attach each leftover to the team where the trio gains most
weights                 skills 10, gender 5, department 3, location 1, timezone 1, requests 8,
                        availability 1 (see ``matching._scores`` for how each counts)
=====================  =========================================================================

Hard rules are never broken by the matcher: nobody with their manager or direct report,
never-pairs, declines (either person's), previous partners, and the hard policy rules above.
A must-pair (a facilitator's pin, or people who enrol together) is the people's choice and
overrides every rule but three: a manager line, a never-pair or a decline refuses it
(:class:`MatchingError` with ``rule`` and ``people``). Anything else it breaks (one side gaining
nothing, previous partners, the policy's hard rules) keeps the team and flags it: the team's
``flags`` and ``stats["warnings"]`` say so in plain words. ``stats["preferences"]`` says, for each
request and decline, whether it was honoured and why not.

Examples
--------
>>> pool = {"participants": [
...     {"id": "ana", "gender": "woman", "department": "Sales", "location": "Lisbon",
...      "timezone": "Europe/Lisbon", "level": 3, "manager_id": None, "offers": ["negotiation"],
...      "wants": ["data analysis"], "availability": ["tue-10"], "previous_partners": []},
...     {"id": "ben", "gender": "man", "department": "IT", "location": "Lagos",
...      "timezone": "Africa/Lagos", "level": 2, "manager_id": None, "offers": ["data analysis"],
...      "wants": ["negotiation"], "availability": ["tue-10"], "previous_partners": []}],
...     "policy": {"cross_gender": "require"}}
>>> result = solve(pool)
>>> [(p.a, p.b) for p in result.pairs]
[('ana', 'ben')]
>>> result.pairs[0].members, result.pairs[0].reasons[0]
(('ana', 'ben'), 'ana offers negotiation, which ben wants to learn')
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ._explain import preferences, team_reasons, unmatched_reason
from ._pool import DEFAULT_POLICY, DEFAULT_WEIGHTS, MatchingError, Pool, _fail, read_pool
from ._rules import flag, name_list, pair_breaches, refusal, team_breaches, team_gains
from ._scores import Scorer
from ._solve import is_two_group, solve_egalitarian, solve_general, solve_two_group
from .pods import form_pods

__all__ = ["solve", "rematch", "check_team", "form_pods", "MatchResult", "Team", "Pair", "Unmatched", "MatchingError",
           "DEFAULT_POLICY", "DEFAULT_WEIGHTS"]

EMPTY_NOTE = "No one to match yet."


@dataclass(frozen=True)
class Team:
    """A team of 2 or 3 people.

    ``members`` are the ids in order; ``gains`` maps each member's id to what they gain from the
    rest of the team (for a pair: from the other's offers; see ``matching._scores``); ``score`` is
    the team's value (for a trio: the mean over its three pairs of members). ``flags`` lists the
    rules a team someone chose breaks (a must-pair, or a published team a re-match kept), as in
    ``stats["warnings"]``; ``origin`` is ``matched``, ``must_pair`` or ``kept``.

    ``a``, ``b``, ``c`` and ``gain_a``, ``gain_b``, ``gain_c`` read the members in order (``c`` and
    ``gain_c`` are None for a pair), as in RESULT.json.
    """

    members: tuple
    score: float
    gains: dict
    reasons: list[str]
    flags: list[dict] = field(default_factory=list)
    origin: str = "matched"

    def __post_init__(self):
        object.__setattr__(self, "members", tuple(self.members))
        if not 2 <= len(self.members) <= 3 or set(self.gains) != set(self.members):
            raise ValueError("a team has 2 or 3 members, each with a gain")

    def _member(self, k: int):
        return self.members[k] if k < len(self.members) else None

    def _gain(self, k: int):
        return self.gains[self.members[k]] if k < len(self.members) else None

    a = property(lambda self: self._member(0))
    b = property(lambda self: self._member(1))
    c = property(lambda self: self._member(2))
    gain_a = property(lambda self: self._gain(0))
    gain_b = property(lambda self: self._gain(1))
    gain_c = property(lambda self: self._gain(2))

    def to_dict(self) -> dict[str, Any]:
        """RESULT.json's team: ``a``, ``b`` (and ``c``), score, ``gain_a``, ``gain_b`` (and ``gain_c``),
        reasons, then ``members``, ``gains`` (keyed by the id as a string, as JSON keys are),
        ``flags`` and ``origin``."""
        item = {"a": self.a, "b": self.b, "score": self.score, "gain_a": self.gain_a, "gain_b": self.gain_b,
                "reasons": list(self.reasons)}
        if self.c is not None:
            item.update(c=self.c, gain_c=self.gain_c)
        item.update(members=list(self.members), gains={str(m): g for m, g in self.gains.items()},
                    flags=[dict(f) for f in self.flags], origin=self.origin)
        return item


Pair = Team  # the name the first releases used; a pair is a team of two


@dataclass(frozen=True)
class Unmatched:
    id: Any
    reason: str


@dataclass(frozen=True)
class MatchResult:
    pairs: list[Team]
    unmatched: list[Unmatched]
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def teams(self) -> list[Team]:
        return self.pairs

    def to_dict(self) -> dict[str, Any]:
        """RESULT.json (docs/contracts.md, with each team's ``members``, ``gains`` and ``flags`` added)."""
        return {"pairs": [t.to_dict() for t in self.pairs], "unmatched": [asdict(u) for u in self.unmatched],
                "stats": self.stats}


def _refuse_must_pairs(pool: Pool) -> None:
    refused = [r for r in (refusal(pool, a, b) for a, b in pool.must) if r is not None]
    if refused:
        raise MatchingError(" ".join(r["message"] for r in refused), rule=refused[0]["rule"],
                            people=refused[0]["members"], refusals=refused)


def _team(pool: Pool, scorer: Scorer, members: list[int], origin: str, extra: tuple[str, ...] = ()) -> Team:
    """The team of these positions, scored and explained on ``pool``; any size, any origin."""
    gains = team_gains(pool, members)
    links = [scorer.pair(x, y, masked=False)[0] for i, x in enumerate(members) for y in members[i + 1:]]
    return Team(tuple(pool.ids[m] for m in members), round(sum(links) / len(links), 6),
                {pool.ids[m]: round(g, 6) for m, g in zip(members, gains)},
                team_reasons(pool, members) + list(extra),
                [flag(pool, breach, members, origin) for breach in team_breaches(pool, members, gains)], origin)


def _attach_leftovers(scorer: Scorer, teams: list[list[int]], leftovers: list[int]) -> dict[int, int]:
    """Attach each leftover to the pair where the trio gains most (feasible with every member)."""
    trios: dict[int, int] = {}
    for person in leftovers:
        best, best_value = None, 0.0
        for t, members in enumerate(teams):
            if t in trios or len(members) != 2:
                continue
            links = [scorer.pair(person, m) for m in members]
            value = sum(v for v, _, _, _ in links)
            if all(ok for _, ok, _, _ in links) and value > best_value:
                best, best_value = t, value
        if best is not None:
            trios[best] = person
    return trios


def _match(pool: Pool, scorer: Scorer):
    """(teams as (positions, origin, extra reasons), the unmatched, the solver's stats)."""
    _refuse_must_pairs(pool)
    in_must = {x for pair in pool.must for x in pair}
    active = np.array([i for i in range(pool.n) if i not in in_must and not scorer.excluded[i]], dtype=np.int64)
    if pool.policy["objective"] == "egalitarian":
        found, stats = solve_egalitarian(scorer, active)
    elif is_two_group(pool, active):
        found, stats = solve_two_group(scorer, active)
    else:
        found, stats = solve_general(scorer, active)
    teams = [(list(p), "must_pair", ()) for p in pool.must] + [(list(p), "matched", ())
                                                                for p in sorted(tuple(sorted(p)) for p in found)]
    placed = {x for members, _, _ in teams for x in members}
    if pool.policy["attach_leftovers"]:
        leftovers = [i for i in range(pool.n) if i not in placed]
        for t, person in _attach_leftovers(scorer, [m for m, _, _ in teams], leftovers).items():
            members, origin, _ = teams[t]
            teams[t] = (members + [person], origin, (f"{pool.names[person]} joins as a third member because "
                                                    "numbers did not allow another pair",))
            placed.add(person)
    unmatched = [Unmatched(pool.ids[i], unmatched_reason(pool, scorer, i, placed))
                 for i in range(pool.n) if i not in placed]
    return teams, unmatched, stats


def _result(pool: Pool, scorer: Scorer, teams: list[Team], unmatched: list[Unmatched], solver: dict,
            started: float, warnings: list[dict] = (), dropped: set[int] = frozenset()) -> MatchResult:
    """The result with its summary figures, warnings and preferences, on the whole ``pool``."""
    gains = [g for t in teams for g in t.gains.values()]
    team_of = {pool.index[m]: t for t in teams for m in t.members}
    details = [f for t in teams for f in t.flags] + list(warnings)
    stats = {
        **solver,
        "participants": pool.n, "teams": len(teams), "unmatched": len(unmatched),
        "objective": pool.policy["objective"], "total_value": round(float(sum(t.score for t in teams)), 6),
        "worst_team_value": round(min((t.score for t in teams), default=0.0), 6),
        "worst_individual_gain": round(min(gains, default=0.0), 6),
        "both_sides_gain": sum(1 for t in teams if all(g > 0 for g in t.gains.values())),
        # The contract's plain sentences; the same with machine-readable fields in warning_details.
        "warnings": [w["message"] for w in details],
        "warning_details": details,
        "preferences": preferences(pool, scorer, team_of, dropped),
    }
    if pool.n == 0:
        stats["note"] = EMPTY_NOTE
    stats["seconds"] = round(time.perf_counter() - started, 3)
    return MatchResult(teams, unmatched, stats)


def solve(pool: dict) -> MatchResult:
    """Match a pool into reciprocal teams, optimally for the policy's objective.

    Parameters
    ----------
    pool : dict
        POOL.json's content: ``participants`` (each with ``id``, ``gender``, ``department``,
        ``location``, ``timezone``, ``level``, ``manager_id``, ``offers``, ``wants``,
        ``availability``, ``previous_partners``; optional ``name``), ``must_pair``, ``never_pair``,
        optional ``requests`` and ``declines`` ([from, to] pairs) and ``policy``.

    Returns
    -------
    MatchResult
        Teams with members, score, each member's gain, reasons and flags; the unmatched with a
        reason; ``stats`` with the solver used, its optimality ``gap`` and bound, summary figures,
        ``warnings`` (every flag of every team) and ``preferences`` (each request and decline:
        honoured or not, and why not). No participants: an empty result, ``stats["note"]`` says so.

    Raises
    ------
    MatchingError
        Bad input (the message names the participant and field), or a must-pair refused by a
        manager line, a never-pair or a decline (``rule``, ``people``, ``refusals``).
    """
    started = time.perf_counter()
    data = read_pool(pool, allow_empty=True)
    scorer = Scorer(data)
    specs, unmatched, solver = _match(data, scorer) if data.n else ([], [], {})
    teams = [_team(data, scorer, members, origin, extra) for members, origin, extra in specs]
    return _result(data, scorer, teams, unmatched, solver, started)


def check_team(pool: dict, members: list[Any], origin: str = "assigned") -> Team:
    """A team someone puts together by hand (a facilitator pairing people who wait for a partner, or
    adding a third member to a team), judged like a must-pair: a manager line, a never-pair or a
    decline between any two members refuses it (:class:`MatchingError` naming the people and the
    rule); anything else it breaks keeps the team and is in its ``flags``. Returns the team scored
    and explained on ``pool`` (only its members need be in it)."""
    data = read_pool(pool)
    for pid in members:
        if pid not in data.index:
            raise _fail(pid, "members", "unknown id (not in participants)")
    if not 2 <= len(set(members)) == len(members) <= 3:
        raise _fail(None, "members", "a team has 2 or 3 different people")
    positions = [data.index[pid] for pid in members]
    refusing = [(a, b, breach) for i, a in enumerate(positions) for b in positions[i + 1:]
                for breach in pair_breaches(data, a, b, gains=False) if breach.refuses]
    if refusing:
        a, b, first = refusing[0]
        raise MatchingError(
            f"{name_list([data.names[p] for p in positions])} cannot be a team: "
            f"{name_list([breach.text for _, _, breach in refusing])}.",
            rule=first.kind, people=[data.ids[a], data.ids[b]],
            refusals=[{"rule": breach.kind, "members": [data.ids[x], data.ids[y]], "message": breach.text}
                      for x, y, breach in refusing])
    return _team(data, Scorer(data), positions, origin)


def _previous_teams(full: Pool, previous_pairs: list[list[Any]]) -> list[list[Any]]:
    teams, seen = [], set()
    for team in previous_pairs:
        if not isinstance(team, (list, tuple)) or not 2 <= len(team) <= 3:
            raise _fail(None, "previous_pairs", f"{team!r} is not a team of 2 or 3 ids")
        for pid in team:
            if pid not in full.index:
                raise _fail(pid, "previous_pairs", "unknown id (not in participants)")
            if pid in seen:
                raise _fail(pid, "previous_pairs", "appears in more than one team")
            seen.add(pid)
        teams.append(list(team))
    return teams


def rematch(pool: dict, previous_pairs: list[list[Any]], dropped: list[Any]) -> MatchResult:
    """Re-pair only the people a drop-out affects; every other team stays as it was.

    ``previous_pairs`` are the published teams ([a, b] or [a, b, c]); ``dropped`` the ids leaving.
    The people affected are the dropped people's partners plus anyone unmatched before; they are
    matched among themselves with the same policy. Kept teams come back whole (``origin: kept``,
    flagged if they now break a rule). ``stats["changed"]`` lists whose team changed; the summary
    figures, ``warnings`` and ``preferences`` cover every team. A must-pair that cannot apply
    because one of its people is in a kept team or leaving is a ``must_pair_skipped`` warning.
    """
    started = time.perf_counter()
    full = read_pool(pool, allow_empty=True)
    dropped_set = set(dropped)
    for pid in dropped_set:
        if pid not in full.index:
            raise _fail(pid, "dropped", "unknown id (not in participants)")
    kept, affected, placed = [], set(), set()
    for team in _previous_teams(full, previous_pairs):
        placed.update(team)
        if dropped_set & set(team):
            affected.update(pid for pid in team if pid not in dropped_set)
        else:
            kept.append(team)
    affected.update(pid for pid in full.ids if pid not in placed and pid not in dropped_set)
    sub = {**pool, "participants": [p for p in pool["participants"] if p["id"] in affected]}
    for key in ("must_pair", "never_pair", "requests", "declines"):
        sub[key] = [pair for pair in pool.get(key, []) if all(pid in affected for pid in pair)]
    part = read_pool(sub, allow_empty=True)
    scorer = Scorer(full)
    specs, unmatched, solver = _match(part, Scorer(part)) if part.n else ([], [], {})
    teams = ([_team(full, scorer, [full.index[pid] for pid in team], "kept") for team in kept]
             + [_team(full, scorer, [full.index[part.ids[m]] for m in members], origin, extra)
                for members, origin, extra in specs])
    team_of = {m: t for t in kept for m in t}
    skipped = []
    for a, b in full.must:
        ida, idb = full.ids[a], full.ids[b]
        if {ida, idb} <= affected or (ida in team_of and team_of[ida] is team_of.get(idb)):
            continue
        why = [f"{full.names[x]} is leaving" if full.ids[x] in dropped_set else
               f"{full.names[x]}'s published team was kept as it was" for x in (a, b) if full.ids[x] not in affected]
        skipped.append({"kind": "must_pair_skipped", "members": [ida, idb], "people": [ida, idb],
                        "message": f"{full.names[a]} and {full.names[b]} are pinned together, but "
                                   f"{name_list(why)}, so the pin is not applied."})
    result = _result(full, scorer, teams, unmatched, solver, started, skipped,
                     {full.index[pid] for pid in dropped_set})
    result.stats.update(kept=len(kept), changed=sorted(affected, key=str), dropped=sorted(dropped_set, key=str),
                        seconds=round(time.perf_counter() - started, 3))
    return result
