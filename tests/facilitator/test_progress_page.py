"""Progress fits the screen: a status per learner with filters, a CSV export, a confirmed reminder to those
with something due, and the gradebook "send now" with what the LMS received."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime

from lti_tool.extensions import db
from lti_tool.models import Attendance, OutboxMessage, Participant, Reflection
from lti_tool.services import curriculum as cur
from tests.conftest import csrf_token_in, plain_text
from tests.conftest import dated_lab
from tests.facilitator.test_attendance import PAST, ids


def _lab(app, platform, lti):
    """A lab that is over: Ana did everything, Ben only his intake, Cleo nothing, Dan was removed."""
    cid = dated_lab(app, platform, PAST)
    lti(role="learner", sub="dan", name="Dan", email="dan@example.com", custom={"cohort": "lab"})
    people = ids(app)
    with app.app_context():
        for sub in ("ana", "ben"):
            db.session.get(Participant, people[sub]).intake_submitted_at = datetime(2026, 1, 5)
        for s in cur.curriculum().sessions:
            if not s.is_break:
                db.session.add(Attendance(cohort_id=cid, participant_id=people["ana"], session_id=s.id))
        for r in cur.half_day_reflections():  # progress counts one reflection per half day
            db.session.add(Reflection(cohort_id=cid, participant_id=people["ana"], session_id=r.id,
                                      status="submitted"))
        db.session.get(Participant, people["dan"]).status = "withdrawn"
        db.session.commit()
    lti(role="instructor", sub="fran", name="Fran", email="fran@example.com")
    return cid


def _learners(html: str) -> list[str]:
    return re.findall(r'<tr><th scope="row">([^<]+)</th>', html)


def test_status_per_learner_with_filters_in_five_columns(app, platform, lti, client):
    cid = _lab(app, platform, lti)
    html = client.get(f"/facilitator/cohorts/{cid}/progress").get_data(as_text=True)
    assert sorted(_learners(html)) == ["Ana", "Ben", "Cleo"]  # the removed person is not listed
    assert html.count('<th scope="col">') == 5 and "LMS gradebook received" in html
    assert "behind (1)" in html and "not started (1)" in html and "done (1)" in html
    assert _learners(client.get(f"/facilitator/cohorts/{cid}/progress?show=behind").get_data(as_text=True)) == ["Ben"]
    assert _learners(client.get(f"/facilitator/cohorts/{cid}/progress?show=not_started").get_data(as_text=True)) == ["Cleo"]
    assert _learners(client.get(f"/facilitator/cohorts/{cid}/progress?show=done").get_data(as_text=True)) == ["Ana"]


def test_progress_exports_as_csv_with_every_item(app, platform, lti, client):
    cid = _lab(app, platform, lti)
    export = client.get(f"/facilitator/cohorts/{cid}/progress.csv")
    assert export.mimetype == "text/csv" and export.is_streamed
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:6] == ["Learner", "Email", "Status", "Done", "Out of", "Intake profile submitted"]
    assert rows[0][-3:] == ["Gradebook: last score received", "Gradebook: received at", "Gradebook: last result"]
    by_name = {r[0]: r for r in rows[1:]}
    assert sorted(by_name) == ["Ana", "Ben", "Cleo"]
    assert by_name["Ben"][2] == "behind" and by_name["Ben"][3] == "1" and by_name["Ben"][5] == "yes"
    assert by_name["Ana"][3] == by_name["Ana"][4] and by_name["Cleo"][-1] == "nothing sent"


def test_reminder_is_confirmed_first_then_written_to_the_outbox_once_a_day(app, platform, lti, client):
    cid = _lab(app, platform, lti)
    confirm = client.get(f"/facilitator/cohorts/{cid}/progress/remind")
    text = confirm.get_data(as_text=True)
    assert sorted(_learners(text)) == ["Ben", "Cleo"] and "Attended day 1" in text
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(OutboxMessage.id))).scalar() == 0  # nothing sent yet
    sent = client.post(f"/facilitator/cohorts/{cid}/progress/remind", data={"csrf_token": csrf_token_in(confirm)})
    assert sent.status_code == 303
    with app.app_context():
        mail = {m.recipient: m for m in db.session.execute(db.select(OutboxMessage)).scalars()}
        assert sorted(mail) == ["ben@example.com", "cleo@example.com"]
        assert {m.kind for m in mail.values()} == {"progress_reminder"}
        body = plain_text(mail["ben@example.com"].body)
        assert "Hello Ben," in body and "- Attended day 1" in body and "Intake profile submitted" not in body
    client.post(f"/facilitator/cohorts/{cid}/progress/remind", data={"csrf_token": csrf_token_in(confirm)})
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(OutboxMessage.id))).scalar() == 2


def test_send_now_reaches_the_gradebook_and_the_page_says_what_it_received(app, platform, lti, client):
    from tests.reflections.helpers import cohort_id, launch

    launch(lti, "ana", with_ags=True)
    cid = cohort_id(app)
    launch(lti, "fran", role="instructor", with_ags=True)
    page = client.get(f"/facilitator/cohorts/{cid}/progress")
    assert "nothing sent yet" in page.get_data(as_text=True)
    assert client.post(f"/facilitator/cohorts/{cid}/progress/send",
                       data={"csrf_token": csrf_token_in(page)}).status_code == 303
    body = platform.scores[-1]["body"]
    assert body["userId"] == "ana" and body["scoreGiven"] == 0 and body["gradingProgress"] == "FullyGraded"
    assert body["activityProgress"] == "Initialized"
    html = client.get(f"/facilitator/cohorts/{cid}/progress").get_data(as_text=True)
    assert re.search(rf"0 of {int(body['scoreMaximum'])}, \d+ \w+ \d\d:\d\d UTC\s*\(accepted\)", html), html


def test_send_now_without_a_gradebook_column_says_so(app, platform, lti, client):
    cid = _lab(app, platform, lti)  # launched without the AGS claim
    page = client.get(f"/facilitator/cohorts/{cid}/progress")
    sent = client.post(f"/facilitator/cohorts/{cid}/progress/send", data={"csrf_token": csrf_token_in(page)})
    assert "Nothing to send: the LMS did not offer a gradebook column" in client.get(
        sent.headers["Location"]).get_data(as_text=True)
    assert platform.scores == []


def test_reminder_names_what_is_open_in_the_recipients_language(app, platform, lti, client):
    """The checklist items are written in the learner's language, not in the facilitator's who sends them."""
    cid = _lab(app, platform, lti)
    with app.app_context():
        db.session.get(Participant, ids(app)["ben"]).user.locale = "de"
        db.session.commit()
    confirm = client.get(f"/facilitator/cohorts/{cid}/progress/remind")
    client.post(f"/facilitator/cohorts/{cid}/progress/remind", data={"csrf_token": csrf_token_in(confirm)})
    with app.app_context():
        mail = {m.recipient: plain_text(m.body) for m in db.session.execute(db.select(OutboxMessage)).scalars()}
    assert "- Tag 1 teilgenommen" in mail["ben@example.com"] and "Attended day" not in mail["ben@example.com"]
    assert "- Attended day 1" in mail["cleo@example.com"]
