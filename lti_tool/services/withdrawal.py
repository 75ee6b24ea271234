"""Someone can no longer take part: the one way a person leaves a cohort.

They leave their team (``teams.leave``: a pair is dissolved and the partner waits for a new one, a
trio goes on as a pair), then everyone concerned hears of it: the people left in the team by email
(``notifications.tell_partners``, template ``partner_left``: what happens next, without naming the
leaver), and by calendar mail (``invites.participant_left``): the leaver gets cancellations, the
others updates without them. Every way of leaving comes here: the learner's own withdrawal, the
facilitator's removal, the deletion of their data.
"""
from __future__ import annotations

from ..jobs import require_queue
from ..models import Participant
from ..states import TeamStatus
from . import invites, notifications, outbox, teams


def withdraw(participant: Participant) -> int:
    """The learner said so, or the facilitator removed them (or they deleted their data). Returns how
    many remaining partners were told (0 if they had already left or had no team).

    Their cancellations and their partners' updates go through the job queue: with it down, nothing changes."""
    require_queue()
    team = teams.team_of(participant)
    partners = [m for m in team.member_ids if m != participant.id] if team is not None else []
    if not teams.leave(participant):
        return 0
    told = notifications.tell_partners(participant.cohort, partners, team_goes_on=team.status == TeamStatus.ACTIVE) \
        if partners else 0
    if not invites.participant_left(participant) and told:
        outbox.deliver_later(participant.cohort)
    return told
