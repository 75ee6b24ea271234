"""Teams: who is in which team, a person's own team, pods, and leaving a team.

Members are rows (``team_member``), so "my team" is one indexed query rather than a scan of every
team of the cohort.
"""
from __future__ import annotations

import logging

from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Cohort, Participant, Team, TeamMember, utcnow
from ..states import ParticipantStatus, TeamStatus

log = logging.getLogger(__name__)


def is_published(cohort: Cohort) -> bool:
    """Teams are out: intake and partner requests are closed, learners see their partners."""
    return cohort.published_run_id is not None


def active_teams(cohort: Cohort) -> list[Team]:
    """The cohort's current teams, oldest first (a re-match adds teams of later runs)."""
    return list(db.session.execute(db.select(Team).where(Team.cohort_id == cohort.id,
                                                         Team.status == TeamStatus.ACTIVE)
                                   .order_by(Team.id)).scalars())


def team_of(participant: Participant) -> Team | None:
    """The participant's active team, if any."""
    return db.session.execute(db.select(Team).where(
        Team.cohort_id == participant.cohort_id, Team.status == TeamStatus.ACTIVE,
        Team.having_member(participant.id))).scalars().first()


def my_team(me: Participant) -> Team | None:
    """The learner's team once the cohort's teams are published."""
    return team_of(me) if is_published(me.cohort) else None


def pod_teams(team: Team) -> list[Team]:
    """The other teams of the team's pod."""
    if team.pod is None:
        return []
    return list(db.session.execute(db.select(Team).where(
        Team.cohort_id == team.cohort_id, Team.pod == team.pod, Team.status == TeamStatus.ACTIVE,
        Team.id != team.id)).scalars())


def participants_by_id(ids) -> dict[int, Participant]:
    ids = list(ids)
    if not ids:
        return {}
    return {p.id: p for p in db.session.execute(db.select(Participant).where(Participant.id.in_(ids))
                                                .options(selectinload(Participant.user))).scalars()}


def previous_partners(cohort: Cohort) -> dict[int, set[int]]:
    """Participant id -> ids they were teamed with in earlier published runs of this cohort."""
    teams: dict[int, list[int]] = {}
    for team_id, member in db.session.execute(
            db.select(TeamMember.team_id, TeamMember.participant_id).join(Team, Team.id == TeamMember.team_id)
            .where(Team.cohort_id == cohort.id, Team.status == TeamStatus.DISSOLVED)):
        teams.setdefault(team_id, []).append(member)
    partners: dict[int, set[int]] = {}
    for members in teams.values():
        for member in members:
            partners.setdefault(member, set()).update(m for m in members if m != member)
    return partners


def enrolled_ids(cohort: Cohort) -> set[int]:
    return set(db.session.execute(db.select(Participant.id).where(
        Participant.cohort_id == cohort.id, Participant.status == ParticipantStatus.ENROLLED)).scalars())


def kept_teams(cohort: Cohort) -> list[Team]:
    """Published teams whose members are all still taking part (a re-match leaves them alone)."""
    enrolled = enrolled_ids(cohort)
    return [team for team in active_teams(cohort) if set(team.member_ids) <= enrolled]


def leave(participant: Participant) -> bool:
    """Mark the participant withdrawn (with the time) and take them out of their team; a pair left
    with one person is dissolved until a re-match, a trio goes on as a pair. Their partner preferences
    stay recorded but leave the matcher's input (``intake.preferences_for_cohort`` keeps only enrolled
    people). Returns False if they had already left. ``withdrawal.withdraw`` also tells people."""
    if participant.status == ParticipantStatus.WITHDRAWN:
        return False
    participant.status = ParticipantStatus.WITHDRAWN
    participant.withdrawn_at = utcnow()
    team = team_of(participant)
    if team is not None:
        remaining = [i for i in team.member_ids if i != participant.id]
        if len(enrolled_ids(participant.cohort) & set(remaining)) < 2:
            team.status = TeamStatus.DISSOLVED  # the partner waits for a re-match; the pair stays in the history
        else:
            team.member_ids = remaining  # a trio goes on as a pair
    db.session.commit()
    log.info("participant %s withdrew from cohort %s", participant.id, participant.cohort_id)
    return True
