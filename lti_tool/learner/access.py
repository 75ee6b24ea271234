"""Which participant row a learner's request is about: theirs, in a cohort of the course they launched."""
from __future__ import annotations

from flask import abort, g

from ..models import Participant
from ..services import intake


def learner_participant_or_404(cohort_id: int) -> Participant:
    """The launched learner's participation in this cohort of their launch's course, or 404."""
    me = intake.learner_participant(g.lti.course, g.lti.user.id, cohort_id)
    if me is None:
        abort(404)
    return me
