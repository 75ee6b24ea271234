"""Reciprocal team matching: optimal, explainable and fast. Pure Python (numpy/scipy); no web app.

Each person is mentor and mentee: a team is worth something only when each partner offers what
the other wants. ``solve`` takes a pool as in DESIGN.md (``participants``, ``must_pair``,
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

Hard rules are never broken: nobody with their manager or direct report, never-pairs, declines
(either person's), previous partners, and the hard policy rules above. A must-pair that breaks a
hard rule is an error, not silently dropped.

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
>>> result.pairs[0].reasons[0]
'ana offers negotiation, which ben wants to learn'
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ._explain import team_reasons, unmatched_reason
from ._pool import DEFAULT_POLICY, DEFAULT_WEIGHTS, MatchingError, Pool, read_pool
from ._scores import Scorer
from ._solve import is_two_group, solve_egalitarian, solve_general, solve_two_group
from .pods import form_pods

__all__ = ["solve", "rematch", "form_pods", "MatchResult", "Pair", "Unmatched", "MatchingError",
           "DEFAULT_POLICY", "DEFAULT_WEIGHTS"]


@dataclass(frozen=True)
class Pair:
    a: Any
    b: Any
    score: float
    gain_a: float
    gain_b: float
    reasons: list[str]
    c: Any = None          # a third member when a leftover was attached (attach_leftovers)
    gain_c: float | None = None


@dataclass(frozen=True)
class Unmatched:
    id: Any
    reason: str


@dataclass(frozen=True)
class MatchResult:
    pairs: list[Pair]
    unmatched: list[Unmatched]
    stats: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """RESULT.json (DESIGN.md's contract); trio members appear as ``c`` / ``gain_c``."""
        pairs = []
        for p in self.pairs:
            item = {k: v for k, v in asdict(p).items() if k not in ("c", "gain_c")}
            if p.c is not None:
                item.update(c=p.c, gain_c=p.gain_c)
            pairs.append(item)
        return {"pairs": pairs, "unmatched": [asdict(u) for u in self.unmatched], "stats": self.stats}


def _check_must_pairs(pool: Pool, scorer: Scorer) -> None:
    for a, b in pool.must:
        value, feasible, _, _ = scorer.pair(a, b)
        if not feasible:
            raise MatchingError(
                f"participant {pool.ids[a]!r}, field 'must_pair': the must-pair with {pool.ids[b]!r} breaks a "
                "hard rule (manager, never-pair, decline, previous partner, policy, or no gain for one side)")


def _pair(pool: Pool, scorer: Scorer, a: int, b: int) -> Pair:
    value, _, g_ab, g_ba = scorer.pair(a, b)
    return Pair(pool.ids[a], pool.ids[b], round(value, 6), round(g_ab, 6), round(g_ba, 6),
                team_reasons(pool, scorer, a, b))


def _attach_leftovers(pool: Pool, scorer: Scorer, teams: list[tuple[int, int]], leftovers: list[int]):
    """Attach each leftover to the team where the trio gains most (both links feasible)."""
    trios: dict[int, int] = {}
    for person in leftovers:
        best, best_value = None, 0.0
        for t, (a, b) in enumerate(teams):
            if t in trios:
                continue
            va, fa, _, _ = scorer.pair(person, a)
            vb, fb, _, _ = scorer.pair(person, b)
            if fa and fb and va + vb > best_value:
                best, best_value = t, va + vb
        if best is not None:
            trios[best] = person
    return trios


def _solve_pool(pool: Pool, started: float) -> MatchResult:
    scorer = Scorer(pool)
    _check_must_pairs(pool, scorer)
    in_must = {x for pair in pool.must for x in pair}
    active = np.array([i for i in range(pool.n) if i not in in_must and not scorer.excluded[i]], dtype=np.int64)
    if pool.policy["objective"] == "egalitarian":
        found, stats = solve_egalitarian(scorer, active)
    elif is_two_group(pool, active):
        found, stats = solve_two_group(scorer, active)
    else:
        found, stats = solve_general(scorer, active)
    teams = [tuple(sorted(p)) for p in pool.must] + sorted(tuple(sorted(p)) for p in found)
    matched = {x for t in teams for x in t}
    leftovers = [i for i in range(pool.n) if i not in matched]
    trios = _attach_leftovers(pool, scorer, teams, leftovers) if pool.policy["attach_leftovers"] else {}
    pairs = []
    for t, (a, b) in enumerate(teams):
        pair = _pair(pool, scorer, a, b)
        if t in trios:
            c = trios[t]
            gain_c = max(scorer.pair(c, a)[2], scorer.pair(c, b)[2])
            pair = Pair(**{**asdict(pair), "c": pool.ids[c], "gain_c": round(gain_c, 6),
                           "reasons": pair.reasons + [f"{pool.names[c]} joins as a third member "
                                                      "because numbers did not allow another pair"]})
        pairs.append(pair)
    placed = matched | set(trios.values())
    unmatched = [Unmatched(pool.ids[i], unmatched_reason(pool, scorer, i, matched))
                 for i in range(pool.n) if i not in placed]
    gains = [g for p in pairs for g in (p.gain_a, p.gain_b)]
    total = float(sum(p.score for p in pairs))
    stats = {
        **stats,
        "participants": pool.n, "teams": len(pairs), "unmatched": len(unmatched),
        "objective": pool.policy["objective"], "total_value": round(total, 6),
        "worst_team_value": round(min((p.score for p in pairs), default=0.0), 6),
        "worst_individual_gain": round(min(gains, default=0.0), 6),
        "both_sides_gain": sum(1 for p in pairs if p.gain_a > 0 and p.gain_b > 0),
        "seconds": round(time.perf_counter() - started, 3),
    }
    return MatchResult(pairs, unmatched, stats)


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
        Teams with score, both gains and reasons; the unmatched with a reason; ``stats`` with the
        solver used, its optimality ``gap`` and bound, and summary figures.

    Raises
    ------
    MatchingError
        Bad input (the message names the participant and field) or an infeasible must-pair.
    """
    started = time.perf_counter()
    return _solve_pool(read_pool(pool), started)


def rematch(pool: dict, previous_pairs: list[list[Any]], dropped: list[Any]) -> MatchResult:
    """Re-pair only the people a drop-out affects; every other team stays as it was.

    ``previous_pairs`` are the published teams ([a, b] or [a, b, c]); ``dropped`` the ids leaving.
    The people affected are the dropped people's partners plus anyone unmatched before; they are
    matched among themselves with the same policy. ``stats["changed"]`` lists whose team changed.
    """
    started = time.perf_counter()
    full = read_pool(pool)
    dropped_set = set(dropped)
    for pid in dropped_set:
        if pid not in full.index:
            raise MatchingError(f"participant {pid!r}, field 'dropped': unknown id (not in participants)")
    kept, affected = [], set()
    placed = set()
    for team in previous_pairs:
        for pid in team:
            if pid not in full.index:
                raise MatchingError(f"participant {pid!r}, field 'previous_pairs': unknown id (not in participants)")
        placed.update(team)
        if dropped_set & set(team):
            affected.update(pid for pid in team if pid not in dropped_set)
        else:
            kept.append(list(team))
    affected.update(pid for pid in full.ids if pid not in placed and pid not in dropped_set)
    sub = {**pool, "participants": [p for p in pool["participants"] if p["id"] in affected]}
    for key in ("must_pair", "never_pair", "requests", "declines"):
        sub[key] = [pair for pair in pool.get(key, []) if all(pid in affected for pid in pair)]
    if sub["participants"]:
        partial = _solve_pool(read_pool(sub), started)
    else:
        partial = MatchResult([], [], {})
    scorer = Scorer(full)
    pairs = [_pair(full, scorer, full.index[t[0]], full.index[t[1]]) for t in kept] + partial.pairs
    stats = {**partial.stats, "kept": len(kept), "changed": sorted(affected, key=str),
             "dropped": sorted(dropped_set, key=str), "seconds": round(time.perf_counter() - started, 3)}
    return MatchResult(pairs, partial.unmatched, stats)
