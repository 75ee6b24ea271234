"""People waiting for a partner after the teams were published, and the teams a facilitator forms by hand.

Someone waits when they are enrolled, submitted their intake and are in no active team: their partner
left (the pair was dissolved), they joined after publishing, or the matcher left them unmatched. The
facilitator pairs two of them, adds one to a pair as a third member, or runs a re-match. A team formed
by hand is judged by the matching library (``matching.check_team``): a manager line, a never-pair or a
learner's decline refuses it, naming the people; any other rule it breaks is flagged and the team
kept. Its members are told by email and invited to its follow-up series the way a publish does it.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..extensions import db
from ..jobs import require_queue
from ..models import Cohort, MatchRun, Participant, Team
from ..states import ParticipantStatus
from . import invites, matchmaking, notifications, outbox
from .teams import active_teams, is_published, kept_teams, participants_by_id, previous_partners

log = logging.getLogger(__name__)

# Why someone waits (the facilitator's page and the learner's home say it in words).
PARTNER_LEFT, JOINED_LATE, UNMATCHED = "partner_left", "joined_late", "unmatched"


@dataclass
class Waiting:
    participant: Participant
    reason: str


@dataclass
class HandTeam:
    """A team the facilitator chose, as the library judged it (``refused`` is the reason it cannot be)."""
    members: list[Participant]
    team: Team | None = None  # the pair a third member joins
    refused: str | None = None
    flags: list[str] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)


class NotWaiting(LookupError):
    """The person chosen is not waiting, or the team is not a pair of this cohort."""


def partner_left(participant: Participant) -> bool:
    """Read only: the participant's last team was dissolved because a member left the lab."""
    if participant.id in {m for team in active_teams(participant.cohort) for m in team.member_ids}:
        return False
    partners = previous_partners(participant.cohort).get(participant.id, set())
    return any(p.status == ParticipantStatus.WITHDRAWN for p in participants_by_id(partners).values())


def waiting_list(cohort: Cohort) -> list[Waiting]:
    """Read only: who waits for a partner, oldest first, with why. Empty before teams are published."""
    if not is_published(cohort):
        return []
    published = db.session.get(MatchRun, cohort.published_run_id)
    placed = {m for team in kept_teams(cohort) for m in team.member_ids}
    history = previous_partners(cohort)
    withdrawn = set(db.session.execute(db.select(Participant.id).where(
        Participant.cohort_id == cohort.id, Participant.status == ParticipantStatus.WITHDRAWN)).scalars())
    out = []
    for person in matchmaking.eligible_participants(cohort):
        if person.id in placed:
            continue
        if history.get(person.id, set()) & withdrawn:
            reason = PARTNER_LEFT
        elif published.published_at and person.joined_at > published.published_at:
            reason = JOINED_LATE
        else:
            reason = UNMATCHED
        out.append(Waiting(person, reason))
    return out


def late_without_intake(cohort: Cohort) -> list[Participant]:
    """Read only: people who joined after publishing and have not submitted their intake yet."""
    if not is_published(cohort):
        return []
    published = db.session.get(MatchRun, cohort.published_run_id)
    return list(db.session.execute(db.select(Participant).where(
        Participant.cohort_id == cohort.id, Participant.status == ParticipantStatus.ENROLLED,
        Participant.intake_submitted_at.is_(None), Participant.joined_at > published.published_at)
        .order_by(Participant.id)).scalars())


def pairs_to_join(cohort: Cohort) -> list[Team]:
    """Active teams of two, which a waiting person may join as a third member."""
    return [team for team in kept_teams(cohort) if len(team.member_ids) == 2]


