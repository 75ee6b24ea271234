"""Private calendar subscription feeds: ``/calendar/<token>.ics`` (the random token is the key)."""
from __future__ import annotations

import hashlib

from flask import Blueprint, Response, abort, request
from flask_babel import force_locale

from .extensions import db
from .models import CalendarFeed, Cohort, Participant
from .services.calendar_events import calendar_for
from .services.outbox import recipient_locale

bp = Blueprint("calendar", __name__, url_prefix="/calendar")


@bp.get("/<token>.ics")
def feed(token: str):
    row = db.session.execute(db.select(CalendarFeed).where(CalendarFeed.token == token,
                                                           CalendarFeed.revoked_at.is_(None))).scalars().first()
    if row is None:
        abort(404)
    cohort = db.session.get(Cohort, row.cohort_id)
    participant = db.session.get(Participant, row.participant_id) if row.participant_id else None
    if participant is not None:  # a person's feed: in the language the lab writes to them in
        with force_locale(recipient_locale(participant.user)):
            body = calendar_for(cohort, participant)
    else:  # the cohort's whole-lab feed: in the calendar app's Accept-Language, else the default
        body = calendar_for(cohort, participant)
    etag = hashlib.sha256(body).hexdigest()[:32]
    if request.if_none_match.contains(etag):
        return Response(status=304, headers={"ETag": f'"{etag}"'})
    response = Response(body, mimetype="text/calendar")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
