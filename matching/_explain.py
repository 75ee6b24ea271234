"""Plain-word reasons for each team and for each person left unmatched."""
from __future__ import annotations

import numpy as np

from ._pool import Pool
from ._scores import UNDISCLOSED, Scorer


def _shared_skills(pool: Pool, learner: int, teacher: int, limit: int = 3) -> list[str]:
    """Skills ``teacher`` offers that ``learner`` wants, most wanted first."""
    both = np.flatnonzero((pool.wants[learner] > 0) & (pool.offers[teacher] > 0))
    both = both[np.argsort(-pool.wants[learner, both], kind="stable")]
    return [pool.skills[s] for s in both[:limit]]


def _list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def team_reasons(pool: Pool, scorer: Scorer, a: int, b: int) -> list[str]:
    name_a, name_b = pool.names[a], pool.names[b]
    reasons = []
    a_learns, b_learns = _shared_skills(pool, a, b), _shared_skills(pool, b, a)
    if b_learns:
        reasons.append(f"{name_a} offers {_list(b_learns)}, which {name_b} wants to learn")
    if a_learns:
        reasons.append(f"{name_b} offers {_list(a_learns)}, which {name_a} wants to learn")
    if not a_learns or not b_learns:
        one_sided = name_a if not a_learns else name_b
        reasons.append(f"{one_sided} gains little in skills from this pairing")
    if (a, b) in pool.requests and (b, a) in pool.requests:
        reasons.append("both asked to work together")
    elif (a, b) in pool.requests or (b, a) in pool.requests:
        asker = name_a if (a, b) in pool.requests else name_b
        reasons.append(f"{asker} asked for this partner")
    if pool.department[a] != pool.department[b]:
        reasons.append(f"different departments ({pool.raw[a]['department']}, {pool.raw[b]['department']})")
    if pool.location[a] != pool.location[b]:
        reasons.append(f"different locations ({pool.raw[a]['location']}, {pool.raw[b]['location']})")
    undisclosed = UNDISCLOSED in (pool.gender[a], pool.gender[b])
    if pool.gender[a] != pool.gender[b] and not undisclosed:
        reasons.append("a cross-gender team")
    shared = int((pool.slots[a] & pool.slots[b]).sum())
    if shared:
        reasons.append(f"{shared} shared free hour{'s' if shared != 1 else ''} a week for follow-up meetings")
    gap = abs(pool.tz_offset[a] - pool.tz_offset[b])
    if gap >= 1:
        reasons.append(f"{gap:g} hours apart in time zones")
    return reasons


def unmatched_reason(pool: Pool, scorer: Scorer, person: int, matched: set[int]) -> str:
    """Why ``person`` has no team: the strongest obstacle, in plain words."""
    p = pool.policy
    if scorer.excluded[person]:
        return "prefers not to say their gender; left for the facilitator to pair by hand (policy)"
    if not (pool.wants[person] > 0).any():
        return "listed nothing they want to learn, so no partner can offer them a gain"
    if not (pool.offers[person] > 0).any():
        return "listed nothing they can offer, so no partner would gain from them"
    value, feasible, g_pc, g_cp = scorer.block(np.array([person]))
    feasible = feasible[0]
    if feasible.any():
        free = [j for j in np.flatnonzero(feasible) if j not in matched]
        if not free:
            return (f"all {int(feasible.sum())} compatible partners were placed in teams that gain more "
                    "overall; consider a trio or a manual pairing")
        return "an odd number of compatible people remained; consider a trio or a manual pairing"
    others = np.ones(pool.n, dtype=bool)
    others[person] = False
    offered = (g_pc[0] > 0) & others
    if not offered.any():
        return f"nobody in the pool offers what {pool.names[person]} wants to learn"
    if not ((g_cp[0] > 0) & offered).any():
        return f"the people who offer what {pool.names[person]} wants don't want what {pool.names[person]} offers"
    obstacles = []
    if p["cross_gender"] == "require":
        obstacles.append("the required cross-gender rule")
    if p["department"] == "different":
        obstacles.append("the different-department rule")
    if p["max_timezone_hours"] is not None:
        obstacles.append(f"the {p['max_timezone_hours']}-hour time-zone limit")
    if p["min_shared_slots"]:
        obstacles.append(f"the {p['min_shared_slots']} shared free hour(s) needed")
    if p["max_level_gap"] is not None:
        obstacles.append(f"the seniority gap limit of {p['max_level_gap']}")
    obstacles.append("manager, declined, never-pair or previous-partner rules")
    return "no partner who gains on both sides passes " + _list(obstacles)


