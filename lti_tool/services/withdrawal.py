"""Someone can no longer take part: the one way a person leaves a cohort.

They leave their team (``teams.leave``: a pair is dissolved until a re-match, a trio goes on as a
pair), then everyone concerned hears of it by calendar mail (``invites.participant_left``): the
leaver gets cancellations, the others updates without them.
"""
from __future__ import annotations

from ..jobs import require_queue
from ..models import Participant
from . import invites, teams


def withdraw(participant: Participant) -> Participant:
    """The learner said so, or the facilitator removed them (or they deleted their data).

    Their cancellations and their partners' updates go through the job queue: with it down, nothing changes."""
    require_queue()
    if teams.leave(participant):
        invites.participant_left(participant)
    return participant
