"""Plain-word reasons for each team, for each person left unmatched, and for each request and decline."""
from __future__ import annotations

import numpy as np

from ._pool import Pool
from ._rules import name_list, pair_breaches, shared_slots
from ._scores import UNDISCLOSED, Scorer


def _shared_skills(pool: Pool, learner: int, teacher: int, limit: int = 3) -> list[str]:
    """Skills ``teacher`` offers that ``learner`` wants, most wanted first."""
    both = np.flatnonzero((pool.wants[learner] > 0) & (pool.offers[teacher] > 0))
    both = both[np.argsort(-pool.wants[learner, both], kind="stable")]
    return [pool.skills[s] for s in both[:limit]]


def team_reasons(pool: Pool, members: list[int]) -> list[str]:
    """Why these people make a team (2 or 3 of them), most important first."""
    names = pool.names
    reasons = []
    for teacher in members:
        for learner in members:
            skills = _shared_skills(pool, learner, teacher) if learner != teacher else []
            if skills:
                reasons.append(f"{names[teacher]} offers {name_list(skills)}, which {names[learner]} wants to learn")
    for m in members:
        if not any(_shared_skills(pool, m, o, 1) for o in members if o != m):
            reasons.append(f"{names[m]} gains nothing in skills from this team")
    for i, a in enumerate(members):
        for b in members[i + 1:]:
            if (a, b) in pool.requests and (b, a) in pool.requests:
                reasons.append(f"{names[a]} and {names[b]} both asked to work together")
            elif (a, b) in pool.requests or (b, a) in pool.requests:
                asker, other = (a, b) if (a, b) in pool.requests else (b, a)
                reasons.append(f"{names[asker]} asked to work with {names[other]}")
    for key, label in (("department", "departments"), ("location", "locations")):
        seen: dict[int, str] = {}  # each distinct value once, as the first member with it wrote it
        for m in members:
            seen.setdefault(int(getattr(pool, key)[m]), pool.raw[m][key])
        if len(seen) > 1:
            reasons.append(f"different {label} ({', '.join(seen.values())})")
    genders = set(pool.gender[members].tolist())
    if len(genders) > 1 and UNDISCLOSED not in genders:
        reasons.append("a cross-gender team")
    shared = shared_slots(pool, members)
    if shared:
        reasons.append(f"{shared} shared free hour{'s' if shared != 1 else ''} a week for follow-up meetings")
    offsets = pool.tz_offset[members]
    gap = float(offsets.max() - offsets.min())
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
    return "no partner who gains on both sides passes " + name_list(obstacles)




def _why_not_together(pool: Pool, scorer: Scorer, x: int, y: int, team_of: dict, dropped: set[int]) -> list[dict]:
    """Why x and y are not in one team, every reason that applies, most binding first."""
    names, why = pool.names, []
    for p in (x, y):
        if p in dropped:
            why.append({"kind": "dropped", "message": f"{names[p]} is leaving"})
    breaches = pair_breaches(pool, x, y)
    why += [{"kind": b.kind, "message": f"{b.text} (a hard rule)"} for b in breaches if b.kind != "one_sided"]
    nothing = [b.text for b in breaches if b.kind == "one_sided"]
    if nothing:
        side = "one side nothing" if len(nothing) == 1 else "neither side anything"
        why.append({"kind": "one_sided", "message": f"the pair would give {side} ({'; '.join(nothing)})"})
    for p in (x, y):
        team = team_of.get(p)
        if team is not None and team.origin in ("must_pair", "kept"):
            others = name_list([names[pool.index[m]] for m in team.members if m != pool.ids[p]])
            why.append({"kind": team.origin, "message": f"{names[p]} is already pinned with {others}"
                        if team.origin == "must_pair" else f"{names[p]}'s published team with {others} was kept"})
        if scorer.excluded[p]:
            why.append({"kind": "manual", "message": f"{names[p]} is left for the facilitator to pair by hand (policy)"})
    if why:
        return why
    value = scorer.pair(x, y)[0]
    where = [f"{names[p]}'s team scores {team_of[p].score:.2f}" if p in team_of else f"{names[p]} has no team"
             for p in (x, y)]
    goal = ("the most teams, then the best worst team" if pool.policy["objective"] == "egalitarian"
            else "the highest total")
    return [{"kind": "optimised", "message": f"a better overall set of teams ({goal}): together {names[x]} and "
                                             f"{names[y]} would score {value:.2f}; {name_list(where)}"}]


def preferences(pool: Pool, scorer: Scorer, team_of: dict, dropped: set[int] = frozenset()) -> list[dict]:
    """Each request and decline ([from, to]): honoured or not, and why not.

    ``team_of`` maps a person's position to their team (with ``members``, ``origin`` and ``score``);
    ``dropped`` holds the positions of people leaving (a re-match)."""
    names, out = pool.names, []
    for kind, pairs in (("request", pool.requests), ("decline", pool.declines)):
        for x, y in sorted(pairs):
            together = x in team_of and team_of.get(x) is team_of.get(y)
            honoured = together if kind == "request" else not together
            why: list[dict] = []
            if not honoured and kind == "request":
                why = _why_not_together(pool, scorer, x, y, team_of, dropped)
            elif not honoured:  # declines are hard rules: only a kept team can still hold the two
                why = [{"kind": "kept", "message": "their published team was kept as it was"}
                       if team_of[x].origin == "kept" else
                       {"kind": "unexpected", "message": "the matcher placed them together, which it should never do"}]
            verb = "asked to work with" if kind == "request" else "declined to work with"
            message = f"{names[x]} {verb} {names[y]}: they are {'' if together else 'not '}in the same team"
            if why:
                message += ", because " + name_list([w["message"] for w in why])
            out.append({"kind": kind, "from": pool.ids[x], "to": pool.ids[y], "honoured": honoured,
                        "why_not": why, "message": message + "."})
    return out
