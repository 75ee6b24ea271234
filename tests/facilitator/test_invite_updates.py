"""After a change of dates, times or venue: 'N people have out-of-date invites' and one confirmed step sends updates."""
from __future__ import annotations

from datetime import date, timedelta

from lti_tool.extensions import db
from lti_tool.models import CalendarEvent, Cohort, OutboxMessage
from tests.conftest import csrf_token_in
from tests.facilitator.test_cohorts_and_roster import cohort_data
from tests.facilitator.test_matching_flow import enrol_with_intake

LAB = date.today() + timedelta(days=20)


def sent(app, prefix: str) -> list[str]:
    with app.app_context():
        return sorted(db.session.execute(db.select(OutboxMessage.recipient).where(
            OutboxMessage.subject.startswith(prefix))).scalars())


def test_changing_dates_after_publishing_offers_the_updates_and_sends_them(app, platform, lti, client):
    """Reported: changing the lab's dates said 'Cohort settings saved' while every invite stayed on the old dates."""
    cid, _learners = enrol_with_intake(app, platform)
    with app.app_context():
        cohort = db.session.get(Cohort, cid)
        cohort.day_one, cohort.day_two, cohort.venue = LAB, LAB + timedelta(days=1), "Room Kepler"
        db.session.commit()
    lti(role="instructor", sub="teacher", name="Tess", email="tess@example.com")
    page = client.get(f"/facilitator/cohorts/{cid}")
    run_url = client.post(f"/facilitator/cohorts/{cid}/match", data={"csrf_token": csrf_token_in(page)}
                          ).headers["Location"]
    client.post(run_url + "/publish", data={"csrf_token": csrf_token_in(client.get(run_url + "/publish"))})
    with app.app_context():
        assert all(row.sent_sequence == row.sequence for row in db.session.execute(db.select(CalendarEvent)).scalars())
    assert "out-of-date invites" not in client.get(f"/facilitator/cohorts/{cid}").get_data(as_text=True)

    form = client.get(f"/facilitator/cohorts/{cid}/edit")
    moved = LAB + timedelta(days=7)
    saved = client.post(f"/facilitator/cohorts/{cid}/edit", data=cohort_data(
        form, name="lab", day_one=moved.isoformat(), day_two=(moved + timedelta(days=1)).isoformat(),
        venue="Room Galileo"))
    assert saved.status_code == 303
    cohort_page = client.get(saved.headers["Location"])
    body = cohort_page.get_data(as_text=True)
    assert "Cohort settings saved. 4 people have out-of-date invites" in body
    assert "4 people have out-of-date invites</h3>" in body and "Send the updates to 4 people" in body
    assert sent(app, "Updated: ") == []  # nothing goes out before the facilitator confirms

    assert client.post(f"/facilitator/cohorts/{cid}/invites/updates").status_code == 400  # no CSRF token
    done = client.post(f"/facilitator/cohorts/{cid}/invites/updates", data={"csrf_token": csrf_token_in(cohort_page)})
    assert done.status_code == 303
    after = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Updates sent to 4 people" in after and "out-of-date invites</h3>" not in after
    updated = sent(app, "Updated: ")
    assert sorted(set(updated)) == ["ana@example.com", "ben@example.com", "cleo@example.com", "dan@example.com"]
    with app.app_context():
        rows = db.session.execute(db.select(CalendarEvent)).scalars().all()
        assert rows and all(row.sent_sequence == row.sequence for row in rows)
        lab_rows = [r for r in rows if r.kind == "lab"]
        assert all(r.sent_spec["location"] == "Room Galileo" for r in lab_rows)
        assert all(r.sent_spec["start"]["at"].startswith(moved.isoformat()) or
                   r.sent_spec["start"]["at"].startswith((moved + timedelta(days=1)).isoformat()) for r in lab_rows)


def test_learners_cannot_send_updates(app, platform, lti, client):
    cid, learners = enrol_with_intake(app, platform)
    token = csrf_token_in(learners["ana"].get(f"/learner/cohorts/{cid}/intake"))  # a valid token of the learner
    assert learners["ana"].post(f"/facilitator/cohorts/{cid}/invites/updates",
                                data={"csrf_token": token}).status_code == 403
