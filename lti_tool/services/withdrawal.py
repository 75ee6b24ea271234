"""Someone can no longer take part: the one way a person leaves a cohort.

They leave their team (``teams.leave``: a pair is dissolved and the partner waits for a new one, a
trio goes on as a pair), then everyone concerned hears of it: the people left in the team by email
(``notifications.tell_partners``, template ``partner_left``: what happens next, without naming the
leaver), and by calendar mail (``invites.participant_left``): the leaver gets cancellations, the
others updates without them. Every way of leaving comes here: the learner's own withdrawal, the
facilitator's removal, the deletion of their data.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..jobs import require_queue
from ..models import Participant
from ..states import ParticipantStatus, TeamStatus, WithdrawalReason
from . import invites, notifications, outbox, teams

# The optional reasons a learner can give (WithdrawalReason codes, with their labels).
REASONS = [
    (WithdrawalReason.TIME.value, _l("I do not have the time")),
    (WithdrawalReason.JOB.value, _l("My role changed, or I am leaving the organisation")),
    (WithdrawalReason.PERSONAL.value, _l("Health or personal reasons")),
    (WithdrawalReason.EXPECTATIONS.value, _l("The lab is not what I expected")),
    (WithdrawalReason.PARTNER.value, _l("The pairing did not work for me")),
    (WithdrawalReason.OTHER.value, _l("Another reason")),
]


def withdraw(participant: Participant, reason: str | None = None) -> int:
    """The learner said so, or the facilitator removed them (or they deleted their data). Returns how
    many remaining partners were told (0 if they had already left or had no team).

    ``reason`` (optional, a ``WithdrawalReason``) is kept on their row only to be counted; it goes with the
    row when they delete their data. Their cancellations and their partners' updates go through the job
    queue: with it down, nothing changes."""
    require_queue()
    if reason and participant.status != ParticipantStatus.WITHDRAWN:
        participant.withdrawal_reason = WithdrawalReason(reason).value
        db.session.flush()
    team = teams.team_of(participant)
    partners = [m for m in team.member_ids if m != participant.id] if team is not None else []
    if not teams.leave(participant):
        return 0
    told = notifications.tell_partners(participant.cohort, partners, team_goes_on=team.status == TeamStatus.ACTIVE) \
        if partners else 0
    if not invites.participant_left(participant) and told:
        outbox.deliver_later(participant.cohort)
    return told
