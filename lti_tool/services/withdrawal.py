"""Someone can no longer take part: the one way a person leaves a cohort.

They leave their team (``teams.leave``: a pair is dissolved until a re-match, a trio goes on as a
pair), then everyone concerned hears of it by calendar mail (``invites.participant_left``): the
leaver gets cancellations, the others updates without them.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Participant
from ..states import WithdrawalReason
from . import invites, teams

# The optional reasons a learner can give (WithdrawalReason codes, with their labels).
REASONS = [
    (WithdrawalReason.TIME.value, _l("I do not have the time")),
    (WithdrawalReason.JOB.value, _l("My role changed, or I am leaving the organisation")),
    (WithdrawalReason.PERSONAL.value, _l("Health or personal reasons")),
    (WithdrawalReason.EXPECTATIONS.value, _l("The lab is not what I expected")),
    (WithdrawalReason.PARTNER.value, _l("The pairing did not work for me")),
    (WithdrawalReason.OTHER.value, _l("Another reason")),
]


def withdraw(participant: Participant, reason: str | None = None) -> Participant:
    """The learner said so, or the facilitator removed them (or they deleted their data).

    ``reason`` (optional, a ``WithdrawalReason``) is kept on their row only to be counted; it goes
    with the row when they delete their data."""
    if reason and participant.status != "withdrawn":
        participant.withdrawal_reason = WithdrawalReason(reason).value
        db.session.flush()
    if teams.leave(participant):
        invites.participant_left(participant)
    return participant
