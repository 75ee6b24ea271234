"""With the job queue unreachable (Redis on a closed port), an action that would queue mail changes
nothing and says why: no outbox rows, no event marked as sent, a 503 "try again in a minute" page."""
from __future__ import annotations

import pytest

from lti_tool.extensions import db
from lti_tool.models import CalendarEvent, Cohort, HeldInvite, OutboxMessage
from lti_tool.services import invites
from tests.conftest import csrf_token_in, https_client
from tests.lti_platform import landed, Launcher
from tests.ops.helpers import free_port
from tests.ops.test_redis_down import UNAVAILABLE, redis_app


def facilitator_with_queue_down(app, platform, cohort_id):
    down = redis_app(app, f"redis://127.0.0.1:{free_port()}/0")
    client = https_client(down)
    launched = Launcher(client, platform)(role="instructor", sub="fran", email="fran@example.com",
                                          custom={"cohort": "lab"})
    assert landed(launched)
    page = client.get(f"/facilitator/cohorts/{cohort_id}")
    assert page.status_code == 200
    return client, csrf_token_in(page)


def state(app, cohort_id):
    """What an action could change: the outbox (status of each row), what each event last sent and
    what each person was delivered."""
    with app.app_context():
        mail = db.session.execute(db.select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.attempts)
                                  .order_by(OutboxMessage.id)).all()
        sent = db.session.execute(db.select(CalendarEvent.uid, CalendarEvent.sent_sequence, CalendarEvent.status)
                                  .where(CalendarEvent.cohort_id == cohort_id).order_by(CalendarEvent.uid)).all()
        held = db.session.execute(db.select(HeldInvite.event_id, HeldInvite.email, HeldInvite.sequence,
                                            HeldInvite.cancelled).order_by(HeldInvite.id)).all()
        return mail, sent, held


def test_send_invites_with_the_queue_down_changes_nothing_and_says_why(app, lab, platform):
    cohort_id, _ = lab
    client, token = facilitator_with_queue_down(app, platform, cohort_id)
    before = state(app, cohort_id)
    response = client.post(f"/facilitator/cohorts/{cohort_id}/invites", data={"csrf_token": token})
    assert response.status_code == 503 and UNAVAILABLE in response.get_data(as_text=True)
    assert state(app, cohort_id) == before
    assert before[0] == [] and before[2] == [] and {seq for _, seq, _ in before[1]} == {None}  # nothing queued or sent


@pytest.mark.parametrize("action", ["invites/updates", "remind", "outbox/{message}/retry"])
def test_other_mail_actions_with_the_queue_down_change_nothing(app, lab, platform, action):
    cohort_id, _ = lab
    with app.app_context():  # invites went out earlier (as .eml files); then the venue changed
        invites.send_due(cohort_id)
        message = db.session.scalar(db.select(OutboxMessage.id).limit(1))
        db.session.execute(db.update(OutboxMessage).where(OutboxMessage.id == message)
                           .values(status="failed", last_error="refused"))
        db.session.get(Cohort, cohort_id).venue = "Room Galileo"
        db.session.commit()
    client, token = facilitator_with_queue_down(app, platform, cohort_id)
    before = state(app, cohort_id)
    response = client.post(f"/facilitator/cohorts/{cohort_id}/" + action.format(message=message),
                           data={"csrf_token": token})
    assert response.status_code == 503 and UNAVAILABLE in response.get_data(as_text=True)
    assert state(app, cohort_id) == before


def test_a_nudge_with_the_queue_down_writes_no_message(app, lab):
    """The nudge used to commit its messages before asking the queue: a 503 page, and mail anyway."""
    from lti_tool.jobs import QueueUnavailable
    from lti_tool.models import Team
    from lti_tool.services import check_ins

    app.config.update(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    try:
        with app.app_context():
            team = db.session.execute(db.select(Team).limit(1)).scalar_one()
            with pytest.raises(QueueUnavailable):
                check_ins.nudge(team)
            db.session.rollback()  # as the 503 handler does
            assert db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage)) == 0
    finally:
        app.config.update(REDIS_URL=None)
