"""Group teams into pods of 2-3 teams that mix departments and locations and complement skills."""
from __future__ import annotations

from typing import Any


def _pod_count(teams: int) -> int:
    """As many pods as keep every pod at 2-3 teams (one pod when there are fewer than 4 teams)."""
    if teams <= 3:
        return 1
    return -(-teams // 3)  # ceil: sizes then differ by at most one and stay within 2..3


def form_pods(pairs: list[dict] | list[Any], participants: list[dict]) -> list[list[list[Any]]]:
    """Pods as lists of teams (each team a list of member ids), deterministic.

    ``pairs`` are RESULT.json teams (``members``; results stored before it existed: ``a``, ``b``,
    optional ``c``) or :class:`~matching.Team` objects; ``participants`` the pool's participants
    (for departments, locations and skills).
    Teams are placed greedily, largest skill set first, each into the open pod (fewest teams first)
    where it adds the most new departments, locations and skills, so pods are mixed and balanced.
    """
    people = {p["id"]: p for p in participants}
    teams = []
    for pair in pairs:
        get = pair.get if isinstance(pair, dict) else (lambda k, _p=pair: getattr(_p, k, None))
        teams.append(list(get("members") or [m for m in (get("a"), get("b"), get("c")) if m is not None]))
    if not teams:
        return []
    count = _pod_count(len(teams))
    capacity = [len(teams) // count + (1 if i < len(teams) % count else 0) for i in range(count)]

    def traits(team):
        depts = {str(people[m].get("department", "")).lower() for m in team if m in people}
        places = {str(people[m].get("location", "")).lower() for m in team if m in people}
        skills = {s.lower() for m in team if m in people for s in people[m].get("offers", [])}
        return depts, places, skills

    order = sorted(range(len(teams)), key=lambda t: (-len(traits(teams[t])[2]), [str(m) for m in teams[t]]))
    pods: list[list[int]] = [[] for _ in range(count)]
    seen = [(set(), set(), set()) for _ in range(count)]
    for t in order:
        depts, places, skills = traits(teams[t])
        best, best_key = None, None
        for i in range(count):
            if len(pods[i]) >= capacity[i]:
                continue
            d, pl, sk = seen[i]
            novelty = 2 * len(depts - d) + len(places - pl) + 0.5 * len(skills - sk)
            key = (len(pods[i]), -novelty, i)
            if best_key is None or key < best_key:
                best, best_key = i, key
        pods[best].append(t)
        seen[best][0].update(depts)
        seen[best][1].update(places)
        seen[best][2].update(skills)
    return [[teams[t] for t in sorted(pod)] for pod in pods]