def choose(cohort: Cohort, person_id: int, *, partner_id: int | None = None, team_id: int | None = None) -> HandTeam:
    """Read only: the team of a waiting person with another waiting person, or with the pair ``team_id``,
    judged by the matching library. Raises ``NotWaiting`` for a choice outside the lists above."""
    import matching

    waiting = {w.participant.id: w.participant for w in waiting_list(cohort)}
    if person_id not in waiting:
        raise NotWaiting(person_id)
    team = None
    if team_id is not None:
        team = next((t for t in pairs_to_join(cohort) if t.id == team_id), None)
        if team is None:
            raise NotWaiting(team_id)
        others = participants_by_id(team.member_ids)
        members = [others[m] for m in team.member_ids] + [waiting[person_id]]
    elif partner_id is not None and partner_id != person_id and partner_id in waiting:
        members = [waiting[person_id], waiting[partner_id]]
    else:
        raise NotWaiting(partner_id)
    pool = _pool_of(cohort, members)
    try:
        result = matching.check_team(pool, [str(p.id) for p in members]).to_dict()
    except matching.MatchingError as e:
        return HandTeam(members, team, refused=str(e))
    return HandTeam(members, team, flags=[f["message"] for f in result.get("flags", [])], result=result)


def _pool_of(cohort: Cohort, members: list[Participant]) -> dict[str, Any]:
    """The cohort's pool (its rules, never-pairs, declines, history) cut down to these people."""
    ids = {str(p.id) for p in members}
    pool = matchmaking.build_pool(cohort)
    within = lambda pairs: [pair for pair in pairs if set(pair) <= ids]  # noqa: E731
    return {**pool, "participants": [p for p in pool["participants"] if p["id"] in ids], "must_pair": [],
            "never_pair": within(pool["never_pair"]), "requests": within(pool["requests"]),
            "declines": within(pool["declines"])}


def preview(cohort: Cohort, chosen: HandTeam) -> dict:
    """Read only: what forming this team sends, person by person (as ``notifications.publish_preview``)."""
    members = [p.id for p in chosen.members]
    return notifications.preview_teams(cohort, [members], {frozenset(members): chosen.result.get("reasons", [])})


def form(cohort: Cohort, chosen: HandTeam) -> tuple[Team, int]:
    """Make the chosen team (a new pair, or the pair with its third member), tell its members by email
    and queue the calendar invites it changes; returns (the team, invites queued). The mail goes through
    the job queue: with it down, nothing changes (QueueUnavailable)."""
    if chosen.refused:
        raise ValueError(chosen.refused)
    require_queue()
    result, members = chosen.result, [p.id for p in chosen.members]
    team = chosen.team
    if team is None:
        team = Team(cohort_id=cohort.id, pod=_smallest_pod(cohort))
        db.session.add(team)
    team.member_ids = members
    team.score = float(result.get("score", 0.0))
    team.gains = {str(k): v for k, v in (result.get("gains") or {}).items()}
    team.reasons = list(result.get("reasons", []))
    db.session.commit()
    notifications.announce_teams(cohort, [team])
    queued = invites.queue_invites(cohort) if cohort.day_one else 0
    outbox.deliver_later(cohort)
    log.info("cohort %s: team %s formed by hand (%s members)", cohort.id, team.id, len(members))
    return team, queued


def _smallest_pod(cohort: Cohort) -> int | None:
    """A new team joins the pod with the fewest teams (pods are the small groups of the lab)."""
    sizes = Counter(team.pod for team in active_teams(cohort) if team.pod is not None)
    return min(sizes, key=lambda pod: (sizes[pod], pod)) if sizes else None



def panel(cohort: Cohort) -> dict[str, Any] | None:
    """Read only: what the cohort page shows about waiting people; None when nobody waits or teams
    are not published. ``pairs`` are the teams a waiting person may join, with their members' names."""
    people = waiting_list(cohort)
    late = late_without_intake(cohort)
    if not (people or late):
        return None
    summary = matchmaking.dropout_summary(cohort) or {}
    pairs = pairs_to_join(cohort)
    names = participants_by_id(m for team in pairs for m in team.member_ids)
    return {"waiting": people, "late": late, "left": summary.get("left", []),
            "pairs": [(team, " & ".join(names[m].user.name or "?" for m in team.member_ids)) for team in pairs]}
